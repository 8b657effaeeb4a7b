"""An order's answer made from what the service already holds, without reading the order back."""

from collections.abc import Iterable
from typing import Any

from sale_orders.db.tables import OrderTable
from sale_orders.domain import order_json, schemas


def created_order(order_id: int, data: schemas.OrderCreate, tags: Iterable[Iterable[Any]]) -> dict[str, Any]:
    """The answer to a created order: the request, with the order's id and its tags' (id, name) pairs."""
    lines = [(order_id, line.product_id, line.quantity, line.price) for line in data.order_lines]
    tag_rows = [(order_id, tag_id, name) for tag_id, name in tags]
    return order_json.order_document((order_id, data.name, data.contact_id), lines, tag_rows)


def replayed_order(stored: dict[str, Any], data: schemas.OrderCreate) -> dict[str, Any]:
    """The answer to a retried order, from what its key stores: the order's id and tags.

    Or the whole answer: stored before migration 0004, or by an older version still serving beside this one
    during a rolling deploy.
    """
    if "order_lines" in stored:
        return stored
    return created_order(stored["id"], data, stored["tags"])


def loaded_order_rows(
    order_id: int, order: OrderTable
) -> tuple[order_json.OrderRow, list[order_json.LineRow], list[order_json.TagRow]]:
    """An order loaded with its lines and tags, as the rows `order_json` encodes."""
    lines = [(order_id, line.product_id, line.quantity, line.price) for line in order.order_lines]
    tags = [(order_id, tag.id, tag.name) for tag in order.tags if tag.id is not None]
    return (order_id, order.name, order.contact_id), lines, tags
