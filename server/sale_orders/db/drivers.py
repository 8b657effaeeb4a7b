"""The two database drivers: how a URL names each, and how each connects.

One URL configures both families: psycopg2 for the sync family, asyncpg for the async family
(`sale_orders.family.record` says which is whose). Everything here is per driver, not per family.

Behind PgBouncer in transaction pooling mode (`PGBOUNCER=true`), consecutive transactions of one client
connection run on different server connections, so no prepared statement may outlive its transaction:
asyncpg's statement cache is turned off (`statement_cache_size=0`), which makes every statement it prepares
unnamed and re-parsed in the same round trip as its execution (asyncpg's `Connection._get_statement`).
SQLAlchemy's per-connection cache of those statements may stay on: it holds their descriptions and codecs,
nothing on the server, and saves a Parse/Describe round trip per repeated statement. And neither driver
sends `statement_timeout` as a startup parameter, which PgBouncer refuses ("unsupported startup parameter");
behind PgBouncer it is set on the database role instead.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg2.extensions
from psycopg2.extensions import ISOLATION_LEVEL_AUTOCOMMIT, ISOLATION_LEVEL_READ_COMMITTED
from sqlalchemy.engine import URL, make_url

from sale_orders.settings import Settings


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


def _psycopg2_connect_args(settings: Settings) -> dict[str, Any]:
    arguments: dict[str, Any] = {"connection_factory": Psycopg2Connection}
    if not settings.pgbouncer:
        arguments["options"] = f"-c statement_timeout={settings.statement_timeout_ms}"
    return arguments


def _asyncpg_connect_args(settings: Settings) -> dict[str, Any]:
    if settings.pgbouncer:
        # Not the unique `prepared_statement_name_func` of SQLAlchemy's asyncpg docs: asyncpg closes a named
        # statement late, on whatever server connection the client has by then, so named statements pile up
        # on PgBouncer's server connections.
        return {"statement_cache_size": 0}
    return {"server_settings": {"statement_timeout": str(settings.statement_timeout_ms)}}


@dataclass(frozen=True)
class Driver:
    """A PostgreSQL driver as SQLAlchemy names it, and how this app connects with it."""

    name: str
    connect_args: Callable[[Settings], dict[str, Any]]
    autocommits_behind_pgbouncer: bool
    """Whether a single statement may run in autocommit behind PgBouncer in transaction mode. asyncpg's
    unnamed statement is parsed and then executed in two exchanges, which PgBouncer may hand to two server
    connections outside a transaction."""

    def url(self, url: URL) -> URL:
        return with_driver(url, self.name)

    def autocommits(self, settings: Settings) -> bool:
        """Whether an operation that is one statement runs in autocommit (no BEGIN and COMMIT around it)."""
        return self.autocommits_behind_pgbouncer or not settings.pgbouncer


PSYCOPG2 = Driver("psycopg2", _psycopg2_connect_args, autocommits_behind_pgbouncer=True)
ASYNCPG = Driver("asyncpg", _asyncpg_connect_args, autocommits_behind_pgbouncer=False)
