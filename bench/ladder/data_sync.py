"""The sync family's database rungs, the twins of `ladder.data_async` for `def` handlers in the thread pool.

1. `RawPsycopg2`: a psycopg2 connection pool and the compiled statement texts (`ladder.sql`);
2. `ConnectionRung`: SQLAlchemy's `Connection` (autocommit for a single statement, `engine.begin()` for several);
3. `SessionRung`: SQLModel's `Session`, every operation inside `session.begin()`.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from psycopg2.extensions import connection as Psycopg2Connection  # noqa: N812 - the driver's class
from psycopg2.extensions import cursor as Psycopg2Cursor  # noqa: N812
from psycopg2.extras import execute_values
from psycopg2.pool import ThreadedConnectionPool
from sqlalchemy import Connection, Engine
from sqlmodel import Session

from ladder import statements
from ladder.orders import NewOrder, page
from ladder.sql import LINE_COLUMNS, Statements
from sale_orders.db import queries

SQL = Statements.of("psycopg2")
TagLoader = Callable[[list[int]], list[tuple[int, str]]]


class RawPsycopg2:
    """The ladder's statements straight on psycopg2; the pool is opened by the app's lifespan."""

    pool: ThreadedConnectionPool

    def open(self, dsn: str, size: int) -> None:
        # psycopg2's pool keeps no more idle connections than its minimum (and never waits for one): all open.
        self.pool = ThreadedConnectionPool(size, size, dsn)

    @contextmanager
    def cursor(self, *, transaction: bool) -> Iterator[Psycopg2Cursor]:
        connection: Psycopg2Connection = self.pool.getconn()
        try:
            connection.autocommit = not transaction
            with connection, connection.cursor() as cursor:  # `with connection` commits, or rolls back
                yield cursor
        finally:
            self.pool.putconn(connection)

    def close(self) -> None:
        self.pool.closeall()

    def create_contact(self, name: str, email: str) -> dict[str, Any]:
        with self.cursor(transaction=False) as cursor:
            cursor.execute(SQL.insert_contact.text, {"name": name, "email": email})
            row = cursor.fetchone()
            columns = [column.name for column in cursor.description or ()]
        return dict(zip(columns, row or (), strict=True))

    def page(self, after: int | None, limit: int) -> bytes:
        with self.cursor(transaction=True) as cursor:
            cursor.execute(SQL.order_page.text, {"after": after or 0, "limit": limit})
            orders = cursor.fetchall()
            order_ids = [order[0] for order in orders]
            if not order_ids:
                return page(orders, [], [])
            cursor.execute(SQL.lines_of_orders.text, {"order_ids": order_ids})
            lines = cursor.fetchall()
            cursor.execute(SQL.tags_of_orders.text, {"order_ids": order_ids})
            tags = cursor.fetchall()
        return page(orders, lines, tags)

    def create_order(self, order: NewOrder) -> bytes:
        with self.cursor(transaction=True) as cursor:
            cursor.execute(*SQL.references(order.contact_id, order.product_ids))
            found = [(kind, item_id) for kind, item_id in cursor.fetchall()]
            tags: list[tuple[int, str]] = []
            if order.tag_ids:
                cursor.execute(*SQL.tags_by_id(list(dict.fromkeys(order.tag_ids))))
                tags = [(tag_id, name) for name, tag_id in cursor.fetchall()]
            order.check(found + [("tag", tag_id) for tag_id, _ in tags])
            cursor.execute(SQL.insert_order.text, {"name": order.name, "contact_id": order.contact_id})
            order_id = (cursor.fetchone() or (0,))[0]
            if lines := order.line_rows(order_id):
                text, template = SQL.insert_lines.values_form()
                execute_values(cursor, text, [dict(zip(LINE_COLUMNS, line, strict=True)) for line in lines], template)
            if tags:
                text, template = SQL.insert_order_tags.values_form()
                execute_values(cursor, text, [{"order_id": order_id, "tag_id": tag_id} for tag_id, _ in tags], template)
        return order.created(order_id, tags)


def _page(connection: Connection, after: int | None, limit: int) -> bytes:
    """A page in three statements (`ladder.statements`)."""
    orders = connection.execute(statements.ORDER_PAGE, {"after": after or 0, "limit": limit}).all()
    order_ids = [order_id for order_id, _, _ in orders]
    if not order_ids:
        return page(orders, [], [])
    lines = connection.execute(statements.LINES_OF_ORDERS, {"order_ids": order_ids}).all()
    tags = connection.execute(statements.TAGS_OF_ORDERS, {"order_ids": order_ids}).all()
    return page(orders, lines, tags)


def _create_order(connection: Connection, order: NewOrder, load_tags: TagLoader) -> bytes:
    """An order created in five statements (`ladder.statements`)."""
    references = statements.existing_references(order.contact_id, order.product_ids)
    found = [(kind, item_id) for kind, item_id in connection.execute(references)]
    tags = load_tags(order.tag_ids) if order.tag_ids else []
    order.check(found + [("tag", tag_id) for tag_id, _ in tags])
    head = {"name": order.name, "contact_id": order.contact_id}
    order_id = connection.execute(statements.INSERT_ORDER, head).scalar_one()
    if lines := order.line_rows(order_id):
        connection.execute(statements.INSERT_LINES, [dict(zip(LINE_COLUMNS, line, strict=True)) for line in lines])
    if tags:
        connection.execute(
            statements.INSERT_ORDER_TAGS, [{"order_id": order_id, "tag_id": tag_id} for tag_id, _ in tags]
        )
    return order.created(order_id, tags)


class ConnectionRung:
    """The ladder's statements on SQLAlchemy's `Connection`: no session."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # One statement needs no BEGIN/COMMIT, as on raw psycopg2.
        self.autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    def create_contact(self, name: str, email: str) -> dict[str, Any]:
        with self.autocommit.connect() as connection:
            row = connection.execute(queries.CONTACTS.insert, {"name": name, "email": email}).one()
        return dict(row._mapping)  # noqa: SLF001 - public, underscored against column names

    def page(self, after: int | None, limit: int) -> bytes:
        with self.engine.begin() as connection:
            return _page(connection, after, limit)

    def create_order(self, order: NewOrder) -> bytes:
        with self.engine.begin() as connection:

            def load_tags(tag_ids: list[int]) -> list[tuple[int, str]]:
                return [(tag_id, name) for name, tag_id in connection.execute(queries.tags_by_id(tag_ids))]

            return _create_order(connection, order, load_tags)


class SessionRung:
    """The ladder's statements on the connection of a SQLModel `Session`, in `session.begin()`."""

    def __init__(self, session_maker: Callable[[], Session]) -> None:
        self.session_maker = session_maker

    @contextmanager
    def transaction(self) -> Iterator[tuple[Session, Connection]]:
        with self.session_maker() as session, session.begin():
            yield session, session.connection()

    def create_contact(self, name: str, email: str) -> dict[str, Any]:
        with self.transaction() as (_, connection):
            row = connection.execute(queries.CONTACTS.insert, {"name": name, "email": email}).one()
        return dict(row._mapping)  # noqa: SLF001 - public, underscored against column names

    def page(self, after: int | None, limit: int) -> bytes:
        with self.transaction() as (_, connection):
            return _page(connection, after, limit)

    def create_order(self, order: NewOrder) -> bytes:
        with self.transaction() as (session, connection):

            def load_tags(tag_ids: Sequence[int]) -> list[tuple[int, str]]:
                # As the product: the tags are loaded as SQLModel objects.
                tags = session.exec(queries.tags_by_id(tag_ids)).all()
                return [(tag.id, tag.name) for tag in tags if tag.id is not None]

            return _create_order(connection, order, load_tags)
