"""The application factory: both families, mounted under /sync and /async, over one database."""

import asyncio
import gc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, Tag
from litestar.plugins.pydantic import PydanticInitPlugin
from litestar.types import Method
from sqlalchemy.engine import URL

from sale_orders.api.auth import SECURITY, SECURITY_SCHEMES, api_key_guard
from sale_orders.api.docs import docs
from sale_orders.api.edge import HeadAsGet, RequestContext
from sale_orders.api.headers import add_security_headers, list_every_method_in_allow
from sale_orders.api.health import health
from sale_orders.api.metrics import SYNC_EXECUTOR_STATE_KEY, MetricsPlugin
from sale_orders.api.openapi import ForbidExtraSchemaPlugin
from sale_orders.api.problems import EXCEPTION_HANDLERS
from sale_orders.db.engines import database_configs
from sale_orders.domain import limits
from sale_orders.family._async import controllers as async_controllers
from sale_orders.family._sync import controllers as sync_controllers
from sale_orders.family.routing import ASYNC, SYNC
from sale_orders.settings import Settings

TITLE = "Sale Orders API"
VERSION = "1.0.0"
DESCRIPTION = (
    "The same Sale Orders API twice: `/sync/...` runs plain `def` handlers in a thread pool over psycopg2, "
    "`/async/...` runs `async def` handlers on the event loop over asyncpg. Both families have the same "
    "schemas and return the same results. Errors are RFC 9457 problem details."
)


def operation_id(route_handler: Any, _method: Method, path_components: list[Any]) -> str:
    """`sync_create_order`, `async_create_order`, ...: the family, then the handler's name."""
    family = str(path_components[0]) if path_components else ""
    prefix = f"{family}_" if family in {SYNC.name, ASYNC.name} else ""
    return f"{prefix}{route_handler.handler_name}"


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        operation_id_creator=operation_id,
        use_handler_docstrings=False,
        # The docs UI is /docs (served offline); Litestar's own UIs under /schema would load from a CDN.
        render_plugins=[JsonRenderPlugin()],
        create_examples=False,
        components=Components(security_schemes=SECURITY_SCHEMES),
        tags=[
            Tag(name=SYNC.name, description="`def` handlers in a thread pool, SQLAlchemy Session over psycopg2"),
            Tag(name=ASYNC.name, description="`async def` handlers on the event loop, AsyncSession over asyncpg"),
            Tag(name="health", description="liveness and readiness"),
        ],
    )


def thread_pool_sizer(threads: int) -> Callable[[Litestar], None]:
    """A startup hook giving the event loop a default executor of `threads` threads (also in the app's state).

    Litestar runs `sync_to_thread` handlers in the loop's default executor, which Python sizes at
    min(32, cores + 4): 6 threads on two cores, so a seventh concurrent sync request would wait.
    """

    def size_thread_pool(app: Litestar) -> None:
        executor = ThreadPoolExecutor(threads, thread_name_prefix="sync-handler")
        asyncio.get_running_loop().set_default_executor(executor)
        app.state[SYNC_EXECUTOR_STATE_KEY] = executor

    return size_thread_pool


def freeze_startup_objects() -> None:
    """Move every object alive after startup out of the garbage collector's sight.

    The app's modules, schemas, routes and compiled statements are objects that live as long as the process;
    left in the collected generations, every full collection would walk them all, pausing every request.
    """
    gc.collect()
    gc.freeze()


def create_app(database_url: URL | None = None, settings: Settings | None = None) -> Litestar:
    """Build the app for the PostgreSQL server at `database_url` (default: from the settings)."""
    settings = settings or Settings()
    url = database_url or settings.configured_url
    if url is None:
        msg = "no database configured: set DATABASE_URL, or run `sale-orders serve` to start an embedded PostgreSQL"
        raise RuntimeError(msg)
    databases = database_configs(url, settings)
    # Without keys no guard is installed: an open API pays nothing per request for access control.
    guards = [api_key_guard(settings.api_key_scopes)] if settings.api_key_scopes else []
    families = [
        Router(
            path=family.path,
            route_handlers=controllers.CONTROLLERS,
            tags=[family.name],
            guards=guards,
            security=SECURITY,
            dependencies={"db_session": Provide(config.provide_session, sync_to_thread=False)},
        )
        for family, controllers, config in (
            (SYNC, sync_controllers, databases.sync),
            (ASYNC, async_controllers, databases.async_),
        )
    ]
    app = Litestar(
        route_handlers=[*families, health, docs],
        plugins=[
            # Strict: `"1"` or `true` is not an id; the field types convert what JSON cannot say (money).
            PydanticInitPlugin(validate_strict=True),
            ForbidExtraSchemaPlugin(),
            databases.plugin,
            MetricsPlugin(
                families=[SYNC.name, ASYNC.name],
                engines={SYNC.name: databases.sync, ASYNC.name: databases.async_},
                thread_pool_family=SYNC.name,
            ),
        ],
        on_startup=[thread_pool_sizer(settings.sync_threads), freeze_startup_objects],
        before_send=[list_every_method_in_allow, add_security_headers],
        # A full order (100 lines) is about 10 KB; anything near this limit is not an order. Answered 413.
        request_max_body_size=limits.MAX_BODY_BYTES,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        openapi_config=openapi_config(),
        cors_config=CORSConfig(allow_origins=settings.allowed_origins) if settings.allowed_origins else None,
        # Logging is configured by `serve` (sale_orders.logs), once for uvicorn and the app alike.
        logging_config=None,
    )
    app.asgi_handler = RequestContext(HeadAsGet(app.asgi_handler), families=[SYNC.name, ASYNC.name])
    return app
