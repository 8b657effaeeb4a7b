"""Helpers of both families that do no I/O, so they need no twin."""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from sale_orders.domain.errors import ConflictError


def fingerprint(request: BaseModel) -> str:
    """What identifies a request body for Idempotency-Key reuse: a hash of its canonical JSON."""
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


@contextmanager
def conflict_if_changed_meanwhile() -> Iterator[None]:
    """A referenced row deleted after the check fails the write: 409, and nothing is stored."""
    try:
        yield
    except IntegrityError as exc:
        raise ConflictError("the order conflicts with data changed meanwhile; nothing was stored, retry") from exc
