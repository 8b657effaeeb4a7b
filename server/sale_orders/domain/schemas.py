"""Request and response bodies: one inheritance chain per resource, never a table on the wire.

`XCreate` is what a client sends to create, `XUpdate` what it sends to change (absent fields stay unchanged),
and `X` what it reads back. Ids are always chosen by the server.
"""

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sale_orders.domain import limits
from sale_orders.domain.fields import Amount, Email, Id, Name, Price, Quantity, TagName


class Body(BaseModel):
    """A request body: unknown fields are rejected, so a typo never goes unnoticed."""

    model_config = ConfigDict(extra="forbid")


def unchanged() -> Any:
    """Default of an `XUpdate` field: absent means unchanged (null is rejected, as the contract says).

    Typed Any so the field keeps its non-null type, and with it every constraint in the contract.
    """
    return Field(default=None)


class Read(BaseModel):
    """A response body, built from table rows (which were validated on their way in)."""


class ContactCreate(Body):
    name: Name
    email: Email


class ContactUpdate(Body):
    name: Name = unchanged()
    email: Email = unchanged()


class Contact(Read):
    id: Id
    name: Name
    email: Email


class ProductCreate(Body):
    name: Name


class ProductUpdate(Body):
    name: Name = unchanged()


class Product(Read):
    id: Id
    name: Name


class TagCreate(Body):
    name: TagName


class TagUpdate(Body):
    name: TagName = unchanged()


class Tag(Read):
    id: Id
    name: TagName


class OrderLine(Body, Read):
    """One line of an order, the same when sent and when read back."""

    product_id: Id
    quantity: Quantity
    price: Price = Field(description="unit price; a JSON number with at most two decimals")


def _unique(ids: list[int]) -> list[int]:
    if len(set(ids)) != len(ids):
        msg = "tag_ids must not repeat an id"
        raise ValueError(msg)
    return ids


OrderLines = Annotated[list[OrderLine], Field(max_length=limits.MAX_LINES)]
TagIds = Annotated[
    list[Id], Field(max_length=limits.MAX_TAGS, json_schema_extra={"uniqueItems": True}), AfterValidator(_unique)
]


class OrderCreate(Body):
    name: Name
    contact_id: Id
    order_lines: OrderLines = Field(default_factory=list)
    tag_ids: TagIds = Field(default_factory=list)


class OrderUpdate(Body):
    """Fields to change; `order_lines` and `tag_ids` replace the order's lines and tags when present."""

    name: Name = unchanged()
    contact_id: Id = unchanged()
    order_lines: OrderLines = unchanged()
    tag_ids: TagIds = unchanged()


class Order(Read):
    id: Id
    name: Name
    contact_id: Id
    order_lines: list[OrderLine]
    tags: list[Tag]
    amount_total: Amount = Field(description="sum of quantity x price over the lines, computed exactly")
