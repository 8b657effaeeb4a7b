"""One PostgreSQL per test session (embedded, or TEST_DATABASE_URL), a fresh database in it, emptied per test."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import psycopg2
import pytest
from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from hypothesis import HealthCheck, settings
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from sale_orders.app import create_app
from sale_orders.db import scratch as db_scratch
from sale_orders.db.embedded import embedded_postgres, ensure_runtime_dir
from sale_orders.db.migrate import upgrade
from sale_orders.db.scratch import dsn

ensure_runtime_dir()  # before any test module imports embedded_postgres, which reads it at import time

TABLES = "idempotency_key, sale_order_tag, sale_order_line, sale_order, tag, product, contact"


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    """The PostgreSQL server the tests use; an embedded one unless TEST_DATABASE_URL is set."""
    if configured := os.environ.get("TEST_DATABASE_URL"):
        yield make_url(configured)
        return
    with embedded_postgres(tmp_path_factory.mktemp("pg")) as url:
        yield url


@contextmanager
def scratch_database(server_url: URL) -> Iterator[URL]:
    """An empty database of its own on the server, dropped when the block ends."""
    with db_scratch.scratch_database(server_url, "test_sale_orders") as url:
        yield url


@pytest.fixture(scope="session")
def database_url(server_url: URL) -> Iterator[URL]:
    """The tests' own database, migrated to head."""
    with scratch_database(server_url) as url:
        upgrade(url)
        yield url


@pytest.fixture
def tmp_database(server_url: URL) -> Iterator[URL]:
    """An empty database for one test."""
    with scratch_database(server_url) as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url: URL) -> Litestar:
    return create_app(database_url)


@pytest.fixture(scope="session")
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client


def truncate(database_url: URL) -> None:
    """Empty every table and restart ids from 1."""
    with psycopg2.connect(dsn(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    connection.close()


@pytest.fixture(autouse=True)
def empty_tables(database_url: URL) -> None:
    """Each test starts from empty tables and ids counting from 1."""
    truncate(database_url)


@pytest.fixture(params=["sync", "async"])
def family(request: pytest.FixtureRequest) -> str:
    """Each API test runs once per family: `/sync` and `/async`."""
    return str(request.param)


class StatementCounter:
    """Counts the SQL statements that both families' engines send."""

    def __init__(self, engines: list[Engine]) -> None:
        self.engines = engines
        self.statements: list[str] = []

    def _record(self, *args: object) -> None:
        self.statements.append(str(args[2]))

    def __enter__(self) -> Self:
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(client: TestClient[Litestar], app: Litestar) -> StatementCounter:
    # The plugin's configs own the engines (their app-state keys get suffixes when several apps exist).
    engines = [config.get_engine() for config in app.plugins.get(SQLAlchemyPlugin).config]
    return StatementCounter([getattr(engine, "sync_engine", engine) for engine in engines])


REPO_ROOT = Path(__file__).resolve().parent.parent


# Hypothesis: a fixed, derandomized profile by default (CI), a longer one on request.
settings.register_profile(
    "ci", max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
settings.register_profile("long", max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
