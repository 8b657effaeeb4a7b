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
    CTE,
    BigInteger,
    ColumnElement,
    CompoundSelect,
    FromClause,
    Integer,
    Interval,
    Select,
    String,
    Table,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by
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


# Creating once with an Idempotency-Key: the key is claimed, the object created and what a retry is answered
# from stored with the key, all in one statement, so that they are stored together or not at all in one
# round trip. Parameters of every such statement: see `key_parameters`.
_KEY_SCOPE = bindparam("key_scope", type_=String)
_KEY = bindparam("key", type_=String)
_KEY_FINGERPRINT = bindparam("key_fingerprint", type_=String)
_KEY_WINDOW = bindparam("key_window", type_=Interval)


def key_parameters(scope: str, key: str, fingerprint: str, window: timedelta) -> dict[str, Any]:
    """The parameters of the Idempotency-Key in a statement that creates once (and of `STORED_FOR_KEY`).

    Args:
        scope: what the key creates ("order", "tag", ...): a key is one client's, per kind of object.
        key: the request's Idempotency-Key.
        fingerprint: what identifies the request's body.
        window: how long a key is remembered; a key claimed longer ago has expired.
    """
    return {"key_scope": scope, "key": key, "key_fingerprint": fingerprint, "key_window": window}


def expired(window: timedelta | ColumnElement[Any] = _KEY_WINDOW) -> ColumnElement[bool]:
    """Whether an Idempotency-Key was claimed longer than `window` ago (default: the `key_window` parameter)."""
    return IDEMPOTENCY_KEY.c.created_at < func.now() - window


def _claim_key(stored: ColumnElement[Any], source: FromClause, *conditions: ColumnElement[bool]) -> CTE:
    """Claim the request's Idempotency-Key, storing with it `stored`, from which a retry is answered.

    Returns the key if it was claimed; no row if `conditions` do not hold, or if the key was claimed within the
    window (a concurrent claim of the same key waits for the first to commit). An expired key is claimed anew,
    in place, as if it had never been used.
    """
    table = IDEMPOTENCY_KEY
    claim = pg_insert(table).from_select(
        ["scope", "key", "fingerprint", "response"],
        select(_KEY_SCOPE, _KEY, _KEY_FINGERPRINT, stored).select_from(source).where(*conditions),
    )
    return (
        claim.on_conflict_do_update(
            index_elements=[table.c.scope, table.c.key],
            set_={
                "fingerprint": claim.excluded.fingerprint,
                "response": claim.excluded.response,
                "created_at": func.now(),
            },
            where=expired(),
        )
        .returning(table.c.key)
        .cte("claim")
    )


def _next_id(table: Table) -> ColumnElement[int]:
    """The next value of the identity sequence of `table`'s id: the id of a row about to be inserted."""
    return func.nextval(func.pg_get_serial_sequence(table.name, "id"), type_=BigInteger)


def _unbounded(column_type: Any) -> Any:
    return String() if isinstance(column_type, String) else column_type


def _insert_once(table: Table, columns: Sequence[ColumnElement[Any]]) -> Select[Any]:
    """Insert a row (its columns as parameters) unless the Idempotency-Key was used: returns the row, or nothing.

    The row is drawn first, id included, so that it is stored with the key as the JSON a retry is answered with.
    """
    values = [column for column in table.c if column.name != "id"]
    # Unbounded strings: a CAST to VARCHAR(n) would cut a longer value, where the INSERT refuses it.
    given = (cast(bindparam(column.name), _unbounded(column.type)).label(column.name) for column in values)
    row = select(_next_id(table).label("id"), *given).cte("new_row")
    claim = _claim_key(func.to_jsonb(row.table_valued(), type_=JSONB), row)
    created = (
        insert(table)
        .from_select(list(row.c.keys()), select(row).where(exists(claim.select())))
        .returning(*columns)
        .cte("created")
    )
    return select(created)


STORED_FOR_KEY: Final = select(
    IDEMPOTENCY_KEY.c.fingerprint,
    IDEMPOTENCY_KEY.c.response,
    (~expired()).label("live"),
).where(IDEMPOTENCY_KEY.c.scope == _KEY_SCOPE, IDEMPOTENCY_KEY.c.key == _KEY)
"""The fingerprint of the request a key was claimed for, what was stored for its retries, and whether the key
is still within its window. Parameters: `key_parameters` (the fingerprint is not used).
"""


@dataclass(frozen=True)
class RowStatements:
    """Every statement on one simple table (contacts, products, tags); rows come back whole.

    Parameters: `item_id`; `after` (an id, 0 for the first page) and `limit`; the columns to insert or
    set, by name; and for `insert_once`, the Idempotency-Key's (`key_parameters`).
    """

    by_id: Select[Any]
    page: Select[Any]
    insert: ReturningInsert[Any]
    insert_once: Select[Any]
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
            insert_once=_insert_once(table, columns),
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


def _create_order(*, once: bool) -> CompoundSelect[Any]:
    """Create an order with its lines and tags in one statement, if everything it refers to exists.

    One statement is atomic on its own, so it needs no transaction around it: creating an order is one
    round trip. Rows are `(outcome, kind, id, name)`: `("created", "order", id, None)` and a
    `("found", "tag", id, name)` per tag; or, when something is missing, nothing is inserted and each
    missing reference is a `("missing", kind, id, None)` row.

    With `once`, the order is created only if the Idempotency-Key is claimed as well (`_claim_key`), and the
    key stores the order's id and tags, `{"id": ..., "tags": [[id, name], ...]}`: with the request, all
    that its answer is made of. No "created" row and no "missing" row: the key was used before.

    Parameters: `name`, `contact_id`; the lines as three arrays `product_ids`, `quantities`, `prices`;
    `tag_ids`; with `once`, `key_parameters`. Lines are inserted in the order given, so their ids (which
    order them) follow it.
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
    name, nothing_missing = bindparam("name", type_=String), ~exists().select_from(missing)
    if once:
        new_id = select(_next_id(ORDER).label("id")).cte("new_id")
        tag_pair = func.jsonb_build_array(TAG.c.id, TAG.c.name)
        found_tags = (
            select(func.coalesce(func.jsonb_agg(aggregate_order_by(tag_pair, TAG.c.id)), func.jsonb_build_array()))
            .where(TAG.c.id == any_(_TAG_IDS))
            .scalar_subquery()
        )
        claim = _claim_key(func.jsonb_build_object("id", new_id.c.id, "tags", found_tags), new_id, nothing_missing)
        head = select(new_id.c.id, name, _CONTACT_ID).where(exists(claim.select()))
        columns = ["id", "name", "contact_id"]
    else:
        head, columns = select(name, _CONTACT_ID).where(nothing_missing), ["name", "contact_id"]
    new_order = insert(ORDER).from_select(columns, head).returning(ORDER.c.id).cte("new_order")
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


CREATE_ORDER: Final = _create_order(once=False)
CREATE_ORDER_ONCE: Final = _create_order(once=True)
"""`CREATE_ORDER`, unless the Idempotency-Key was used; parameters `key_parameters` as well."""


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


def purge_expired_idempotency_keys(window: timedelta, batch_size: int) -> ReturningDelete[str]:
    """Delete at most `batch_size` keys older than `window`, oldest first, by the index on `created_at`.

    Row locks only, and SKIP LOCKED: a key being claimed again right now is left for the next batch.
    """
    table = IDEMPOTENCY_KEY
    oldest = (
        select(table.c.scope, table.c.key)
        .where(expired(window))
        .order_by(table.c.created_at)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    return delete(table).where(tuple_(table.c.scope, table.c.key).in_(oldest)).returning(table.c.key)
