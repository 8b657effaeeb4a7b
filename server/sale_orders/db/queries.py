"""SQL statements on the SQLModel tables, built once and executed through either family's session.

Most are Core statements on the tables' columns: the hot paths read and write rows, not ORM objects. The
statements that load ORM objects (an order to change, tags to link) are SQLModel selects.
"""

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
from sqlalchemy.orm import QueryableAttribute, selectinload
from sqlalchemy.sql.dml import ReturningDelete, ReturningInsert, ReturningUpdate
from sqlmodel import col
from sqlmodel import select as select_models
from sqlmodel.sql.expression import SelectOfScalar

from sale_orders.db.tables import (
    ContactTable,
    IdempotencyKeyTable,
    OrderLineTable,
    OrderTable,
    OrderTagLink,
    ProductTable,
    TagTable,
)


def table_of(model: type) -> Table:
    """The Core table of a SQLModel table class."""
    return cast("Table", model.__table__)  # type: ignore[attr-defined]


CONTACT = table_of(ContactTable)
PRODUCT = table_of(ProductTable)
TAG = table_of(TagTable)
ORDER = table_of(OrderTable)
LINE = table_of(OrderLineTable)
ORDER_TAG = table_of(OrderTagLink)
IDEMPOTENCY_KEY = table_of(IdempotencyKeyTable)


@dataclass(frozen=True)
class RowStatements:
    """Every statement on one simple table (contacts, products, tags); rows come back whole.

    Parameters: `item_id`; `after` (an id, 0 for the first page) and `limit`; the columns to insert or
    set, by name.
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


CONTACTS: Final = RowStatements.of(CONTACT)
PRODUCTS: Final = RowStatements.of(PRODUCT)
TAGS: Final = RowStatements.of(TAG)


_ORDER_HEAD = select(ORDER.c.id, ORDER.c.name, ORDER.c.contact_id)
_ORDER_ID = bindparam("order_id", type_=BigInteger)

ORDER_BY_ID: Final = _ORDER_HEAD.where(ORDER.c.id == _ORDER_ID)
"""One order's own columns. Parameter: `order_id`."""

ORDER_PAGE: Final = _ORDER_HEAD.where(ORDER.c.id > bindparam("after")).order_by(ORDER.c.id).limit(bindparam("limit"))
"""A keyset page of orders' own columns. Parameters: `after` (an id, 0 for the first page) and `limit`."""

# One array parameter, not `IN (:id_1, ..., :id_50)`: the statement is the same whatever the page size, so
# it is compiled and prepared once.
_ORDER_IDS = bindparam("order_ids", type_=ARRAY(BigInteger))

LINES_OF_ORDERS: Final = (
    select(LINE.c.order_id, LINE.c.product_id, LINE.c.quantity, LINE.c.price)
    .where(LINE.c.order_id == any_(_ORDER_IDS))
    .order_by(LINE.c.order_id, LINE.c.id)
)
"""The lines of some orders, by order then line id. Parameter: `order_ids`."""

TAGS_OF_ORDERS: Final = (
    select(ORDER_TAG.c.order_id, TAG.c.id, TAG.c.name)
    .join(TAG, TAG.c.id == ORDER_TAG.c.tag_id)
    .where(ORDER_TAG.c.order_id == any_(_ORDER_IDS))
    .order_by(ORDER_TAG.c.order_id, TAG.c.id)
)
"""The tags of some orders, by order then tag id. Parameter: `order_ids`."""

INSERT_ORDER: Final = insert(ORDER).returning(ORDER.c.id)
"""Parameters: `name`, `contact_id`; returns the new id."""

DELETE_ORDER: Final = delete(ORDER).where(ORDER.c.id == _ORDER_ID).returning(ORDER.c.id)
"""Parameter: `order_id`; returns the id if there was such an order."""

INSERT_LINES: Final = insert(LINE)
"""Executed with many rows of `order_id`, `product_id`, `quantity`, `price`: one statement for all lines."""

INSERT_ORDER_TAGS: Final = insert(ORDER_TAG)
"""Executed with many rows of `order_id`, `tag_id`."""


def existing_references(contact_id: int | None, product_ids: Sequence[int]) -> Select[str, int]:
    """One round trip telling which of an order's contact and products exist, as (kind, id) rows."""
    parts = [select(literal("product"), PRODUCT.c.id).where(PRODUCT.c.id.in_(set(product_ids)))]
    if contact_id is not None:
        parts.append(select(literal("contact"), CONTACT.c.id).where(CONTACT.c.id == contact_id))
    return select(*union_all(*parts).subquery().c)


def tags_by_id(tag_ids: Sequence[int]) -> SelectOfScalar[TagTable]:
    """The tags with these ids, by id."""
    return select_models(TagTable).where(col(TagTable.id).in_(set(tag_ids))).order_by(col(TagTable.id))


def _relationship(attribute: object) -> QueryableAttribute[Any]:
    """A relationship attribute as what it is on the class (SQLModel types it as its Python value)."""
    return cast("QueryableAttribute[Any]", attribute)


def order_for_update(order_id: int) -> SelectOfScalar[OrderTable]:
    """An order with its lines and tags loaded, locked until the transaction ends."""
    return (
        select_models(OrderTable)
        .where(col(OrderTable.id) == order_id)
        .options(selectinload(_relationship(OrderTable.order_lines)), selectinload(_relationship(OrderTable.tags)))
        .with_for_update()
    )


def claim_idempotency_key(scope: str, key: str, fingerprint: str) -> ReturningInsert[str]:
    """Claim a key; returns no row if it was claimed before (waiting for a concurrent claim to commit)."""
    return (
        pg_insert(IDEMPOTENCY_KEY)
        .values(scope=scope, key=key, fingerprint=fingerprint)
        .on_conflict_do_nothing()
        .returning(IDEMPOTENCY_KEY.c.key)
    )


def claimed_idempotency_key(scope: str, key: str) -> Select[str, Any]:
    """The fingerprint and stored response of a claimed key."""
    table = IDEMPOTENCY_KEY
    return select(table.c.fingerprint, table.c.response).where(table.c.scope == scope, table.c.key == key)


def remember_response(scope: str, key: str, response: dict[str, Any]) -> Update:
    table = IDEMPOTENCY_KEY
    return update(table).where(table.c.scope == scope, table.c.key == key).values(response=response)
