"""SQL statements, built once and executed by either family's session."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, Update, delete, literal, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.dml import ReturningDelete, ReturningInsert

from sale_orders.db.models import (
    ContactModel,
    OrderLineModel,
    OrderModel,
    ProductModel,
    TagModel,
    idempotency_key,
    order_tag,
)

RowT = TypeVar("RowT", ContactModel, ProductModel, TagModel, OrderModel)


def page(model: type[RowT], after: int | None, limit: int) -> Select[RowT]:
    """A keyset page: rows after the id `after`, by id. Its cost does not depend on how deep it is."""
    statement = select(model).order_by(model.id).limit(limit)
    return statement if after is None else statement.where(model.id > after)


def with_lines_and_tags(statement: Select[OrderModel]) -> Select[OrderModel]:
    """Load orders with their lines and tags: three statements whatever the number of orders."""
    return statement.options(selectinload(OrderModel.order_lines), selectinload(OrderModel.tags))


def order_heads(*, order_id: int | None = None, after: int | None = None, limit: int = 1) -> Select[int, str, int]:
    """The orders' own columns: one order by id, or a keyset page (rows, not ORM objects: the hot read path)."""
    statement = select(OrderModel.id, OrderModel.name, OrderModel.contact_id).order_by(OrderModel.id).limit(limit)
    if order_id is not None:
        statement = statement.where(OrderModel.id == order_id)
    if after is not None:
        statement = statement.where(OrderModel.id > after)
    return statement


def lines_of(order_ids: Sequence[int]) -> Select[int, int, int, Decimal]:
    """The lines of these orders, in order then line id."""
    line = OrderLineModel
    return (
        select(line.order_id, line.product_id, line.quantity, line.price)
        .where(line.order_id.in_(order_ids))
        .order_by(line.order_id, line.id)
    )


def tags_of(order_ids: Sequence[int]) -> Select[int, int, str]:
    """The tags of these orders, in order then tag id."""
    return (
        select(order_tag.c.order_id, TagModel.id, TagModel.name)
        .join(TagModel, TagModel.id == order_tag.c.tag_id)
        .where(order_tag.c.order_id.in_(order_ids))
        .order_by(order_tag.c.order_id, TagModel.id)
    )


def order_by_id(order_id: int) -> Select[OrderModel]:
    return with_lines_and_tags(select(OrderModel).where(OrderModel.id == order_id))


def delete_by_id(model: type[Any], item_id: int) -> ReturningDelete[int]:
    """Delete one row, returning its id (no row: nothing matched)."""
    return delete(model).where(model.id == item_id).returning(model.id)


def existing_references(contact_id: int | None, product_ids: Sequence[int]) -> Select[str, int]:
    """One round trip telling which of an order's contact and products exist, as (kind, id) rows."""
    parts = [select(literal("product"), ProductModel.id).where(ProductModel.id.in_(set(product_ids)))]
    if contact_id is not None:
        parts.append(select(literal("contact"), ContactModel.id).where(ContactModel.id == contact_id))
    return select(*union_all(*parts).subquery().c)


def tags_by_id(tag_ids: Sequence[int]) -> Select[TagModel]:
    return select(TagModel).where(TagModel.id.in_(set(tag_ids))).order_by(TagModel.id)


def claim_idempotency_key(scope: str, key: str, fingerprint: str) -> ReturningInsert[str]:
    """Claim a key; returns no row if it was claimed before (waiting for a concurrent claim to commit)."""
    return (
        pg_insert(idempotency_key)
        .values(scope=scope, key=key, fingerprint=fingerprint)
        .on_conflict_do_nothing()
        .returning(idempotency_key.c.key)
    )


def claimed_idempotency_key(scope: str, key: str) -> Select[str, Any]:
    """The fingerprint and stored response of a claimed key."""
    table = idempotency_key
    return select(table.c.fingerprint, table.c.response).where(table.c.scope == scope, table.c.key == key)


def remember_response(scope: str, key: str, response: dict[str, Any]) -> Update:
    table = idempotency_key
    return update(table).where(table.c.scope == scope, table.c.key == key).values(response=response)
