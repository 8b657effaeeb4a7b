"""The async family's database rungs, each adding one layer to the one before, on the product's SQL.

1. `RawAsyncpg`: an asyncpg pool and the compiled statement texts (`ladder.sql`), in autocommit;
2. `AsyncConnectionRung`: SQLAlchemy's `AsyncConnection` running the same statements, in autocommit;
3. `AsyncSessionRung`: SQLModel's `AsyncSession`, every operation inside `session.begin()` (BEGIN and COMMIT
   around the statement: the thinnest path through the stack, as a first use of it would be written);
4. `AsyncOneStatementRung`: the same session used as the product uses it, each operation one statement in
   autocommit (`sale_orders.family._async.sessions.one_statement`).

Every operation is one statement (`sale_orders.db.queries`). The engine and the session maker are the
product's own (`database_configs`), so pools, connect arguments and session options are the product's.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol
from typing import cast as typed

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from sale_orders.db.queries import catalog, orders
from sale_orders.family._async import sessions as async_sessions
from sale_orders_bench.ladder.orders import NewOrder, page
from sale_orders_bench.ladder.sql import Statement, Statements

SQL = Statements.of("asyncpg")


class AsyncDatabase(Protocol):
    """What the async handlers call, whichever rung answers."""

    async def create_contact(self, name: str, email: str) -> dict[str, Any]: ...

    async def page(self, after: int, limit: int) -> bytes: ...

    async def create_order(self, order: NewOrder) -> bytes: ...


class RawAsyncpg:
    """The product's statements straight on asyncpg; the pool is opened by the app's lifespan."""

    pool: asyncpg.Pool

    async def _fetch(self, statement: Statement, values: dict[str, Any]) -> list[Any]:
        return list(await self.pool.fetch(statement.text, *statement.bind(values)))

    async def create_contact(self, name: str, email: str) -> dict[str, Any]:
        (row,) = await self._fetch(SQL.insert_contact, {"name": name, "email": email})
        return catalog.resource(dict(row))

    async def page(self, after: int, limit: int) -> bytes:
        return page(await self._fetch(SQL.order_page, {"after": after, "limit": limit}))

    async def create_order(self, order: NewOrder) -> bytes:
        return order.created(await self._fetch(SQL.create_order, order.parameters()))


class _StatementRung:
    """A rung that runs each operation's one statement on a SQLAlchemy connection it opens."""

    def connection(self) -> Any:
        raise NotImplementedError

    async def _rows(self, statement: Executable, values: dict[str, Any]) -> list[Any]:
        async with self.connection() as connection:
            return list((await connection.execute(statement, values)).all())

    async def create_contact(self, name: str, email: str) -> dict[str, Any]:
        (row,) = await self._rows(catalog.CONTACTS.insert, {"name": name, "email": email})
        return catalog.row_dict(row) or {}

    async def page(self, after: int, limit: int) -> bytes:
        return page(await self._rows(orders.ORDER_PAGE, {"after": after, "limit": limit}))

    async def create_order(self, order: NewOrder) -> bytes:
        return order.created(await self._rows(orders.CREATE_ORDER, order.parameters()))


class AsyncConnectionRung(_StatementRung):
    """The product's statements on SQLAlchemy's `AsyncConnection`, in autocommit: no session."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    def connection(self) -> Any:
        return self.autocommit.connect()


class AsyncSessionRung(_StatementRung):
    """The product's statements on the connection of a SQLModel `AsyncSession`, in `session.begin()`."""

    def __init__(self, session_maker: Callable[[], AsyncSession]) -> None:
        self.session_maker = session_maker

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.session_maker() as session, session.begin():
            yield await session.connection()

    def connection(self) -> Any:
        return self._transaction()


class AsyncOneStatementRung(AsyncSessionRung):
    """The product's statements on a SQLModel `AsyncSession`, as the product runs them: in autocommit."""

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        # The product's session maker makes SQLModel's `AsyncSession` (its config's `class_`).
        async with self.session_maker() as session, async_sessions.one_statement(typed("Any", session)) as connection:
            yield connection
