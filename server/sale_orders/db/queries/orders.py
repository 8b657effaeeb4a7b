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
    CompoundSelect,
    Integer,
    Select,
    Selectable,
    String,
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

from sale_orders.db.queries.idempotency import claim_key, next_id
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

Parameters: `contact_id` (or None), `product_ids`, `tag_ids` (`reference_parameters`).
"""


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
    return new_lines.cte("new_lines"), new_tags.cte("new_tags")


def _creation_outcome(head: Selectable, columns: list[str], missing: CTE) -> CompoundSelect[Any]:
    """Insert the order `head` selects (its `columns`), its lines and tags; rows for `order_creation`."""
    new_order = insert(ORDER).from_select(columns, head).returning(ORDER.c.id).cte("new_order")
    no_name = cast(null(), String)
    outcome = union_all(
        select(literal_column("'created'"), literal_column("'order'"), new_order.c.id, no_name),
        select(literal_column("'missing'"), missing.c.kind, missing.c.id, no_name),
        select(literal_column("'found'"), literal_column("'tag'"), TAG.c.id, TAG.c.name).where(
            TAG.c.id == any_(_TAG_IDS)
        ),
    )
    return outcome.add_cte(*_new_lines_and_tags(new_order)).order_by(literal_column("3"))


def _create_order() -> CompoundSelect[Any]:
    """Create an order with its lines and tags in one statement, if everything it refers to exists.

    One statement is atomic on its own, so it needs no transaction around it: creating an order is one
    round trip. When something is missing, nothing is inserted.
    """
    missing = _missing_references().cte("missing")
    head = select(bindparam("name", type_=String), _CONTACT_ID).where(~exists().select_from(missing))
    return _creation_outcome(head, ["name", "contact_id"], missing)


def _create_order_once() -> CompoundSelect[Any]:
    """`_create_order`, only if the Idempotency-Key is claimed as well (`claim_key`).

    The key stores the order's id and tags, `{"id": ..., "tags": [[id, name], ...]}`: with the request, all
    that its answer is made of. The id is drawn first so that the key can store it.
    """
    missing = _missing_references().cte("missing")
    new_id = select(next_id(ORDER).label("id")).cte("new_id")
    tag_pair = func.jsonb_build_array(TAG.c.id, TAG.c.name)
    found_tags = (
        select(func.coalesce(func.jsonb_agg(aggregate_order_by(tag_pair, TAG.c.id)), func.jsonb_build_array()))
        .where(TAG.c.id == any_(_TAG_IDS))
        .scalar_subquery()
    )
    stored = func.jsonb_build_object("id", new_id.c.id, "tags", found_tags)
    claim = claim_key(stored, new_id, ~exists().select_from(missing))
    head = select(new_id.c.id, bindparam("name", type_=String), _CONTACT_ID).where(exists(claim.select()))
    return _creation_outcome(head, ["id", "name", "contact_id"], missing)


CREATE_ORDER: Final = _create_order()
"""Create an order (rows for `order_creation`). Parameters: `creation_parameters`."""
CREATE_ORDER_ONCE: Final = _create_order_once()
"""`CREATE_ORDER`, unless the Idempotency-Key was used. Parameters: `creation_parameters` and the key's."""


@dataclass(frozen=True)
class OrderCreation:
    """What `CREATE_ORDER` or `CREATE_ORDER_ONCE` did.

    Attributes:
        order_id: the new order's id; None when nothing was created.
        tags: the (id, name) of each of its tags, by id.
        missing: the (kind, id) of each reference that does not exist (then nothing was created).
    """

    order_id: int | None
    tags: list[tuple[int, str]] = field(default_factory=list)
    missing: list[tuple[str, int]] = field(default_factory=list)

    @property
    def key_was_used(self) -> bool:
        """Nothing created and nothing missing: `CREATE_ORDER_ONCE` found its key claimed before."""
        return self.order_id is None and not self.missing


def order_creation(rows: Iterable[tuple[Any, ...]]) -> OrderCreation:
    """The outcome in the rows of `CREATE_ORDER` or `CREATE_ORDER_ONCE`: `(outcome, kind, id, name)` each.

    `("created", "order", id, None)` and a `("found", "tag", id, name)` per tag; or, when something is missing, a
    `("missing", kind, id, None)` per missing reference; or, from `CREATE_ORDER_ONCE`, no created and no missing
    row when the key was used before.
    """
    order_id, tags, missing = None, [], []
    for outcome, kind, item_id, name in rows:
        if outcome == "created":
            order_id = item_id
        elif outcome == "found":
            tags.append((item_id, name))
        else:
            missing.append((kind, item_id))
    if order_id is None:
        tags = []
    return OrderCreation(order_id, tags, missing)


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
