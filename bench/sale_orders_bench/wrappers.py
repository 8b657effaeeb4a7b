"""In-process cost of the product's per-request ASGI wrappers, around an app that does nothing.

`uv run sale-orders bench wrappers [--requests N]`: microseconds each wrapper adds to one request (the median of
5 rounds), Litestar's own Prometheus middleware next to the product's `RouteSeriesMiddleware`. No server, no
database: what wrk cannot resolve, a few microseconds out of a thousand, measured where it is spent.
"""

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware

from sale_orders.family.record import FAMILY_NAMES
from sale_orders.web.admission import AdmissionBound
from sale_orders.web.edge import ErrorsAsProblems, HeadAsGet, RequestContext
from sale_orders.web.headers import add_security_headers, list_every_method_in_allow
from sale_orders.web.request_metrics import RouteSeriesMiddleware
from sale_orders.web.unambiguous import refuse_ambiguous_request

ROUNDS = 5
# ASGI's own types are unions of TypedDicts that a fake scope and messages cannot satisfy: plain `Any` here.
App = Callable[[Any, Any, Any], Awaitable[None]]


async def bare(scope: Any, receive: Any, send: Any) -> None:
    del scope, receive
    await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def receive() -> Any:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Any) -> None:
    del message


# What a create sends: a JSON body of some length, and the headers wrk and a browser send.
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"content-type", b"application/json"),
    (b"content-length", b"64"),
    (b"accept", b"*/*"),
    (b"user-agent", b"wrk"),
]


def scope() -> Any:
    path = "/async/contact"
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "path_template": path, "root_path": "", "query_string": b"",
        "headers": HEADERS, "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000), "state": {},
    }  # fmt: skip


def ambiguity_check(app: App) -> App:
    """The families' `before_request` hook, on a Litestar request as the router builds it."""

    async def checked(scope: Any, receive: Any, send: Any) -> None:
        await refuse_ambiguous_request(Request(scope, receive))
        await app(scope, receive, send)

    return checked


def header_hooks(app: App) -> App:
    """The app's two `before_send` hooks, as Litestar calls them on every message."""

    async def with_hooks(scope: Any, receive: Any, send: Any) -> None:
        async def hooked(message: Any) -> None:
            await list_every_method_in_allow(message, scope)
            await add_security_headers(message, scope)
            await send(message)

        await app(scope, receive, hooked)

    return with_hooks


async def cost(app: App, requests: int) -> float:
    """Microseconds per request of `app`, minus the bare app's, median of the rounds."""
    differences = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(requests):
            await app(scope(), receive, send)
        middle = time.perf_counter()
        for _ in range(requests):
            await bare(scope(), receive, send)
        end = time.perf_counter()
        differences.append(((middle - start) - (end - middle)) / requests * 1e6)
    return statistics.median(differences)


async def main(requests: int) -> None:
    def prometheus(middleware: type[PrometheusMiddleware], prefix: str) -> App:
        labels: dict[str, Any] = {"family": lambda _: "async"}
        config = PrometheusConfig(app_name="bench", prefix=prefix, group_path=True, labels=labels)
        return middleware(bare, config)

    wrappers: dict[str, App] = {
        "Litestar's PrometheusMiddleware": prometheus(PrometheusMiddleware, "bench_litestar"),
        "RouteSeriesMiddleware (the product's)": prometheus(RouteSeriesMiddleware, "bench_route_series"),
        "RequestContext (request ids)": RequestContext(bare, families=FAMILY_NAMES),
        "HeadAsGet": HeadAsGet(bare),
        "security and Allow header hooks": header_hooks(bare),
        "ErrorsAsProblems": ErrorsAsProblems(bare),
        "AdmissionBound (a create: admitted with its body)": AdmissionBound(bare, FAMILY_NAMES, 64),
        "refuse_ambiguous_request (the families' before_request)": ambiguity_check(bare),
    }
    print(f"µs per request over a bare ASGI app, median of {ROUNDS} rounds of {requests:,} requests:")
    for name, wrapped in wrappers.items():
        await cost(wrapped, requests // 10)  # warm: each route's series, caches
        print(f"  {name}: {await cost(wrapped, requests):.1f}")
