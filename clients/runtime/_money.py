"""Money in the SDK: a `decimal.Decimal` in Python, a JSON number on the wire.

Hand-written as clients/runtime/_money.py, where ruff and mypy check it; `sale-orders client` copies it verbatim
into the generated package, whose `types.py` re-exports both functions for the models (the properties whose
schema is titled Price or Amount: clients/templates/model.py.jinja). Edit the source, never the copy.
"""

from decimal import Decimal


def decimal_to_json(value: Decimal | float) -> float:
    """A money value as the JSON number the API expects.

    The float whose shortest repr is the decimal itself is exact on the wire (json.dumps writes that repr): so is
    every Decimal of at most 15 significant digits, which covers every price and total of this API. A Decimal
    that a float would change (more digits than a float holds, NaN, infinity) is refused, not rounded. An int or
    a float is sent as it is.

    Raises:
        TypeError: `value` is not a number (a bool is not one).
        ValueError: a float would not spell `value` exactly.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        raise TypeError(f"expected a Decimal, got {type(value).__name__}")
    number = float(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        if Decimal(repr(number)) != value:
            raise ValueError(
                f"{value} cannot be sent exactly as a JSON number (a float would make it {number!r}); round it first"
            )
    return number


def decimal_from_json(value: object) -> Decimal:
    """A JSON number (int, float, or a Decimal from json.loads(parse_float=Decimal)) as a Decimal.

    str() of a float is its shortest repr, so the JSON number 0.1 becomes Decimal("0.1"), not the binary value.

    Raises:
        TypeError: `value` is not a JSON number (a bool is not one).
        ValueError: `value` is not finite.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"expected a JSON number, got {type(value).__name__}")
    result = Decimal(str(value))
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return result
