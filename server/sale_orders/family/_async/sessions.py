"""How an operation that is one statement uses the request's session: on its own, without a transaction.

PostgreSQL runs every statement atomically, so an operation that is one statement needs no BEGIN and
COMMIT around it: in autocommit it is one round trip instead of three. Behind PgBouncer asyncpg needs the
transaction even for one statement: `family/databases.py` says so in the session's `info`. (Changing an order,
several statements that must all happen or none, runs in `session.begin()`.)
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from sale_orders.db.session_configs import SINGLE_STATEMENT


@asynccontextmanager
async def one_statement(session: AsyncSession) -> AsyncIterator[AsyncConnection]:
    """The session's connection for an operation that is a single statement: in autocommit, where it can."""
    async with session.begin():
        yield await session.connection(execution_options=session.info[SINGLE_STATEMENT])
