"""The async engines' pool serves waiters first come, first served: a newcomer never takes a waiter's connection."""

import asyncio

import pytest
from sqlalchemy import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty

from sale_orders.app.health import health_engine
from sale_orders.family.databases import database_config
from sale_orders.family.record import ASYNC, FAMILIES, SYNC
from sale_orders.family.runtime.pools import FirstComeFirstServedPool, FirstComeFirstServedQueue
from sale_orders.settings import Settings


def return_then_ask_again(queue: AsyncAdaptedQueue[str], item: str) -> str:
    """A request that gives its connection back and at once wants one: the barging newcomer."""
    queue.put_nowait(item)
    return queue.get(True, 0.3)


async def race(queue: AsyncAdaptedQueue[str]) -> tuple[str | None, str | None]:
    waiter = asyncio.create_task(greenlet_spawn(queue.get, True, 5))
    for _ in range(5):
        await asyncio.sleep(0)  # the waiter is now waiting on the empty queue
    try:
        newcomer: str | None = await greenlet_spawn(return_then_ask_again, queue, "connection")
    except Empty:
        newcomer = None
    return await asyncio.wait_for(waiter, 5), newcomer


def test_a_connection_put_back_goes_to_the_oldest_waiter_not_to_a_newcomer() -> None:
    assert asyncio.run(race(FirstComeFirstServedQueue[str](1))) == ("connection", None)


def test_sqlalchemys_own_queue_lets_the_newcomer_take_it() -> None:
    # Why the pool above exists: the waiter wakes to an empty queue and waits again, at the back.
    async def run() -> tuple[str | None, str | None]:
        queue: AsyncAdaptedQueue[str] = AsyncAdaptedQueue(1)
        waiter = asyncio.create_task(greenlet_spawn(queue.get, True, 0.5))
        for _ in range(5):
            await asyncio.sleep(0)
        newcomer = await greenlet_spawn(return_then_ask_again, queue, "connection")
        with pytest.raises(Empty):
            await waiter
        return None, newcomer

    assert asyncio.run(run()) == (None, "connection")


def test_a_waiter_that_gave_up_is_skipped_and_its_place_counts_no_more() -> None:
    async def run() -> tuple[int, int, str]:
        queue = FirstComeFirstServedQueue[str](1)
        impatient = asyncio.create_task(greenlet_spawn(queue.get, True, 5))
        await asyncio.sleep(0.05)
        waiting_before = queue.waiting
        impatient.cancel()  # its request went away
        with pytest.raises(asyncio.CancelledError):
            await impatient
        queue.put_nowait("connection")
        got: str = await greenlet_spawn(queue.get, True, 1)
        return waiting_before, queue.waiting, got

    assert asyncio.run(run()) == (1, 0, "connection")


def test_a_waiter_times_out_with_sqlalchemys_empty() -> None:
    async def run() -> None:
        await greenlet_spawn(FirstComeFirstServedQueue[str](1).get, True, 0.05)

    with pytest.raises(Empty):
        asyncio.run(run())


URL_NOWHERE = make_url("postgresql://nobody@127.0.0.1:1/none")


def test_the_async_familys_engines_use_it_and_the_sync_familys_sqlalchemys_own() -> None:
    settings = Settings(_env_file=None)
    engines = {family.name: database_config(family, URL_NOWHERE, settings).get_engine() for family in FAMILIES}
    async_engine, sync_engine = engines[ASYNC.name], engines[SYNC.name]
    assert isinstance(async_engine, AsyncEngine)
    assert isinstance(async_engine.sync_engine.pool, FirstComeFirstServedPool)
    assert isinstance(sync_engine, Engine)
    assert type(sync_engine.pool) is QueuePool
    assert isinstance(health_engine(URL_NOWHERE, settings).sync_engine.pool, FirstComeFirstServedPool)
