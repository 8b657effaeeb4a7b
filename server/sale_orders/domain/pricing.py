"""Pricing rules, in Decimal only: a float never touches money."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol


class PricedLine(Protocol):
    @property
    def quantity(self) -> int: ...
    @property
    def price(self) -> Decimal: ...


def line_total(line: PricedLine) -> Decimal:
    """What one line costs: quantity x unit price."""
    return line.price * line.quantity


def order_total(lines: Iterable[PricedLine]) -> Decimal:
    """What an order costs: the sum of its lines (exact: inputs are bounded to 15 significant digits)."""
    return sum((line_total(line) for line in lines), Decimal(0))
