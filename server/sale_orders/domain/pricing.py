"""Pricing rules, in Decimal only: a float never touches money."""

from collections.abc import Iterable
from decimal import Decimal


def total(quantities_and_prices: Iterable[tuple[int, Decimal]]) -> Decimal:
    """What lines cost: the sum of quantity x unit price (exact: inputs are bounded to 15 significant digits)."""
    return sum((price * quantity for quantity, price in quantities_and_prices), Decimal(0))
