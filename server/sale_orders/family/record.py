"""The two families as one record each: everything in which `/sync` and `/async` differ, outside `_async`/`_sync`.

`diff -r family/_async family/_sync` shows how the code differs (`async def` and `await`, `AsyncSession` and
`Session`); a `Family` value says the rest: the path prefix, where Litestar runs the handlers, the driver, the
session classes and the names the plugin gives them. Engines, the app, its metrics, the CLI, the benchmark and
the tests loop over `FAMILIES` instead of naming a family.

A family's route decorators (`@ASYNC.post(...)`) are where `def` handlers are sent to the thread pool: the sync
family passes `sync_to_thread=True`; the async family runs its handlers on the event loop. Both document the
problem responses of each operation and validate a POST or PATCH body in one pass from its JSON bytes.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemySyncConfig,
    SyncSessionConfig,
)
from litestar import delete, get, patch, post
from litestar.datastructures import ResponseHeader, State
from litestar.di import NamedDependency, Provide
from litestar.types import BeforeMessageSendHookHandler, Dependencies
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from sale_orders.db.drivers import ASYNCPG, PSYCOPG2, Driver
from sale_orders.db.session_configs import SQLModelAsyncConfig, sync_session_closer
from sale_orders.family.reads import StandbyReads
from sale_orders.web.bodies import JSONBodyDTO
from sale_orders.web.encoded import CONSISTENCY_TOKEN
from sale_orders.web.problems import problem_responses
from sale_orders.web.row_gate import ROW_GATE

# Every operation of a family may answer these once API keys are configured (sale_orders.web.auth).
AUTH_PROBLEMS = (401, 403)
# A body that is too large, or not JSON.
BODY_PROBLEMS = (413, 415)
# Every change may collide with a concurrent change of the same rows: a retryable 409 (`concurrent-change`).
CHANGE_PROBLEMS = (409,)
# A body handler's request DTO; responses are encoded by the services (`EncodedJSON`), with no DTO.
BODY: dict[str, Any] = {"dto": JSONBodyDTO, "return_dto": None}
# Every 201 says where the new resource is (set by `EncodedJSON.created`).
LOCATION = ResponseHeader(
    name="Location",
    description="the new resource's URL, in the family that created it (e.g. `/sync/order/7`)",
    documentation_only=True,
    required=True,
)
# Every write answers its consistency token (web/encoded.py), which a client sends with its reads.
WRITTEN_TOKEN = ResponseHeader(
    name=CONSISTENCY_TOKEN,
    description="this write's consistency token: send the newest one with later reads (the `Consistency-Token`"
    " request header) to read your own writes from any host; the SDK does",
    documentation_only=True,
    required=True,
)


@dataclass(frozen=True)
class Family:
    """One family of routes and everything that differs between it and the other.

    Attributes:
        name: its path prefix (`/sync`), operationId prefix (`sync_create_order`), OpenAPI tag, and the `family`
            label of its metrics and log lines.
        handlers: how its handlers are written, for people: `def` or `async def`.
        sync_to_thread: True: Litestar runs its handlers in the thread pool; None: on the event loop.
        driver: the PostgreSQL driver of its engine.
        session_class: the SQLModel session its services are given.
        database_config: advanced-alchemy's configuration class for its engine and sessions.
        session_config: advanced-alchemy's session options class.
        session_closer: a `before_send` hook closing its sessions, or None for advanced-alchemy's own.
        description: the OpenAPI tag's description.
    """

    name: str
    handlers: str
    sync_to_thread: bool | None
    driver: Driver
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

    def inject(self, service: Callable[[Any, timedelta, StandbyReads], object]) -> Dependencies:
        """A controller's dependencies: its `service`, on the family's session of the request and the app's state.

        `db_session` is the family router's (the plugin's session of that family); the idempotency window and the
        family's standby come from the app's state, a reserved argument rather than more dependencies: Litestar
        resolves two dependencies of one level in an anyio task group, which cost every request 10-25 %
        (`bench --ab`).
        """
        reads_key = self.reads_state_key

        def provide_service(db_session: NamedDependency[Any], state: State) -> object:
            return service(db_session, state[IDEMPOTENCY_WINDOW_STATE_KEY], state[reads_key])

        return {"service": Provide(provide_service, sync_to_thread=False)}

    def _options(self, summary: str, description: str, problems: Iterable[int]) -> dict[str, Any]:
        responses = problem_responses([*AUTH_PROBLEMS, *problems])
        return {
            "summary": summary,
            "description": description,
            "sync_to_thread": self.sync_to_thread,
            "responses": responses,
        }

    def get(self, path: str, *, summary: str, description: str, problems: Iterable[int] = ()) -> get:
        return get(path, **self._options(summary, description, problems))

    def post(self, path: str, *, summary: str, description: str, problems: Iterable[int] = ()) -> post:
        """A create: 201 with the new resource and its URL in `Location`."""
        options = self._options(summary, description, [*BODY_PROBLEMS, *CHANGE_PROBLEMS, *problems])
        return post(path, **options, **BODY, response_headers=[LOCATION, WRITTEN_TOKEN])

    def patch(self, path: str, *, summary: str, description: str, problems: Iterable[int] = ()) -> patch:
        """A change of one row: it waits for its turn with other changes of the row (web/row_gate.py)."""
        options = self._options(summary, description, [*BODY_PROBLEMS, *CHANGE_PROBLEMS, *problems])
        return patch(path, **options, **BODY, middleware=[ROW_GATE], response_headers=[WRITTEN_TOKEN])

    def delete(self, path: str, *, summary: str, description: str, problems: Iterable[int] = ()) -> delete:
        """A delete of one row: it waits for its turn with other changes of the row (web/row_gate.py)."""
        options = self._options(summary, description, [*CHANGE_PROBLEMS, *problems])
        return delete(path, **options, middleware=[ROW_GATE], response_headers=[WRITTEN_TOKEN])


SYNC = Family(
    name="sync",
    handlers="def",
    sync_to_thread=True,
    driver=PSYCOPG2,
    session_class=Session,
    database_config=SQLAlchemySyncConfig,
    session_config=SyncSessionConfig,
    session_closer=sync_session_closer,
    description="`def` handlers in a thread pool, SQLAlchemy Session over psycopg2",
)
ASYNC = Family(
    name="async",
    handlers="async def",
    sync_to_thread=None,
    driver=ASYNCPG,
    session_class=AsyncSession,
    database_config=SQLModelAsyncConfig,
    session_config=AsyncSessionConfig,
    session_closer=None,
    description="`async def` handlers on the event loop, AsyncSession over asyncpg",
)
FAMILIES = (SYNC, ASYNC)
FAMILY_NAMES = tuple(family.name for family in FAMILIES)


IDEMPOTENCY_WINDOW_STATE_KEY = "idempotency_window"
"""The app state key of how long an Idempotency-Key is remembered (`create_app` puts the setting there)."""
