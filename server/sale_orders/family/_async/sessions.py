"""How an operation that is one statement uses the request's session: on its own, without a transaction.

PostgreSQL runs every statement atomically, so an operation that is one statement needs no BEGIN and
COMMIT around it: in autocommit it is one round trip instead of three. Behind PgBouncer asyncpg needs the
transaction even for one statement: `family/databases.py` says so in the session's `info`. (Changing an order,
several statements that must all happen or none, runs in `session.begin()`.)

A read may run on a standby (`db/queries/standby.py`): the same, on a connection of the standby's engine.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from sale_orders.family.runtime.session_configs import SINGLE_STATEMENT


@asynccontextmanager
async def one_statement(session: AsyncSession, standby: Engine | None = None) -> AsyncIterator[AsyncConnection]:
    """The session's connection for an operation that is a single statement: in autocommit, where it can.

    On a standby when `standby` is given (the engine as the session's own binds are: `StandbyReads.bind`), else
    on the session's own database, the primary.
    """
    bind = {} if standby is None else {"bind_arguments": {"bind": standby}}
    async with session.begin():
        yield await session.connection(execution_options=session.info[SINGLE_STATEMENT], **bind)
