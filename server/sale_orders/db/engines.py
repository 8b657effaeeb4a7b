"""The two database configurations, one per family, held by one advanced-alchemy `SQLAlchemyPlugin`.

Both are derived from one URL: psycopg2 for the sync family, asyncpg for the async family. Pools are
sized by settings: the sync pool to the thread pool (a thread never waits for a connection that another
idle thread holds), the async pool to what one event loop can keep busy.

Behind PgBouncer in transaction pooling mode (`PGBOUNCER=true`), consecutive transactions of one client
connection run on different server connections, so no prepared statement may outlive its transaction:
asyncpg's statement cache is turned off (`statement_cache_size=0`), which makes every statement it prepares
unnamed and re-parsed in the same round trip as its execution (asyncpg's `Connection._get_statement`).
SQLAlchemy's per-connection cache of those statements may stay on: it holds their descriptions and codecs,
nothing on the server, and saves a Parse/Describe round trip per repeated statement. And neither
driver sends `statement_timeout` as a startup parameter, which PgBouncer refuses ("unsupported startup
parameter"); behind PgBouncer it is set on the database role instead.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg2.extensions
from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    EngineConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
    SQLAlchemySyncConfig,
    SyncSessionConfig,
)
from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from advanced_alchemy.extensions.litestar.plugins.init.config.common import SESSION_TERMINUS_ASGI_EVENTS
from litestar.types import Message, Scope
from psycopg2.extensions import ISOLATION_LEVEL_AUTOCOMMIT, ISOLATION_LEVEL_READ_COMMITTED
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession as SQLAlchemyAsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from sale_orders.db.queries import IDEMPOTENCY_WINDOW_OPTION
from sale_orders.settings import Settings, with_driver

_SYNC_SESSION_SCOPE_KEY = "_sync_db_session"


async def close_sync_session(message: Message, scope: Scope) -> None:
    """Close the request's sync session once the response starts, on the event loop.

    advanced-alchemy's own handler for sync sessions is a plain `def`, which Litestar would run in the thread
    pool for every ASGI message of every request, async family included. Closing needs no I/O here: services
    end their transaction inside `session.begin()`, which returns the connection to the pool.
    """
    session: Session | None = get_aa_scope_state(scope, _SYNC_SESSION_SCOPE_KEY)
    if session is not None and message["type"] in SESSION_TERMINUS_ASGI_EVENTS:
        session.close()
        delete_aa_scope_state(scope, _SYNC_SESSION_SCOPE_KEY)


class SQLModelAsyncConfig(SQLAlchemyAsyncConfig):
    """advanced-alchemy's async configuration, with SQLModel's `Session` under every `AsyncSession`.

    advanced-alchemy gives each `AsyncSession` a plain SQLAlchemy `Session` to carry its listeners (all of
    them off here), but SQLModel's `AsyncSession.exec` runs the `exec` of that session, which only
    SQLModel's `Session` has.
    """

    def create_session_maker(self) -> Callable[[], SQLAlchemyAsyncSession]:
        maker = super().create_session_maker()
        if isinstance(maker, async_sessionmaker):
            maker.configure(sync_session_class=Session)
        return maker


@dataclass(frozen=True)
class DatabaseConfigs:
    """The sync and async configurations of one app, and the plugin that manages both."""

    sync: SQLAlchemySyncConfig
    async_: SQLModelAsyncConfig

    @property
    def plugin(self) -> SQLAlchemyPlugin:
        return SQLAlchemyPlugin(config=[self.sync, self.async_])


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


def _connect_args(settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    """The psycopg2 and the asyncpg connect arguments."""
    if settings.pgbouncer:
        # Not the unique `prepared_statement_name_func` of SQLAlchemy's asyncpg docs: asyncpg closes a named
        # statement late, on whatever server connection the client has by then, so named statements pile up
        # on PgBouncer's server connections.
        return {"connection_factory": Psycopg2Connection}, {"statement_cache_size": 0}
    timeout = str(settings.statement_timeout_ms)
    psycopg2_args = {"connection_factory": Psycopg2Connection, "options": f"-c statement_timeout={timeout}"}
    return psycopg2_args, {"server_settings": {"statement_timeout": timeout}}


# advanced-alchemy's session listeners serve features this app does not use (file objects, timestamps, its
# cache); left on, they would run on every commit.
_NO_LISTENERS: dict[str, Any] = {"enable_file_object_listener": False, "enable_touch_updated_timestamp_listener": False}
_NO_CACHE_LISTENER: dict[str, Any] = {"enable_cache_listener": False}

SINGLE_STATEMENT = "single_statement_options"
"""Key, in a session's `info`, of the execution options for an operation that is one statement."""
AUTOCOMMIT: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"}


def _session_info(*, autocommit_single_statements: bool) -> dict[str, Any]:
    """A session's `info`: advanced-alchemy's cache listener off, and how single statements run.

    Behind PgBouncer in transaction mode asyncpg must stay in a transaction: its unnamed statement is parsed
    and then executed in two exchanges, and outside a transaction PgBouncer may hand them to two different
    server connections.
    """
    return {**_NO_CACHE_LISTENER, SINGLE_STATEMENT: AUTOCOMMIT if autocommit_single_statements else {}}


def database_configs(url: URL, settings: Settings) -> DatabaseConfigs:
    """Configure both families' engines and sessions for the server at `url`."""
    sync_args, async_args = _connect_args(settings)
    # Read by the Idempotency-Key claim, from whichever connection it runs on.
    options = {IDEMPOTENCY_WINDOW_OPTION: settings.idempotency_window}
    sync = SQLAlchemySyncConfig(
        connection_string=with_driver(url, "psycopg2").render_as_string(hide_password=False),
        engine_config=EngineConfig(
            pool_size=settings.sync_pool_size,
            connect_args=sync_args,
            execution_options=options,
            pool_timeout=settings.pool_timeout,
            pool_pre_ping=settings.pool_pre_ping,
            max_overflow=0,
        ),
        session_config=SyncSessionConfig(
            class_=Session,
            expire_on_commit=False,
            autoflush=False,
            info=_session_info(autocommit_single_statements=True),
        ),
        **_NO_LISTENERS,
        session_dependency_key="sync_db_session",
        engine_dependency_key="sync_db_engine",
        engine_app_state_key="sync_db_engine",
        session_maker_app_state_key="sync_session_maker",
        session_scope_key=_SYNC_SESSION_SCOPE_KEY,
        before_send_handler=close_sync_session,
        set_default_exception_handler=False,
    )
    async_ = SQLModelAsyncConfig(
        connection_string=with_driver(url, "asyncpg").render_as_string(hide_password=False),
        engine_config=EngineConfig(
            pool_size=settings.async_pool_size,
            connect_args=async_args,
            execution_options=options,
            pool_timeout=settings.pool_timeout,
            pool_pre_ping=settings.pool_pre_ping,
            max_overflow=0,
        ),
        # Without this, reading an attribute after commit would reload it: MissingGreenlet in async code.
        session_config=AsyncSessionConfig(
            class_=AsyncSession,
            expire_on_commit=False,
            autoflush=False,
            info=_session_info(autocommit_single_statements=not settings.pgbouncer),
        ),
        **_NO_LISTENERS,
        session_dependency_key="async_db_session",
        engine_dependency_key="async_db_engine",
        engine_app_state_key="async_db_engine",
        session_maker_app_state_key="async_session_maker",
        session_scope_key="_async_db_session",
        set_default_exception_handler=False,
    )
    return DatabaseConfigs(sync=sync, async_=async_)
