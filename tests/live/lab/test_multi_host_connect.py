"""A multi-host URL whose first host is a proxy in front of a dead server: libpq gives up, asyncpg goes on.

The first host is a fault proxy whose upstream refuses (it accepts, then resets: as a sidecar or a TCP load
balancer in front of a dead database host does), the second a proxy to the tests' live PostgreSQL. This is what
the lab's primary-kill found: the sync family stayed unavailable until the old primary came back.
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from sale_orders.db.failover import connect_one_host_at_a_time
from sale_orders_faultproxy.proxy import ProxyThread
from sale_orders_tools.harness.servers import free_port
from tests.support.database import query


@pytest.fixture
def dead_then_live(tmp_database: URL) -> Iterator[URL]:
    """A URL naming a proxy to nothing first, then a proxy to the live server, both with target_session_attrs."""
    ((port,),) = query(tmp_database, "SHOW port")
    socket_dir = str(tmp_database.query["host"])
    socket = str(Path(socket_dir) / f".s.PGSQL.{port}")
    with (
        ProxyThread(("127.0.0.1", 0), ("127.0.0.1", free_port())) as dead,
        ProxyThread(("127.0.0.1", 0), socket) as live,  # a unix socket path as the target
    ):
        hosts = (f"127.0.0.1:{dead.listen[1]}", f"127.0.0.1:{live.listen[1]}")
        yield URL.create(
            "postgresql",
            username=tmp_database.username,
            password=tmp_database.password,
            database=tmp_database.database,
            query={"host": hosts, "target_session_attrs": "read-write"},
        )


def server_of(url: URL, *, one_by_one: bool) -> str:
    engine = create_engine(url.set(drivername="postgresql+psycopg2"))
    if one_by_one:
        connect_one_host_at_a_time(engine)
    try:
        with engine.connect() as connection:
            return str(connection.scalar(text("SELECT 'reached'")))
    finally:
        engine.dispose()


def test_psycopg2_gives_up_at_a_proxy_to_a_dead_host(dead_then_live: URL) -> None:
    with pytest.raises(OperationalError, match="closed the connection unexpectedly"):
        server_of(dead_then_live, one_by_one=False)


def test_one_host_at_a_time_reaches_the_live_host(dead_then_live: URL) -> None:
    assert server_of(dead_then_live, one_by_one=True) == "reached"


def test_asyncpg_goes_on_to_the_next_host_by_itself(dead_then_live: URL) -> None:
    async def reach() -> str:
        engine = create_async_engine(dead_then_live.set(drivername="postgresql+asyncpg"))
        try:
            async with engine.connect() as connection:
                return str(await connection.scalar(text("SELECT 'reached'")))
        finally:
            await engine.dispose()

    assert asyncio.run(reach()) == "reached"
