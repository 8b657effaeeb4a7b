"""Responses whose JSON body the handler has encoded itself."""

from dataclasses import dataclass
from typing import Self, TypeVar

from litestar import Response

T = TypeVar("T")


@dataclass(frozen=True)
class Created:
    """What a create answers: the new resource's id, and its JSON."""

    item_id: int
    body: bytes


class EncodedJSON(Response[T]):
    """The JSON of a `T`, already encoded: the contract documents it as `T`; Litestar sends the bytes as they are.

    Services encode rows straight to JSON (`domain/order_json.py`), which costs a fraction of building the
    response models for Litestar to serialise.
    """

    def __init__(self, body: bytes, headers: dict[str, str] | None = None) -> None:
        super().__init__(body, headers=headers)  # type: ignore[arg-type]  # T is what the bytes encode

    @classmethod
    def created(cls, created: Created, collection: str) -> Self:
        """A 201's body, with `Location`: the new resource's URL under `collection` (e.g. `/sync/contact`)."""
        return cls(created.body, headers={"Location": f"{collection}/{created.item_id}"})
