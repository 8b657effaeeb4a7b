"""Creating exactly once: the Idempotency-Key of a create, claimed by the statement that creates.

A create with a key is one statement: it claims the key, creates, and stores with the key what a retry is
answered from, or does none of it, in one round trip (`claim_key` is the part every such statement shares).
A concurrent claim of the same key waits for the first to commit. When the statement creates nothing because
the key was used before, `STORED_FOR_KEY` reads what was stored. A key expires after its window: a retry
after that is a new request (the expired key is claimed anew, in place).
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import (
    CTE,
    ColumnElement,
    FromClause,
    Interval,
    Row,
    String,
    bindparam,
    delete,
    func,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.dml import ReturningDelete

from sale_orders.db.queries.standby import WRITTEN, ended_so_far
from sale_orders.db.tables import IDEMPOTENCY_KEY

_KEY_SCOPE = bindparam("key_scope", type_=String)
_KEY = bindparam("key", type_=String)
_KEY_FINGERPRINT = bindparam("key_fingerprint", type_=String)
_KEY_WINDOW = bindparam("key_window", type_=Interval)


@dataclass(frozen=True)
class IdempotencyKey:
    """A create request's Idempotency-Key, as the statements that create once take it.

    Attributes:
        scope: what the key creates ("order", "tag", ...): a key is one client's, per kind of object.
        key: the request's Idempotency-Key header.
        fingerprint: what identifies the request's body.
        window: how long a key is remembered; a key claimed longer ago has expired.
    """

    scope: str
    key: str
    fingerprint: str
    window: timedelta

    def parameters(self) -> dict[str, Any]:
        """The statement parameters of this key (of `claim_key` and of `STORED_FOR_KEY`)."""
        return {
            "key_scope": self.scope,
            "key": self.key,
            "key_fingerprint": self.fingerprint,
            "key_window": self.window,
        }


def expired(window: timedelta | ColumnElement[Any] = _KEY_WINDOW) -> ColumnElement[bool]:
    """Whether an Idempotency-Key was claimed longer than `window` ago (default: the key's own window)."""
    return IDEMPOTENCY_KEY.c.created_at < func.now() - window


def claim_key(stored: ColumnElement[Any], source: FromClause, *conditions: ColumnElement[bool]) -> CTE:
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


STORED_FOR_KEY: Final = select(
    IDEMPOTENCY_KEY.c.fingerprint,
    IDEMPOTENCY_KEY.c.response,
    (~expired()).label("live"),
    ended_so_far(),
).where(IDEMPOTENCY_KEY.c.scope == _KEY_SCOPE, IDEMPOTENCY_KEY.c.key == _KEY)
"""What was stored with a key when it was claimed (rows for `stored_for_key`). Parameters: the key's.

Its consistency token covers every transaction that has ended, the one that created with the key included.
"""


@dataclass(frozen=True)
class StoredForKey:
    """What `STORED_FOR_KEY` found: the key's request, what its retries are answered from, and whether it is live."""

    fingerprint: str
    answer: Any
    live: bool
    token: int


def stored_for_key(row: Row[Any] | None) -> StoredForKey | None:
    """The row of `STORED_FOR_KEY`, or None when the key is not stored."""
    if row is None:
        return None
    return StoredForKey(row.fingerprint, row.response, bool(row.live), getattr(row, WRITTEN))


def purge_expired(window: timedelta, batch_size: int) -> ReturningDelete[str]:
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
