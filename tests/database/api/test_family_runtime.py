"""What the families do differently with their sessions and pools, each proven on the app's own session makers.

docs/def-or-async-def.md links here: relationships are `lazy="raise"` in both families (one failure, where the
sync family would otherwise query once per row and the async one raise MissingGreenlet wherever it is touched);
attributes stay loaded after a commit; SQLModel's `Session` runs under every `AsyncSession`; and a request's
session is closed, its connection back in the pool, by a hook that runs on the event loop in both families.
"""

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import inspect as inspect_state
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, col, select

from sale_orders.db.tables import ContactTable, OrderTable
from sale_orders.family.databases import database_config
from sale_orders.family.record import FAMILIES, SYNC, Family
from sale_orders.settings import Settings
from tests.support.api import Api

BY_NAME = {family.name: family for family in FAMILIES}


def in_session(client: TestClient[Litestar], family: Family, work: Callable[[Any], Any]) -> Any:
    """`work(session)` on a session of `family`'s own maker; awaited on the app's event loop for the async family."""
    maker = client.app.state[family.session_maker_key]
    if family is SYNC:
        with maker() as session:
            return work(session)

    async def run() -> Any:
        async with maker() as session:
            result = work(session)
            return await result if inspect.isawaitable(result) else result

    return client.blocking_portal.call(run)


def test_a_relationship_not_loaded_raises_at_once_in_both_families(client: TestClient[Litestar], api: Api) -> None:
    order_id = api.create("/order", api.order_fixture())["id"]
    family = BY_NAME[api.family]

    def touch_lines(session: Any) -> Any:
        statement = select(OrderTable).where(col(OrderTable.id) == order_id)
        if family is SYNC:
            return len(session.exec(statement).one().order_lines)

        async def touch() -> int:
            return len((await session.exec(statement)).one().order_lines)

        return touch()

    with pytest.raises(InvalidRequestError, match="lazy='raise'"):
        in_session(client, family, touch_lines)


def test_attributes_stay_loaded_after_a_commit_in_both_families(client: TestClient[Litestar], api: Api) -> None:
    contact_id = api.create("/contact", {"name": "Ann", "email": "ann@example.com"})["id"]
    family = BY_NAME[api.family]

    def commit_then_read(session: Any) -> Any:
        statement = select(ContactTable).where(col(ContactTable.id) == contact_id)
        if family is SYNC:
            with session.begin():
                contact = session.exec(statement).one()
            return set(inspect_state(contact).expired_attributes), contact.name

        async def commit_then_read_async() -> tuple[set[str], str]:
            async with session.begin():
                contact = (await session.exec(statement)).one()
            expired = set(inspect_state(contact).expired_attributes)
            return expired, contact.name  # no I/O here: MissingGreenlet if it were expired

        return commit_then_read_async()

    assert in_session(client, family, commit_then_read) == (set(), "Ann")


def test_sqlmodels_session_runs_under_every_session(client: TestClient[Litestar], family: str) -> None:
    def underneath(session: Any) -> type:
        return type(session if BY_NAME[family] is SYNC else session.sync_session)

    assert issubclass(in_session(client, BY_NAME[family], underneath), Session)


def test_a_requests_session_is_closed_on_the_event_loop_and_its_connection_returned(
    client: TestClient[Litestar], api: Api, database_url: Any
) -> None:
    family = BY_NAME[api.family]
    closer = database_config(family, database_url, Settings(_env_file=None)).before_send_handler
    # A plain `def` hook would run in the thread pool for every ASGI message of every request, both families'.
    assert inspect.iscoroutinefunction(closer)
    api.create("/contact", {"name": "Ann", "email": "ann@example.com"})
    assert api.get("/contact/1").status_code == 200
    engine = client.app.state[family.engine_key]
    pool = engine.sync_engine.pool if isinstance(engine, AsyncEngine) else engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.checkedout() == 0
