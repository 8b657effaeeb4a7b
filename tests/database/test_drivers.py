"""What the drivers are given on a real connection: asyncpg's socket, which its keepalives are set on."""

import asyncio
import socket

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import URL

from sale_orders.db.drivers import libpq_dsn
from sale_orders.upstream import asyncpg_socket


def test_an_asyncpg_connection_shows_the_socket_under_its_transport(database_url: URL) -> None:
    async def family_of_socket() -> int:
        connection = await asyncpg.connect(libpq_dsn(database_url))
        try:
            tcp = asyncpg_socket(connection)
            assert tcp is not None
            return tcp.family
        finally:
            await connection.close()

    # The tests' PostgreSQL listens on a unix socket: keepalives are set only on TCP (db/drivers.py).
    assert asyncio.run(family_of_socket()) == socket.AF_UNIX
