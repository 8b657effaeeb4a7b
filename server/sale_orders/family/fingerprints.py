"""What identifies a create for its Idempotency-Key: its scope and key, and a fingerprint of its body."""

import hashlib
from datetime import timedelta

from pydantic import BaseModel

from sale_orders.db.queries.idempotency import IdempotencyKey


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
