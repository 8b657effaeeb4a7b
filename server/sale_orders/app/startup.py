"""What the app does once when it starts: size the thread pool, and take long-lived objects out of the GC's way."""

import asyncio
import gc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from litestar import Litestar

from sale_orders.web.metrics import THREAD_POOL_STATE_KEY


def thread_pool_sizer(threads: int) -> Callable[[Litestar], None]:
    """A startup hook giving the event loop a default executor of `threads` threads (also in the app's state).

    Litestar runs `sync_to_thread` handlers in the loop's default executor, which Python sizes at
    min(32, cores + 4): 6 threads on two cores, so a seventh concurrent sync request would wait.
    """

    def size_thread_pool(app: Litestar) -> None:
        executor = ThreadPoolExecutor(threads, thread_name_prefix="sync-handler")
        asyncio.get_running_loop().set_default_executor(executor)
        app.state[THREAD_POOL_STATE_KEY] = executor

    return size_thread_pool


def freeze_startup_objects() -> None:
    """Move every object alive after startup out of the garbage collector's sight.

    The app's modules, schemas, routes and compiled statements are objects that live as long as the process;
    left in the collected generations, every full collection would walk them all, pausing every request.
    """
    gc.collect()
    gc.freeze()
