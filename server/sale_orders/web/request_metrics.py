"""Litestar's Prometheus middleware, with each route's labelled series looked up once instead of per request.

Litestar's `PrometheusMiddleware` builds a `Request`, parses its URL and resolves the labelled series of every
metric (prometheus_client's `labels()`, a lock and a dict lookup each) on every request: 42 µs a request,
measured in process around a do-nothing app. `RouteSeriesMiddleware` reads the method and the route off the
scope and keeps each route's series: the same metrics, names, labels and values, for a fraction of that.

It relies on every label being a function of the route (method and path template), as with `group_path=True`
and this app's `family` label: a label computed from anything else would be cached wrongly. And on what Litestar's
middleware computes privately (its labels, its configuration, its timing `send`): `sale_orders.upstream`.
"""

import time
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import ImproperlyConfiguredException
from litestar.plugins.prometheus import PrometheusMiddleware
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Receive, Scope, Send
from prometheus_client import Counter, Gauge, Histogram

from sale_orders import upstream

Labels = dict[str, str | int | float]


@dataclass
class _StatusSeries:
    """One route's series for one status code."""

    count: Counter
    duration: Histogram
    errors: Counter | None  # only 5xx statuses count errors


@dataclass
class _RouteSeries:
    """One route's series, and its labels (with a placeholder status) to make those of a new status from."""

    labels: Labels
    in_progress: Gauge
    by_status: dict[int, _StatusSeries] = field(default_factory=dict)


class RouteSeriesMiddleware(PrometheusMiddleware):
    """`PrometheusMiddleware` that labels a request from its scope and reuses its route's labelled series."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        config = upstream.prometheus_config(self)
        if config.exemplars:
            msg = f"{type(self).__name__} records no exemplars: use Litestar's PrometheusMiddleware for them"
            raise ImproperlyConfiguredException(msg)
        self._routes: dict[tuple[str, str], _RouteSeries] = {}
        self._excluded_methods = config.excluded_http_methods

    def _route_series(self, route: tuple[str, str], scope: Scope, receive: Receive) -> _RouteSeries:
        """The series of a route seen for the first time, labelled as Litestar's middleware labels it."""
        request: Request[Any, Any, Any] = Request(scope, receive)
        labels = upstream.prometheus_labels(self, request)
        series = _RouteSeries(labels, self.requests_in_progress(labels).labels(*labels.values()))
        self._routes[route] = series
        return series

    def _status_series(self, route: _RouteSeries, status: int) -> _StatusSeries:
        labels = {**route.labels, "status_code": status}
        values = [*labels.values()]
        errors = self.requests_error_count(labels).labels(*values) if status >= HTTP_500_INTERNAL_SERVER_ERROR else None
        series = _StatusSeries(
            self.request_count(labels).labels(*values), self.request_time(labels).labels(*values), errors
        )
        route.by_status[status] = series
        return series

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"] if scope["type"] == ScopeType.HTTP else scope["type"]
        excluded = self._excluded_methods
        if excluded and method in excluded:
            await self.app(scope, receive, send)
            return
        key = (method, scope["path_template"])
        route = self._routes.get(key) or self._route_series(key, scope, receive)
        span: dict[str, float] = {"start_time": time.perf_counter(), "end_time": 0, "duration": 0, "status_code": 200}
        wrapped_send = upstream.prometheus_wrapped_send(self, send, span)
        route.in_progress.inc()
        try:
            await self.app(scope, receive, wrapped_send)
        finally:
            route.in_progress.dec()
            status = int(span["status_code"])
            series = route.by_status.get(status) or self._status_series(route, status)
            if series.errors is not None:
                series.errors.inc()
            series.count.inc()
            series.duration.observe(span["duration"])
