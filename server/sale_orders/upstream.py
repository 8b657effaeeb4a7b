"""Every private API of another package that the server relies on, in one place: what, where, and why.

Each entry says what the server uses, where, what it relies on, and the version it was checked against
(`CHECKED_WITH`). tests/unit/test_upstream.py fails when one of them changes, or when an installed version is not
the one checked: read the upstream's new code for what the entry relies on, adapt it here (and where it is used),
then update `CHECKED_WITH`. The server's other modules reach these only through this one.

Litestar 2.25.0
- `litestar._openapi.schema_generation.SchemaCreator` (web/bodies.py, web/openapi.py): the type of the
  `schema_creator` Litestar passes to `AbstractDTO.create_openapi_schema` and to
  `PydanticSchemaPlugin.for_pydantic_model`, which the server overrides; relies on its
  `for_field_definition(field_definition)`.
- `litestar.dto._backend.DTOBackend` (web/bodies.py): the type of `backend_cls` in
  `AbstractDTO.create_for_field_definition`, which `JSONBodyDTO` overrides.
- `PrometheusMiddleware._config`, `_get_default_labels`, `_get_extra_labels`, `_get_wrapped_send`
  (web/request_metrics.py, through `prometheus_config`, `prometheus_labels`, `prometheus_wrapped_send`): the
  labels of a request (method, path template, status 200, app name, then the configured ones) and a `send` that
  writes the status and the duration into the request's span, as Litestar's own middleware does.

advanced-alchemy 1.12.0
- `advanced_alchemy.extensions.litestar._utils.get_aa_scope_state` and `delete_aa_scope_state`, and
  `...plugins.init.config.common.SESSION_TERMINUS_ASGI_EVENTS` (family/runtime/session_configs.py): where the
  plugin keeps a request's session in the ASGI scope, and the messages after which its own handlers close it.

SQLAlchemy 2.1.9
- `AsyncAdaptedQueuePool._queue_class` (family/runtime/pools.py, through `keeps_connections_in`): the class of
  the queue the pool keeps its idle connections in, made as `queue_class(pool_size, use_lifo=...)`, whose
  `get(block, timeout)` and `put(item)` the pool calls. (`sqlalchemy.util.queue.AsyncAdaptedQueue`, which the fair
  queue extends, and `sqlalchemy.util.await_` are internal too, though not underscored: tests/unit/test_fair_pool.py
  holds their behaviour.)
- `QueuePool._pool`, and the waiters on its queue: `Queue.not_empty._waiters` (a `threading.Condition`'s) and
  `AsyncAdaptedQueue._queue._getters` (an `asyncio.Queue`'s) (web/metrics.py, through `pool_queue` and
  `waiters_on`): SQLAlchemy counts no waiters, so the gauges count them there, at scrape time.

Python 3.11 (`concurrent.futures`)
- `ThreadPoolExecutor._max_workers` and `_work_queue` (web/metrics.py, through `executor_threads` and
  `executor_queued`): the size of the pool that runs `def` handlers, and the calls waiting for a thread.

asyncpg 0.32.0
- `Connection._transport` (db/drivers.py, through `asyncpg_socket`): asyncpg has no keepalive option, so the
  keepalives are set on the socket under its transport.

Elsewhere, by design: uvicorn's protocol internals are overridden method by method in `web/uvicorn_protocols.py`,
which lists them itself (`UPSTREAM`, `UPSTREAM_ATTRIBUTES`, its own `CHECKED_WITH`), checked by
tests/unit/test_uvicorn_protocols.py. Not private despite the underscore: SQLAlchemy's `Row._asdict()` (documented,
as a named tuple's). No longer used: `sqlmodel._compat.SQLModelConfig` (domain/schemas.py copies SQLModel's own
`model_config` instead).
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from advanced_alchemy.extensions.litestar.plugins.init.config.common import SESSION_TERMINUS_ASGI_EVENTS
from litestar import Request
from litestar._openapi.schema_generation import SchemaCreator
from litestar.dto._backend import DTOBackend
from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware
from litestar.types import Send
from sqlalchemy.pool import AsyncAdaptedQueuePool, QueuePool
from sqlalchemy.util.queue import AsyncAdaptedQueue

__all__ = [
    "CHECKED_WITH",
    "SESSION_TERMINUS_ASGI_EVENTS",
    "DTOBackend",
    "SchemaCreator",
    "TransportSocket",
    "asyncpg_socket",
    "delete_aa_scope_state",
    "executor_queued",
    "executor_threads",
    "get_aa_scope_state",
    "keeps_connections_in",
    "pool_queue",
    "prometheus_config",
    "prometheus_labels",
    "prometheus_wrapped_send",
    "waiters_on",
]

CHECKED_WITH = {"litestar": "2.25.0", "advanced-alchemy": "1.12.0", "sqlalchemy": "2.1.9", "asyncpg": "0.32.0"}
"""The versions every entry was checked against; tests/unit/test_upstream.py asks for a re-check on a change."""

PoolT = TypeVar("PoolT", bound=type[AsyncAdaptedQueuePool])


# Litestar's Prometheus middleware.


def prometheus_config(middleware: PrometheusMiddleware) -> PrometheusConfig:
    """The configuration the middleware was made with."""
    return middleware._config  # noqa: SLF001


def prometheus_labels(
    middleware: PrometheusMiddleware, request: Request[Any, Any, Any]
) -> dict[str, str | int | float]:
    """A request's labels, as Litestar's middleware computes them: its defaults, then the configured ones."""
    return {**middleware._get_default_labels(request), **middleware._get_extra_labels(request)}  # noqa: SLF001


def prometheus_wrapped_send(middleware: PrometheusMiddleware, send: Send, span: dict[str, float]) -> Send:
    """`send`, writing the response's `status_code`, `end_time` and `duration` (from `start_time`) into `span`."""
    wrapped: Send = middleware._get_wrapped_send(send, span)  # noqa: SLF001
    return wrapped


# SQLAlchemy's pools.


def keeps_connections_in(queue_class: Any) -> Callable[[PoolT], PoolT]:
    """A class decorator: the `AsyncAdaptedQueuePool` subclass keeps its idle connections in `queue_class`."""

    def decorate(pool_class: PoolT) -> PoolT:
        pool_class._queue_class = queue_class  # noqa: SLF001
        return pool_class

    return decorate


def pool_queue(pool: QueuePool) -> object:
    """The queue a `QueuePool` (or `AsyncAdaptedQueuePool`) keeps its idle connections in."""
    return pool._pool  # noqa: SLF001


def waiters_on(queue: object) -> int:
    """Checkouts waiting on SQLAlchemy's own pool queue: threads on its condition, or tasks on its asyncio queue."""
    if isinstance(queue, AsyncAdaptedQueue):
        return len(queue._queue._getters)  # type: ignore[attr-defined]  # noqa: SLF001
    return len(queue.not_empty._waiters)  # type: ignore[attr-defined]  # noqa: SLF001


# The thread pool that runs `def` handlers.


def executor_threads(executor: ThreadPoolExecutor) -> int:
    """How many threads the executor may run."""
    return executor._max_workers  # noqa: SLF001


def executor_queued(executor: ThreadPoolExecutor) -> int:
    """Calls waiting in the executor's queue for a thread."""
    return executor._work_queue.qsize()  # noqa: SLF001


# asyncpg.


class TransportSocket(Protocol):
    """What an event loop's transport shows of its socket (asyncio's `TransportSocket`, uvloop's `PseudoSocket`)."""

    @property
    def family(self) -> int: ...

    def setsockopt(self, level: int, option: int, value: int, /) -> None: ...


def asyncpg_socket(connection: Any) -> TransportSocket | None:
    """The socket under an asyncpg connection's transport (None once it has none)."""
    tcp: TransportSocket | None = connection._transport.get_extra_info("socket")  # noqa: SLF001
    return tcp
