"""Which database failures mean "unavailable": the same answer whichever driver raised them.

psycopg2 reports a refused connection as OperationalError, asyncpg as a plain OSError; a full pool is
SQLAlchemy's TimeoutError; a statement cancelled by statement_timeout is SQLSTATE 57014 from either driver.
"""

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

QUERY_CANCELED = "57014"

_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError, OSError)


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error, whichever driver raised it."""
    original = getattr(exc, "orig", None)
    return getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)


def is_statement_timeout(exc: BaseException) -> bool:
    return sqlstate(exc) == QUERY_CANCELED


def is_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached, its connection was lost, or no pooled connection came free in time."""
    return isinstance(exc, _UNAVAILABLE) or bool(getattr(exc, "connection_invalidated", False))
