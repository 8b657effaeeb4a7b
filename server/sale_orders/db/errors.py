"""What a database failure means for the client, decided by its SQLSTATE: the same answer from either driver.

The two drivers raise different exception classes for the same failure: psycopg2 a deadlock as
`OperationalError`, asyncpg (through SQLAlchemy's adapter) as its generic `Error`; a refused connection is a
psycopg2 `OperationalError` but a plain `OSError` from asyncpg. So the answer is decided by the SQLSTATE the
server sent, class by class (`classify`), and only a failure that carries none (a lost or refused connection, a
full pool, a silent link) by what it is. `tests/database/test_sqlstates.py` runs every row of `_BY_SQLSTATE`
through both drivers.
"""

from enum import Enum

import asyncpg.exceptions  # type: ignore[import-untyped]
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError


class Failure(Enum):
    """What a database failure means for the request that met it; each is one answer (web/problems.py)."""

    UNAVAILABLE = "unavailable"
    """The database cannot serve now (down, restarting, refusing connections, read-only, out of resources): 503."""
    TOO_SLOW = "too-slow"
    """The statement ran past `statement_timeout` or was cancelled: 503."""
    CONTENTION = "contention"
    """Concurrent requests collided on the same rows (deadlock, serialization failure, lock timeout): nothing was
    changed, and a retry after a moment usually succeeds: 409 with Retry-After."""
    CONFLICT = "conflict"
    """A constraint refused the change (a unique name, a row still referred to): 409."""
    UNEXPECTED = "unexpected"
    """Anything else (a bug, a schema that does not match the code): a logged 500."""


QUERY_CANCELED = "57014"

# The most specific entry wins: a full code first, then its two-character class.
_BY_SQLSTATE: dict[str, Failure] = {
    "08": Failure.UNAVAILABLE,  # connection exception
    "53": Failure.UNAVAILABLE,  # insufficient resources: too many connections, out of memory, disk full
    "57P01": Failure.UNAVAILABLE,  # admin shutdown (also pg_terminate_backend)
    "57P02": Failure.UNAVAILABLE,  # crash shutdown
    "57P03": Failure.UNAVAILABLE,  # cannot connect now (starting up, shutting down)
    "57P04": Failure.UNAVAILABLE,  # database dropped
    "57P05": Failure.UNAVAILABLE,  # idle session timeout
    "57000": Failure.UNAVAILABLE,  # operator intervention
    QUERY_CANCELED: Failure.TOO_SLOW,  # statement_timeout, or a cancel request
    "58": Failure.UNAVAILABLE,  # system error: I/O outside PostgreSQL
    "25006": Failure.UNAVAILABLE,  # read-only transaction: a standby, or a primary demoted (db/failover.py)
    "25P03": Failure.UNAVAILABLE,  # idle-in-transaction timeout: the server closed the session
    "40001": Failure.CONTENTION,  # serialization failure
    "40P01": Failure.CONTENTION,  # deadlock detected
    "55P03": Failure.CONTENTION,  # lock not available: lock_timeout
    "72": Failure.CONTENTION,  # snapshot too old
    "23": Failure.CONFLICT,  # integrity constraint violation
}

# Failures that carry no SQLSTATE: the connection itself (lost, refused, silent) or the pool (no connection free).
# asyncpg's own client-side errors can reach the app unwrapped, from SQLAlchemy's connect-time setup of a connection
# that PostgreSQL has just closed ("connection is closed", "another operation is in progress").
_UNAVAILABLE_WITHOUT_SQLSTATE = (
    OperationalError,
    InterfaceError,
    PoolTimeoutError,
    OSError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
)
# ... but not asyncpg's errors of a misconfigured client, which no retry heals.
_CLIENT_MISTAKES = (asyncpg.exceptions.ClientConfigurationError, asyncpg.exceptions.UnsupportedClientFeatureError)


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc`, the driver's error SQLAlchemy wrapped (`orig`), and what that was raised from, outermost first."""
    chain: list[BaseException] = []
    error: BaseException | None = exc
    while error is not None and error not in chain and len(chain) < 5:  # a few levels at most
        chain.append(error)
        error = getattr(error, "orig", None) or error.__cause__
    return chain


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error, whichever driver raised it.

    psycopg2 puts it in `pgcode`, asyncpg in `sqlstate` (SQLAlchemy's asyncpg adapter copies it to its own error).
    """
    for error in reversed(_causes(exc)):
        code = getattr(error, "pgcode", None) or getattr(error, "sqlstate", None)
        if isinstance(code, str) and len(code) == 5:  # SQLSTATEs are five characters
            return code
    return None


def failure_of_sqlstate(code: str) -> Failure:
    """What a SQLSTATE means for the client: by its full code if listed, else by its class, else unexpected."""
    return _BY_SQLSTATE.get(code) or _BY_SQLSTATE.get(code[:2]) or Failure.UNEXPECTED


def classify(exc: BaseException) -> Failure:
    """What a failure raised while talking to the database means for the client.

    A SQLSTATE decides; without one, a lost, refused or silent connection or a full pool is `UNAVAILABLE`, and
    anything else `UNEXPECTED`.
    """
    code = sqlstate(exc)
    if code is not None:
        return failure_of_sqlstate(code)
    causes = _causes(exc)
    if any(isinstance(error, _CLIENT_MISTAKES) for error in causes):
        return Failure.UNEXPECTED
    if getattr(exc, "connection_invalidated", False) or any(
        isinstance(error, _UNAVAILABLE_WITHOUT_SQLSTATE) for error in causes
    ):
        return Failure.UNAVAILABLE
    return Failure.UNEXPECTED


def is_statement_timeout(exc: BaseException) -> bool:
    return sqlstate(exc) == QUERY_CANCELED


def is_unavailable(exc: BaseException) -> bool:
    """The database cannot serve now: its connection was lost or refused, or no pooled connection came free."""
    return classify(exc) is Failure.UNAVAILABLE
