"""Alembic environment: the URL comes from `sale_orders.db.migrate`, the target from the models.

Migrations run in one transaction that first takes a PostgreSQL advisory lock, so processes that start
together on one database (several hosts, or `serve` and `db upgrade` at once) apply them one at a time:
the first applies them, the others wait, then find the schema at head and do nothing.
"""

from alembic import context
from sqlalchemy import create_engine, pool, text

from sale_orders.db.migrate import MIGRATION_LOCK_KEY
from sale_orders.db.tables import metadata

target_metadata = metadata
engine = create_engine(context.config.attributes["url"], poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        # Held until this transaction ends; Alembic reads the current revision after it is granted.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()
engine.dispose()
