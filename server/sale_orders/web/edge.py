"""ASGI wrappers around the whole app, before routing: request ids, HEAD wherever GET is, and every error a problem.

They wrap Litestar's `asgi_handler` (as its OpenTelemetry plugin does), not its middleware list: Litestar
runs that middleware per route, after routing, so it never sees a 404, nor a HEAD that routing refuses
with 405.
"""

import json
import re
import secrets
from collections.abc import Collection
from http import HTTPStatus
from typing import cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, HTTPScope, Message, Receive, Scope, Send

from sale_orders.logs import FAMILY, REQUEST_ID
from sale_orders.web.problems import KINDS

REQUEST_ID_HEADER = b"x-request-id"
# A caller's (or a load balancer's) id is kept when it is a plain token; anything else is replaced.
_ACCEPTABLE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


def family_of(path: str, families: Collection[str]) -> str:
    """The family a path belongs to (`/sync/...` -> `sync`), or `other`.

    Its first segment as Litestar routes it: Litestar's router drops empty segments (`normalize_path`), so
    `//sync/order/1` is served as `/sync/order/1` and must be bounded and counted as `sync` too.
    """
    first = path.lstrip("/").split("/", 1)[0]
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


_PROBLEM_JSON = b"application/problem+json"
_CONTENT_HEADERS = frozenset({b"content-type", b"content-length"})


def _problem_body(status: int, text: bytes) -> bytes:
    """The problem details of an error the framework answered in its own format (`text`: its body, if plain)."""
    detail = text.decode("utf-8", "replace").strip() if text and len(text) <= 200 and b"<" not in text else ""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    kind, title = KINDS.get(status, ("http-error", phrase)) if status != 400 else ("http-error", phrase)
    return json.dumps(
        {
            "type": f"urn:sale-orders:problem:{kind}",
            "title": title,
            "status": status,
            "detail": detail or phrase,
            "errors": None,
        },
        separators=(",", ":"),
    ).encode()


class ErrorsAsProblems:
    """Turn an error response that is not problem details into problem details (RFC 9457).

    The app's own errors are problems already (`web/problems.py`). Some answers come from Litestar itself, outside
    any handler: its CORS middleware refuses a preflight with `text/plain`, and the OpenAPI router under /schema
    answers an unknown path with an HTML page. Their status and headers are kept; the body becomes a problem.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        held: HTTPResponseStartEvent | None = None
        body = bytearray()

        async def send_as_problem(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
                if message["status"] >= 400 and not content_type.startswith(_PROBLEM_JSON):
                    held = message  # sent with the body, once it is complete
                    return
            elif held is not None and message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                problem = _problem_body(held["status"], bytes(body))
                kept = [(name, value) for name, value in held["headers"] if name.lower() not in _CONTENT_HEADERS]
                headers = [*kept, (b"content-type", _PROBLEM_JSON), (b"content-length", str(len(problem)).encode())]
                await send(cast("HTTPResponseStartEvent", {**held, "headers": headers}))
                head_request = scope.get("method") == "HEAD"
                message = {"type": "http.response.body", "body": b"" if head_request else problem, "more_body": False}
            await send(message)

        await self.app(scope, receive, send_as_problem)
