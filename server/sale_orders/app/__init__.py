"""The application factory: every family under its prefix, and the routes of neither family, over one database.

`create_app` loops over `family.record.FAMILIES`: one router per family, with that family's session as the
routes' `db_session`; one advanced-alchemy plugin holding every family's engine. `health.py` and `docs.py`
are the routes that belong to no family.
"""

import math
from collections.abc import Collection, Mapping
from typing import Literal

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.plugins.pydantic import PydanticInitPlugin
from litestar.types import ASGIApp, Guard, Method
from sqlalchemy.engine import URL

from sale_orders.app.docs import docs
from sale_orders.app.health import HEALTH_ENGINE_KEY, HEALTH_ROUTES, health_engine
from sale_orders.app.openapi_config import openapi_config
from sale_orders.app.openapi_document import KEYED_STATE_KEY
from sale_orders.app.startup import freeze_startup_objects
from sale_orders.domain import limits
from sale_orders.family._async import controllers as async_controllers
from sale_orders.family._sync import controllers as sync_controllers
from sale_orders.family.databases import (
    DatabaseConfig,
    database_configs,
    database_plugin,
    prepare_engines,
    standby_reads,
)
from sale_orders.family.providers import IDEMPOTENCY_WINDOW_STATE_KEY
from sale_orders.family.record import ASYNC, FAMILIES, FAMILY_NAMES, SYNC, Family
from sale_orders.family.runtime.threads import thread_pool_sizer
from sale_orders.features import Feature
from sale_orders.settings import Settings
from sale_orders.web.admission import AdmissionBound
from sale_orders.web.auth import SECURITY, api_key_guard
from sale_orders.web.edge import ErrorsAsProblems, HeadAsGet, RequestContext
from sale_orders.web.headers import add_security_headers, list_every_method_in_allow
from sale_orders.web.metrics import MetricsPlugin
from sale_orders.web.openapi import ForbidExtraSchemaPlugin
from sale_orders.web.problems import EXCEPTION_HANDLERS
from sale_orders.web.row_gate import ROW_GATE_STATE_KEY, RowGate
from sale_orders.web.unambiguous import refuse_ambiguous_request

# Each family's routes: the hand-written async controllers and their generated twin.
CONTROLLERS = {SYNC.name: sync_controllers.CONTROLLERS, ASYNC.name: async_controllers.CONTROLLERS}


def guards(settings: Settings) -> list[Guard]:
    """The API-key check, when keys are configured: both families and /metrics. Open: no guard, no cost."""
    return [api_key_guard(settings.api_key_scopes)] if settings.api_key_scopes else []


def family_router(family: Family, config: DatabaseConfig, settings: Settings) -> Router:
    """One family's routes under its prefix, each given that family's session of the request as `db_session`."""
    return Router(
        path=family.path,
        route_handlers=CONTROLLERS[family.name],
        tags=[family.name],
        guards=guards(settings),
        before_request=refuse_ambiguous_request if Feature.UNAMBIGUOUS in settings.enabled else None,
        security=SECURITY,
        dependencies={"db_session": Provide(config.provide_session, sync_to_thread=False)},
    )


# What a browser page on an allowed origin may send and read: the methods served, the headers the API reads, and
# the response headers a client acts on (a new resource's URL, the request id, when to retry).
CORS_METHODS: list[Method | Literal["*"]] = ["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"]
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"]
CORS_EXPOSED_HEADERS = ["Location", "Retry-After", "X-Request-ID"]


def cors_config(origins: list[str]) -> CORSConfig | None:
    """CORS for browser pages on `origins`; None (closed) without any."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins,
        allow_methods=CORS_METHODS,
        allow_headers=CORS_REQUEST_HEADERS,
        expose_headers=CORS_EXPOSED_HEADERS,
    )


def create_app(database_url: URL | None = None, settings: Settings | None = None) -> Litestar:
    """Build the app for the PostgreSQL server at `database_url` (default: from the settings)."""
    settings = settings or Settings()
    url = database_url or settings.configured_url
    if url is None:
        msg = "no database configured: set DATABASE_URL, or run `sale-orders serve` to start an embedded PostgreSQL"
        raise RuntimeError(msg)
    configs = database_configs(url, settings)
    features = settings.enabled
    health_db_engine = health_engine(url, settings)
    reads = {family.name: standby_reads(family, settings) for family in FAMILIES}
    standby_engines = [engine for _, engine in reads.values() if engine is not None]
    app = Litestar(
        route_handlers=[*(family_router(f, configs[f.name], settings) for f in FAMILIES), *HEALTH_ROUTES, docs],
        dependencies={HEALTH_ENGINE_KEY: Provide(lambda: health_db_engine, sync_to_thread=False, use_cache=True)},
        plugins=[
            # Strict: `"1"` or `true` is not an id; the field types convert what JSON cannot say (money).
            PydanticInitPlugin(validate_strict=True),
            ForbidExtraSchemaPlugin(),
            database_plugin(configs),
            *metrics_plugin(configs, settings),
        ],
        on_startup=[
            thread_pool_sizer(
                settings.sync_threads, settings.pool_timeout, bounded=Feature.THREAD_QUEUE_BOUND in features
            ),
            lambda: prepare_engines(configs, settings),
            freeze_startup_objects,
        ],
        on_shutdown=[health_db_engine.dispose, *(engine.dispose for engine in standby_engines)],
        before_send=[list_every_method_in_allow, add_security_headers] if Feature.EDGE in features else [],
        # A full order (100 lines) is about 10 KB; anything near this limit is not an order. Answered 413.
        request_max_body_size=limits.MAX_BODY_BYTES,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        openapi_config=openapi_config(),
        cors_config=cors_config(settings.allowed_origins),
        # Logging is configured by `serve` (sale_orders.logs), once for uvicorn and the app alike.
        logging_config=None,
        state=State(
            {
                KEYED_STATE_KEY: bool(settings.api_key_scopes),
                IDEMPOTENCY_WINDOW_STATE_KEY: settings.idempotency_window,
                ROW_GATE_STATE_KEY: RowGate(settings.lock_timeout),
                **{family.reads_state_key: reads[family.name][0] for family in FAMILIES},
            }
        ),
    )
    app.asgi_handler = edge(app.asgi_handler, features, settings)
    return app


def metrics_plugin(configs: Mapping[str, DatabaseConfig], settings: Settings) -> list[MetricsPlugin]:
    """/metrics and its request middleware, unless `FEATURES` leaves them out."""
    if Feature.METRICS not in settings.enabled:
        return []
    return [
        MetricsPlugin(
            guards=guards(settings),
            families=FAMILY_NAMES,
            engines=configs,
            thread_pool_families=[family.name for family in FAMILIES if family.in_thread_pool],
        )
    ]


def edge(handler: ASGIApp, features: Collection[Feature], settings: Settings) -> ASGIApp:
    """What wraps Litestar's own handler, each part unless `FEATURES` leaves it out.

    Request ids outermost, then the admission bound (a shed request still gets its id), then errors outside a
    handler as problem details and `HEAD` as `GET`.
    """
    if Feature.EDGE in features:
        handler = ErrorsAsProblems(HeadAsGet(handler))
    if Feature.ADMISSION in features:
        # Retry-After says the pause a refused connection waits (whole seconds, at least 1).
        retry_after = max(1, math.ceil(settings.shed_pause))
        handler = AdmissionBound(handler, FAMILY_NAMES, settings.max_in_flight, retry_after=retry_after)
    if Feature.EDGE in features:
        handler = RequestContext(handler, families=FAMILY_NAMES)
    return handler
