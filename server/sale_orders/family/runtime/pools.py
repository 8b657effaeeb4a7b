"""The async family's connection pool: it serves its waiters in the order they came (`record.ASYNC.pool_class`).

SQLAlchemy's `AsyncAdaptedQueuePool` keeps its idle connections in an `asyncio.Queue`, and its `get` first takes
a connection that is there without waiting. So when a connection comes back, the request that has waited
longest is woken, but a request arriving in the meantime takes the connection first; the woken one finds the
queue empty and waits again, at the back (asyncio's `Queue.get`). Under a queue of requests some wait round after
round until `POOL_TIMEOUT` answers them 503, while the median waits little: `bench --network` measured async
pages at c=64 with a p99 of 2.2 s and 503s where the sync family (threads taken in order) had neither.

Here a returned connection goes straight to the oldest waiter, and a new request waits behind the ones already
waiting: first come, first served. The sync family needs no such pool: its requests queue for a thread, in order
(`threads.py`), and a thread never waits for a connection, since its pool is as large as the thread pool.

It relies on SQLAlchemy's `AsyncAdaptedQueue` and on its pool's hook for the queue class (`sale_orders.upstream`).
"""

import asyncio
import contextlib
from collections import deque
from typing import Any, TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty

from sale_orders.upstream import keeps_connections_in

T = TypeVar("T")


class FirstComeFirstServedQueue(AsyncAdaptedQueue[T]):
    """`AsyncAdaptedQueue` with a hand-off: a connection put back goes to the oldest waiter, never to a newcomer."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        # Idle connections still sit in SQLAlchemy's FIFO or LIFO queue (`pool_use_lifo`); only waiters are ordered.
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[T]] = deque()

    @property
    def waiting(self) -> int:
        """Requests waiting for a connection now (the pool gauges read it)."""
        return sum(not waiter.done() for waiter in self._waiters)

    def put_nowait(self, item: T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # one that timed out has been cancelled
                waiter.set_result(item)
                return
        super().put_nowait(item)

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        # The pool holds at most its size: a connection coming back always finds room.
        del block, timeout
        self.put_nowait(item)

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        if not self._waiters or not block:
            try:
                return self.get_nowait()
            except Empty:
                if not block:
                    raise
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await_(asyncio.wait_for(waiter, timeout))
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                # Handed a connection just as it gave up (timed out, or the request was cancelled): pass it on.
                self.put_nowait(waiter.result())
            else:
                self._drop(waiter)
            if isinstance(exc, TimeoutError):
                raise Empty from exc
            raise

    def _drop(self, waiter: asyncio.Future[Any]) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)


@keeps_connections_in(FirstComeFirstServedQueue[ConnectionPoolEntry])
class FirstComeFirstServedPool(AsyncAdaptedQueuePool):
    """The async engines' pool: SQLAlchemy's own, with waiters served in order."""
