"""Pricing rules, in Decimal only: a float never touches money."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol


class PricedLine(Protocol):
    @property
    def quantity(self) -> int: ...
    @property
    def price(self) -> Decimal: ...


def total(quantities_and_prices: Iterable[tuple[int, Decimal]]) -> Decimal:
    """What lines cost: the sum of quantity x unit price (exact: inputs are bounded to 15 significant digits)."""
    return sum((price * quantity for quantity, price in quantities_and_prices), Decimal(0))


def order_total(lines: Iterable[PricedLine]) -> Decimal:
    """What an order costs: the sum of its lines."""
    return total((line.quantity, line.price) for line in lines)
