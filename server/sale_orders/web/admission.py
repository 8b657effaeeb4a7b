"""A bound on the requests each family of a worker serves at once: beyond it, a 503 at once instead of a queue.

An `async def` request is admitted the moment it arrives and then waits inside the app for a pooled connection,
up to `POOL_TIMEOUT`: at c=256 the async family queued every request, and a client could not tell that queue
from a dead host (p99 up to 4.9 s). A `def` request queues for a thread the same way. Here a family that already
serves `MAX_IN_FLIGHT` requests answers the next one 503 `busy` with `Retry-After: 1` straight away, before
routing: a client (or a balancer) retries elsewhere or later, and the requests admitted keep their latency.

Only the families' routes are counted; /health, /metrics and /docs are always served. Each refusal is counted in
`sale_orders_requests_shed_total` (by family).
"""

import json
from collections.abc import Collection

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Receive, Scope, Send
from prometheus_client import Counter

from sale_orders.web.edge import family_of
from sale_orders.web.headers import SECURITY_HEADERS
from sale_orders.web.problems import PROBLEM_JSON, PROBLEM_TYPE_PREFIX

SHED = Counter(
    "sale_orders_requests_shed",
    "Requests answered 503 at once because their family already served MAX_IN_FLIGHT requests",
    ["family"],
)

_BUSY = json.dumps(
    {
        "type": PROBLEM_TYPE_PREFIX + "busy",
        "title": "The server is at its limit; retry later",
        "status": 503,
        "detail": "this server is serving as many requests as it admits at once; nothing was done, retry",
        "errors": None,
    },
    separators=(",", ":"),
).encode()
_BUSY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-type", PROBLEM_JSON.encode()),
    (b"content-length", str(len(_BUSY)).encode()),
    (b"retry-after", b"1"),
    *SECURITY_HEADERS.items(),
]


class AdmissionBound:
    """Admit at most `limit` requests of each family at once; answer the others 503 `busy` without routing them.

    Args:
        app: the app.
        families: the path prefixes that name a family.
        limit: requests of one family in flight at once; 0: no bound.
    """

    def __init__(self, app: ASGIApp, families: Collection[str], limit: int) -> None:
        self.app = app
        self.limit = limit
        self.families = frozenset(families)
        self.in_flight = dict.fromkeys(self.families, 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        family = family_of(scope["path"], self.families) if scope["type"] == ScopeType.HTTP else "other"
        if family == "other" or not self.limit:
            await self.app(scope, receive, send)
            return
        if self.in_flight[family] >= self.limit:
            SHED.labels(family).inc()
            start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 503, "headers": _BUSY_HEADERS}
            await send(start)
            head = scope.get("method") == "HEAD"
            await send({"type": "http.response.body", "body": b"" if head else _BUSY, "more_body": False})
            return
        self.in_flight[family] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight[family] -= 1
