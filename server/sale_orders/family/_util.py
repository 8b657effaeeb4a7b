"""Helpers of both families that do no I/O, so they need no twin."""

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from sale_orders.db.queries.idempotency import IdempotencyKey
from sale_orders.db.tables import OrderTable
from sale_orders.domain import order_json, schemas
from sale_orders.domain.errors import ConflictError


def fingerprint(request: BaseModel) -> str:
    """What identifies a request body for Idempotency-Key reuse: a hash of its canonical JSON.

    Tags are a set: `tag_ids` [2, 1] and [1, 2] are the same request (lines are a list: their order is kept).
    """
    tag_ids = getattr(request, "tag_ids", None)
    if tag_ids and tag_ids != sorted(tag_ids):
        request = request.model_copy(update={"tag_ids": sorted(tag_ids)})
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


def idempotency_key_for(scope: str, key: str, request: BaseModel, window: timedelta) -> IdempotencyKey:
    """The Idempotency-Key `key` of `request`, a create of `scope` ("order", "tag", ...)."""
    return IdempotencyKey(scope, key, fingerprint(request), window)


@contextmanager
def conflict_if_changed_meanwhile() -> Iterator[None]:
    """A referenced row deleted after the check fails the write: 409, and nothing is stored."""
    try:
        yield
    except IntegrityError as exc:
        raise ConflictError("the order conflicts with data changed meanwhile; nothing was stored, retry") from exc


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
