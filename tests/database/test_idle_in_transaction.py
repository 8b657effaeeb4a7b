"""A transaction the app leaves open (its link cut mid-transaction) is ended by PostgreSQL, through either driver.

The app gives a silent connection up after DB_RESPONSE_TIMEOUT; PostgreSQL never hears of it, and without a bound
of its own would keep the transaction, its row locks and its transaction id (which holds back every host's pages)
for as long as the link stays cut. Each connection starts with `idle_in_transaction_session_timeout` equal to
DB_RESPONSE_TIMEOUT (`db/drivers.py`): here a connection made with the product's own connect arguments opens a
transaction and goes quiet, and the server ends it.
"""

import asyncio
import time

import asyncpg  # type: ignore[import-untyped]
import psycopg2
import pytest
from sqlalchemy.engine import URL

from sale_orders.db.drivers import ASYNCPG, PSYCOPG2, libpq_dsn
from sale_orders.settings import Settings
from tests.support.database import query

# A short bound for the test, with the statement and lock timeouts below it as the settings require.
SETTINGS = Settings(_env_file=None, db_response_timeout=1, statement_timeout_ms=500, lock_timeout_ms=200)
QUIET_S = 2.5  # longer than the bound, with a margin for a loaded machine


def open_transactions(url: URL) -> int:
    sql = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = %s AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
    )
    ((count,),) = query(url, sql, (url.database,))
    return int(count)


def test_psycopg2_a_transaction_left_idle_is_ended_by_the_server(database_url: URL) -> None:
    arguments = PSYCOPG2.connect_args(SETTINGS)
    connection = psycopg2.connect(libpq_dsn(database_url), **arguments)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW idle_in_transaction_session_timeout")
            assert cursor.fetchone() == ("1s",)
            cursor.execute("SELECT txid_current()")  # a transaction with an id, as a write has
        assert open_transactions(database_url) == 1
        time.sleep(QUIET_S)
        assert open_transactions(database_url) == 0
        with pytest.raises(psycopg2.OperationalError), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()


def test_asyncpg_a_transaction_left_idle_is_ended_by_the_server(database_url: URL) -> None:
    async def scenario() -> None:
        connection = await asyncpg.connect(libpq_dsn(database_url), **ASYNCPG.connect_args(SETTINGS))
        try:
            assert await connection.fetchval("SHOW idle_in_transaction_session_timeout") == "1s"
            transaction = connection.transaction()
            await transaction.start()
            await connection.fetchval("SELECT txid_current()")
            assert open_transactions(database_url) == 1
            await asyncio.sleep(QUIET_S)
            assert open_transactions(database_url) == 0
            with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError)):
                await connection.fetchval("SELECT 1")
        finally:
            connection.terminate()

    asyncio.run(scenario())
