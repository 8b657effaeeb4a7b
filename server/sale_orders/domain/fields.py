"""Field types shared by every schema: each carries its validation and its OpenAPI form together."""

import re
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Final

from annotated_types import Ge, Le, MaxLen
from email_validator import EmailNotValidError, ValidatedEmail, validate_email
from email_validator.rfc_constants import (
    CASE_INSENSITIVE_MAILBOX_NAMES,
    EMAIL_MAX_LENGTH,
    LOCAL_PART_MAX_LENGTH,
)
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, Strict, StringConstraints

from sale_orders.domain import limits


def _json_number(value: Any) -> Any:
    """Accept JSON numbers only (no strings, no booleans), as the exact decimal they were written as.

    Request bodies arrive decoded exactly (a fraction is the `Decimal` it spells: web/bodies.py); a float (from
    Python code) is read as its shortest repr, which is what was written. `-0.0` is 0, as PostgreSQL stores it.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        msg = "must be a JSON number"
        raise ValueError(msg)  # noqa: TRY004 - pydantic turns ValueError into a validation error
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return number + 0 if number.is_zero() else number  # Decimal("-0.0") + 0 is Decimal("0.0")


# Beyond this an integer is out of every bound here; converting `1e999999` exactly would cost seconds.
_HUGE = 10**19


def _json_integer(value: Any) -> Any:
    """JSON Schema counts 2.0 (and 2e0) as an integer, so the API does too; 2.5, `true` and `"2"` stay errors.

    Bodies arrive decoded exactly (web/bodies.py): a fraction is a `Decimal`, so `2.0000000000000001` is not 2.
    """
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value) if value.adjusted() < 19 else (_HUGE if value > 0 else -_HUGE)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# The e-mail check is email-validator's; it costs tens of microseconds an address, two thirds of them in
# the domain. Addresses of the common form (an ASCII dot-atom, a plain domain it accepts as is) take a fast
# path with the domain's verdict cached; everything else goes to the library. tests/unit/test_email.py holds the
# two to the same answers.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def _checked(value: str) -> ValidatedEmail:
    # No DNS lookups; test domains such as example.test are fine.
    return validate_email(value, check_deliverability=False, test_environment=True)


@lru_cache(maxsize=4096)
def _plain_domain(domain: str) -> bool:
    """Whether email-validator accepts `domain` and writes it as its lowercase self (no IDNA, no rewriting)."""
    try:
        return _checked("a@" + domain).domain == domain.lower()
    except EmailNotValidError:
        return False


def _email(value: str) -> str:
    """Check the syntax of an address (no DNS lookups) and normalize it."""
    local, at, domain = value.rpartition("@")
    if (
        at
        and len(value) <= EMAIL_MAX_LENGTH
        and len(local) <= LOCAL_PART_MAX_LENGTH
        and _DOT_ATOM.fullmatch(local)
        and local.lower() not in CASE_INSENSITIVE_MAILBOX_NAMES
        and _plain_domain(domain)
    ):
        return f"{local}@{domain.lower()}"
    try:
        return _checked(value).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc


def _no_nul(value: Any) -> Any:
    """Reject what PostgreSQL's text types cannot store (NUL) or UTF-8 cannot encode (lone surrogates)."""
    if isinstance(value, str) and ("\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)):
        msg = "must not contain NUL characters or unpaired surrogates"
        raise ValueError(msg)
    return value


# `MaxLen` comes first in every string type: SQLModel sizes a table's VARCHAR from the first length it finds.
# The pattern publishes the NUL rule in the contract; the validator also catches unpaired surrogates.
_NO_NUL = r"^[^\x00]*$"
Name = Annotated[
    str,
    MaxLen(limits.NAME_LENGTH),
    StringConstraints(min_length=1, pattern=_NO_NUL),
    Strict(),
    BeforeValidator(_no_nul),
]
TagName = Annotated[
    str,
    MaxLen(limits.TAG_LENGTH),
    StringConstraints(min_length=1, pattern=_NO_NUL),
    Strict(),
    BeforeValidator(_no_nul),
]
Email = Annotated[
    str,
    MaxLen(limits.EMAIL_LENGTH),
    StringConstraints(min_length=3),
    Strict(),
    AfterValidator(_email),
    Field(json_schema_extra={"format": "email"}),
]

Id = Annotated[int, BeforeValidator(_json_integer), Strict(), Ge(1), Le(limits.MAX_ID)]
Quantity = Annotated[int, BeforeValidator(_json_integer), Strict(), Ge(1), Le(limits.MAX_QUANTITY)]


# Money is a Decimal on the server and a JSON number on the wire (as in the original example), with at most
# two decimals and bounded, so the number a client reads is exactly the Decimal the server computed.
# Money as a JSON number: the shortest repr of the float is the decimal itself (at most 15 significant digits).
json_number: Final = float

# The contract names each money type by its schema `title` (`Price`, `Amount`): the SDK reads those as Decimal,
# and the contract runs generate them in steps of 0.01 (contracts/hooks.py). No `multipleOf`: common validators
# (python-jsonschema, ajv) test it in binary floating point and refuse valid prices such as 0.07.
MONEY_TITLES: Final = ("Price", "Amount")

_as_json_number = PlainSerializer(json_number, return_type=float, when_used="json")


def _as_stored(value: Decimal) -> Decimal:
    """A valid price written as NUMERIC(12,2) stores it: `0e-16384` or `1.` with 17,000 zeros is `0.00` or `1.00`.

    Run after the bounds and the two decimals are checked, so it never rounds; the drivers refuse some exact
    Decimals (an exponent past NUMERIC's range) that stand for such plain values.
    """
    return value.quantize(_CENT)


_CENT = Decimal("0.01")
Price = Annotated[
    Decimal,
    BeforeValidator(_json_number),
    Ge(0),
    Le(limits.MAX_PRICE),
    # The digits size the table's NUMERIC column (SQLModel reads them from here) and validate at most 2 decimals.
    Field(
        max_digits=limits.PRICE_DIGITS,
        decimal_places=limits.PRICE_SCALE,
        title="Price",
        description=f"unit price; a JSON number with at most {limits.PRICE_SCALE} decimals (a third is a 400)",
        json_schema_extra={"type": "number"},
    ),
    AfterValidator(_as_stored),
    _as_json_number,
]
Amount = Annotated[
    Decimal,
    Ge(0),
    Field(
        title="Amount",
        description="sum of quantity x price over the lines, computed exactly; at most 2 decimals",
        json_schema_extra={"type": "number"},
    ),
    _as_json_number,
]


def _unique(ids: list[int]) -> list[int]:
    if len(set(ids)) != len(ids):
        msg = "tag_ids must not repeat an id"
        raise ValueError(msg)
    return ids


TagIds = Annotated[
    list[Id], Field(max_length=limits.MAX_TAGS, json_schema_extra={"uniqueItems": True}), AfterValidator(_unique)
]
