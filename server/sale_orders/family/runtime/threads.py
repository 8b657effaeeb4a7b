"""Where the sync family's `def` handlers run: a thread pool of `SYNC_THREADS`, with a bound on its queue.

Litestar runs a `sync_to_thread` handler in the event loop's default executor, which Python sizes at
min(32, cores + 4): 6 threads on two cores, so a seventh concurrent sync request would wait for a thread. At
startup the app makes `HandlerThreadPool` the loop's default executor (`thread_pool_sizer`), sized by
`SYNC_THREADS`; the sync pool holds as many connections (`SYNC_POOL_SIZE`, by default the same), so a thread
never waits for one.
Requests wait for a thread in the executor's queue, in the order they came; one that waited longer than
`POOL_TIMEOUT` there is answered 503, as a request that waited that long for a connection is.
"""

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from litestar import Litestar

from sale_orders.web.metrics import THREAD_POOL_STATE_KEY
from sale_orders.web.problems import BusyError

P = ParamSpec("P")
T = TypeVar("T")


class HandlerThreadPool(ThreadPoolExecutor):
    """The threads that run `def` handlers; a call that waited longer than `queue_timeout` for one is refused.

    What `POOL_TIMEOUT` is to a connection, this is to a thread: when every thread is stuck (a cut link, a slow
    database), requests queued behind them answer 503 once they have waited that long, instead of waiting their
    turn for as many rounds as there are threads ahead of them.
    """

    def __init__(self, threads: int, queue_timeout: float) -> None:
        super().__init__(threads, thread_name_prefix="sync-handler")
        self.queue_timeout = queue_timeout
        self._running = 0
        self._running_lock = threading.Lock()

    @property
    def running(self) -> int:
        """How many threads are running a job now (the executor itself keeps no such count)."""
        return self._running

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        queued = time.monotonic()

        def run_unless_too_late() -> T:
            waited = time.monotonic() - queued
            if waited > self.queue_timeout:
                msg = f"no thread came free for {waited:.1f} s: the server is busy; retry later"
                raise BusyError(msg)
            with self._running_lock:
                self._running += 1
            try:
                return fn(*args, **kwargs)
            finally:
                with self._running_lock:
                    self._running -= 1

        return super().submit(run_unless_too_late)


def thread_pool_sizer(threads: int, queue_timeout: float, *, bounded: bool = True) -> Callable[[Litestar], None]:
    """A startup hook giving the event loop a default executor of `threads` threads (also in the app's state).

    `bounded`: a `HandlerThreadPool`; else a plain `ThreadPoolExecutor` (`FEATURES` without `thread-queue-bound`).
    """

    def size_thread_pool(app: Litestar) -> None:
        executor = (
            HandlerThreadPool(threads, queue_timeout)
            if bounded
            else ThreadPoolExecutor(threads, thread_name_prefix="sync-handler")
        )
        asyncio.get_running_loop().set_default_executor(executor)
        app.state[THREAD_POOL_STATE_KEY] = executor

    return size_thread_pool
