"""SQL statements on the SQLModel tables, built once and executed through either family's session.

Most are Core statements on the tables' columns: the hot paths read and write rows, not ORM objects. The
statements that load ORM objects (an order to change, tags to link) are SQLModel selects.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final
from typing import cast as typed

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Integer,
    Select,
    String,
    Table,
    Update,
    any_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal_column,
    null,
    select,
    true,
    tuple_,
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
from sale_orders.domain import order_json


def table_of(model: type) -> Table:
    """The Core table of a SQLModel table class."""
    return typed("Table", model.__table__)  # type: ignore[attr-defined]


CONTACT = table_of(ContactTable)
PRODUCT = table_of(ProductTable)
TAG = table_of(TagTable)
ORDER = table_of(OrderTable)
LINE = table_of(OrderLineTable)
ORDER_TAG = table_of(OrderTagLink)
IDEMPOTENCY_KEY = table_of(IdempotencyKeyTable)
_PRICE = LINE.c.price.type


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
        # The id first, as in every response of the API (SQLModel puts inherited columns before it).
        columns = [table.c.id, *(column for column in table.c if column.name != "id")]
        return cls(
            by_id=select(*columns).where(table.c.id == item_id),
            page=select(*columns).where(table.c.id > bindparam("after")).order_by(table.c.id).limit(bindparam("limit")),
            insert=insert(table).returning(*columns),
            update=update(table).where(table.c.id == item_id).returning(*columns),
            delete=delete(table).where(table.c.id == item_id).returning(table.c.id),
        )


CONTACTS: Final = RowStatements.of(CONTACT)
PRODUCTS: Final = RowStatements.of(PRODUCT)
TAGS: Final = RowStatements.of(TAG)


_ORDER_ID = bindparam("order_id", type_=BigInteger)


def _orders_with_lines_and_tags(orders: Select[Any]) -> CompoundSelect[Any]:
    """Orders (id, name, contact_id), their lines and their tags, as one statement: one round trip.

    Rows are `(kind, order_id, seq, ref_id, quantity, price, text)`, by kind, then order, then `seq`:
    kind 0 an order (`ref_id` its contact, `text` its name), kind 1 a line (`seq` its id, `ref_id` its
    product), kind 2 a tag (`seq` its id, `text` its name). `split_order_rows` takes them apart.
    """
    heads = orders.cte("heads")
    kind = [literal_column(str(number), Integer).label("kind") for number in range(3)]
    no_quantity, no_price, no_text = cast(null(), Integer), cast(null(), _PRICE), cast(null(), String)
    return union_all(
        select(kind[0], heads.c.id, heads.c.id, heads.c.contact_id, no_quantity, no_price, heads.c.name),
        select(
            kind[1], LINE.c.order_id, LINE.c.id, LINE.c.product_id, LINE.c.quantity, LINE.c.price, no_text
        ).join_from(LINE, heads, LINE.c.order_id == heads.c.id),
        select(kind[2], ORDER_TAG.c.order_id, TAG.c.id, TAG.c.id, no_quantity, no_price, TAG.c.name)
        .join_from(ORDER_TAG, heads, ORDER_TAG.c.order_id == heads.c.id)
        .join(TAG, TAG.c.id == ORDER_TAG.c.tag_id),
    ).order_by(literal_column("1"), literal_column("2"), literal_column("3"))


OrderRows = Iterable[tuple[Any, ...]]
"""The rows of `ORDER_BY_ID` and `ORDER_PAGE`: kind, order_id, seq, ref_id, quantity, price, text."""


def split_order_rows(
    rows: OrderRows,
) -> tuple[list[order_json.OrderRow], list[order_json.LineRow], list[order_json.TagRow]]:
    """The orders, lines and tags in the rows of `ORDER_BY_ID` or `ORDER_PAGE`, as `order_json` reads them."""
    orders: list[order_json.OrderRow] = []
    lines: list[order_json.LineRow] = []
    tags: list[order_json.TagRow] = []
    for kind, order_id, seq, ref_id, quantity, price, text in rows:
        if kind == 1:
            lines.append((order_id, ref_id, quantity, price))
        elif kind == 2:
            tags.append((order_id, seq, text))
        else:
            orders.append((order_id, text, ref_id))
    return orders, lines, tags


_ORDER_HEADS = select(ORDER.c.id, ORDER.c.name, ORDER.c.contact_id)

ORDER_BY_ID: Final = _orders_with_lines_and_tags(_ORDER_HEADS.where(ORDER.c.id == _ORDER_ID))
"""One order with its lines and tags (rows for `split_order_rows`). Parameter: `order_id`."""

ORDER_PAGE: Final = _orders_with_lines_and_tags(
    _ORDER_HEADS.where(ORDER.c.id > bindparam("after")).order_by(ORDER.c.id).limit(bindparam("limit"))
)
"""A keyset page of orders with their lines and tags (rows for `split_order_rows`).

Parameters: `after` (an id, 0 for the first page) and `limit`.
"""

DELETE_ORDER: Final = delete(ORDER).where(ORDER.c.id == _ORDER_ID).returning(ORDER.c.id)
"""Parameter: `order_id`; returns the id if there was such an order."""


_CONTACT_ID = bindparam("contact_id", type_=BigInteger)
_PRODUCT_IDS = bindparam("product_ids", type_=ARRAY(BigInteger))
_TAG_IDS = bindparam("tag_ids", type_=ARRAY(BigInteger))


def _missing_references() -> CompoundSelect[Any]:
    """(kind, id) rows: each contact, product and tag id in the parameters that no row has.

    Parameters: `contact_id` (None: no contact to check), `product_ids` and `tag_ids` (arrays).
    """
    products = func.unnest(_PRODUCT_IDS).table_valued("id").render_derived(name="wanted_product")
    tags = func.unnest(_TAG_IDS).table_valued("id").render_derived(name="wanted_tag")
    return union_all(
        select(literal_column("'contact'").label("kind"), _CONTACT_ID.label("id")).where(
            _CONTACT_ID.is_not(None), ~exists().where(CONTACT.c.id == _CONTACT_ID)
        ),
        select(literal_column("'product'"), products.c.id)
        .distinct()
        .where(~exists().where(PRODUCT.c.id == products.c.id)),
        select(literal_column("'tag'"), tags.c.id).where(~exists().where(TAG.c.id == tags.c.id)),
    )


MISSING_REFERENCES: Final = _missing_references()
"""(kind, id) of what an order's contact, products and tags name but does not exist.

Parameters: `contact_id` (or None), `product_ids`, `tag_ids`.
"""


def _create_order() -> CompoundSelect[Any]:
    """Create an order with its lines and tags in one statement, if everything it refers to exists.

    One statement is atomic on its own, so it needs no transaction around it: creating an order is one
    round trip. Rows are `(outcome, kind, id, name)`: `("created", "order", id, None)` and a
    `("found", "tag", id, name)` per tag; or, when something is missing, nothing is inserted and each
    missing reference is a `("missing", kind, id, None)` row.

    Parameters: `name`, `contact_id`; the lines as three arrays `product_ids`, `quantities`, `prices`;
    `tag_ids`. Lines are inserted in the order given, so their ids (which order them) follow it.
    """
    missing = _missing_references().cte("missing")
    lines = (
        func.unnest(
            _PRODUCT_IDS, bindparam("quantities", type_=ARRAY(Integer)), bindparam("prices", type_=ARRAY(_PRICE))
        )
        .table_valued("product_id", "quantity", "price", with_ordinality="position")
        .render_derived(name="new_line")
    )
    tags = func.unnest(_TAG_IDS).table_valued("id").render_derived(name="new_tag")
    head = select(bindparam("name", type_=String), _CONTACT_ID).where(~exists().select_from(missing))
    new_order = insert(ORDER).from_select(["name", "contact_id"], head).returning(ORDER.c.id).cte("new_order")
    new_lines = insert(LINE).from_select(
        ["order_id", "product_id", "quantity", "price"],
        select(new_order.c.id, lines.c.product_id, lines.c.quantity, lines.c.price)
        .join_from(new_order, lines, true())  # the one new order, with every line
        .order_by(lines.c.position),
    )
    new_tags = insert(ORDER_TAG).from_select(
        ["order_id", "tag_id"], select(new_order.c.id, tags.c.id).join_from(new_order, tags, true())
    )
    no_name = cast(null(), String)
    outcome = union_all(
        select(literal_column("'created'"), literal_column("'order'"), new_order.c.id, no_name),
        select(literal_column("'missing'"), missing.c.kind, missing.c.id, no_name),
        select(literal_column("'found'"), literal_column("'tag'"), TAG.c.id, TAG.c.name).where(
            TAG.c.id == any_(_TAG_IDS)
        ),
    )
    return outcome.add_cte(new_lines.cte("new_lines"), new_tags.cte("new_tags")).order_by(literal_column("3"))


CREATE_ORDER: Final = _create_order()


def tags_by_id(tag_ids: Sequence[int]) -> SelectOfScalar[TagTable]:
    """The tags with these ids, by id."""
    return select_models(TagTable).where(col(TagTable.id).in_(set(tag_ids))).order_by(col(TagTable.id))


def _relationship(attribute: object) -> QueryableAttribute[Any]:
    """A relationship attribute as what it is on the class (SQLModel types it as its Python value)."""
    return typed("QueryableAttribute[Any]", attribute)


def order_for_update(order_id: int) -> SelectOfScalar[OrderTable]:
    """An order with its lines and tags loaded, locked until the transaction ends."""
    return (
        select_models(OrderTable)
        .where(col(OrderTable.id) == order_id)
        .options(selectinload(_relationship(OrderTable.order_lines)), selectinload(_relationship(OrderTable.tags)))
        .with_for_update()
    )


IDEMPOTENCY_WINDOW_OPTION: Final = "sale_orders_idempotency_window"
"""The execution option, set on both engines, that holds how long an Idempotency-Key is remembered."""


def claim_idempotency_key(scope: str, key: str, fingerprint: str, window: timedelta) -> ReturningInsert[str]:
    """Claim a key; returns no row if it was claimed within `window` (waiting for a concurrent claim to commit).

    A key claimed longer ago has expired: it is claimed anew, in place, as if it had never been used.
    """
    table = IDEMPOTENCY_KEY
    claim = pg_insert(table).values(scope=scope, key=key, fingerprint=fingerprint)
    return claim.on_conflict_do_update(
        index_elements=[table.c.scope, table.c.key],
        set_={"fingerprint": claim.excluded.fingerprint, "response": null(), "created_at": func.now()},
        where=table.c.created_at < func.now() - window,
    ).returning(table.c.key)


def purge_expired_idempotency_keys(window: timedelta, batch_size: int) -> ReturningDelete[str]:
    """Delete at most `batch_size` keys older than `window`, oldest first, by the index on `created_at`.

    Row locks only, and SKIP LOCKED: a key being claimed again right now is left for the next batch.
    """
    table = IDEMPOTENCY_KEY
    expired = (
        select(table.c.scope, table.c.key)
        .where(table.c.created_at < func.now() - window)
        .order_by(table.c.created_at)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    return delete(table).where(tuple_(table.c.scope, table.c.key).in_(expired)).returning(table.c.key)


def claimed_idempotency_key(scope: str, key: str) -> Select[str, Any]:
    """The fingerprint and stored response of a claimed key."""
    table = IDEMPOTENCY_KEY
    return select(table.c.fingerprint, table.c.response).where(table.c.scope == scope, table.c.key == key)


def remember_response(scope: str, key: str, response: dict[str, Any]) -> Update:
    table = IDEMPOTENCY_KEY
    return update(table).where(table.c.scope == scope, table.c.key == key).values(response=response)
