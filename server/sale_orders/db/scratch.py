"""Throw-away databases on a PostgreSQL server, for the tests and the benchmark."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
from sqlalchemy.engine import URL

from sale_orders.settings import with_driver


def dsn(url: URL) -> str:
    """A libpq connection string for psycopg2 and asyncpg."""
    return with_driver(url, "psycopg2").set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def scratch_database(server_url: URL, prefix: str) -> Iterator[URL]:
    """An empty database of its own on the server, named `<prefix>_<random>`, dropped when the block ends."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(dsn(server_url))
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
