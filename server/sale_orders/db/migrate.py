"""Alembic, driven from Python: `sale-orders db upgrade` and the tests use the same configuration."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

from sale_orders.db.drivers import PSYCOPG2

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 0x5A1E_0DE5
"""The PostgreSQL advisory lock that migrations hold; any constant bigint."""
LOCK_POLL_SECONDS = 0.2


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the migration lock on a connection of its own, outside any transaction, while the block runs.

    Waiting is polling with `pg_try_advisory_lock`, not a blocking `pg_advisory_lock`: a process blocked in
    a statement holds a snapshot, and CREATE INDEX CONCURRENTLY in the holder's migration waits for every
    older snapshot to end, so the two would wait for each other (PostgreSQL reports a deadlock).
    """
    with engine.connect() as connection:
        holder = connection.execution_options(isolation_level="AUTOCOMMIT")
        key = {"key": MIGRATION_LOCK_KEY}
        while not holder.scalar(text("SELECT pg_try_advisory_lock(:key)"), key):
            time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), key)


def alembic_config(url: URL) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = PSYCOPG2.url(url)
    return config


def upgrade(url: URL, revision: str = "head") -> None:
    """Apply migrations up to `revision` on the database at `url`."""
    command.upgrade(alembic_config(url), revision)


def new_revision(url: URL, message: str) -> None:
    """Write a migration for the difference between the models and the database at `url`."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
