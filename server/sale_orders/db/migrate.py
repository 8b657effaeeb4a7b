"""Alembic, driven from Python: `sale-orders db upgrade` and the tests use the same configuration."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL

from sale_orders.settings import with_driver

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 0x5A1E_0DE5
"""The PostgreSQL advisory lock that migrations hold (`pg_advisory_xact_lock`); any constant bigint."""


def alembic_config(url: URL) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = with_driver(url, "psycopg2")
    return config


def upgrade(url: URL, revision: str = "head") -> None:
    """Apply migrations up to `revision` on the database at `url`."""
    command.upgrade(alembic_config(url), revision)


def new_revision(url: URL, message: str) -> None:
    """Write a migration for the difference between the models and the database at `url`."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
