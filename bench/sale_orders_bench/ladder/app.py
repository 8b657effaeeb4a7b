"""BENCHMARK ONLY, NOT PART OF THE API: the ladder from bare Litestar to the thinnest path through the stack.

Every rung (`ladder.rungs`) of each family answers `POST /contact`, `GET /order` (a page) and `POST /order`
under `/ladder/<family>/<rung>/`, with the product's SQL (`sale_orders.db.queries`) and the product's JSON, so the
difference between two rungs is the one layer the upper one adds. The `schema` rung is the thinnest path:
what the product must do at least with its own stack. The `autocommit` rung runs it as the product does (one
statement in autocommit on the session); the product itself is measured next to it.

The app adds no middleware and no plugin beyond the product's strict pydantic validation, so a lower rung
does not pay for a layer above it; it starts like the product (thread pool size, frozen startup objects).
Served by uvicorn as the API is: `uvicorn sale_orders_bench.ladder.app:create_app --factory`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig, SQLAlchemySyncConfig
from litestar import Litestar, MediaType, Request, Response, Router, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody
from litestar.plugins.pydantic import PydanticInitPlugin
from sqlalchemy.engine import URL

from sale_orders.app.startup import freeze_startup_objects
from sale_orders.db.drivers import libpq_dsn as dsn
from sale_orders.domain.errors import MissingReferenceError
from sale_orders.domain.limits import DEFAULT_PAGE_SIZE
from sale_orders.family.databases import database_configs, prepare_engines
from sale_orders.family.params import After, Limit
from sale_orders.family.record import ASYNC, SYNC
from sale_orders.family.runtime.threads import thread_pool_sizer
from sale_orders.settings import Settings
from sale_orders_bench.ladder.bodies import MSGSPEC, PRODUCT_SCHEMAS, PYDANTIC, Bodies
from sale_orders_bench.ladder.data_async import (
    AsyncConnectionRung,
    AsyncDatabase,
    AsyncOneStatementRung,
    AsyncSessionRung,
    RawAsyncpg,
)
from sale_orders_bench.ladder.data_sync import ConnectionRung, OneStatementRung, RawPsycopg2, SessionRung, SyncDatabase
from sale_orders_bench.ladder.orders import NewOrder
from sale_orders_bench.ladder.rungs import BY_NAME


def async_handlers(database: AsyncDatabase, bodies: Bodies) -> list[HTTPRouteHandler]:
    """The three endpoints as `async def` handlers on the event loop."""
    contact_body, order_body, contact_out = bodies.contact, bodies.order, bodies.contact_out

    @post("/contact")
    async def create_contact(data: JSONBody[contact_body]) -> contact_out:  # type: ignore[valid-type]
        # The body type is a value chosen per rung, which mypy cannot follow into an annotation.
        return bodies.answer_contact(await database.create_contact(data.name, data.email))  # type: ignore[attr-defined]

    @get("/order", media_type=MediaType.JSON)
    async def list_orders(after: After = 0, limit: Limit = DEFAULT_PAGE_SIZE) -> bytes:
        return await database.page(after, limit)

    @post("/order", media_type=MediaType.JSON)
    async def create_order(data: JSONBody[order_body]) -> bytes:  # type: ignore[valid-type]
        return await database.create_order(NewOrder.of(data))

    return [create_contact, list_orders, create_order]


def sync_handlers(database: SyncDatabase, bodies: Bodies) -> list[HTTPRouteHandler]:
    """The three endpoints as `def` handlers in the thread pool."""
    contact_body, order_body, contact_out = bodies.contact, bodies.order, bodies.contact_out

    @post("/contact", sync_to_thread=True)
    def create_contact(data: JSONBody[contact_body]) -> contact_out:  # type: ignore[valid-type]
        return bodies.answer_contact(database.create_contact(data.name, data.email))  # type: ignore[attr-defined]

    @get("/order", media_type=MediaType.JSON, sync_to_thread=True)
    def list_orders(after: After = 0, limit: Limit = DEFAULT_PAGE_SIZE) -> bytes:
        return database.page(after, limit)

    @post("/order", media_type=MediaType.JSON, sync_to_thread=True)
    def create_order(data: JSONBody[order_body]) -> bytes:  # type: ignore[valid-type]
        return database.create_order(NewOrder.of(data))

    return [create_contact, list_orders, create_order]


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def missing_reference(_: Request[Any, Any, Any], exc: MissingReferenceError) -> Response[dict[str, str]]:
    return Response({"detail": str(exc)}, status_code=422)


def create_app(database_url: URL | None = None, settings: Settings | None = None) -> Litestar:
    """The ladder over the PostgreSQL server at `database_url` (default: DATABASE_URL), pools sized as the product's.

    Without any of the product's features (`sale_orders/features.py`): the product measured with each of them
    added, one at a time, continues the ladder (`sale-orders bench ladder`).
    """
    settings = settings or Settings(features="none")
    url = database_url or settings.configured_url
    if url is None:
        msg = "no database configured: set DATABASE_URL"
        raise RuntimeError(msg)
    databases = database_configs(url, settings)  # the product's engines and session makers
    async_config, sync_config = databases[ASYNC.name], databases[SYNC.name]
    if not isinstance(async_config, SQLAlchemyAsyncConfig) or not isinstance(sync_config, SQLAlchemySyncConfig):
        msg = "the families' configurations are not of the kinds the ladder's rungs take"
        raise TypeError(msg)
    async_engine, sync_engine = async_config.get_engine(), sync_config.get_engine()
    raw_asyncpg, raw_psycopg2 = RawAsyncpg(), RawPsycopg2()
    async_maker, sync_maker = async_config.create_session_maker(), sync_config.create_session_maker()
    async_session, sync_session = AsyncSessionRung(async_maker), SessionRung(sync_maker)
    async_rungs: dict[str, tuple[AsyncDatabase, Bodies]] = {
        "litestar": (raw_asyncpg, MSGSPEC),
        "sqlalchemy": (AsyncConnectionRung(async_engine), MSGSPEC),
        "session": (async_session, MSGSPEC),
        "pydantic": (async_session, PYDANTIC),
        "schema": (async_session, PRODUCT_SCHEMAS),
        "autocommit": (AsyncOneStatementRung(async_maker), PRODUCT_SCHEMAS),
    }
    sync_rungs: dict[str, tuple[SyncDatabase, Bodies]] = {
        "litestar": (raw_psycopg2, MSGSPEC),
        "sqlalchemy": (ConnectionRung(sync_engine), MSGSPEC),
        "session": (sync_session, MSGSPEC),
        "pydantic": (sync_session, PYDANTIC),
        "schema": (sync_session, PRODUCT_SCHEMAS),
        "autocommit": (OneStatementRung(sync_maker), PRODUCT_SCHEMAS),
    }
    routers = [
        *(
            Router(path=BY_NAME[name].prefix(ASYNC.name), route_handlers=async_handlers(database, bodies))
            for name, (database, bodies) in async_rungs.items()
        ),
        *(
            Router(path=BY_NAME[name].prefix(SYNC.name), route_handlers=sync_handlers(database, bodies))
            for name, (database, bodies) in sync_rungs.items()
        ),
    ]

    @asynccontextmanager
    async def pools(_: Litestar) -> AsyncIterator[None]:
        # Lazy, as SQLAlchemy's pools: connections open as the load needs them, and stay open.
        raw_asyncpg.pool = await asyncpg.create_pool(dsn(url), min_size=0, max_size=settings.async_pool_size)
        raw_psycopg2.open(dsn(url), settings.sync_pool_size)
        try:
            yield
        finally:
            await raw_asyncpg.pool.close()
            raw_psycopg2.close()
            await async_engine.dispose()
            sync_engine.dispose()

    return Litestar(
        route_handlers=[*routers, health],
        plugins=[PydanticInitPlugin(validate_strict=True)],
        lifespan=[pools],
        on_startup=[
            thread_pool_sizer(settings.sync_threads, settings.pool_timeout, bounded=False),
            lambda: prepare_engines(databases, settings),  # keepalives and failover, as the product has them
            freeze_startup_objects,
        ],
        exception_handlers={MissingReferenceError: missing_reference},
        openapi_config=None,
    )
