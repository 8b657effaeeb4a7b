"""A bound on the requests each family of a worker serves at once: beyond it, a 503 at once instead of a queue.

An `async def` request is admitted the moment it arrives and then waits inside the app for a pooled connection,
up to `POOL_TIMEOUT`: at c=256 the async family queued every request, and a client could not tell that queue
from a dead host (p99 up to 4.9 s). A `def` request queues for a thread the same way. Here a family that already
serves `MAX_IN_FLIGHT` requests answers the next one 503 `busy` with `Retry-After` straight away, before
routing: a client (or a balancer) retries elsewhere or later, and the requests admitted keep their latency.

A POST or PATCH that announces a body is admitted only once its whole body has arrived: until then it holds no
thread or connection, and 64 clients trickling bodies must not keep everyone else out until `BODY_TIMEOUT`. A body
that arrives whole with the request is decided at once, as a GET is. Otherwise the app asks for the body before it
does any work with it; the last part of the body is handed over only with a place, and without one the app answers
the same 503 `busy` (`ShedError`, `web/problems.py`).

Only the families' routes are counted; /health, /metrics and /docs are always served. Each refusal is counted in
`sale_orders_requests_shed_total` (by family), and marks the request's scope (`SHED_SCOPE_KEY`): once the 503 is
written, `serve`'s protocol reads nothing more from that connection for `SHED_PAUSE` seconds. Without it, clients
that retry at once whatever `Retry-After` says spin on refusals, and parsing and refusing them takes the event loop
from the requests admitted (`bench admission`: at c=256, async admitted p99 rose from 0.0875 s to 0.375 s).
"""

import json
from collections.abc import Collection
from typing import Any, cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Receive, ReceiveMessage, Scope, Send
from prometheus_client import Counter

from sale_orders.web.edge import family_of
from sale_orders.web.headers import SECURITY_HEADERS
from sale_orders.web.problems import BUSY, BUSY_DETAIL, PROBLEM_JSON, PROBLEM_TYPE_PREFIX, ShedError
from sale_orders.web.transport import SHED_SCOPE_KEY

SHED = Counter(
    "sale_orders_requests_shed",
    "Requests answered 503 at once because their family already served MAX_IN_FLIGHT requests",
    ["family"],
)

_BUSY = json.dumps(
    {"type": PROBLEM_TYPE_PREFIX + BUSY[0], "title": BUSY[1], "status": 503, "detail": BUSY_DETAIL, "errors": None},
    separators=(",", ":"),
).encode()


def busy_headers(retry_after: int) -> list[tuple[bytes, bytes]]:
    """The headers of a 503 `busy` written here, saying `Retry-After: retry_after`."""
    return [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(_BUSY)).encode()),
        (b"retry-after", str(retry_after).encode()),
        *SECURITY_HEADERS.items(),
    ]


# The methods whose body the families read; any other request is admitted on arrival, body or not.
_BODY_METHODS = frozenset({"POST", "PATCH"})


def _announces_body(scope: Scope) -> bool:
    """Whether the request is a POST or PATCH with a body to come: a Content-Length other than 0, or chunked."""
    if scope.get("method") not in _BODY_METHODS:
        return False
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


class AdmissionBound:
    """Admit at most `limit` requests of each family at once; answer the others 503 `busy`.

    Args:
        app: the app.
        families: the path prefixes that name a family.
        limit: requests of one family in flight at once; 0: no bound.
        retry_after: the seconds a refusal's `Retry-After` says (`SHED_PAUSE`, rounded up, or 1).
    """

    def __init__(self, app: ASGIApp, families: Collection[str], limit: int, *, retry_after: int = 1) -> None:
        self.app = app
        self.limit = limit
        self.retry_after = retry_after
        self.busy_headers = busy_headers(retry_after)
        self.families = frozenset(families)
        self.in_flight = dict.fromkeys(self.families, 0)

    def _admit(self, family: str, scope: Scope) -> bool:
        """Take a place of `family` if one is free; count the refusal, and mark it on `scope`, if none is."""
        if self.in_flight[family] >= self.limit:
            SHED.labels(family).inc()
            cast("dict[str, Any]", scope)[SHED_SCOPE_KEY] = True
            return False
        self.in_flight[family] += 1
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        family = family_of(scope["path"], self.families) if scope["type"] == ScopeType.HTTP else "other"
        if family == "other" or not self.limit:
            await self.app(scope, receive, send)
            return
        if _announces_body(scope):
            await self._admit_with_body(family, scope, receive, send)
            return
        if not self._admit(family, scope):
            await self._answer_busy(scope, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight[family] -= 1

    async def _answer_busy(self, scope: Scope, send: Send) -> None:
        start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 503, "headers": self.busy_headers}
        await send(start)
        head = scope.get("method") == "HEAD"
        await send({"type": "http.response.body", "body": b"" if head else _BUSY, "more_body": False})

    async def _admit_with_body(self, family: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a request whose body is to come, admitting it when the body's last part arrives.

        A body that arrives whole in its first part (a create of a few hundred bytes does, with its headers) is
        decided here, before the app does any work: refusing it costs as little as refusing a GET. Under a flood
        of clients that retry at once, a refusal that went through routing and dependency injection first took
        the event loop from the requests admitted (`bench admission`: async `POST /contact` at c=256 served 88
        requests a second, admitted p99 1.6 s).
        """
        first = await receive()
        if first["type"] == "http.request" and not first.get("more_body", False):
            if not self._admit(family, scope):
                await self._answer_busy(scope, send)
                return
            try:
                await self.app(scope, _replaying(first, receive), send)
            finally:
                self.in_flight[family] -= 1
            return
        await self._admit_when_complete(family, scope, _replaying(first, receive), send)

    async def _admit_when_complete(self, family: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a request whose body is still arriving, admitting it when its last part does."""
        admitted = False

        async def receive_admitted() -> ReceiveMessage:
            nonlocal admitted
            message = await receive()
            if not admitted and message["type"] == "http.request" and not message.get("more_body", False):
                if not self._admit(family, scope):
                    raise ShedError(BUSY_DETAIL, self.retry_after)
                admitted = True
            return message

        try:
            await self.app(scope, receive_admitted, send)
        except ShedError:  # the app answers it itself (`EXCEPTION_HANDLERS`); an app that does not, here
            await self._answer_busy(scope, send)
        finally:
            if admitted:
                self.in_flight[family] -= 1


def _replaying(first: ReceiveMessage, receive: Receive) -> Receive:
    """`receive`, handing out `first` (already received) once before it."""
    pending = [first]

    async def receive_again() -> ReceiveMessage:
        return pending.pop() if pending else await receive()

    return receive_again
