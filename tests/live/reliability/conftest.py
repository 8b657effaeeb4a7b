"""A PostgreSQL of the reliability tests' own, which they stop and start, and live servers on it."""

from collections.abc import Iterator

import pytest

from sale_orders.db.migrate import upgrade
from sale_orders_tools.harness.databases import embedded_data_dir, embedded_server, url_of
from tests.support.database import truncate
from tests.support.faults import EXHAUSTIBLE_ENV, FAULT_ENV, PASSWORD, Database, server_env
from tests.support.servers import STOPPED_BY_SIGTERM, LiveServer, start_server


@pytest.fixture(scope="module")
def database() -> Iterator[Database]:
    with embedded_data_dir("faults") as data_dir, embedded_server(data_dir / "pg") as server:
        url = url_of(server)
        upgrade(url)
        yield Database(server, url)


@pytest.fixture(autouse=True)
def empty_tables(database: Database) -> None:
    """Each test starts from empty tables of this module's own PostgreSQL."""
    truncate(database.url)


def _serve(
    database: Database, workdir_name: str, factory: pytest.TempPathFactory, **settings: str
) -> Iterator[LiveServer]:
    live = start_server(server_env(database, **settings), factory.mktemp(workdir_name))
    yield live
    assert live.stop() in STOPPED_BY_SIGTERM, live.log.read_text()
    assert PASSWORD not in live.log.read_text(), "the server log printed the database password"


@pytest.fixture(scope="module")
def server(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with small pools and short timeouts, so that faults show quickly."""
    yield from _serve(database, "live", tmp_path_factory, **FAULT_ENV)


@pytest.fixture(scope="module")
def roomy_server(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with the default pool sizes and timeouts, for load."""
    yield from _serve(database, "roomy", tmp_path_factory)


@pytest.fixture(scope="module")
def exhaustible_server(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with small pools whose requests may wait on a lock for longer than POOL_TIMEOUT."""
    yield from _serve(database, "exhaustible", tmp_path_factory, **EXHAUSTIBLE_ENV)
