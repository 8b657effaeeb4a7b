"""Request and response bodies: SQLModel data models, one inheritance chain per resource.

`XBase` declares the fields a client writes, each once, with its type and bounds (`domain.fields`) and, for
references, its column (SQLModel ignores column options outside tables). From it: `XCreate`, what a client
sends to create; `XUpdate`, what it sends to change (absent fields stay unchanged); `X`, what it reads back;
and the table `XTable` (`sale_orders.db.tables`). Ids are chosen by the server, and no table is on the wire.
"""

from typing import Annotated, Any, Literal

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from sale_orders.domain import limits
from sale_orders.domain.fields import Amount, Email, Id, Name, Price, Quantity, TagIds, TagName

# A request body rejects unknown fields, so a typo never goes unnoticed. (SQLModel's own configuration, which every
# model inherits anyway, copied for its type: the type's own module is a private one.)
BODY = SQLModel.model_config.copy()
BODY["extra"] = "forbid"


def unchanged() -> Any:
    """Default of an `XUpdate` field: absent means unchanged (null is rejected, as the contract says).

    Typed Any so the field keeps its non-null type, and with it every constraint in the contract.
    """
    return Field(default=None)


def reference(table: str, *, on_delete: Literal["CASCADE", "RESTRICT"] = "RESTRICT") -> Any:
    """A field holding the id of a row of `table`: a BIGINT foreign key column, indexed, in a table."""
    return Field(foreign_key=f"{table}.id", ondelete=on_delete, index=True, sa_type=BigInteger)


class ContactBase(SQLModel):
    name: Name
    email: Email


class ContactCreate(ContactBase):
    model_config = BODY


class ContactUpdate(ContactBase):
    model_config = BODY
    name: Name = unchanged()
    email: Email = unchanged()


class Contact(ContactBase):
    id: Id


class ProductBase(SQLModel):
    name: Name


class ProductCreate(ProductBase):
    model_config = BODY


class ProductUpdate(ProductBase):
    model_config = BODY
    name: Name = unchanged()


class Product(ProductBase):
    id: Id


class TagBase(SQLModel):
    name: TagName = Field(unique=True)


class TagCreate(TagBase):
    model_config = BODY


class TagUpdate(TagBase):
    model_config = BODY
    name: TagName = unchanged()


class Tag(TagBase):
    id: Id


class OrderLineBase(SQLModel):
    product_id: Id = reference("product")
    quantity: Quantity
    price: Price


class OrderLine(OrderLineBase):
    """One line of an order, the same when sent and when read back."""

    model_config = BODY


OrderLines = Annotated[list[OrderLine], Field(max_length=limits.MAX_LINES)]


class OrderBase(SQLModel):
    name: Name
    contact_id: Id = reference("contact")


class OrderCreate(OrderBase):
    model_config = BODY
    order_lines: OrderLines = Field(default_factory=list)
    tag_ids: TagIds = Field(default_factory=list)


class OrderUpdate(OrderBase):
    """Fields to change; `order_lines` and `tag_ids` replace the order's lines and tags when present."""

    model_config = BODY
    name: Name = unchanged()
    contact_id: Id = unchanged()
    order_lines: OrderLines = unchanged()
    tag_ids: TagIds = unchanged()


class Order(OrderBase):
    id: Id
    order_lines: list[OrderLine]
    tags: list[Tag]
    amount_total: Amount
