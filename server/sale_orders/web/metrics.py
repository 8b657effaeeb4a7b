"""Prometheus metrics at /metrics, outside the OpenAPI contract: requests by family and route, and pools.

Requests are counted by Litestar's Prometheus middleware (as `RouteSeriesMiddleware`, which resolves each
route's labelled series once), labelled by `method`, `path` (the route template,
e.g. `/sync/order/{item_id:int}`, never the raw path: one series per route), `status_code` and `family`
(`sync`, `async`, or `other` for /health, /docs, /metrics): `sale_orders_requests_total`,
`sale_orders_request_duration_seconds` (a histogram), `sale_orders_requests_error_total` (5xx) and
`sale_orders_requests_in_progress`.

The pool gauges are read from the pools themselves when /metrics is scraped, so requests pay nothing for
them. With several workers (`serve --workers N`), prometheus_client's multiprocess mode adds up what every
worker wrote to PROMETHEUS_MULTIPROC_DIR; a scrape reaches one worker only, so there each worker also
writes its gauges every SAMPLE_SECONDS.
"""

import asyncio
import contextlib
import os
import re
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from litestar import Litestar, Request
from litestar.config.app import AppConfig
from litestar.plugins import InitPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.types import Guard
from prometheus_client import Gauge, multiprocess
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool, QueuePool

from sale_orders import upstream
from sale_orders.web.edge import family_of
from sale_orders.web.request_metrics import RouteSeriesMiddleware
from sale_orders.web.unambiguous import refuse_ambiguous_request

PREFIX = "sale_orders"
SAMPLE_SECONDS = 1.0
THREAD_POOL_STATE_KEY = "sync_executor"
"""Where the app's state holds the thread pool that runs `def` handlers."""

_GAUGE: dict[str, Any] = {"labelnames": ["family"], "multiprocess_mode": "livesum"}
DB_POOL_SIZE = Gauge(f"{PREFIX}_db_pool_size", "Connections a family's pool holds at most", **_GAUGE)
DB_POOL_IN_USE = Gauge(f"{PREFIX}_db_pool_in_use", "Connections checked out of a family's pool", **_GAUGE)
DB_POOL_WAITING = Gauge(f"{PREFIX}_db_pool_waiting", "Checkouts waiting for a free connection", **_GAUGE)
THREADS = Gauge(f"{PREFIX}_thread_pool_size", "Threads that may run the family's handlers", **_GAUGE)
THREADS_BUSY = Gauge(f"{PREFIX}_thread_pool_busy", "Threads running a handler (or other blocking work)", **_GAUGE)
THREADS_QUEUED = Gauge(f"{PREFIX}_thread_pool_queued", "Handler calls waiting for a free thread", **_GAUGE)


class EngineSource(Protocol):
    """What provides a family's engine: advanced-alchemy's sync and async configs."""

    def get_engine(self) -> Engine | AsyncEngine: ...


@runtime_checkable
class CountsWaiters(Protocol):
    """A pool queue that counts its waiters, as the async engines' first-come-first-served one does."""

    @property
    def waiting(self) -> int: ...


def _waiting(pool: QueuePool) -> int:
    """Checkouts waiting on the pool's queue: its threads (QueuePool) or its tasks (AsyncAdaptedQueuePool).

    SQLAlchemy counts no waiters, so they are read off the queue's own condition or asyncio queue
    (`upstream.waiters_on`): free at scrape time, where counting around every checkout would cost every request.
    """
    queue = upstream.pool_queue(pool)
    return queue.waiting if isinstance(queue, CountsWaiters) else upstream.waiters_on(queue)


def _sample_pool(family: str, pool: Pool) -> None:
    if isinstance(pool, QueuePool):
        DB_POOL_SIZE.labels(family).set(pool.size())
        DB_POOL_IN_USE.labels(family).set(pool.checkedout())
        DB_POOL_WAITING.labels(family).set(_waiting(pool))


@runtime_checkable
class CountsRunningJobs(Protocol):
    """An executor that counts its running jobs, as the app's handler thread pool does."""

    @property
    def running(self) -> int: ...


def _sample_executor(family: str, executor: ThreadPoolExecutor) -> None:
    THREADS.labels(family).set(upstream.executor_threads(executor))
    if isinstance(executor, CountsRunningJobs):
        # A plain executor keeps no count of busy threads: its `_idle_semaphore` is released after every job,
        # also by a thread that goes straight on to the next queued one, so it over-counts idle ones under load.
        THREADS_BUSY.labels(family).set(executor.running)
    THREADS_QUEUED.labels(family).set(upstream.executor_queued(executor))


_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db")


def _forget_dead_workers(directory: Path) -> None:
    """Drop the gauges of worker processes that died without saying so (killed, crashed)."""
    for path in directory.glob("gauge_live*.db"):
        if (match := _LIVE_GAUGE_FILE.fullmatch(path.name)) is None:
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
        except PermissionError:
            continue


def multiprocess_directory() -> Path | None:
    """The folder that worker processes share their metrics in, when serving with several."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(configured) if configured else None


class MetricsPlugin(InitPlugin):
    """/metrics, the request middleware, and the pool gauges of one app.

    Args:
        guards: what a scrape must pass (the API-key check when keys are configured: /metrics shows request
            rates and pool states, which an open server would hand to anyone).
        families: the path prefixes that name a family (`sync`, `async`).
        engines: each family's engine, by family.
        thread_pool_families: the families whose handlers run in the thread pool at `THREAD_POOL_STATE_KEY`.
    """

    def __init__(
        self,
        guards: Sequence[Guard],
        families: Collection[str],
        engines: Mapping[str, EngineSource],
        thread_pool_families: Collection[str],
    ) -> None:
        self.guards = list(guards)
        self.families = frozenset(families)
        self.engines = dict(engines)
        self.thread_pool_families = tuple(thread_pool_families)
        self._sampler: asyncio.Task[None] | None = None

    def sample(self, app: Litestar) -> None:
        """Write the current state of this process's pools into the gauges."""
        for family, source in self.engines.items():
            _sample_pool(family, source.get_engine().pool)
        executor = app.state.get(THREAD_POOL_STATE_KEY)
        if isinstance(executor, ThreadPoolExecutor):
            for family in self.thread_pool_families:
                _sample_executor(family, executor)

    def _family(self, request: Request[Any, Any, Any]) -> str:
        return family_of(request.scope["path_template"], self.families)

    async def _sample_periodically(self, app: Litestar) -> None:
        while True:
            self.sample(app)
            await asyncio.sleep(SAMPLE_SECONDS)

    def _start(self, app: Litestar) -> None:
        if multiprocess_directory() is not None:
            self._sampler = asyncio.get_running_loop().create_task(self._sample_periodically(app))

    async def _stop(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
        if (directory := multiprocess_directory()) is not None:
            multiprocess.mark_process_dead(os.getpid(), str(directory))  # type: ignore[no-untyped-call]

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        config = PrometheusConfig(
            app_name="sale-orders",
            prefix=PREFIX,
            group_path=True,
            labels={"family": self._family},
            middleware_class=RouteSeriesMiddleware,
        )
        app_config.middleware.append(config.middleware)
        controller = type("GuardedMetricsController", (MetricsController,), {"guards": self.guards})
        app_config.route_handlers.append(controller)
        app_config.on_startup.append(self._start)
        app_config.on_shutdown.append(self._stop)
        return app_config


async def _sample_before_scrape(request: Request[Any, Any, Any]) -> None:
    await refuse_ambiguous_request(request)  # as the families do: a key given twice is a 400
    request.app.plugins.get(MetricsPlugin).sample(request.app)
    if (directory := multiprocess_directory()) is not None:
        _forget_dead_workers(directory)


class MetricsController(PrometheusController):
    """Litestar's /metrics (Prometheus text format), sampling the pools first; not part of the contract."""

    include_in_schema = False
    before_request = staticmethod(_sample_before_scrape)
