"""The tables: SQLModel `table=True` classes, each the last link of its resource's chain in `domain.schemas`.

A table model is never a request or response body (it skips validation and would accept a client's id).
Every relationship is `lazy="raise"`: code that forgets to load one fails loudly in both families, instead
of running a query per row (sync) or raising MissingGreenlet (async) somewhere later. Below the classes, their
Core tables (`CONTACT`, `ORDER`, ...), which the constant statements of `db.queries` are built from.
"""

from datetime import datetime
from typing import Any
from typing import cast as typed

from advanced_alchemy.base import convention
from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, String, Table, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, Relationship, SQLModel

from sale_orders.domain import limits
from sale_orders.domain.schemas import ContactBase, OrderBase, OrderLineBase, ProductBase, TagBase, reference

# Constraint and index names (pk_contact, fk_sale_order_contact_id_contact, ...) are part of the migrations:
# the convention must be in place before the first table is declared.
SQLModel.metadata.naming_convention = convention
metadata = SQLModel.metadata


def identity_key() -> Any:
    """A BIGINT primary key drawn from an identity sequence; None until the row is inserted."""
    identity = Identity(always=False, start=1, increment=1)
    return Field(default=None, primary_key=True, sa_type=BigInteger, sa_column_args=[identity])


def horizon_column() -> Any:
    """The newest transaction that may still write a row with a lower id (`db.queries.feed`); 0: none.

    Set with the id by `draw_id` (migration 0005). A keyset page shows the row once every transaction up to this
    one has ended, so that a page never skips a lower id committed later.
    """
    return Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"}, nullable=False)


class ContactTable(ContactBase, table=True):
    """A customer that orders are placed for."""

    __tablename__ = "contact"
    id: int | None = identity_key()
    xid_horizon: int = horizon_column()


class ProductTable(ProductBase, table=True):
    """Something that can be sold on an order line."""

    __tablename__ = "product"
    id: int | None = identity_key()
    xid_horizon: int = horizon_column()


class TagTable(TagBase, table=True):
    """A label for orders; names are unique."""

    __tablename__ = "tag"
    id: int | None = identity_key()
    xid_horizon: int = horizon_column()


class OrderTagLink(SQLModel, table=True):
    """Which tags label which order."""

    __tablename__ = "sale_order_tag"
    order_id: int = Field(foreign_key="sale_order.id", ondelete="CASCADE", primary_key=True, sa_type=BigInteger)
    tag_id: int = Field(foreign_key="tag.id", ondelete="RESTRICT", primary_key=True, index=True, sa_type=BigInteger)


class OrderLineTable(OrderLineBase, table=True):
    """A product sold on an order, at a quantity and a unit price."""

    __tablename__ = "sale_order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("price >= 0", name="price_not_negative"),
    )
    id: int | None = identity_key()
    order_id: int = reference("sale_order", on_delete="CASCADE")


class OrderTable(OrderBase, table=True):
    """A sale order; its total is computed from its lines, never stored."""

    __tablename__ = "sale_order"
    id: int | None = identity_key()
    xid_horizon: int = horizon_column()
    order_lines: list[OrderLineTable] = Relationship(
        sa_relationship_kwargs={
            "lazy": "raise",
            "cascade": "all, delete-orphan",
            "order_by": "OrderLineTable.id",
            "passive_deletes": True,
        }
    )
    tags: list[TagTable] = Relationship(
        link_model=OrderTagLink, sa_relationship_kwargs={"lazy": "raise", "order_by": "TagTable.id"}
    )


class IdempotencyKeyTable(SQLModel, table=True):
    """The Idempotency-Key of a create request, with a fingerprint of the request and what a retry is answered from.

    Claimed by the statement that creates, so a key and its object are stored together or not at all. `response`
    holds the created row (a contact, product or tag), or an order's id and tags (the rest is in the request).
    A key expires `IDEMPOTENCY_WINDOW_HOURS` after its claim; `created_at` is indexed so that expired keys
    are found, and purged, in small batches.
    """

    __tablename__ = "idempotency_key"
    scope: str = Field(primary_key=True, sa_type=String(20))
    key: str = Field(primary_key=True, sa_type=String(limits.IDEMPOTENCY_KEY_LENGTH))
    fingerprint: str = Field(sa_type=String(64))
    response: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    created_at: datetime | None = Field(
        default=None,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": func.now()},
        nullable=False,
        index=True,
    )


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel table class, for statements on its columns."""
    return typed("Table", model.__table__)  # type: ignore[attr-defined]


CONTACT = table_of(ContactTable)
PRODUCT = table_of(ProductTable)
TAG = table_of(TagTable)
ORDER = table_of(OrderTable)
LINE = table_of(OrderLineTable)
ORDER_TAG = table_of(OrderTagLink)
IDEMPOTENCY_KEY = table_of(IdempotencyKeyTable)
