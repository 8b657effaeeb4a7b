"""The tests' own databases: scratch databases, emptying them, reading them in SQL, counting statements."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

import psycopg2
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

from sale_orders.db import scratch
from sale_orders.db.scratch import dsn

__all__ = ["TABLES", "StatementCounter", "dsn", "query", "scratch_database", "truncate"]

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


class StatementCounter:
    """Counts the SQL statements that both families' engines send."""

    def __init__(self, engines: list[Engine]) -> None:
        self.engines = engines
        self.statements: list[str] = []

    def _record(self, *args: object) -> None:
        self.statements.append(str(args[2]))

    def __enter__(self) -> Self:
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)
