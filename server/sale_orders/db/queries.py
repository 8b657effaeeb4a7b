"""SQL statements, built once and executed by either family's session."""

from collections.abc import Sequence
from typing import Any, Final, TypeVar

from sqlalchemy import BigInteger, Select, Update, any_, bindparam, delete, literal, select, union_all, update
from sqlalchemy.dialects.postgresql import ARRAY
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


_ORDER_HEAD = select(OrderModel.id, OrderModel.name, OrderModel.contact_id)

# The hot read path's statements are built once: building and coercing them took a tenth of a page's time.
ORDER_BY_ID: Final = _ORDER_HEAD.where(OrderModel.id == bindparam("order_id"))
"""One order's own columns (rows, not ORM objects: the hot read path). Parameter: `order_id`."""

ORDER_PAGE: Final = (
    _ORDER_HEAD.where(OrderModel.id > bindparam("after")).order_by(OrderModel.id).limit(bindparam("limit"))
)
"""A keyset page of orders' own columns. Parameters: `after` (an id, 0 for the first page) and `limit`."""

# One array parameter, not `IN (:id_1, ..., :id_50)`: the statement is the same whatever the page size, so
# it is compiled once and prepared once, and SQLAlchemy does not expand 50 parameters per execution.
_ORDER_IDS = bindparam("order_ids", type_=ARRAY(BigInteger))

LINES_OF_ORDERS: Final = (
    select(OrderLineModel.order_id, OrderLineModel.product_id, OrderLineModel.quantity, OrderLineModel.price)
    .where(OrderLineModel.order_id == any_(_ORDER_IDS))
    .order_by(OrderLineModel.order_id, OrderLineModel.id)
)
"""The lines of some orders, by order then line id. Parameter: `order_ids`."""

TAGS_OF_ORDERS: Final = (
    select(order_tag.c.order_id, TagModel.id, TagModel.name)
    .join(TagModel, TagModel.id == order_tag.c.tag_id)
    .where(order_tag.c.order_id == any_(_ORDER_IDS))
    .order_by(order_tag.c.order_id, TagModel.id)
)
"""The tags of some orders, by order then tag id. Parameter: `order_ids`."""


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
