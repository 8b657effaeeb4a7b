"""A write that met a row changed meanwhile: a 409, and nothing stored."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

from sale_orders.domain.errors import ConflictError


@contextmanager
def conflict_if_changed_meanwhile() -> Iterator[None]:
    """A referenced row deleted after the check fails the write: 409, and nothing is stored."""
    try:
        yield
    except IntegrityError as exc:
        raise ConflictError("the order conflicts with data changed meanwhile; nothing was stored, retry") from exc
