"""A pool connected to a server that became read-only (a demoted primary) recovers only with the failover fix.

The database's sessions are made read-only (`default_transaction_read_only`), as on a standby: a connection
opened then refuses every write with SQLSTATE 25006 for as long as it lives, while `SELECT 1` succeeds on it.
Then the database is writable again (the "new primary"): a pool that kept the old connection still fails, one
that treated 25006 as a disconnect has thrown it away and writes.
"""

import asyncio
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import NullPool, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from sale_orders.db.drivers import ASYNCPG, PSYCOPG2
from sale_orders.db.errors import is_unavailable
from sale_orders.db.failover import treat_read_only_as_disconnect
from tests.support.database import execute

INSERT = text("INSERT INTO writes VALUES (1)")


@pytest.fixture
def switchable(tmp_database: URL) -> Iterator[tuple[URL, Callable[[bool], None]]]:
    """The database, and a switch that makes its new sessions read-only (True) or writable (False)."""
    execute(tmp_database, "CREATE TABLE writes (x int)")
    name = tmp_database.database

    def read_only(on: bool) -> None:
        setting = "SET default_transaction_read_only = on" if on else "RESET default_transaction_read_only"
        execute(tmp_database.set(database="postgres"), f'ALTER DATABASE "{name}" {setting}')

    yield tmp_database, read_only
    read_only(False)


def outcomes_sync(url: URL, switch: Callable[[bool], None], *, fixed: bool) -> tuple[BaseException, str]:
    """(the error of the write on the read-only server, what the next write did once the server is writable)."""
    engine = create_engine(PSYCOPG2.url(url), pool_size=1, max_overflow=0)
    if fixed:
        treat_read_only_as_disconnect(engine)
    try:
        switch(True)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))  # the pre-ping's question: answered
            with pytest.raises(DBAPIError) as refused:
                connection.execute(INSERT)
        switch(False)
        try:
            with engine.begin() as connection:
                connection.execute(INSERT)
        except DBAPIError as exc:
            return refused.value, f"failed {exc.orig.pgcode if exc.orig else ''}"  # type: ignore[attr-defined]
        return refused.value, "written"
    finally:
        engine.dispose()


async def outcomes_async(url: URL, switch: Callable[[bool], None], *, fixed: bool) -> tuple[BaseException, str]:
    engine = create_async_engine(ASYNCPG.url(url), pool_size=1, max_overflow=0)
    if fixed:
        treat_read_only_as_disconnect(engine)
    try:
        switch(True)
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            with pytest.raises(DBAPIError) as refused:
                await connection.execute(INSERT)
        switch(False)
        try:
            async with engine.begin() as connection:
                await connection.execute(INSERT)
        except DBAPIError as exc:
            return refused.value, f"failed {getattr(exc.orig, 'sqlstate', '')}"
        return refused.value, "written"
    finally:
        await engine.dispose()


def outcomes(driver: str, url: URL, switch: Callable[[bool], None], *, fixed: bool) -> tuple[BaseException, str]:
    if driver == "psycopg2":
        return outcomes_sync(url, switch, fixed=fixed)
    return asyncio.run(outcomes_async(url, switch, fixed=fixed))


@pytest.mark.parametrize("driver", ["psycopg2", "asyncpg"])
def test_without_the_fix_the_pool_keeps_writing_to_a_read_only_server(
    driver: str, switchable: tuple[URL, Callable[[bool], None]]
) -> None:
    error, then = outcomes(driver, *switchable, fixed=False)
    assert is_unavailable(error)  # a 503 for the client (SQLSTATE 25006) ...
    assert not getattr(error, "connection_invalidated", False)  # ... but the connection stays in the pool
    assert then == "failed 25006"


@pytest.mark.parametrize("driver", ["psycopg2", "asyncpg"])
def test_with_the_fix_a_read_only_server_is_a_lost_connection(
    driver: str, switchable: tuple[URL, Callable[[bool], None]]
) -> None:
    error, then = outcomes(driver, *switchable, fixed=True)
    assert is_unavailable(error)  # a 503 ...
    assert getattr(error, "connection_invalidated", False)  # ... and the connection is thrown away
    assert then == "written"


def test_a_null_pool_needs_no_fix(switchable: tuple[URL, Callable[[bool], None]]) -> None:
    """The control: without pooling every write gets a new session, so only the pool is the problem."""
    url, switch = switchable
    engine = create_engine(PSYCOPG2.url(url), poolclass=NullPool)
    try:
        switch(True)
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(INSERT)
        switch(False)
        with engine.begin() as connection:
            connection.execute(INSERT)
    finally:
        engine.dispose()
