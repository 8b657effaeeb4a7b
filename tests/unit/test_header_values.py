"""Both of `serve`'s HTTP parsers read a header's value alike: without the whitespace around it (RFC 9110 5.5).

httptools keeps the whitespace after a value, which h11 drops: `Consistency-Token:  1 ` was a 400 under one parser
and `1` under the other (web/uvicorn_protocols.py).
"""

import asyncio
from typing import Any

import pytest

from sale_orders.web.uvicorn_protocols import BoundedH11Protocol, BoundedHttpToolsProtocol
from tests.support.raw_http import App, Connection, Protocol, answer


class EchoApp(App):
    """Answers with the value of the request's `Consistency-Token` header."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        del receive
        value = dict(scope["headers"])[b"consistency-token"]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(value))]})
        await send({"type": "http.response.body", "body": value})


@pytest.mark.parametrize("protocol", [BoundedHttpToolsProtocol, BoundedH11Protocol])
@pytest.mark.parametrize("written", [b"1", b" 1", b"  1 ", b"1\t", b"\t1 \t "])
def test_a_header_value_is_read_without_the_whitespace_around_it(protocol: Protocol, written: bytes) -> None:
    async def scenario() -> None:
        connection = Connection(protocol, EchoApp(), header_bytes=1024)
        await connection.send(b"GET / HTTP/1.1\r\nHost: x\r\nConsistency-Token:" + written + b"\r\n\r\n")
        assert answer(bytes(connection.transport.written)).body == b"1"

    asyncio.run(scenario())
