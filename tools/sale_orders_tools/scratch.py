"""Throw-away databases on a PostgreSQL server, for the tests and the benchmark."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
from sqlalchemy.engine import URL

from sale_orders.db.drivers import libpq_dsn


@contextmanager
def scratch_database(server_url: URL, prefix: str) -> Iterator[URL]:
    """An empty database of its own on the server, named `<prefix>_<random>`, dropped when the block ends."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(libpq_dsn(server_url))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            yield server_url.set(database=name)
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()
