"""The sync family's database rungs, the twins of `ladder.data_async` for `def` handlers in the thread pool.

1. `RawPsycopg2`: a psycopg2 connection pool and the compiled statement texts (`ladder.sql`), in autocommit;
2. `ConnectionRung`: SQLAlchemy's `Connection` running the same statements, in autocommit;
3. `SessionRung`: SQLModel's `Session`, every operation inside `session.begin()`;
4. `OneStatementRung`: the same session used as the product uses it, each operation one statement in
   autocommit (`sale_orders.family._sync.sessions.one_statement`).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol
from typing import cast as typed

from psycopg2.pool import ThreadedConnectionPool
from sqlalchemy import Connection, Engine, Executable
from sqlalchemy.orm import Session

from sale_orders.db.queries import catalog, orders
from sale_orders.family._sync import sessions as sync_sessions
from sale_orders_bench.ladder.orders import NewOrder, page
from sale_orders_bench.ladder.sql import Statement, Statements

SQL = Statements.of("psycopg2")


class SyncDatabase(Protocol):
    """What the sync handlers call, whichever rung answers."""

    def create_contact(self, name: str, email: str) -> dict[str, Any]: ...

    def page(self, after: int, limit: int) -> bytes: ...

    def create_order(self, order: NewOrder) -> bytes: ...


class RawPsycopg2:
    """The product's statements straight on psycopg2; the pool is opened by the app's lifespan."""

    pool: ThreadedConnectionPool

    def open(self, dsn: str, size: int) -> None:
        # psycopg2's pool keeps no more idle connections than its minimum (and never waits for one): all open.
        self.pool = ThreadedConnectionPool(size, size, dsn)
        for _ in range(size):  # every connection in autocommit, as the product runs a single statement
            connection = self.pool.getconn()
            connection.autocommit = True
            self.pool.putconn(connection)

    def close(self) -> None:
        self.pool.closeall()

    def _fetch(self, statement: Statement, values: dict[str, Any]) -> tuple[list[str], list[Any]]:
        connection = self.pool.getconn()
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement.text, statement.bind(values))
                return [column.name for column in cursor.description or ()], cursor.fetchall()
        finally:
            self.pool.putconn(connection)

    def create_contact(self, name: str, email: str) -> dict[str, Any]:
        columns, (row,) = self._fetch(SQL.insert_contact, {"name": name, "email": email})
        return catalog.resource(dict(zip(columns, row, strict=True)))

    def page(self, after: int, limit: int) -> bytes:
        return page(self._fetch(SQL.order_page, {"after": after, "limit": limit})[1])

    def create_order(self, order: NewOrder) -> bytes:
        return order.created(self._fetch(SQL.create_order, order.parameters())[1])


class _StatementRung:
    """A rung that runs each operation's one statement on a SQLAlchemy connection it opens."""

    def connection(self) -> Any:
        raise NotImplementedError

    def _rows(self, statement: Executable, values: dict[str, Any]) -> list[Any]:
        with self.connection() as connection:
            return list(connection.execute(statement, values).all())

    def create_contact(self, name: str, email: str) -> dict[str, Any]:
        (row,) = self._rows(catalog.CONTACTS.insert, {"name": name, "email": email})
        return catalog.row_dict(row) or {}

    def page(self, after: int, limit: int) -> bytes:
        return page(self._rows(orders.ORDER_PAGE, {"after": after, "limit": limit}))

    def create_order(self, order: NewOrder) -> bytes:
        return order.created(self._rows(orders.CREATE_ORDER, order.parameters()))


class ConnectionRung(_StatementRung):
    """The product's statements on SQLAlchemy's `Connection`, in autocommit: no session."""

    def __init__(self, engine: Engine) -> None:
        self.autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    def connection(self) -> Any:
        return self.autocommit.connect()


class SessionRung(_StatementRung):
    """The product's statements on the connection of a SQLModel `Session`, in `session.begin()`."""

    def __init__(self, session_maker: Callable[[], Session]) -> None:
        self.session_maker = session_maker

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.session_maker() as session, session.begin():
            yield session.connection()

    def connection(self) -> Any:
        return self._transaction()


class OneStatementRung(SessionRung):
    """The product's statements on a SQLModel `Session`, as the product runs them: in autocommit."""

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        # The product's session maker makes SQLModel's `Session` (its config's `class_`).
        with self.session_maker() as session, sync_sessions.one_statement(typed("Any", session)) as connection:
            yield connection
