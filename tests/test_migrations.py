"""The Alembic migrations build exactly the schema the models describe, and can be undone."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL

from sale_orders.db.migrate import alembic_config, upgrade
from sale_orders.db.tables import metadata
from sale_orders.settings import with_driver


def test_migrated_schema_matches_the_models(database_url: URL) -> None:
    engine = create_engine(with_driver(database_url, "psycopg2"))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == [], "models and migrations differ: run `uv run sale-orders db revision -m '...'`"


def test_downgrade_to_base_and_upgrade_again(tmp_database: URL) -> None:
    upgrade(tmp_database)
    upgrade_engine = create_engine(with_driver(tmp_database, "psycopg2"))
    tables = set(inspect(upgrade_engine).get_table_names())
    assert {"contact", "product", "tag", "sale_order", "sale_order_line", "sale_order_tag", "idempotency_key"} <= tables
    command.downgrade(alembic_config(tmp_database), "base")
    assert set(inspect(upgrade_engine).get_table_names()) == {"alembic_version"}
    upgrade(tmp_database)
    assert set(inspect(upgrade_engine).get_table_names()) == tables
    upgrade_engine.dispose()
