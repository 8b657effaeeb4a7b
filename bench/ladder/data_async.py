"""The async family's database rungs, each adding one layer to the one before, on one SQL.

1. `RawAsyncpg`: an asyncpg pool and the compiled statement texts (`ladder.sql`);
2. `AsyncConnectionRung`: SQLAlchemy's `AsyncConnection` running the same statements (autocommit for
   a single statement, `engine.begin()` for several);
3. `AsyncSessionRung`: SQLModel's `AsyncSession`, every operation inside `session.begin()`.

The engine and the session maker are the product's own (`database_configs`), so pools, connect arguments
and session options are the product's.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from ladder import statements
from ladder.orders import NewOrder, page
from ladder.sql import LINE_COLUMNS, Statements
from sale_orders.db import queries

SQL = Statements.of("asyncpg")
TagLoader = Callable[[list[int]], Awaitable[list[tuple[int, str]]]]


class RawAsyncpg:
    """The ladder's statements straight on asyncpg; the pool is opened by the app's lifespan."""

    pool: asyncpg.Pool

    async def create_contact(self, name: str, email: str) -> dict[str, Any]:
        statement = SQL.insert_contact
        return dict(await self.pool.fetchrow(statement.text, *statement.bind({"name": name, "email": email})))

    async def page(self, after: int | None, limit: int) -> bytes:
        async with self.pool.acquire() as connection, connection.transaction():
            orders = await connection.fetch(
                SQL.order_page.text, *SQL.order_page.bind({"after": after or 0, "limit": limit})
            )
            order_ids = [order[0] for order in orders]
            if not order_ids:
                return page(orders, [], [])
            lines = await connection.fetch(SQL.lines_of_orders.text, order_ids)
            tags = await connection.fetch(SQL.tags_of_orders.text, order_ids)
        return page(orders, lines, tags)

    async def create_order(self, order: NewOrder) -> bytes:
        async with self.pool.acquire() as connection, connection.transaction():
            references = _flat(SQL.references(order.contact_id, order.product_ids))
            found = [(kind, item_id) for kind, item_id in await connection.fetch(*references)]
            tags: list[tuple[int, str]] = []
            if order.tag_ids:
                rows = await connection.fetch(*_flat(SQL.tags_by_id(list(dict.fromkeys(order.tag_ids)))))
                tags = [(tag_id, name) for name, tag_id in rows]
            order.check(found + [("tag", tag_id) for tag_id, _ in tags])
            head = SQL.insert_order.bind({"name": order.name, "contact_id": order.contact_id})
            order_id = await connection.fetchval(SQL.insert_order.text, *head)
            if lines := order.line_rows(order_id):
                rows = [SQL.insert_lines.bind(dict(zip(LINE_COLUMNS, line, strict=True))) for line in lines]
                await connection.executemany(SQL.insert_lines.text, rows)
            if tags:
                links = [SQL.insert_order_tags.bind({"order_id": order_id, "tag_id": tag_id}) for tag_id, _ in tags]
                await connection.executemany(SQL.insert_order_tags.text, links)
        return order.created(order_id, tags)


def _flat(text_and_args: tuple[str, Any]) -> tuple[Any, ...]:
    text, args = text_and_args
    return (text, *args)


async def _page(connection: AsyncConnection, after: int | None, limit: int) -> bytes:
    """A page in three statements (`ladder.statements`)."""
    orders = (await connection.execute(statements.ORDER_PAGE, {"after": after or 0, "limit": limit})).all()
    order_ids = [order_id for order_id, _, _ in orders]
    if not order_ids:
        return page(orders, [], [])
    lines = (await connection.execute(statements.LINES_OF_ORDERS, {"order_ids": order_ids})).all()
    tags = (await connection.execute(statements.TAGS_OF_ORDERS, {"order_ids": order_ids})).all()
    return page(orders, lines, tags)


async def _create_order(connection: AsyncConnection, order: NewOrder, load_tags: TagLoader) -> bytes:
    """An order created in five statements (`ladder.statements`)."""
    references = statements.existing_references(order.contact_id, order.product_ids)
    found = [(kind, item_id) for kind, item_id in await connection.execute(references)]
    tags = await load_tags(order.tag_ids) if order.tag_ids else []
    order.check(found + [("tag", tag_id) for tag_id, _ in tags])
    head = {"name": order.name, "contact_id": order.contact_id}
    order_id = (await connection.execute(statements.INSERT_ORDER, head)).scalar_one()
    if lines := order.line_rows(order_id):
        await connection.execute(
            statements.INSERT_LINES, [dict(zip(LINE_COLUMNS, line, strict=True)) for line in lines]
        )
    if tags:
        await connection.execute(
            statements.INSERT_ORDER_TAGS, [{"order_id": order_id, "tag_id": tag_id} for tag_id, _ in tags]
        )
    return order.created(order_id, tags)


class AsyncConnectionRung:
    """The ladder's statements on SQLAlchemy's `AsyncConnection`: no session."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # One statement needs no BEGIN/COMMIT, as on raw asyncpg.
        self.autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def create_contact(self, name: str, email: str) -> dict[str, Any]:
        async with self.autocommit.connect() as connection:
            row = (await connection.execute(queries.CONTACTS.insert, {"name": name, "email": email})).one()
        return dict(row._mapping)  # noqa: SLF001 - public, underscored against column names

    async def page(self, after: int | None, limit: int) -> bytes:
        async with self.engine.begin() as connection:
            return await _page(connection, after, limit)

    async def create_order(self, order: NewOrder) -> bytes:
        async with self.engine.begin() as connection:

            async def load_tags(tag_ids: list[int]) -> list[tuple[int, str]]:
                rows = await connection.execute(queries.tags_by_id(tag_ids))
                return [(tag_id, name) for name, tag_id in rows]

            return await _create_order(connection, order, load_tags)


class AsyncSessionRung:
    """The ladder's statements on the connection of a SQLModel `AsyncSession`, in `session.begin()`."""

    def __init__(self, session_maker: Callable[[], AsyncSession]) -> None:
        self.session_maker = session_maker

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[tuple[AsyncSession, AsyncConnection]]:
        async with self.session_maker() as session, session.begin():
            yield session, await session.connection()

    async def create_contact(self, name: str, email: str) -> dict[str, Any]:
        async with self.transaction() as (_, connection):
            row = (await connection.execute(queries.CONTACTS.insert, {"name": name, "email": email})).one()
        return dict(row._mapping)  # noqa: SLF001 - public, underscored against column names

    async def page(self, after: int | None, limit: int) -> bytes:
        async with self.transaction() as (_, connection):
            return await _page(connection, after, limit)

    async def create_order(self, order: NewOrder) -> bytes:
        async with self.transaction() as (session, connection):

            async def load_tags(tag_ids: Sequence[int]) -> list[tuple[int, str]]:
                # As the product: the tags are loaded as SQLModel objects.
                tags = (await session.exec(queries.tags_by_id(tag_ids))).all()
                return [(tag.id, tag.name) for tag in tags if tag.id is not None]

            return await _create_order(connection, order, load_tags)
