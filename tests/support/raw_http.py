"""HTTP/1.1 as bytes, for tests of what the server does before the app has a request (web/transport.py).

Answers parsed from bytes, requests of an exact size, and a connection to one of `serve`'s protocols in process
(`Connection`), over a transport that keeps what is written.
"""

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from sale_orders.web.uvicorn_protocols import BoundedH11Protocol, BoundedHttpToolsProtocol

Protocol = type[BoundedHttpToolsProtocol] | type[BoundedH11Protocol]

_HEAD_END = b"\r\n\r\n"


@dataclass(frozen=True)
class RawAnswer:
    """One answer as read from a socket: status, headers (lowercase names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self, status: int, kind: str) -> dict[str, Any]:
        """The RFC 9457 body of this answer, asserted to be of `status` and `kind`, closing the connection."""
        assert self.status == status, self
        assert self.headers["content-type"] == "application/problem+json", self
        assert self.headers["connection"] == "close", self
        assert int(self.headers["content-length"]) == len(self.body), self
        problem: dict[str, Any] = json.loads(self.body)
        assert problem["type"] == f"urn:sale-orders:problem:{kind}", problem
        assert problem["status"] == status, problem
        assert problem["title"], problem
        assert problem["detail"], problem
        return problem


def answers(data: bytes) -> list[RawAnswer]:
    """The answers in `data`, in order; each must say its Content-Length (every answer of this server does)."""
    found = []
    while data:
        head, separator, rest = data.partition(_HEAD_END)
        assert separator, f"an incomplete answer: {data[:200]!r}"
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        found.append(RawAnswer(int(status_line.split()[1]), headers, rest[:length]))
        data = rest[length:]
    return found


def answer(data: bytes) -> RawAnswer:
    """The one answer `data` holds."""
    (only,) = answers(data)
    return only


def read_answer(connection: socket.socket) -> RawAnswer:
    """The next whole answer on `connection` (which must carry no more than that one)."""
    data = b""
    while True:
        chunk = connection.recv(65536)
        assert chunk, f"closed before a whole answer: {data!r}"
        data += chunk
        head, separator, rest = data.partition(_HEAD_END)
        if separator and len(rest) >= int(answer(head + separator).headers.get("content-length", "0")):
            return answer(data)


def request(size: int, *, method: str = "GET", path: str = "/health", headers: bytes = b"", body: bytes = b"") -> bytes:
    """A request whose line and headers take exactly `size` bytes (padded with an `X-Pad` header), then `body`."""
    start = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + headers
    if body:
        start += b"Content-Length: %d\r\n" % len(body)
    start += b"X-Pad: "
    padding = size - len(start) - len(_HEAD_END)
    assert padding >= 0, f"a request line and headers take {len(start) + len(_HEAD_END)} bytes at least"
    return start + b"p" * padding + _HEAD_END + body


class BytesTransport(asyncio.Transport):
    """What the protocol writes, kept; closing tells the protocol the connection is lost, as a socket would."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False
        self.reading = True
        self.protocol: asyncio.BaseProtocol | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "written after close"
        self.written += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            assert self.protocol is not None
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def get_protocol(self) -> asyncio.BaseProtocol:
        assert self.protocol is not None
        return self.protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = protocol

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading


class App:
    """Answers 200 once it has read the whole body, or at once on /early; notes every event it receives."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        if scope["path"] == "/early":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        body = b""
        while True:
            event = await receive()
            self.events.append(event)
            if event["type"] == "http.disconnect":
                return
            body += event["body"]
            if not event["more_body"]:
                break
        answer_body = b"%d" % len(body)
        headers = [(b"content-length", b"%d" % len(answer_body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer_body})


class Connection:
    """A connection to `protocol` over a `BytesTransport`, configured as `serve` does; make it in a running loop."""

    def __init__(self, protocol: Protocol, app: App, *, header_bytes: int, keep_alive: int = 5) -> None:
        config = Config(
            app=app,
            lifespan="off",
            log_config=None,
            h11_max_incomplete_event_size=header_bytes,
            timeout_keep_alive=keep_alive,
        )
        self.transport = BytesTransport()
        self.protocol = protocol(config=config, server_state=ServerState(), app_state={})
        self.transport.protocol = self.protocol
        self.protocol.connection_made(self.transport)

    async def send(self, *chunks: bytes) -> None:
        for chunk in chunks:
            if not self.transport.closed:
                self.protocol.data_received(chunk)
            await asyncio.sleep(0)
        for _ in range(5):  # let the app's task run, and the connection close
            await asyncio.sleep(0)
