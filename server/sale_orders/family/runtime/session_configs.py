"""Each family's sessions: advanced-alchemy's plumbing fitted to SQLModel sessions and to this app's transactions.

The sync family's sessions are closed by `sync_session_closer`, on the event loop; the async family's are
`SQLModelAsyncConfig`'s, with SQLModel's `Session` under every `AsyncSession`. Both are named by the record.
"""

from collections.abc import Callable

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar.types import BeforeMessageSendHookHandler, Message, Scope
from sqlalchemy.ext.asyncio import AsyncSession as SQLAlchemyAsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Session

from sale_orders.upstream import SESSION_TERMINUS_ASGI_EVENTS, delete_aa_scope_state, get_aa_scope_state


def sync_session_closer(scope_key: str) -> BeforeMessageSendHookHandler:
    """A `before_send` hook closing the request's sync session (kept at `scope_key`) on the event loop.

    advanced-alchemy's own handler for sync sessions is a plain `def`, which Litestar would run in the thread
    pool for every ASGI message of every request, async family included. Closing needs no I/O here: services
    end their transaction inside `session.begin()`, which returns the connection to the pool.
    """

    async def close_sync_session(message: Message, scope: Scope) -> None:
        session: Session | None = get_aa_scope_state(scope, scope_key)
        if session is not None and message["type"] in SESSION_TERMINUS_ASGI_EVENTS:
            session.close()
            delete_aa_scope_state(scope, scope_key)

    return close_sync_session


class SQLModelAsyncConfig(SQLAlchemyAsyncConfig):
    """advanced-alchemy's async configuration, with SQLModel's `Session` under every `AsyncSession`.

    advanced-alchemy gives each `AsyncSession` a plain SQLAlchemy `Session` to carry its listeners (all of
    them off here), but SQLModel's `AsyncSession.exec` runs the `exec` of that session, which only
    SQLModel's `Session` has.
    """

    def create_session_maker(self) -> Callable[[], SQLAlchemyAsyncSession]:
        maker = super().create_session_maker()
        if isinstance(maker, async_sessionmaker):
            maker.configure(sync_session_class=Session)
        return maker


SINGLE_STATEMENT = "single_statement_options"
"""Key, in a session's `info`, of the execution options for an operation that is one statement."""
AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}
