"""Orders read from the database, encoded straight to JSON: the hot read path.

A page of 50 orders is about 300 nested objects: built as plain dicts and encoded by msgspec, not as
response models for Litestar to serialise, which cost several times more. The JSON is exactly
`schemas.Order`'s: tests/unit/test_order_json.py checks it against pydantic's serialisation of the same rows, and
Schemathesis validates every response against the contract.
"""

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import msgspec

from sale_orders.domain import pricing
from sale_orders.domain.fields import json_number

OrderRow = tuple[int, str, int]
"""An order's own columns: id, name, contact_id."""
LineRow = tuple[int, int, int, Decimal]
"""A line, with the order it belongs to: order_id, product_id, quantity, price."""
TagRow = tuple[int, int, str]
"""A tag, with the order it labels: order_id, tag id, tag name."""


def order_documents(
    orders: Iterable[OrderRow], lines: Iterable[LineRow], tags: Iterable[TagRow]
) -> list[dict[str, Any]]:
    """The JSON documents of orders (`schemas.Order`), from their rows and the rows of their lines and tags.

    The rows come from the database, where they were stored validated, so they are not validated again.
    Rows are unpacked as tuples: reading a SQLAlchemy row's fields by name cost twice as much.
    """
    lines_by_order: dict[int, list[tuple[int, int, Decimal]]] = defaultdict(list)
    for order_id, product_id, quantity, price in lines:
        lines_by_order[order_id].append((product_id, quantity, price))
    tags_by_order: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for order_id, tag_id, tag_name in tags:
        tags_by_order[order_id].append({"id": tag_id, "name": tag_name})
    documents = []
    for order_id, name, contact_id in orders:
        order_lines = lines_by_order[order_id]
        documents.append(
            {
                "id": order_id,
                "name": name,
                "contact_id": contact_id,
                "order_lines": [
                    {"product_id": product_id, "quantity": quantity, "price": json_number(price)}
                    for product_id, quantity, price in order_lines
                ],
                "tags": tags_by_order[order_id],
                "amount_total": json_number(pricing.total((quantity, price) for _, quantity, price in order_lines)),
            }
        )
    return documents


def order_document(order: OrderRow, lines: Iterable[LineRow], tags: Iterable[TagRow]) -> dict[str, Any]:
    """The JSON document of one order (`schemas.Order`)."""
    return order_documents([order], lines, tags)[0]


def encode_orders(orders: Iterable[OrderRow], lines: Iterable[LineRow], tags: Iterable[TagRow]) -> bytes:
    """A JSON array of orders (`list[schemas.Order]`)."""
    return encode(order_documents(orders, lines, tags))


def encode_order(order: OrderRow, lines: Iterable[LineRow], tags: Iterable[TagRow]) -> bytes:
    """One order as JSON (`schemas.Order`)."""
    return encode(order_document(order, lines, tags))


encode = msgspec.json.encode
