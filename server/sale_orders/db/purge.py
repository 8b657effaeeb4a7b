"""Deleting expired Idempotency-Keys: `sale-orders idempotency purge`, from cron or a scheduled job."""

from datetime import timedelta

from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from sale_orders.db.drivers import PSYCOPG2
from sale_orders.db.queries import idempotency

DEFAULT_BATCH_SIZE = 1000


def purge_expired_idempotency_keys(url: URL, window: timedelta, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Delete the keys claimed longer than `window` ago, `batch_size` per transaction; return how many.

    Each batch is one short transaction holding row locks on its own keys only, so creates go on meanwhile.
    """
    engine = create_engine(PSYCOPG2.url(url), poolclass=NullPool)
    statement = idempotency.purge_expired(window, batch_size)
    purged = 0
    try:
        with engine.connect() as connection:
            while True:
                with connection.begin():
                    deleted = len(connection.execute(statement).all())
                purged += deleted
                if deleted < batch_size:
                    return purged
    finally:
        engine.dispose()
