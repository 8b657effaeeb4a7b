"""ASGI calls in process, for what the server does before a request's body has arrived.

`call` runs one request through an ASGI app with a body that stops short (`StalledBody`): its answer shows what the
app decided without the rest of the body. Through a `TestClient`'s app, run it in the client's own event loop
(`in_client_loop`), where the app's engines live.
"""

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from litestar import Litestar
from litestar.testing import TestClient
from litestar.types import ASGIApp, HTTPScope, Message, ReceiveMessage

NO_ANSWER = 0
"""The status of an `AsgiAnswer` the app never started (it saw the client go away)."""
# Long enough for any answer the app gives without the body; an app still waiting for it then is a failure.
ANSWER_TIMEOUT = 10.0


@dataclass(frozen=True)
class AsgiAnswer:
    """An app's answer: status, headers (lowercase names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self, status: int, kind: str) -> dict[str, Any]:
        """The problem details of this answer, asserted to be of `status` and `kind`."""
        assert self.status == status, self
        problem: dict[str, Any] = json.loads(self.body)
        assert problem["type"] == f"urn:sale-orders:problem:{kind}", problem
        return problem


@dataclass
class StalledBody:
    """A request body: `parts` arrive (each with more to come), then nothing until `finish` or `disconnect`."""

    parts: Sequence[bytes] = (b'{"na',)
    received: int = 0
    _next: asyncio.Queue[ReceiveMessage] = field(default_factory=asyncio.Queue)

    def __post_init__(self) -> None:
        for part in self.parts:
            self._next.put_nowait({"type": "http.request", "body": part, "more_body": True})

    @property
    def awaited(self) -> bool:
        """Whether the app has read every part that arrived, and waits for more."""
        return self.received > len(self.parts)

    def finish(self, last: bytes = b"") -> None:
        """Let the body's last part arrive."""
        self._next.put_nowait({"type": "http.request", "body": last, "more_body": False})

    def disconnect(self) -> None:
        """The client goes away."""
        self._next.put_nowait({"type": "http.disconnect"})

    async def receive(self) -> ReceiveMessage:
        self.received += 1
        return await self._next.get()


def http_scope(method: str, path: str, headers: Sequence[tuple[str, str]] = ()) -> HTTPScope:
    """The scope of an HTTP/1.1 request from 127.0.0.1."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *((name.lower().encode(), value.encode()) for name, value in headers)],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    return cast("HTTPScope", scope)


async def call(app: ASGIApp, scope: HTTPScope, body: StalledBody | None = None) -> AsgiAnswer:
    """`app`'s answer to `scope`, whose body is `body` (default: one that never completes)."""
    body = body or StalledBody()
    start: dict[str, Any] = {}
    content = bytearray()

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            content.extend(message.get("body", b""))

    try:
        await asyncio.wait_for(app(scope, body.receive, send), ANSWER_TIMEOUT)
    except TimeoutError:
        msg = f"no answer to {scope['method']} {scope['path']} without its body: the app waited for it"
        raise AssertionError(msg) from None
    headers = {name.decode().lower(): value.decode() for name, value in start.get("headers", [])}
    return AsgiAnswer(start.get("status", NO_ANSWER), headers, bytes(content))


def in_client_loop(client: TestClient[Litestar], scope: HTTPScope) -> AsgiAnswer:
    """`call` the client's app with `scope` in the client's own event loop."""

    async def answer() -> AsgiAnswer:
        return await call(client.app, scope)

    return client.blocking_portal.call(answer)
