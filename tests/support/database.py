"""The tests' own databases: scratch databases, emptying them, reading them in SQL, counting statements."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import psycopg2
from sqlalchemy.engine import URL

from sale_orders.db import scratch
from sale_orders.db.scratch import dsn

__all__ = ["TABLES", "StatementLog", "dsn", "execute", "query", "scratch_database", "truncate"]

TABLES = "idempotency_key, sale_order_tag, sale_order_line, sale_order, tag, product, contact"


@contextmanager
def scratch_database(server_url: URL) -> Iterator[URL]:
    """An empty database of its own on the server, dropped when the block ends."""
    with scratch.scratch_database(server_url, "test_sale_orders") as url:
        yield url


def truncate(database_url: URL) -> None:
    """Empty every table and restart ids from 1."""
    with psycopg2.connect(dsn(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    connection.close()


def query(
    database_url: URL, sql: str, parameters: dict[str, Any] | tuple[Any, ...] | None = None
) -> list[tuple[Any, ...]]:
    """The rows of one SQL query, read in a connection of its own (what is committed, nothing else)."""
    with psycopg2.connect(dsn(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall()
    connection.close()
    return rows


def execute(database_url: URL, sql: str) -> None:
    """Run one SQL command on its own, outside any transaction (ALTER SYSTEM, CREATE DATABASE, ...)."""
    connection = psycopg2.connect(dsn(database_url))
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


class StatementLog:
    """What a PostgreSQL server received, read from its own log (`log_statement = 'all'`).

    Every line is a message the server answered: a statement, and also BEGIN, COMMIT, SET... that a driver
    sends on its own, so the count is the round trips after the drivers' statement caches are warm.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._start = 0

    def __enter__(self) -> Self:
        self._start = self.path.stat().st_size
        return self

    def __exit__(self, *_: object) -> None:
        self.received = [
            line.split("LOG:  ", 1)[1]
            for line in self.path.read_bytes()[self._start :].decode(errors="replace").splitlines()
            if "LOG:  statement: " in line or "LOG:  execute " in line
        ]

    @property
    def count(self) -> int:
        return len(self.received)
