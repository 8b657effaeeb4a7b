"""The request bounds of web/transport.py, driven in process through both protocols with a transport of bytes.

Each test runs through uvicorn's own protocol code with `serve`'s classes, over an in-memory transport, with
a tiny app; the live tests (tests/live/test_transport_limits.py) hold the same promises against a real server.
"""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from sale_orders.web import transport
from sale_orders.web.transport import RequestLimits
from sale_orders.web.uvicorn_protocols import BoundedH11Protocol, BoundedHttpToolsProtocol
from tests.support.raw_http import App, Protocol, answer, answers, request
from tests.support.raw_http import Connection as AnyConnection

LIMIT = 1024
TIMEOUT = 0.2
PROTOCOLS = [BoundedHttpToolsProtocol, BoundedH11Protocol]


def Connection(protocol: Protocol, app: App) -> AnyConnection:  # noqa: N802 - reads as the class it makes
    return AnyConnection(protocol, app, header_bytes=LIMIT)


@pytest.fixture(autouse=True)
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "process_limits", lambda: RequestLimits(LIMIT, TIMEOUT, TIMEOUT))


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("size", [LIMIT, LIMIT + 1])
def test_headers_up_to_the_limit_are_served_and_beyond_it_refused_however_they_are_split(
    protocol: Protocol, size: int
) -> None:
    whole = request(size)
    splits = [[whole], *([whole[:cut], whole[cut:]] for cut in (1, size // 2, size - 4, size - 3, size - 1))]
    splits.append([whole[i : i + 100] for i in range(0, len(whole), 100)])

    async def scenario() -> None:
        for chunks in splits:
            connection = Connection(protocol, App())
            await connection.send(*chunks)
            if size <= LIMIT:
                assert answer(bytes(connection.transport.written)).status == 200, chunks
                assert not connection.transport.closed
            else:
                answer(bytes(connection.transport.written)).problem(431, "headers-too-large")
                assert connection.transport.closed

    run(scenario)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_body_read_with_its_headers_does_not_count_as_header_bytes(protocol: Protocol) -> None:
    async def scenario() -> None:
        connection = Connection(protocol, App())
        await connection.send(request(LIMIT, method="POST", path="/", body=b"b" * (3 * LIMIT)))
        got = answer(bytes(connection.transport.written))
        assert (got.status, got.body) == (200, b"%d" % (3 * LIMIT))

    run(scenario)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_pipelined_requests_in_one_read_are_each_within_the_limit(protocol: Protocol) -> None:
    async def scenario() -> None:
        connection = Connection(protocol, App())
        await connection.send(request(LIMIT // 2) * 5)
        assert [got.status for got in answers(bytes(connection.transport.written))] == [200] * 5
        assert not connection.transport.closed

    run(scenario)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_headers_late_get_408_counted_from_the_first_byte(protocol: Protocol) -> None:
    async def scenario() -> None:
        connection = Connection(protocol, App())
        await connection.send(request(200)[:-4])
        for _ in range(4):  # bytes keep coming, the headers never end
            await asyncio.sleep(TIMEOUT / 2)
            await connection.send(b"\r\nX-More: 1")
        assert connection.transport.closed
        problem = answer(bytes(connection.transport.written)).problem(408, "request-timeout")
        assert "headers" in problem["detail"]

    run(scenario)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_connection_that_sends_nothing_is_closed_without_an_answer(protocol: Protocol) -> None:
    async def scenario() -> None:
        connection = Connection(protocol, App())
        await asyncio.sleep(TIMEOUT * 2)
        assert connection.transport.closed
        assert connection.transport.written == b""

    run(scenario)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_body_late_gets_408_and_the_app_sees_the_client_gone(protocol: Protocol) -> None:
    async def scenario() -> None:
        app = App()
        connection = Connection(protocol, app)
        await connection.send(request(200, method="POST", path="/", body=b"b" * 100)[:-50])
        await asyncio.sleep(TIMEOUT * 2)
        assert connection.transport.closed
        problem = answer(bytes(connection.transport.written)).problem(408, "request-timeout")
        assert "body" in problem["detail"]
        assert app.events[-1] == {"type": "http.disconnect"}

    run(scenario)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_body_late_after_the_app_answered_is_closed_without_a_second_answer(protocol: Protocol) -> None:
    async def scenario() -> None:
        connection = Connection(protocol, App())
        await connection.send(request(200, method="POST", path="/early", body=b"b" * 100)[:-50])
        await asyncio.sleep(TIMEOUT * 2)
        assert connection.transport.closed
        assert [got.status for got in answers(bytes(connection.transport.written))] == [200]

    run(scenario)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_request_read_whole_sets_no_deadline_and_an_idle_connection_is_left_to_keep_alive(
    protocol: Protocol,
) -> None:
    async def scenario() -> None:
        connection = Connection(protocol, App())
        for _ in range(3):
            await connection.send(request(300), request(300, method="POST", path="/", body=b"{}"))
            assert connection.protocol._deadline is None
        await asyncio.sleep(TIMEOUT * 2)  # longer than the header timeout, shorter than uvicorn's keep-alive (5 s)
        assert not connection.transport.closed
        assert [got.status for got in answers(bytes(connection.transport.written))] == [200] * 6

    run(scenario)
