"""Responses whose JSON body the handler has encoded itself."""

from typing import TypeVar

from litestar import Response

T = TypeVar("T")


class EncodedJSON(Response[T]):
    """The JSON of a `T`, already encoded: the contract documents it as `T`; Litestar sends the bytes as they are.

    Services encode rows straight to JSON (`domain/order_json.py`), which costs a fraction of building the
    response models for Litestar to serialise.
    """

    def __init__(self, body: bytes) -> None:
        super().__init__(body)  # type: ignore[arg-type]  # T is what the bytes encode, not their Python type
