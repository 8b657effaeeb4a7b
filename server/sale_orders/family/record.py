"""The two families as one record each: everything in which `/sync` and `/async` differ, outside `_async`/`_sync`.

`diff -r family/_async family/_sync` shows how the code differs (`async def` and `await`, `AsyncSession` and
`Session`); a `Family` value says the rest: the path prefix, where Litestar runs the handlers, the driver, the
connection pool, the session classes and the names the plugin gives them. The pieces a value names live with the
families (`runtime/`: the thread pool, the fair pool, the session plumbing), or with the driver when every user
of that driver shares them (`db/drivers.py`, `db/deadline.py`: /health, migrations and the standby's engines
connect through them too). Engines, the app, its metrics, the CLI, the benchmark and the tests loop over
`FAMILIES` instead of naming a family. docs/def-or-async-def.md explains each difference.
"""

from collections.abc import Callable
from dataclasses import dataclass

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemySyncConfig,
    SyncSessionConfig,
)
from litestar.types import BeforeMessageSendHookHandler
from sqlalchemy.pool import Pool, QueuePool
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from sale_orders.db.drivers import ASYNCPG, PSYCOPG2, Driver
from sale_orders.family.runtime.pools import FirstComeFirstServedPool
from sale_orders.family.runtime.session_configs import SQLModelAsyncConfig, sync_session_closer
from sale_orders.settings import Settings


@dataclass(frozen=True)
class Family:
    """One family of routes and everything that differs between it and the other.

    Attributes:
        name: its path prefix (`/sync`), operationId prefix (`sync_create_order`), OpenAPI tag, and the `family`
            label of its metrics and log lines.
        sync_to_thread: True: Litestar runs its handlers in the event loop's default executor, which the app makes
            a `HandlerThreadPool` of `SYNC_THREADS` (`runtime/threads.py`); None: on the event loop.
        driver: the PostgreSQL driver of its engine (`db/drivers.py`).
        pool_class: its engine's connection pool (and its standby's).
        pool_size: how many connections its pool holds, from the settings.
        session_class: the SQLModel session its services are given.
        database_config: advanced-alchemy's configuration class for its engine and sessions.
        session_config: advanced-alchemy's session options class.
        session_closer: a `before_send` hook closing its sessions, or None for advanced-alchemy's own.
        description: the OpenAPI tag's description.
    """

    name: str
    sync_to_thread: bool | None
    driver: Driver
    pool_class: type[Pool]
    pool_size: Callable[[Settings], int]
    session_class: type[Session] | type[AsyncSession]
    database_config: type[SQLAlchemySyncConfig] | type[SQLModelAsyncConfig]
    session_config: type[SyncSessionConfig] | type[AsyncSessionConfig]
    session_closer: Callable[[str], BeforeMessageSendHookHandler] | None
    description: str

    @property
    def path(self) -> str:
        return f"/{self.name}"

    @property
    def in_thread_pool(self) -> bool:
        """Whether each of its requests holds a thread of the pool while it runs (and its metrics show the pool)."""
        return bool(self.sync_to_thread)

    @property
    def session_key(self) -> str:
        """The dependency that gives a handler the request's session (advanced-alchemy's plugin provides it)."""
        return f"{self.name}_db_session"

    @property
    def engine_key(self) -> str:
        """The dependency, and the app state key, of its engine."""
        return f"{self.name}_db_engine"

    @property
    def session_maker_key(self) -> str:
        return f"{self.name}_session_maker"

    @property
    def session_scope_key(self) -> str:
        """Where the plugin keeps a request's session in the ASGI scope."""
        return f"_{self.name}_db_session"

    @property
    def reads_state_key(self) -> str:
        """The app state key of the family's `StandbyReads` (where its reads may go)."""
        return f"{self.name}_reads"


SYNC = Family(
    name="sync",
    sync_to_thread=True,
    driver=PSYCOPG2,
    # SQLAlchemy's own: a thread never waits for a connection, since the pool is as large as the thread pool.
    pool_class=QueuePool,
    pool_size=lambda settings: settings.sync_pool_size,
    session_class=Session,
    database_config=SQLAlchemySyncConfig,
    session_config=SyncSessionConfig,
    session_closer=sync_session_closer,
    description="`def` handlers in a thread pool, SQLAlchemy Session over psycopg2",
)
ASYNC = Family(
    name="async",
    sync_to_thread=None,
    driver=ASYNCPG,
    # Waiters for a connection served in the order they came (SQLAlchemy's lets newcomers overtake them).
    pool_class=FirstComeFirstServedPool,
    pool_size=lambda settings: settings.async_pool_size,
    session_class=AsyncSession,
    database_config=SQLModelAsyncConfig,
    session_config=AsyncSessionConfig,
    session_closer=None,
    description="`async def` handlers on the event loop, AsyncSession over asyncpg",
)
FAMILIES = (SYNC, ASYNC)
FAMILY_NAMES = tuple(family.name for family in FAMILIES)
