"""After a 503 `busy` from the admission bound, a connection is not read from for SHED_PAUSE (its Retry-After).

Driven in process through both of `serve`'s protocols over a transport of bytes; tests/live/test_admission.py
holds the same promise against a real server.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from sale_orders.web import transport, uvicorn_protocols
from sale_orders.web.transport import SHED_SCOPE_KEY, RequestLimits
from sale_orders.web.uvicorn_protocols import BoundedH11Protocol, BoundedHttpToolsProtocol
from tests.support.raw_http import App, Connection, Protocol, answers

PAUSE = 0.2
PROTOCOLS = [BoundedHttpToolsProtocol, BoundedH11Protocol]


class SheddingApp(App):
    """Answers /shed 503 as the admission bound does (its scope marked); anything else as `App`."""

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        if scope["path"] != "/shed":
            await super().__call__(scope, receive, send)
            return
        scope[SHED_SCOPE_KEY] = True
        await send({"type": "http.response.start", "status": 503, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


def limits(monkeypatch: pytest.MonkeyPatch, pause: float) -> None:
    monkeypatch.setattr(transport, "process_limits", lambda: RequestLimits(1024, 5.0, 5.0, pause))


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


async def sent(protocol: Protocol, data: bytes, *, keep_alive: int = 5) -> Connection:
    """A connection to `protocol` serving `SheddingApp`, once `data` was read and answered."""
    connection = Connection(protocol, SheddingApp(), header_bytes=1024, keep_alive=keep_alive)
    await connection.send(data)
    return connection


def statuses(connection: Connection) -> list[int]:
    """The statuses of every answer written on `connection` so far."""
    return [found.status for found in answers(bytes(connection.transport.written))]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_refused_connection_is_not_read_from_until_its_pause_ends(
    protocol: Protocol, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits(monkeypatch, PAUSE)

    async def scenario() -> None:
        connection = await sent(protocol, get("/shed"))
        assert statuses(connection) == [503]
        assert not connection.transport.reading
        await asyncio.sleep(PAUSE * 2)
        assert connection.transport.reading
        await connection.send(get("/"))  # served as before, and reading goes on
        assert statuses(connection) == [503, 200]
        assert connection.transport.reading

    asyncio.run(scenario())


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(("path", "pause"), [("/", PAUSE), ("/shed", 0.0)])
def test_reading_goes_on_after_an_admitted_request_or_without_a_pause(
    protocol: Protocol, path: str, pause: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits(monkeypatch, pause)

    async def scenario() -> None:
        connection = await sent(protocol, get(path))
        assert len(statuses(connection)) == 1
        assert connection.transport.reading

    asyncio.run(scenario())


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_connection_closed_during_its_pause_is_left_alone(
    protocol: Protocol, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits(monkeypatch, PAUSE)

    async def scenario() -> None:
        connection = await sent(protocol, get("/shed"))
        connection.transport.close()
        await asyncio.sleep(PAUSE * 2)  # the pause ends on a closed connection: nothing resumed, nothing raised
        assert not connection.transport.reading

    asyncio.run(scenario())


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_keep_alive_counts_from_the_end_of_the_pause(protocol: Protocol, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request sent during the pause waits unread in the socket: keep-alive must not close it meanwhile."""
    limits(monkeypatch, PAUSE)

    async def scenario() -> None:
        before = asyncio.get_running_loop().time()
        connection = await sent(protocol, get("/shed"), keep_alive=1)
        assert not connection.transport.reading
        assert connection.protocol.timeout_keep_alive_task is None
        await asyncio.sleep(PAUSE * 2)
        armed = connection.protocol.timeout_keep_alive_task
        assert connection.transport.reading
        assert armed is not None
        assert armed.when() >= before + PAUSE + 1  # the full second, from the end of the pause
        await connection.send(get("/"))  # read at once, and kept alive as uvicorn keeps it
        assert statuses(connection) == [503, 200]
        assert not connection.transport.closed

    asyncio.run(scenario())


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_shutdown_during_the_pause_answers_the_request_sent_meanwhile_then_closes(
    protocol: Protocol, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits(monkeypatch, 60.0)  # the pause would outlast the test: only the shutdown ends it

    async def scenario() -> None:
        connection = await sent(protocol, get("/shed"))
        connection.protocol.shutdown()
        assert connection.transport.reading
        assert not connection.transport.closed
        await connection.send(get("/"))
        assert statuses(connection) == [503, 200]
        assert connection.transport.closed

    asyncio.run(scenario())


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_shutdown_during_the_pause_closes_a_silent_connection_after_its_grace(
    protocol: Protocol, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits(monkeypatch, 60.0)
    monkeypatch.setattr(uvicorn_protocols, "SHUTDOWN_READ_GRACE", PAUSE)

    async def scenario() -> None:
        connection = await sent(protocol, get("/shed"))
        connection.protocol.shutdown()
        assert not connection.transport.closed
        await asyncio.sleep(PAUSE * 2)
        assert connection.transport.closed

    asyncio.run(scenario())


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_shutdown_outside_a_pause_closes_an_idle_connection_at_once(
    protocol: Protocol, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits(monkeypatch, 60.0)

    async def scenario() -> None:
        connection = await sent(protocol, get("/"))
        connection.protocol.shutdown()
        assert connection.transport.closed

    asyncio.run(scenario())


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_shutdown_after_the_pause_with_nothing_read_since_still_reads_first(
    protocol: Protocol, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy loop can end the pause and run the shutdown before the socket is read: the request is still read."""
    limits(monkeypatch, PAUSE)

    async def scenario() -> None:
        connection = await sent(protocol, get("/shed"))
        await asyncio.sleep(PAUSE * 2)
        assert connection.transport.reading  # the pause is over, and nothing was read since
        connection.protocol.shutdown()
        assert not connection.transport.closed
        await connection.send(get("/"))
        assert statuses(connection) == [503, 200]
        assert connection.transport.closed

    asyncio.run(scenario())


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_shutdown_closes_a_request_still_incomplete_at_the_end_of_its_grace(
    protocol: Protocol, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As uvicorn's own shutdown closes a connection whose request has not arrived whole: no HEADER_TIMEOUT wait."""
    limits(monkeypatch, 60.0)
    monkeypatch.setattr(uvicorn_protocols, "SHUTDOWN_READ_GRACE", PAUSE)

    async def scenario() -> None:
        connection = await sent(protocol, get("/shed"))
        connection.protocol.shutdown()
        await connection.send(get("/")[:-4])
        await asyncio.sleep(PAUSE * 2)
        assert connection.transport.closed
        assert statuses(connection) == [503]

    asyncio.run(scenario())


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_no_pause_when_a_request_pipelined_behind_the_refusal_runs(
    protocol: Protocol, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was read already; with both parsers alike, the connection is read on, and a shutdown closes it after."""
    limits(monkeypatch, 60.0)

    async def scenario() -> None:
        connection = await sent(protocol, get("/shed") + get("/"))
        assert statuses(connection) == [503, 200]
        assert connection.transport.reading
        connection.protocol.shutdown()
        assert connection.transport.closed

    asyncio.run(scenario())
