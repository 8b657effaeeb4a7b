"""Live `sale-orders serve` processes for the session, each on its own database of the tests' PostgreSQL."""

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import URL

from tests.support.auth import api_keys_setting
from tests.support.database import scratch_database
from tests.support.servers import STOPPED_BY_SIGTERM, LiveServer, clean_env, start_server


@pytest.fixture(scope="session")
def live_server(server_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The API served by a real process over its own database on the tests' PostgreSQL server."""
    with scratch_database(server_url) as url:
        env = clean_env(DATABASE_URL=url.render_as_string(hide_password=False))
        server = start_server(env, tmp_path_factory.mktemp("live"))
        yield server
        assert server.stop() in STOPPED_BY_SIGTERM, server.log.read_text()


@pytest.fixture(scope="session")
def secured_live_server(server_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The API served by a real process configured with the tests' API keys (tests.support.auth)."""
    with scratch_database(server_url) as url:
        env = clean_env(DATABASE_URL=url.render_as_string(hide_password=False), API_KEYS=api_keys_setting())
        server = start_server(env, tmp_path_factory.mktemp("secured"))
        yield server
        assert server.stop() in STOPPED_BY_SIGTERM, server.log.read_text()
