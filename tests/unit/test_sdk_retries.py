"""The SDK retries by itself, safely: one Idempotency-Key per create, the errors and answers worth repeating.

Against a scripted HTTP server on 127.0.0.1 (a thread of this process, stopped after each test): each
(method, path) answers its faults in turn, one per attempt, then succeeds. Every test runs through the SDK's
blocking and its asyncio functions (`tests.support.sdk`); the retry policy waits hundredths of a second.
"""

import asyncio
import contextlib
import email.utils
import json
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from sale_orders_client import AuthenticatedClient
from sale_orders_client._retries import _retry_after_seconds
from sale_orders_client.client import RetryPolicy
from sale_orders_client.models import Order, OrderCreate, OrderLine, OrderUpdate, ProblemDetails
from tests.support.sdk import MODES, Sdk

PROBLEM = "urn:sale-orders:problem:"
IN_PROGRESS = f"{PROBLEM}idempotency-key-in-progress"
FAST = RetryPolicy(base_delay=0.01, max_delay=0.02)
# A client's timeout: an answer held back ("slow") times out; an answer given at once on loopback does not.
TIMEOUT = httpx.Timeout(0.3)
HELD = 30.0  # seconds a "slow" answer waits unless the server stops first
KEY = "test-key"  # the API key the client sends
ORDER: dict[str, Any] = {
    "id": 1,
    "name": "SO001",
    "contact_id": 1,
    "order_lines": [{"product_id": 1, "quantity": 3, "price": 0.07}],
    "tags": [],
    "amount_total": 0.21,
}


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when its head had arrived


class FakeServer:
    """A scripted HTTP/1.1 server on 127.0.0.1, serving each connection in a thread of its own.

    `script[(method, path)]` lists the faults its next attempts meet, one each; when the list is used up they
    succeed (201 for POST, 204 for DELETE, 200 with ORDER otherwise). A fault is a status ("503", "400"...),
    optionally with a Retry-After ("503 retry-after=1") or a problem type ("409 idempotency-key-in-progress"),
    or "drop" (close the connection without answering), "drop-mid-body" (send the head and part of the body,
    then close), or "slow" (answer only after HELD seconds).
    """

    def __init__(self) -> None:
        self.script: dict[tuple[str, str], list[str]] = {}
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self._httpd = _Server(self)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, end every connection and every held answer, and wait for their threads."""
        self.stopping.set()
        self._httpd.shutdown()
        with self.lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()  # joins the connections' threads
        self._thread.join()

    def attempts(self, method: str, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if (r.method, r.path) == (method, path)]

    def keys(self, method: str, path: str) -> list[str | None]:
        return [r.headers.get("idempotency-key") for r in self.attempts(method, path)]

    def next_fault(self, received: Received) -> str | None:
        with self.lock:
            self.received.append(received)
            faults = self.script.get((received.method, received.path), [])
            return faults.pop(0) if faults else None


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # so that server_close() waits for every connection's thread

    def __init__(self, fake: FakeServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet: a client that hangs up mid-answer (a timeout) is what some tests are about."""
        del request, client_address


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def fake(self) -> FakeServer:
        assert isinstance(self.server, _Server)
        return self.server.fake

    def setup(self) -> None:
        super().setup()
        with self.fake.lock:
            self.fake.connections.add(self.connection)

    def finish(self) -> None:
        with self.fake.lock:
            self.fake.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        del format, args

    def answer(self) -> None:
        at = time.monotonic()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        fault = self.fake.next_fault(Received(self.command, self.path, headers, body, at))
        if fault == "slow":
            if self.fake.stopping.wait(HELD):
                return
            fault = None
        if fault is None:
            self.succeed()
        elif fault.startswith("drop"):
            self.drop(mid_body=fault == "drop-mid-body")
        else:
            self.fail(fault)

    do_GET = do_POST = do_PATCH = do_DELETE = answer  # noqa: N815 - the names http.server calls

    def succeed(self) -> None:
        if self.command == "DELETE":
            self.send(204, b"", "application/json", {})
            return
        self.send(201 if self.command == "POST" else 200, json.dumps(ORDER).encode(), "application/json", {})

    def fail(self, fault: str) -> None:
        status, _, rest = fault.partition(" ")
        headers = {"Retry-After": rest.removeprefix("retry-after=")} if rest.startswith("retry-after=") else {}
        kind = rest if rest and not headers else {"409": "conflict", "503": "unavailable"}.get(status, "other")
        problem = {"type": PROBLEM + kind, "title": kind, "status": int(status), "detail": fault}
        self.send(int(status), json.dumps(problem).encode(), "application/problem+json", headers)

    def drop(self, *, mid_body: bool) -> None:
        if mid_body:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"id": 1, "name": ')
            self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def send(self, status: int, payload: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(server: FakeServer, mode: str, flow: Callable[[Sdk], Awaitable[Any]], retry: RetryPolicy | None = FAST) -> Any:
    """`flow` through a fresh SDK client of `server`: blocking calls to /sync, or asyncio calls to /async."""
    client = AuthenticatedClient(base_url=server.url, token=KEY, timeout=TIMEOUT, retry=retry)

    async def main() -> Any:
        if mode == "blocking":
            with client:
                return await flow(Sdk("sync", client, use_asyncio=False))
        async with client:
            return await flow(Sdk("async", client, use_asyncio=True))

    return asyncio.run(main())


def path(mode: str, rest: str) -> str:
    return f"/{'sync' if mode == 'blocking' else 'async'}/{rest}"


def body() -> OrderCreate:
    return OrderCreate(
        name="SO001", contact_id=1, order_lines=[OrderLine(product_id=1, quantity=3, price=Decimal("0.07"))]
    )


def is_uuid4(key: str | None) -> bool:
    return key is not None and uuid.UUID(key).version == 4


@pytest.mark.parametrize(
    "faults",
    [
        ["503"],
        ["503", "503"],
        ["409 idempotency-key-in-progress"],
        ["409 concurrent-change"],
        ["drop"],
        ["drop-mid-body"],
        ["slow"],
        ["drop", "503", "slow"],
    ],
    ids=["503", "503x2", "409-in-progress", "409-concurrent", "drop", "drop-mid-body", "timeout", "drop-503-timeout"],
)
def test_a_create_is_retried_with_one_key(server: FakeServer, mode: str, faults: list[str]) -> None:
    server.script[("POST", path(mode, "order"))] = list(faults)
    response = run(server, mode, lambda sdk: sdk.call("create_order", body=body()))
    assert response.status_code == 201
    assert isinstance(response.parsed, Order)
    assert response.parsed.amount_total == Decimal("0.21")
    keys = server.keys("POST", path(mode, "order"))
    assert len(keys) == len(faults) + 1
    assert len(set(keys)) == 1
    assert is_uuid4(keys[0])


def test_each_call_gets_a_key_of_its_own_and_a_callers_key_is_kept(server: FakeServer, mode: str) -> None:
    orders = path(mode, "order")

    async def flow(sdk: Sdk) -> None:
        await sdk.expect(201, "create_order", body=body())
        await sdk.expect(201, "create_order", body=body())
        server.script[("POST", orders)] = ["503", "drop"]
        await sdk.expect(201, "create_order", body=body(), idempotency_key="mine-1")

    run(server, mode, flow)
    keys = server.keys("POST", orders)
    assert is_uuid4(keys[0])
    assert is_uuid4(keys[1])
    assert keys[0] != keys[1]
    assert keys[2:] == ["mine-1"] * 3


def test_reads_changes_and_deletes_are_retried(server: FakeServer, mode: str) -> None:
    one = path(mode, "order/1")
    for method in ("GET", "PATCH", "DELETE"):
        server.script[(method, one)] = ["503", "drop"]

    async def flow(sdk: Sdk) -> None:
        assert isinstance(await sdk.expect(200, "get_order", item_id=1), Order)
        assert isinstance(await sdk.expect(200, "update_order", item_id=1, body=OrderUpdate(name="SO2")), Order)
        await sdk.expect(204, "delete_order", item_id=1)

    run(server, mode, flow)
    for method in ("GET", "PATCH", "DELETE"):
        assert server.keys(method, one) == [None] * 3, method  # keys are for creates only
    assert [r.body for r in server.attempts("PATCH", one)] == [b'{"name":"SO2"}'] * 3


def test_a_read_lost_mid_body_or_timed_out_is_retried(server: FakeServer, mode: str) -> None:
    server.script[("GET", path(mode, "order/1"))] = ["drop-mid-body", "slow", "drop-mid-body"]
    assert isinstance(run(server, mode, lambda sdk: sdk.expect(200, "get_order", item_id=1)), Order)
    assert len(server.attempts("GET", path(mode, "order/1"))) == 4


def test_retry_after_is_honoured(server: FakeServer, mode: str) -> None:
    server.script[("POST", path(mode, "order"))] = ["503 retry-after=1"]
    assert isinstance(run(server, mode, lambda sdk: sdk.expect(201, "create_order", body=body())), Order)
    first, second = server.attempts("POST", path(mode, "order"))
    assert second.at - first.at >= 1.0  # the backoff alone would have waited at most FAST.max_delay
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]


def test_a_retry_after_beyond_the_limit_is_answered_at_once(server: FakeServer, mode: str) -> None:
    server.script[("GET", path(mode, "order/1"))] = ["503 retry-after=120"]
    response = run(server, mode, lambda sdk: sdk.call("get_order", item_id=1))
    assert response.status_code == 503
    assert isinstance(response.parsed, ProblemDetails)
    assert len(server.attempts("GET", path(mode, "order/1"))) == 1


def test_only_the_409s_that_changed_nothing_are_retried(server: FakeServer, mode: str) -> None:
    script = ["409 idempotency-key-in-progress", "409 concurrent-change", "409 conflict"]
    server.script[("POST", path(mode, "order"))] = script
    response = run(server, mode, lambda sdk: sdk.call("create_order", body=body()))
    assert response.status_code == 409
    assert isinstance(response.parsed, ProblemDetails)
    assert response.parsed.type_ == f"{PROBLEM}conflict"
    assert len(server.attempts("POST", path(mode, "order"))) == 3


def test_a_change_that_collided_is_retried(server: FakeServer, mode: str) -> None:
    server.script[("PATCH", path(mode, "order/1"))] = ["409 concurrent-change", "409 concurrent-change"]
    update = OrderUpdate(name="SO2")
    assert isinstance(run(server, mode, lambda sdk: sdk.expect(200, "update_order", item_id=1, body=update)), Order)
    assert len(server.attempts("PATCH", path(mode, "order/1"))) == 3


@pytest.mark.parametrize(
    ("operation", "method", "rest", "status"),
    [
        ("create_order", "POST", "order", 400),
        ("create_order", "POST", "order", 422),
        ("get_order", "GET", "order/1", 404),
        ("update_order", "PATCH", "order/1", 422),
        ("delete_order", "DELETE", "order/1", 404),
    ],
)
def test_answers_are_never_retried(
    server: FakeServer, mode: str, operation: str, method: str, rest: str, status: int
) -> None:
    server.script[(method, path(mode, rest))] = [str(status)]
    every: dict[str, dict[str, Any]] = {
        "create_order": {"body": body()},
        "update_order": {"item_id": 1, "body": OrderUpdate(name="SO2")},
    }
    arguments = every.get(operation, {"item_id": 1})
    response = run(server, mode, lambda sdk: sdk.call(operation, **arguments))
    assert response.status_code == status
    assert isinstance(response.parsed, ProblemDetails)
    assert len(server.attempts(method, path(mode, rest))) == 1


def test_the_last_answer_is_returned_when_attempts_run_out(server: FakeServer, mode: str) -> None:
    server.script[("POST", path(mode, "order"))] = ["503"] * 5
    policy = RetryPolicy(max_attempts=3, base_delay=0.01)
    response = run(server, mode, lambda sdk: sdk.call("create_order", body=body()), retry=policy)
    assert response.status_code == 503
    assert isinstance(response.parsed, ProblemDetails)
    assert response.parsed.type_ == f"{PROBLEM}unavailable"
    assert len(set(server.keys("POST", path(mode, "order")))) == 1
    assert len(server.attempts("POST", path(mode, "order"))) == 3


def test_the_last_error_is_raised_when_attempts_run_out(server: FakeServer, mode: str) -> None:
    server.script[("GET", path(mode, "order/1"))] = ["drop"] * 5
    with pytest.raises(httpx.RemoteProtocolError):
        run(server, mode, lambda sdk: sdk.call("get_order", item_id=1), retry=RetryPolicy(max_attempts=2))
    assert len(server.attempts("GET", path(mode, "order/1"))) == 2


def test_retry_none_sends_once_and_adds_no_key(server: FakeServer, mode: str) -> None:
    server.script[("POST", path(mode, "order"))] = ["503"]
    response = run(server, mode, lambda sdk: sdk.call("create_order", body=body()), retry=None)
    assert response.status_code == 503
    assert server.keys("POST", path(mode, "order")) == [None]
    server.script[("GET", path(mode, "order/1"))] = ["drop-mid-body"]
    with pytest.raises(httpx.RemoteProtocolError):
        run(server, mode, lambda sdk: sdk.call("get_order", item_id=1), retry=None)
    server.script[("GET", path(mode, "order/1"))] = ["slow"]
    with pytest.raises(httpx.ReadTimeout):
        run(server, mode, lambda sdk: sdk.call("get_order", item_id=1), retry=None)
    assert len(server.attempts("GET", path(mode, "order/1"))) == 2


def test_the_httpx_client_it_builds_answers_ordinary_responses(server: FakeServer) -> None:
    server.script[("GET", "/sync/order/1")] = ["503", "drop-mid-body"]
    with AuthenticatedClient(base_url=server.url, token=KEY, retry=FAST) as client:
        response = client.get_httpx_client().get("/sync/order/1")
    assert (response.status_code, response.json()) == (200, ORDER)
    assert response.headers["content-type"] == "application/json"
    assert response.elapsed.total_seconds() >= 0  # httpx read and closed it as any response
    assert server.attempts("GET", "/sync/order/1")[-1].headers["authorization"] == f"Bearer {KEY}"


def test_a_callers_transport_is_wrapped() -> None:
    calls: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("refused", request=request)

    transport = httpx.MockTransport(refuse)
    with AuthenticatedClient(
        base_url="http://127.0.0.1:9", token=KEY, retry=FAST, httpx_args={"transport": transport}
    ) as client:
        sdk = Sdk("sync", client, use_asyncio=False)
        with pytest.raises(httpx.ConnectError):
            asyncio.run(sdk.call("create_order", body=body()))
    assert len(calls) == FAST.max_attempts
    assert len({request.headers["Idempotency-Key"] for request in calls}) == 1


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0)
    assert [policy.backoff(n, rng=lambda: 1.0) for n in range(1, 7)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert [policy.backoff(n, rng=lambda: 0.5) for n in (1, 3)] == [0.05, 0.2]
    assert policy.backoff(5, rng=lambda: 0.0) == 0.0
    assert all(0 <= policy.backoff(3) <= 0.4 for _ in range(1000))


def test_retry_after_is_seconds_or_a_date() -> None:
    assert _retry_after_seconds("3") == 3.0
    assert _retry_after_seconds(" 1 ") == 1.0
    soon = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 55 < (_retry_after_seconds(soon) or 0) <= 60
    assert _retry_after_seconds(email.utils.formatdate(0, usegmt=True)) == 0.0
    for invalid in ("soon", "-1", "", None):
        assert _retry_after_seconds(invalid) is None, invalid


@pytest.mark.parametrize(
    "settings",
    [{"max_attempts": 0}, {"base_delay": -1.0}, {"max_delay": -0.1}, {"max_retry_after": -5.0}],
)
def test_a_policy_that_cannot_work_is_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"max_attempts|negative"):
        RetryPolicy(**settings)
