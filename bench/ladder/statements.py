"""The SQL of the thinnest path: what a first use of the stack sends, on the product's SQLModel tables.

A page is the page of orders, then the lines and the tags of all of them (three statements, as
`selectinload` would send); a create checks the references, loads the tags, then inserts the order, its
lines and its tag links (five statements), all inside `session.begin()`. The product sends less (see
`sale_orders.db.queries`): what it gains over this path is its own code's share of the ladder.
"""

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import BigInteger, Select, any_, bindparam, insert, literal, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from sale_orders.db.queries import CONTACT, LINE, ORDER, ORDER_TAG, PRODUCT, TAG

ORDER_PAGE: Final = (
    select(ORDER.c.id, ORDER.c.name, ORDER.c.contact_id)
    .where(ORDER.c.id > bindparam("after"))
    .order_by(ORDER.c.id)
    .limit(bindparam("limit"))
)
"""A keyset page of orders' own columns. Parameters: `after` (an id, 0 for the first page) and `limit`."""

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

INSERT_LINES: Final = insert(LINE)
"""Executed with many rows of `order_id`, `product_id`, `quantity`, `price`: one statement for all lines."""

INSERT_ORDER_TAGS: Final = insert(ORDER_TAG)
"""Executed with many rows of `order_id`, `tag_id`."""


def existing_references(contact_id: int, product_ids: Sequence[int]) -> Select[Any]:
    """Which of an order's contact and products exist, as (kind, id) rows."""
    products = select(literal("product"), PRODUCT.c.id).where(PRODUCT.c.id.in_(set(product_ids)))
    contact = select(literal("contact"), CONTACT.c.id).where(CONTACT.c.id == contact_id)
    return select(*union_all(products, contact).subquery().c)
