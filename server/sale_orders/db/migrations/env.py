"""Alembic environment: the URL comes from `sale_orders.db.migrate`, the target from the models."""

from alembic import context
from sqlalchemy import create_engine, pool

from sale_orders.db.tables import metadata

target_metadata = metadata
engine = create_engine(context.config.attributes["url"], poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
