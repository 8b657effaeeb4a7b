"""SQL statements, built once and executed by either family's session."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy import (
    BigInteger,
    Select,
    Table,
    Update,
    any_,
    bindparam,
    delete,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.dml import ReturningDelete, ReturningInsert, ReturningUpdate

from sale_orders.db.models import (
    ContactModel,
    OrderLineModel,
    OrderModel,
    ProductModel,
    TagModel,
    idempotency_key,
    order_tag,
)


@dataclass(frozen=True)
class RowStatements:
    """Every statement on one simple table (contacts, products, tags), built once; rows come back whole.

    Parameters: `item_id`; `after` (an id, 0 for the first page) and `limit`; the columns to insert or
    set, by name. Plain Core statements: the ORM's unit of work was a third of a create request.
    """

    by_id: Select[Any]
    page: Select[Any]
    insert: ReturningInsert[Any]
    update: ReturningUpdate[Any]
    delete: ReturningDelete[Any]

    @classmethod
    def of(cls, table: Table) -> "RowStatements":
        item_id = bindparam("item_id", type_=BigInteger)
        return cls(
            by_id=select(table).where(table.c.id == item_id),
            page=select(table).where(table.c.id > bindparam("after")).order_by(table.c.id).limit(bindparam("limit")),
            insert=insert(table).returning(*table.c),
            update=update(table).where(table.c.id == item_id).returning(*table.c),
            delete=delete(table).where(table.c.id == item_id).returning(table.c.id),
        )


CONTACTS: Final = RowStatements.of(cast("Table", ContactModel.__table__))
PRODUCTS: Final = RowStatements.of(cast("Table", ProductModel.__table__))
TAGS: Final = RowStatements.of(cast("Table", TagModel.__table__))


_ORDER_HEAD = select(OrderModel.id, OrderModel.name, OrderModel.contact_id)

# The hot read path's statements are built once: building and coercing them took a tenth of a page's time.
ORDER_BY_ID: Final = _ORDER_HEAD.where(OrderModel.id == bindparam("order_id", type_=BigInteger))
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


_ORDERS = cast("Table", OrderModel.__table__)
_LINES = cast("Table", OrderLineModel.__table__)
_ORDER_ID = bindparam("order_id", type_=BigInteger)

LOCK_ORDER: Final = _ORDER_HEAD.where(OrderModel.id == _ORDER_ID).with_for_update()
"""One order's own columns, locked until the transaction ends. Parameter: `order_id`."""

INSERT_ORDER: Final = insert(_ORDERS).returning(_ORDERS.c.id)
"""Parameters: `name`, `contact_id`; returns the new id."""

UPDATE_ORDER: Final = update(_ORDERS).where(_ORDERS.c.id == _ORDER_ID).returning(*_ORDER_HEAD.selected_columns)
"""Parameters: `order_id` and the columns to set; returns the order's own columns."""

DELETE_ORDER: Final = delete(_ORDERS).where(_ORDERS.c.id == _ORDER_ID).returning(_ORDERS.c.id)
"""Parameter: `order_id`; returns the id if there was such an order."""

INSERT_LINES: Final = insert(_LINES)
"""Executed with many rows of `order_id`, `product_id`, `quantity`, `price`: one statement for all lines."""

DELETE_LINES: Final = delete(_LINES).where(_LINES.c.order_id == _ORDER_ID)

INSERT_ORDER_TAGS: Final = insert(order_tag)
"""Executed with many rows of `order_id`, `tag_id`."""

DELETE_ORDER_TAGS: Final = delete(order_tag).where(order_tag.c.order_id == _ORDER_ID)


def existing_references(contact_id: int | None, product_ids: Sequence[int]) -> Select[str, int]:
    """One round trip telling which of an order's contact and products exist, as (kind, id) rows."""
    parts = [select(literal("product"), ProductModel.id).where(ProductModel.id.in_(set(product_ids)))]
    if contact_id is not None:
        parts.append(select(literal("contact"), ContactModel.id).where(ContactModel.id == contact_id))
    return select(*union_all(*parts).subquery().c)


def tags_by_id(tag_ids: Sequence[int]) -> Select[int, str]:
    """The tags with these ids, as (id, name) rows by id."""
    return select(TagModel.id, TagModel.name).where(TagModel.id.in_(set(tag_ids))).order_by(TagModel.id)


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
