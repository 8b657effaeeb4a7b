"""Alembic environment: the URL comes from `sale_orders.db.migrate`, the target from the models.

Migrations run while this process holds the migration lock (`sale_orders.db.migrate.migration_lock`), so
processes that start together on one database (several hosts, or `serve` and `db upgrade` at once) apply
them one at a time: the first applies them, the others wait, then find the schema at head and do nothing.
"""

from alembic import context
from sqlalchemy import create_engine, pool

from sale_orders.db.failover import connect_one_host_at_a_time
from sale_orders.db.migrate import migration_lock
from sale_orders.db.tables import metadata

target_metadata = metadata
engine = create_engine(context.config.attributes["url"], poolclass=pool.NullPool)
connect_one_host_at_a_time(engine)  # `db upgrade` reaches the primary when the first host listed is down
with migration_lock(engine), engine.connect() as connection:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
