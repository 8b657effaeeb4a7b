"""Responses whose JSON body the handler has encoded itself, and the consistency token of a write."""

from dataclasses import dataclass
from typing import Self, TypeVar

from litestar import Response
from litestar.status_codes import HTTP_204_NO_CONTENT

T = TypeVar("T")

CONSISTENCY_TOKEN = "Consistency-Token"  # noqa: S105 - a header's name, not a secret
"""The header a write answers its token in, and a read sends the newest its client holds (db/queries/standby)."""


@dataclass(frozen=True)
class Written:
    """What a change answers: its JSON (None for a delete), and its consistency token."""

    body: bytes | None
    token: int


@dataclass(frozen=True)
class Created(Written):
    """What a create answers: the new resource's id, its JSON, and the create's consistency token."""

    item_id: int


class EncodedJSON(Response[T]):
    """The JSON of a `T`, already encoded: the contract documents it as `T`; Litestar sends the bytes as they are.

    Services encode rows straight to JSON (`domain/order_json.py`), which costs a fraction of building the
    response models for Litestar to serialise.
    """

    def __init__(self, body: bytes, headers: dict[str, str] | None = None) -> None:
        super().__init__(body, headers=headers)  # type: ignore[arg-type]  # T is what the bytes encode

    @classmethod
    def created(cls, created: Created, collection: str) -> Self:
        """A 201's body, with `Location` (the new resource's URL under `collection`, e.g. `/sync/contact`)."""
        headers = {"Location": f"{collection}/{created.item_id}", CONSISTENCY_TOKEN: str(created.token)}
        return cls(created.body or b"", headers=headers)

    @classmethod
    def written(cls, written: Written) -> Self:
        """A change's answer: the resource as it is now, with the change's consistency token."""
        return cls(written.body or b"", headers={CONSISTENCY_TOKEN: str(written.token)})


def deleted(written: Written) -> Response[None]:
    """A delete's answer: 204, with the delete's consistency token."""
    return Response(None, status_code=HTTP_204_NO_CONTENT, headers={CONSISTENCY_TOKEN: str(written.token)})
