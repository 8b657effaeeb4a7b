"""Reads a standby may answer, and the consistency token that keeps a client's own writes in what it reads.

Every write answers a token: the id of its transaction (`WRITTEN`, `pg_current_xact_id()`, read in the write's
own statement, no round trip more); a replayed create answers the newest transaction that had ended when it was
read (`STORED_FOR_KEY`). A read that carries a token may be answered by a standby only once every transaction
up to it has ended there (`require_fresh_standby`, migration 0006): the client's writes are then in the
standby's snapshot, the one the read itself uses. A read without a token may be answered by a standby whose last
replayed transaction committed at most `MAX_STALENESS_MS` ago. Otherwise the standby refuses the read with
SQLSTATE `SOS01` before reading a row, and the read runs on the primary.

The check is in the read's own statement (`on_standby`): a read from a fresh standby is one round trip, as on the
primary; a stale one costs a second, on the primary.
"""

from typing import Any, Final, TypeVar

from sqlalchemy import BigInteger, Boolean, ColumnElement, Integer, Select, String, bindparam, cast, func

from sale_orders.db.errors import sqlstate

STALE_STANDBY: Final = "SOS01"
"""The SQLSTATE of a standby refusing a read it is not fresh enough for."""

WRITTEN: Final = "written_by"
"""The label of the column a write statement returns its token in."""

S = TypeVar("S", bound=Select[Any])


def written() -> ColumnElement[int]:
    """The token of the statement's own write: its transaction's id (assigned now, if it was not yet)."""
    return cast(cast(func.pg_current_xact_id(), String), BigInteger).label(WRITTEN)


def ended_so_far() -> ColumnElement[int]:
    """A token for everything that has ended: the newest transaction id below the snapshot's first running one."""
    xmax = cast(cast(func.pg_snapshot_xmax(func.pg_current_snapshot()), String), BigInteger)
    return (xmax - 1).label(WRITTEN)


_FRESH = func.require_fresh_standby(
    bindparam("consistency_token", type_=BigInteger), bindparam("max_staleness_ms", type_=Integer), type_=Boolean
)


def on_standby(statement: S) -> S:
    """`statement` as a standby runs it: refused (SQLSTATE `SOS01`) unless the standby is fresh enough.

    Extra parameters: `consistency_token` (or None) and `max_staleness_ms`.
    """
    return statement.where(_FRESH)


def is_stale_standby(exc: BaseException) -> bool:
    """Whether a failed read was a standby refusing it (then it runs on the primary)."""
    return sqlstate(exc) == STALE_STANDBY
