"""ASGI wrappers around the whole app, before routing: request ids for the logs, and HEAD wherever GET is.

They wrap Litestar's `asgi_handler` (as its OpenTelemetry plugin does), not its middleware list: Litestar
runs that middleware per route, after routing, so it never sees a 404, nor a HEAD that routing refuses
with 405.
"""

import re
import secrets
from collections.abc import Collection
from typing import cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from sale_orders.logs import FAMILY, REQUEST_ID

REQUEST_ID_HEADER = b"x-request-id"
# A caller's (or a load balancer's) id is kept when it is a plain token; anything else is replaced.
_ACCEPTABLE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


def family_of(path: str, families: Collection[str]) -> str:
    """The family a path belongs to (`/sync/...` -> `sync`), or `other`."""
    first = path.split("/", 2)[1] if path.startswith("/") else ""
    return first if first in families else "other"


class RequestContext:
    """Give each HTTP request an id (its `X-Request-ID`, or a new one), for its log lines and its response."""

    def __init__(self, app: ASGIApp, families: Collection[str]) -> None:
        self.app = app
        self.families = frozenset(families)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == REQUEST_ID_HEADER), b"")
        request_id = given if _ACCEPTABLE_ID.fullmatch(given) else secrets.token_hex(8).encode()
        # Set in this request's own task context: uvicorn writes its access line from `send`, inside it.
        REQUEST_ID.set(request_id.decode())
        FAMILY.set(family_of(scope["path"], self.families))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id)]
            await send(message)

        await self.app(scope, receive, send_with_id)


class HeadAsGet:
    """Answer HEAD as GET without the body (RFC 9110 9.3.2), on every path that serves GET.

    Litestar routes HEAD only to handlers declared for it. The response keeps GET's headers, Content-Length
    included. HEAD is not in the OpenAPI contract, as OPTIONS is not: it is HTTP's, the same on every path.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {"type": "http.response.body", "body": b"", "more_body": message.get("more_body", False)}
            await send(message)

        # A copy: the server's own scope still says HEAD (its access log, and its own body suppression).
        await self.app(cast("HTTPScope", {**scope, "method": "GET"}), receive, send_without_body)
