"""Every database failure answers the same in both families: decided by its SQLSTATE, through either driver.

PostgreSQL raises each SQLSTATE of the table (`RAISE ... USING ERRCODE`) on the product's own engines, psycopg2
for a `def` route and asyncpg for an `async def` one, and the app's exception handlers answer it. The drivers
raise different exception classes for the same SQLSTATE (psycopg2 a deadlock as OperationalError, asyncpg through
SQLAlchemy's generic Error): the answers must not differ.
"""

from collections.abc import Iterator
from typing import Any

import asyncpg.exceptions  # type: ignore[import-untyped]
import pytest
from litestar import Litestar, route
from litestar.params import FromPath
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from sale_orders.db.errors import Failure, classify, failure_of_sqlstate
from sale_orders.family.databases import database_configs
from sale_orders.settings import Settings
from sale_orders.web.problems import EXCEPTION_HANDLERS
from tests.support.api import assert_problem

# SQLSTATE -> (status, problem type, whether it says when to retry)
ANSWERS: dict[str, tuple[int, str, bool]] = {
    "08000": (503, "unavailable", True),  # connection exception
    "08006": (503, "unavailable", True),  # connection failure
    "53300": (503, "unavailable", True),  # too many connections
    "53200": (503, "unavailable", True),  # out of memory
    "53100": (503, "unavailable", True),  # disk full
    "57P01": (503, "unavailable", True),  # admin shutdown, pg_terminate_backend
    "57P02": (503, "unavailable", True),  # crash shutdown
    "57P03": (503, "unavailable", True),  # cannot connect now
    "57014": (503, "unavailable", True),  # statement timeout, query canceled
    "58030": (503, "unavailable", True),  # I/O error
    "25006": (503, "unavailable", True),  # read-only transaction: a standby
    "25P03": (503, "unavailable", True),  # idle-in-transaction timeout
    "40001": (409, "concurrent-change", True),  # serialization failure
    "40P01": (409, "concurrent-change", True),  # deadlock detected
    "55P03": (409, "concurrent-change", True),  # lock not available: lock_timeout
    "72000": (409, "concurrent-change", True),  # snapshot too old
    "23505": (409, "conflict", False),  # unique violation a service did not translate
    "23503": (409, "conflict", False),  # foreign key violation a service did not translate
    # Deliberately a logged 500: these mean a bug or a schema that does not match the code, not a client's doing.
    "22003": (500, "internal-error", False),  # numeric overflow: validation should have refused the value
    "42P01": (500, "internal-error", False),  # undefined table: migrations not applied
    "42501": (500, "internal-error", False),  # insufficient privilege
    "0A000": (500, "internal-error", False),  # feature not supported
    "XX000": (500, "internal-error", False),  # internal error
    "P0001": (500, "internal-error", False),  # raise_exception
}


def raise_sql(code: str) -> Any:
    return text(f"DO $$ BEGIN RAISE EXCEPTION 'raised for the test' USING ERRCODE = '{code}'; END $$")


@pytest.fixture(scope="module")
def client(database_url: URL) -> Iterator[TestClient[Litestar]]:
    configs = database_configs(database_url, Settings())
    sync_engine, async_engine = configs["sync"].get_engine(), configs["async"].get_engine()
    assert isinstance(sync_engine, Engine)
    assert isinstance(async_engine, AsyncEngine)

    # A write (POST) in each family, and a read (GET): a read that waited too long for a lock is a 503, not a 409.
    @route("/sync/raise/{code:str}", http_method=["POST", "GET"], sync_to_thread=True)
    def raise_through_psycopg2(code: FromPath[str]) -> None:
        with sync_engine.connect() as connection:
            connection.execute(raise_sql(code))

    @route("/async/raise/{code:str}", http_method=["POST", "GET"])
    async def raise_through_asyncpg(code: FromPath[str]) -> None:
        async with async_engine.connect() as connection:
            await connection.execute(raise_sql(code))

    app = Litestar([raise_through_psycopg2, raise_through_asyncpg], exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
    with TestClient(app) as test_client:
        yield test_client
    sync_engine.dispose()


@pytest.mark.parametrize("code", ANSWERS)
def test_each_sqlstate_has_one_answer_in_both_families(client: TestClient[Litestar], family: str, code: str) -> None:
    status, kind, retry = ANSWERS[code]
    response = client.post(f"/{family}/raise/{code}")
    problem = assert_problem(response, status, kind)
    assert ("retry-after" in response.headers) is retry, response.headers
    assert "raised for the test" not in problem["detail"]  # the server's message is not the client's


def test_the_other_family_answers_alike(client: TestClient[Litestar]) -> None:
    for code in ANSWERS:
        sync, other = client.post(f"/sync/raise/{code}"), client.post(f"/async/raise/{code}")
        assert (sync.status_code, sync.json()["type"], sync.json()["detail"]) == (
            other.status_code,
            other.json()["type"],
            other.json()["detail"],
        ), code


@pytest.mark.parametrize("code", ["55P03", "40P01"])
def test_a_read_that_met_contention_is_a_503(client: TestClient[Litestar], family: str, code: str) -> None:
    # Reads wait for a lock only behind maintenance (DDL): no change of theirs collided, the data is away for now.
    response = client.get(f"/{family}/raise/{code}")
    assert_problem(response, 503, "unavailable", mentions="locked")
    assert response.headers["retry-after"] == "1"


@pytest.mark.parametrize(
    ("code", "failure"),
    [("08P01", Failure.UNAVAILABLE), ("53400", Failure.UNAVAILABLE), ("40003", Failure.UNEXPECTED)],
)
def test_an_unlisted_code_falls_back_to_its_class(code: str, failure: Failure) -> None:
    assert failure_of_sqlstate(code) is failure


def _raised_from(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        # asyncpg's own errors reach the app unwrapped from SQLAlchemy's set-up of a connection just closed ...
        (asyncpg.exceptions.InterfaceError("connection is closed"), Failure.UNAVAILABLE),
        (asyncpg.exceptions.InternalClientError("cannot switch to state 12"), Failure.UNAVAILABLE),
        # ... or wrapped, with the driver's error as the cause of SQLAlchemy's adapter's
        (
            DBAPIError("SELECT 1", None, _raised_from(Exception("adapter"), asyncpg.exceptions.InternalClientError())),
            Failure.UNAVAILABLE,
        ),
        (asyncpg.exceptions.ClientConfigurationError("bad setting"), Failure.UNEXPECTED),
        (ValueError("a bug"), Failure.UNEXPECTED),
    ],
    ids=["interface-error", "internal-client-error", "wrapped", "client-configuration", "not-a-database-error"],
)
def test_driver_errors_without_a_sqlstate_are_classified_by_what_they_are(
    error: BaseException, failure: Failure
) -> None:
    assert classify(error) is failure
