"""What sale_orders/upstream.py relies on in other packages is still there and behaves so: fails when it changes.

On a failure, read the upstream's new code for what the entry of sale_orders/upstream.py relies on, adapt the entry
(and its users), and update `CHECKED_WITH` and the module's docstring. uvicorn's internals have their own test
(tests/unit/test_uvicorn_protocols.py).
"""

import asyncio
import importlib.metadata
import inspect
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from advanced_alchemy.extensions.litestar import SQLAlchemySyncConfig
from litestar import Litestar, Request, post
from litestar.datastructures import State
from litestar.dto import AbstractDTO
from litestar.params import JSONBody
from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware
from litestar.plugins.pydantic import PydanticSchemaPlugin
from litestar.types import Message
from pydantic import BaseModel, ConfigDict
from sqlalchemy.pool import AsyncAdaptedQueuePool, QueuePool
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util.queue import AsyncAdaptedQueue

from sale_orders import upstream
from sale_orders.family.runtime.pools import FirstComeFirstServedPool, FirstComeFirstServedQueue
from sale_orders.family.runtime.session_configs import sync_session_closer
from sale_orders.web.bodies import JSONBodyDTO
from sale_orders.web.openapi import ForbidExtraSchemaPlugin


def parameters(function: Any) -> tuple[str, ...]:
    return tuple(inspect.signature(function).parameters)


def test_the_installed_versions_are_the_ones_checked() -> None:
    installed = {name: importlib.metadata.version(name) for name in upstream.CHECKED_WITH}
    assert installed == upstream.CHECKED_WITH, "re-check sale_orders/upstream.py against these versions"


# Litestar: the schema creator and the DTO backend, types of the hooks the server overrides.


def test_the_dto_and_schema_plugin_hooks_take_what_the_overrides_take() -> None:
    assert parameters(AbstractDTO.create_for_field_definition) == ("field_definition", "handler_id", "backend_cls")
    assert parameters(AbstractDTO.create_openapi_schema) == ("field_definition", "handler_id", "schema_creator")
    assert parameters(PydanticSchemaPlugin.for_pydantic_model) == ("field_definition", "schema_creator")
    assert parameters(upstream.SchemaCreator.for_field_definition) == ("self", "field_definition")
    assert inspect.isclass(upstream.DTOBackend)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


def test_the_schema_creator_litestar_passes_documents_a_body_as_without_the_dto() -> None:
    @post("/with", dto=JSONBodyDTO, return_dto=None, sync_to_thread=False)
    def with_dto(data: JSONBody[Strict]) -> None:
        del data

    @post("/without", sync_to_thread=False)
    def without_dto(data: JSONBody[Strict]) -> None:
        del data

    app = Litestar([with_dto, without_dto], plugins=[ForbidExtraSchemaPlugin()])
    document = app.openapi_schema.to_schema()
    bodies = [document["paths"][path]["post"]["requestBody"] for path in ("/with", "/without")]
    assert bodies[0] == bodies[1]
    assert document["components"]["schemas"]["Strict"]["additionalProperties"] is False


# Litestar's Prometheus middleware.


@pytest.fixture
def middleware() -> PrometheusMiddleware:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        del scope, receive, send

    config = PrometheusConfig(
        app_name="upstream-test", prefix="upstream_test", group_path=True, labels={"family": lambda _: "sync"}
    )
    return PrometheusMiddleware(app, config)


def test_a_requests_labels_are_its_route_with_status_200_then_the_configured_ones(
    middleware: PrometheusMiddleware,
) -> None:
    scope: Any = {
        "type": "http",
        "method": "GET",
        "path": "/sync/order/7",
        "path_template": "/sync/order/{item_id:int}",
        "headers": [],
        "query_string": b"",
    }
    labels = upstream.prometheus_labels(middleware, Request(scope))
    assert list(labels.items()) == [
        ("method", "GET"),
        ("path", "/sync/order/{item_id:int}"),
        ("status_code", 200),
        ("app_name", "upstream-test"),
        ("family", "sync"),
    ]
    assert upstream.prometheus_config(middleware).app_name == "upstream-test"


def test_the_wrapped_send_writes_the_status_and_the_duration_into_the_span(middleware: PrometheusMiddleware) -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    span: dict[str, float] = {"start_time": time.perf_counter(), "end_time": 0, "duration": 0, "status_code": 200}
    wrapped = upstream.prometheus_wrapped_send(middleware, send, span)

    async def respond() -> None:
        await wrapped({"type": "http.response.start", "status": 201, "headers": []})
        await wrapped({"type": "http.response.body", "body": b"", "more_body": False})

    asyncio.run(respond())
    assert len(sent) == 2
    assert span["status_code"] == 201
    assert span["end_time"] >= span["start_time"]
    assert span["duration"] == span["end_time"] - span["start_time"]


# advanced-alchemy: where the plugin keeps a request's session.


def test_the_sync_closer_finds_and_closes_the_session_the_plugin_keeps_in_the_scope() -> None:
    config = SQLAlchemySyncConfig(connection_string="sqlite://", session_scope_key="_upstream_session")
    closed: list[object] = []

    class Session:
        def close(self) -> None:
            closed.append(self)

    state = State({config.session_maker_app_state_key: Session})
    scope: Any = {"type": "http"}
    session = config.provide_session(state, scope)
    assert upstream.get_aa_scope_state(scope, "_upstream_session") is session
    assert {"http.response.start", "http.disconnect"} <= set(upstream.SESSION_TERMINUS_ASGI_EVENTS)

    start: Any = {"type": "http.response.start"}
    close: Any = sync_session_closer("_upstream_session")
    asyncio.run(close(start, scope))
    assert closed == [session]
    assert upstream.get_aa_scope_state(scope, "_upstream_session") is None


# SQLAlchemy's pools.


def connect_sqlite() -> Any:
    return sqlite3.connect(":memory:", check_same_thread=False)


def test_the_pool_makes_its_queue_from_the_queue_class_hook() -> None:
    assert "_queue_class" in vars(AsyncAdaptedQueuePool)
    assert parameters(AsyncAdaptedQueue.get) == ("self", "block", "timeout")
    pool = FirstComeFirstServedPool(connect_sqlite, pool_size=3, use_lifo=True)
    queue = upstream.pool_queue(pool)
    assert isinstance(queue, FirstComeFirstServedQueue)
    assert (queue.maxsize, queue.use_lifo) == (3, True)


@pytest.fixture
def sqlite_pool() -> Iterator[QueuePool]:
    pool = QueuePool(connect_sqlite, pool_size=1, max_overflow=0)
    yield pool
    pool.dispose()


def test_threads_waiting_for_a_connection_are_counted_on_the_queues_condition(sqlite_pool: QueuePool) -> None:
    held = sqlite_pool.connect()
    waiter = threading.Thread(target=lambda: sqlite_pool.connect().close())
    waiter.start()
    queue = upstream.pool_queue(sqlite_pool)
    deadline = time.monotonic() + 10
    while upstream.waiters_on(queue) != 1:
        assert time.monotonic() < deadline, "the waiting thread was never counted"
        time.sleep(0.01)
    held.close()
    waiter.join(10)
    assert upstream.waiters_on(queue) == 0


def test_tasks_waiting_for_a_connection_are_counted_on_the_asyncio_queue() -> None:
    async def run() -> tuple[int, int]:
        queue: AsyncAdaptedQueue[str] = AsyncAdaptedQueue(1)
        waiter = asyncio.create_task(greenlet_spawn(queue.get, True, 5))
        for _ in range(5):
            await asyncio.sleep(0)
        waiting = upstream.waiters_on(queue)
        queue.put_nowait("connection")
        await waiter
        return waiting, upstream.waiters_on(queue)

    assert asyncio.run(run()) == (1, 0)


# The thread pool that runs `def` handlers.


def test_the_executors_size_and_queue_are_read_from_it() -> None:
    release = threading.Event()
    with ThreadPoolExecutor(2) as executor:
        futures = [executor.submit(release.wait, 10) for _ in range(5)]
        assert upstream.executor_threads(executor) == 2
        deadline = time.monotonic() + 10
        while upstream.executor_queued(executor) != 3:
            assert time.monotonic() < deadline, f"queued: {upstream.executor_queued(executor)}"
            time.sleep(0.01)
        release.set()
        assert all(future.result(10) for future in futures)
        assert upstream.executor_queued(executor) == 0


# asyncpg: the socket keepalives are set on (a real connection: tests/database/test_drivers.py).


def test_an_asyncpg_connection_keeps_its_transport() -> None:
    assert "_transport" in asyncpg.connection.Connection.__slots__

    class Transport:
        def get_extra_info(self, name: str) -> object:
            return f"the {name}"

    class Connection:
        _transport = Transport()

    assert str(upstream.asyncpg_socket(Connection())) == "the socket"
