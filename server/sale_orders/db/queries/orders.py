"""Every statement on sale orders, with their lines and tags, and the decoding of what each returns.

Reading one order or a page is one statement (`ORDER_BY_ID`, `ORDER_PAGE`: rows for `split_order_rows`), and so
is creating one (`CREATE_ORDER`, or `CREATE_ORDER_ONCE` with an Idempotency-Key: rows for `order_creation`).
Changing an order is SQLModel code on ORM objects (`order_for_update`, `tags_by_id`).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from typing import cast as typed

from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Selectable,
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
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import QueryableAttribute, selectinload
from sqlmodel import col
from sqlmodel import select as select_models
from sqlmodel.sql.expression import SelectOfScalar

from sale_orders.db.queries.feed import HORIZON, draw, settled
from sale_orders.db.queries.idempotency import claim_key
from sale_orders.db.queries.standby import on_standby, written
from sale_orders.db.tables import CONTACT, LINE, ORDER, ORDER_TAG, PRODUCT, TAG, OrderTable, TagTable
from sale_orders.domain import order_json, schemas

_PRICE = LINE.c.price.type
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

_ONE_HEAD = _ORDER_HEADS.where(ORDER.c.id == _ORDER_ID)
_PAGE_HEADS = (
    _ORDER_HEADS.where(ORDER.c.id > bindparam("after"), settled(ORDER)).order_by(ORDER.c.id).limit(bindparam("limit"))
)

ORDER_BY_ID: Final = _orders_with_lines_and_tags(_ONE_HEAD)
"""One order with its lines and tags (rows for `split_order_rows`). Parameter: `order_id`."""
ORDER_BY_ID_ON_STANDBY: Final = _orders_with_lines_and_tags(on_standby(_ONE_HEAD))
"""`ORDER_BY_ID`, refused by a standby not fresh enough (`standby.on_standby`: two parameters more)."""

ORDER_PAGE: Final = _orders_with_lines_and_tags(_PAGE_HEADS)
"""A keyset page of orders with their lines and tags (rows for `split_order_rows`).

Parameters: `after` (an id, 0 for the first page) and `limit`. Only orders no lower id can appear before
(`feed.settled`): a client following `after` never skips one.
"""
ORDER_PAGE_ON_STANDBY: Final = _orders_with_lines_and_tags(on_standby(_PAGE_HEADS))
"""`ORDER_PAGE`, refused by a standby not fresh enough (`standby.on_standby`: two parameters more)."""

DELETE_ORDER: Final = delete(ORDER).where(ORDER.c.id == _ORDER_ID).returning(ORDER.c.id, written())
"""Parameter: `order_id`; returns the id and the consistency token if there was such an order."""


_CONTACT_ID = bindparam("contact_id", type_=BigInteger)
_PRODUCT_IDS = bindparam("product_ids", type_=ARRAY(BigInteger))
_TAG_IDS = bindparam("tag_ids", type_=ARRAY(BigInteger))


def _locked(table: Table, condition: ColumnElement[bool], name: str) -> CTE:
    """The ids of the rows of `table` that meet `condition`, locked until the transaction ends (FOR KEY SHARE).

    Locked, not just read: a row that another transaction deletes before the lock is not found (it is missing),
    and one deleted after it waits for this transaction, whose reference its delete then finds (a 409).
    Updates that keep the key (a rename) do not wait.
    """
    return (
        select(table.c.id)
        .where(condition)
        .with_for_update(read=True, key_share=True)
        .cte(name)
        .prefix_with("MATERIALIZED")
    )


def _missing_references() -> CompoundSelect[Any]:
    """(kind, id) rows: each contact, product and tag id in the parameters that no row has.

    The rows that do exist are locked until the transaction ends (`_locked`), so that none is deleted between
    this check and the write that refers to it: a reference that is checked is a reference that holds.
    Parameters: `contact_id` (None: no contact to check), `product_ids` and `tag_ids` (arrays).
    """
    contacts = _locked(CONTACT, CONTACT.c.id == _CONTACT_ID, "locked_contact")
    products = _locked(PRODUCT, PRODUCT.c.id == any_(_PRODUCT_IDS), "locked_product")
    tags = _locked(TAG, TAG.c.id == any_(_TAG_IDS), "locked_tag")
    wanted_products = func.unnest(_PRODUCT_IDS).table_valued("id").render_derived(name="wanted_product")
    wanted_tags = func.unnest(_TAG_IDS).table_valued("id").render_derived(name="wanted_tag")
    return union_all(
        select(literal_column("'contact'").label("kind"), _CONTACT_ID.label("id")).where(
            _CONTACT_ID.is_not(None), ~exists().where(contacts.c.id == _CONTACT_ID)
        ),
        select(literal_column("'product'"), wanted_products.c.id)
        .distinct()
        .where(~exists().where(products.c.id == wanted_products.c.id)),
        select(literal_column("'tag'"), wanted_tags.c.id).where(~exists().where(tags.c.id == wanted_tags.c.id)),
    )


MISSING_REFERENCES: Final = _missing_references()
"""(kind, id) of what an order's contact, products and tags name but does not exist; the rest locked.

Parameters: `contact_id` (or None), `product_ids`, `tag_ids` (`reference_parameters`).
"""
WRITTEN_KIND: Final = "written"
CHANGE_REFERENCES: Final[CompoundSelect[Any]] = union_all(
    _missing_references(), select(literal_column(f"'{WRITTEN_KIND}'"), written())
)
"""`MISSING_REFERENCES` for a change of an order, with one row more: (`WRITTEN_KIND`, the change's token).

The change's transaction takes its id here, a little before its first write: its token costs no round trip.
"""


def change_check(rows: Iterable[tuple[Any, ...]]) -> tuple[int, list[tuple[str, int]]]:
    """The rows of `CHANGE_REFERENCES`: the change's consistency token, and the (kind, id) of what is missing."""
    token, missing = 0, []
    for kind, item_id in rows:
        if kind == WRITTEN_KIND:
            token = item_id
        else:
            missing.append((kind, item_id))
    return token, missing


def reference_parameters(
    contact_id: int | None, lines: Sequence[schemas.OrderLine], tag_ids: Sequence[int]
) -> dict[str, Any]:
    """The parameters of `MISSING_REFERENCES` for what an order names."""
    return {"contact_id": contact_id, "product_ids": [line.product_id for line in lines], "tag_ids": list(tag_ids)}


def creation_parameters(order: schemas.OrderCreate) -> dict[str, Any]:
    """The parameters of `CREATE_ORDER` (and of `CREATE_ORDER_ONCE`, with the key's) for an order to create."""
    lines = order.order_lines
    return {
        **reference_parameters(order.contact_id, lines, order.tag_ids),
        "name": order.name,
        "quantities": [line.quantity for line in lines],
        "prices": [line.price for line in lines],
    }


def _new_lines_and_tags(new_order: CTE) -> tuple[CTE, CTE]:
    """The inserts of a new order's lines (in the order given, so their ids follow it) and tag links."""
    lines = (
        func.unnest(
            _PRODUCT_IDS, bindparam("quantities", type_=ARRAY(Integer)), bindparam("prices", type_=ARRAY(_PRICE))
        )
        .table_valued("product_id", "quantity", "price", with_ordinality="position")
        .render_derived(name="new_line")
    )
    tags = func.unnest(_TAG_IDS).table_valued("id").render_derived(name="new_tag")
    new_lines = insert(LINE).from_select(
        ["order_id", "product_id", "quantity", "price"],
        select(new_order.c.id, lines.c.product_id, lines.c.quantity, lines.c.price)
        .join_from(new_order, lines, true())  # the one new order, with every line
        .order_by(lines.c.position),
    )
    new_tags = insert(ORDER_TAG).from_select(
        ["order_id", "tag_id"], select(new_order.c.id, tags.c.id).join_from(new_order, tags, true())
    )
    returned_lines = new_lines.returning(LINE.c.id, LINE.c.order_id, LINE.c.product_id, LINE.c.quantity, LINE.c.price)
    return returned_lines.cte("new_lines"), new_tags.returning(ORDER_TAG.c.order_id, ORDER_TAG.c.tag_id).cte("new_tags")


_MISSING, _WRITTEN = 3, 4
"""The kinds of a row of `_creation_outcome` naming a missing reference, and carrying the consistency token (0-2
are `_orders_with_lines_and_tags`')."""


def _creation_outcome(head: Selectable, columns: list[str], missing: CTE) -> CompoundSelect[Any]:
    """Insert the order `head` selects (its `columns`), its lines and tags; rows for `order_creation`.

    The new order, lines and tags come back as they were stored, in the rows `_orders_with_lines_and_tags` reads
    (kinds 0-2), so that a create is answered exactly as a read of the order would be; then a kind-3 row per
    missing reference, `(3, None, None, id, None, None, kind)`, and when the order was made, a kind-4 row with the
    create's consistency token, `(4, None, token, None, None, None, None)`.
    """
    new_order = (
        insert(ORDER)
        .from_select(columns, head)
        .returning(ORDER.c.id, ORDER.c.name, ORDER.c.contact_id)
        .cte("new_order")
    )
    new_lines, new_tags = _new_lines_and_tags(new_order)
    kind = [literal_column(str(number), Integer).label("kind") for number in (0, 1, 2, _MISSING, _WRITTEN)]
    no_id, no_quantity, no_price = cast(null(), BigInteger), cast(null(), Integer), cast(null(), _PRICE)
    outcome = union_all(
        select(
            kind[0], new_order.c.id, new_order.c.id, new_order.c.contact_id, no_quantity, no_price, new_order.c.name
        ),
        select(
            kind[1],
            new_lines.c.order_id,
            new_lines.c.id,
            new_lines.c.product_id,
            new_lines.c.quantity,
            new_lines.c.price,
            cast(null(), String),
        ),
        select(kind[2], new_tags.c.order_id, TAG.c.id, TAG.c.id, no_quantity, no_price, TAG.c.name).join_from(
            new_tags, TAG, TAG.c.id == new_tags.c.tag_id
        ),
        select(kind[3], no_id, no_id, missing.c.id, no_quantity, no_price, missing.c.kind),
        select(kind[4], no_id, written(), no_id, no_quantity, no_price, cast(null(), String)).where(
            exists(new_order.select())
        ),
    )
    return outcome.order_by(literal_column("1"), literal_column("3"))


def _create_order() -> CompoundSelect[Any]:
    """Create an order with its lines and tags in one statement, if everything it refers to exists.

    One statement is atomic on its own, so it needs no transaction around it: creating an order is one
    round trip. When something is missing, nothing is inserted. Its id is drawn by `feed.draw`.
    """
    missing = _missing_references().cte("missing")
    drawn = draw(ORDER)
    head = select(drawn, bindparam("name", type_=String), _CONTACT_ID).where(~exists().select_from(missing))
    return _creation_outcome(head, ["id", HORIZON, "name", "contact_id"], missing)


def _create_order_once() -> CompoundSelect[Any]:
    """`_create_order`, only if the Idempotency-Key is claimed as well (`claim_key`).

    The key stores the order's id and tags, `{"id": ..., "tags": [[id, name], ...]}`: with the request, all
    that its answer is made of. The id is drawn first so that the key can store it.
    """
    missing = _missing_references().cte("missing")
    new_id = draw(ORDER, "new_id")
    tag_pair = func.jsonb_build_array(TAG.c.id, TAG.c.name)
    found_tags = (
        select(func.coalesce(func.jsonb_agg(aggregate_order_by(tag_pair, TAG.c.id)), func.jsonb_build_array()))
        .where(TAG.c.id == any_(_TAG_IDS))
        .scalar_subquery()
    )
    stored = func.jsonb_build_object("id", new_id.c.id, "tags", found_tags)
    claim = claim_key(stored, new_id, ~exists().select_from(missing))
    head = select(new_id, bindparam("name", type_=String), _CONTACT_ID).where(exists(claim.select()))
    return _creation_outcome(head, ["id", HORIZON, "name", "contact_id"], missing)


CREATE_ORDER: Final = _create_order()
"""Create an order (rows for `order_creation`). Parameters: `creation_parameters`."""
CREATE_ORDER_ONCE: Final = _create_order_once()
"""`CREATE_ORDER`, unless the Idempotency-Key was used. Parameters: `creation_parameters` and the key's."""


@dataclass(frozen=True)
class OrderCreation:
    """What `CREATE_ORDER` or `CREATE_ORDER_ONCE` did.

    Attributes:
        order: the new order's own row as stored; None when nothing was created.
        lines: its lines as stored.
        tags: its tags as stored.
        missing: the (kind, id) of each reference that does not exist (then nothing was created).
        token: the create's consistency token (`standby`), when it created.
    """

    order: order_json.OrderRow | None
    lines: list[order_json.LineRow] = field(default_factory=list)
    tags: list[order_json.TagRow] = field(default_factory=list)
    missing: list[tuple[str, int]] = field(default_factory=list)
    token: int | None = None

    @property
    def order_id(self) -> int | None:
        return None if self.order is None else self.order[0]

    @property
    def key_was_used(self) -> bool:
        """Nothing created and nothing missing: `CREATE_ORDER_ONCE` found its key claimed before."""
        return self.order is None and not self.missing


def order_creation(rows: Iterable[tuple[Any, ...]]) -> OrderCreation:
    """The outcome in the rows of `CREATE_ORDER` or `CREATE_ORDER_ONCE` (`_creation_outcome`)."""
    stored, missing, token = [], [], None
    for row in rows:
        if row[0] == _MISSING:
            missing.append((row[6], row[3]))
        elif row[0] == _WRITTEN:
            token = row[2]
        else:
            stored.append(row)
    heads, lines, tags = split_order_rows(stored)
    return OrderCreation(heads[0] if heads else None, lines, tags, missing, token)


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
