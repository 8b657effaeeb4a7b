"""Contains some shared types for properties"""

from collections.abc import Mapping, MutableMapping
from decimal import Decimal
from http import HTTPStatus
from typing import IO, BinaryIO, Generic, Literal, TypeVar

from attrs import define


class Unset:
    def __bool__(self) -> Literal[False]:
        return False


UNSET: Unset = Unset()

# The types that `httpx.Client(files=)` can accept, copied from that library.
FileContent = IO[bytes] | bytes | str
FileTypes = (
    # (filename, file (or bytes), content_type)
    tuple[str | None, FileContent, str | None]
    # (filename, file (or bytes), content_type, headers)
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
RequestFiles = list[tuple[str, FileTypes]]


@define
class File:
    """Contains information for file uploads"""

    payload: BinaryIO
    file_name: str | None = None
    mime_type: str | None = None

    def to_tuple(self) -> FileTypes:
        """Return a tuple representation that httpx will accept for multipart/form-data"""
        return self.file_name, self.payload, self.mime_type


T = TypeVar("T")


@define
class Response(Generic[T]):
    """A response from an endpoint"""

    status_code: HTTPStatus
    content: bytes
    headers: MutableMapping[str, str]
    parsed: T | None


def decimal_to_json(value: Decimal | int | float) -> float:
    """A money value as the JSON number the API expects (sale-orders: the properties titled Price or Amount).

    The float whose shortest repr is the decimal itself is exact on the wire (json.dumps writes that repr): so is
    every Decimal of at most 15 significant digits, which covers every price and total of this API. A Decimal
    that a float would change (more digits than a float holds, NaN, infinity) is refused, not rounded. An int or
    a float is sent as it is.
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
    """
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"expected a JSON number, got {type(value).__name__}")
    result = Decimal(str(value))
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return result


__all__ = ["UNSET", "File", "FileTypes", "RequestFiles", "Response", "Unset", "decimal_from_json", "decimal_to_json"]
