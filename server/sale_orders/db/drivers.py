"""The two database drivers: how a URL names each, and how each connects.

One URL configures both families: psycopg2 for the sync family, asyncpg for the async family
(`sale_orders.family.record` says which is whose). Everything here is per driver, not per family: /health's
engine, the migrations and the standby's engines connect through the same drivers. (A family's connection pool
is the family's: `family/runtime/pools.py`.)

Behind PgBouncer in transaction pooling mode (`PGBOUNCER=true`), consecutive transactions of one client
connection run on different server connections, so no prepared statement may outlive its transaction:
asyncpg's statement cache is turned off (`statement_cache_size=0`), which makes every statement it prepares
unnamed and re-parsed in the same round trip as its execution (asyncpg's `Connection._get_statement`).
SQLAlchemy's per-connection cache of those statements may stay on: it holds their descriptions and codecs,
nothing on the server, and saves a Parse/Describe round trip per repeated statement. And neither driver
sends `statement_timeout` or `lock_timeout` as a startup parameter, which PgBouncer refuses ("unsupported startup
parameter"); behind PgBouncer they are set on the database role instead.

Across a network, a link can go silent (no bytes, no RST): each driver is given a bound on how long it waits
for PostgreSQL (`DB_CONNECT_TIMEOUT`, `DB_RESPONSE_TIMEOUT`), so a request answers 503 within seconds and its
connection is thrown away, and TCP keepalives notice a dead peer on a real network:

- connecting: psycopg2, libpq's `connect_timeout` (whole seconds, at least 2); asyncpg, `timeout`.
- waiting for an answer: psycopg2, `db/deadline.py` (a watchdog thread cuts a call older than its deadline);
  asyncpg, `command_timeout`.
- the connection after that: closed by psycopg2 / aborted here (a graceful close would wait on the cut link
  too), and invalidated by SQLAlchemy in both: the pool never hands it out again.
- a dead peer on a real network: libpq's keepalives and `tcp_user_timeout`; for asyncpg, the same socket options.
"""

import math
import socket
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import psycopg2.extensions
from psycopg2.extensions import ISOLATION_LEVEL_AUTOCOMMIT, ISOLATION_LEVEL_READ_COMMITTED
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from sale_orders.db import deadline
from sale_orders.features import Feature
from sale_orders.settings import Settings
from sale_orders.upstream import TransportSocket, asyncpg_socket

# On a real network a dead peer stops acknowledging: notice it within about 8 s of silence (5 idle, then 3
# probes a second apart), and give up unacknowledged data after 9 s. They never limit how long a query runs.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT, TCP_USER_TIMEOUT_MS = 5, 1, 3, 9000


def with_driver(url: URL | str, driver: str) -> URL:
    """`url` for the SQLAlchemy dialect+driver `postgresql+<driver>`, keeping everything else."""
    return make_url(url).set(drivername=f"postgresql+{driver}")


def libpq_dsn(url: URL) -> str:
    """`url` as a libpq connection string (`postgresql://...`), for psycopg2 and asyncpg used directly."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Psycopg2Connection(psycopg2.extensions.connection):
    """psycopg2's connection, in and out of autocommit without a round trip.

    SQLAlchemy returns a connection to the pool by setting the server's default isolation level explicitly;
    from then on psycopg2 sends `SET default_transaction_isolation` whenever it enters autocommit: one
    more round trip for every single-statement request (`family/_async/sessions.py`). This app only asks for
    autocommit or the server's default level, so going back to the default is just leaving autocommit.
    """

    def set_isolation_level(self, level: int | None) -> None:
        if level == ISOLATION_LEVEL_AUTOCOMMIT:
            self.autocommit = True
        elif level == ISOLATION_LEVEL_READ_COMMITTED:
            self.autocommit = False
        else:
            super().set_isolation_level(level)


@cache
def _psycopg2_connection_class(seconds: float | None) -> type[Psycopg2Connection]:
    """`Psycopg2Connection` with a deadline of `seconds` (`db/deadline.py`), or none."""
    if seconds is None:
        return Psycopg2Connection
    bases = (deadline.DeadlineConnection, Psycopg2Connection)
    return type(f"Psycopg2Connection{seconds:g}s", bases, {"deadline": seconds})


def server_settings(settings: Settings) -> dict[str, str]:
    """The PostgreSQL settings each connection starts with (not behind PgBouncer: set them on the role there).

    `idle_in_transaction_session_timeout`: PostgreSQL waits for the app inside a transaction no longer than the app
    waits for PostgreSQL (`DB_RESPONSE_TIMEOUT`). On a cut link the app gives its connection up after that; the
    server, which never hears of it, would otherwise keep the transaction open with its locks (the row answers 409
    on every host) and its transaction id (every host's pages stop at it, `db/queries/feed.py`) for as long as the
    cut lasts, hours on a real network. The app's own transactions are never idle for long: between two statements
    there is only Python.
    """
    return {
        "statement_timeout": str(settings.statement_timeout_ms),
        "lock_timeout": str(settings.lock_wait_ms),
        "idle_in_transaction_session_timeout": str(round(settings.db_response_timeout * 1000)),
    }


def _psycopg2_connect_args(settings: Settings) -> dict[str, Any]:
    deadlines = Feature.DEADLINES in settings.enabled
    arguments: dict[str, Any] = {
        "connection_factory": _psycopg2_connection_class(settings.db_response_timeout if deadlines else None),
        # libpq counts whole seconds, and at least 2.
        "connect_timeout": max(2, math.ceil(settings.db_connect_timeout)),
        "keepalives": 1,
        "keepalives_idle": KEEPALIVE_IDLE,
        "keepalives_interval": KEEPALIVE_INTERVAL,
        "keepalives_count": KEEPALIVE_COUNT,
        "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
    }
    if not settings.pgbouncer:
        arguments["options"] = " ".join(f"-c {name}={value}" for name, value in server_settings(settings).items())
    return arguments


def _asyncpg_connect_args(settings: Settings) -> dict[str, Any]:
    timeouts: dict[str, Any] = {}
    if Feature.DEADLINES in settings.enabled:
        timeouts = {"timeout": settings.db_connect_timeout, "command_timeout": settings.db_response_timeout}
    if settings.pgbouncer:
        # Not the unique `prepared_statement_name_func` of SQLAlchemy's asyncpg docs: asyncpg closes a named
        # statement late, on whatever server connection the client has by then, so named statements pile up
        # on PgBouncer's server connections.
        return {**timeouts, "statement_cache_size": 0}
    return {**timeouts, "server_settings": server_settings(settings)}


def _prepare_psycopg2(engine: Engine | AsyncEngine, settings: Settings) -> None:
    del engine, settings  # its deadline comes with its connection class (`_psycopg2_connect_args`)


def _keep_alive(tcp: TransportSocket) -> None:
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE_IDLE)
    tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, KEEPALIVE_INTERVAL)
    tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_COUNT)
    tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, TCP_USER_TIMEOUT_MS)


def _prepare_asyncpg(engine: Engine | AsyncEngine, settings: Settings) -> None:
    del settings  # its timeouts are connect arguments
    pool = (engine.sync_engine if isinstance(engine, AsyncEngine) else engine).pool

    @event.listens_for(pool, "connect")
    def keep_alive(dbapi_connection: Any, _record: Any) -> None:
        # asyncpg has no keepalive option: set it on the connection's socket (TCP only, not a unix socket).
        tcp = asyncpg_socket(dbapi_connection.driver_connection)
        if tcp is not None and tcp.family in {socket.AF_INET, socket.AF_INET6}:
            _keep_alive(tcp)

    @event.listens_for(pool, "invalidate")
    def abort_timed_out(_dbapi_connection: Any, record: Any, exception: BaseException | None) -> None:
        # A command that timed out leaves a link that may be cut: abort, or the graceful close waits on it too.
        if isinstance(exception, TimeoutError) and record.driver_connection is not None:
            record.driver_connection.terminate()


@dataclass(frozen=True)
class Driver:
    """A PostgreSQL driver as SQLAlchemy names it, and how this app connects with it."""

    name: str
    create_engine: Callable[..., Engine] | Callable[..., AsyncEngine]
    """SQLAlchemy's engine factory for the driver, with the driver's own options."""
    connect_args: Callable[[Settings], dict[str, Any]]
    prepare_engine: Callable[[Engine | AsyncEngine, Settings], None]
    """What an engine of this driver needs before it serves: the deadline, keepalives, aborting timed-out links."""
    autocommits_behind_pgbouncer: bool
    """Whether a single statement may run in autocommit behind PgBouncer in transaction mode. asyncpg's
    unnamed statement is parsed and then executed in two exchanges, which PgBouncer may hand to two server
    connections outside a transaction."""

    def url(self, url: URL) -> URL:
        return with_driver(url, self.name)

    def autocommits(self, settings: Settings) -> bool:
        """Whether an operation that is one statement runs in autocommit (no BEGIN and COMMIT around it)."""
        return self.autocommits_behind_pgbouncer or not settings.pgbouncer


# Both engines hide a statement's parameters from their errors and logs: they are a client's names, e-mail addresses
# and Idempotency-Keys, which a 503 warning or a 500's traceback would otherwise print.


def _create_psycopg2_engine(url: str, **options: Any) -> Engine:
    # Batches of UPDATE and DELETE go in one round trip (psycopg2's execute_batch), as asyncpg sends them: a
    # changed order's old lines and tag links, deleted one statement each, cost a round trip each otherwise.
    return create_engine(url, executemany_mode="values_plus_batch", hide_parameters=True, **options)


def _create_asyncpg_engine(url: str, **options: Any) -> AsyncEngine:
    # The pool is the family's (`poolclass`: family/runtime/pools.py serves waiters in the order they came).
    return create_async_engine(url, hide_parameters=True, **options)


PSYCOPG2 = Driver(
    "psycopg2", _create_psycopg2_engine, _psycopg2_connect_args, _prepare_psycopg2, autocommits_behind_pgbouncer=True
)
ASYNCPG = Driver(
    "asyncpg", _create_asyncpg_engine, _asyncpg_connect_args, _prepare_asyncpg, autocommits_behind_pgbouncer=False
)
