"""The tests' own databases: scratch databases, emptying them, reading them in SQL, counting statements.

After a fault, a test reads what is committed here, in SQL, rather than trusting the API that just failed.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import psycopg2
from sqlalchemy.engine import URL

from sale_orders.db.drivers import libpq_dsn as dsn
from sale_orders_tools.harness import databases
from sale_orders_tools.harness.databases import embedded_data_dir, execute, query

__all__ = [
    "EMPTY",
    "TABLES",
    "StatementLog",
    "dsn",
    "embedded_data_dir",
    "execute",
    "holding",
    "idempotency_keys",
    "orphans",
    "query",
    "row_counts",
    "scratch_database",
    "truncate",
    "waiting_for_locks",
]

TABLE_NAMES = ("contact", "product", "tag", "sale_order", "sale_order_line", "sale_order_tag", "idempotency_key")
TABLES = ", ".join(reversed(TABLE_NAMES))
EMPTY = dict.fromkeys(TABLE_NAMES, 0)
"""Every table with no row: tests write what must exist as `{**EMPTY, "tag": 1}`."""

# Rows that point at nothing, or a claimed Idempotency-Key without the response it must replay. The foreign
# keys forbid the first kinds; this reads them anyway, so a lost constraint shows up as data, not as luck.
_ORPHANS = """
SELECT 'line ' || l.id || ' of missing order ' || l.order_id
    FROM sale_order_line l LEFT JOIN sale_order o ON o.id = l.order_id WHERE o.id IS NULL
UNION ALL SELECT 'line ' || l.id || ' of missing product ' || l.product_id
    FROM sale_order_line l LEFT JOIN product p ON p.id = l.product_id WHERE p.id IS NULL
UNION ALL SELECT 'tag link of missing order ' || t.order_id
    FROM sale_order_tag t LEFT JOIN sale_order o ON o.id = t.order_id WHERE o.id IS NULL
UNION ALL SELECT 'tag link to missing tag ' || t.tag_id
    FROM sale_order_tag t LEFT JOIN tag g ON g.id = t.tag_id WHERE g.id IS NULL
UNION ALL SELECT 'order ' || o.id || ' of missing contact ' || o.contact_id
    FROM sale_order o LEFT JOIN contact c ON c.id = o.contact_id WHERE c.id IS NULL
UNION ALL SELECT 'idempotency key ' || k.scope || '/' || k.key || ' without its response'
    FROM idempotency_key k WHERE k.response IS NULL
"""


@contextmanager
def scratch_database(server_url: URL) -> Iterator[URL]:
    """An empty database of its own on the server, dropped when the block ends."""
    with databases.scratch_database(server_url, "test_sale_orders") as url:
        yield url


def truncate(database_url: URL) -> None:
    """Empty every table and restart ids from 1."""
    execute(database_url, f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")


@contextmanager
def holding(database_url: URL, sql: str) -> Iterator[None]:
    """A transaction that has run `sql` (e.g. a SELECT ... FOR UPDATE) and holds its locks while the block runs."""
    connection = psycopg2.connect(dsn(database_url))
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
        yield
    finally:
        connection.rollback()
        connection.close()


def row_counts(database_url: URL) -> dict[str, int]:
    """How many rows each table holds, by table name."""
    counts = ", ".join(f"(SELECT count(*) FROM {table})" for table in TABLE_NAMES)  # noqa: S608 - fixed names
    (row,) = query(database_url, f"SELECT {counts}")
    return dict(zip(TABLE_NAMES, row, strict=True))


def orphans(database_url: URL) -> list[str]:
    """What points at nothing: lines, tag links or orders whose parent is gone, keys without a response."""
    return [description for (description,) in query(database_url, _ORPHANS)]


def idempotency_keys(database_url: URL) -> list[tuple[str, str, int]]:
    """Every stored Idempotency-Key as (scope, key, id of the object its response names), in key order."""
    rows = query(database_url, "SELECT scope, key, (response->>'id')::bigint FROM idempotency_key ORDER BY scope, key")
    return [(scope, key, item_id) for scope, key, item_id in rows]


def waiting_for_locks(database_url: URL) -> int:
    """How many sessions of this database wait for a lock now (a request held up by a row lock counts)."""
    sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
    ((waiting,),) = query(database_url, sql, (database_url.database,))
    return int(waiting)


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
