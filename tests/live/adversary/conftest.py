"""A live server of the adversarial tests' own, on its own database of the tests' PostgreSQL."""

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import URL

from sale_orders.db.migrate import upgrade
from tests.support.database import scratch_database
from tests.support.servers import STOPPED_BY_SIGTERM, LiveServer, clean_env, start_server


@pytest.fixture(scope="module")
def adversary_database(server_url: URL) -> Iterator[URL]:
    with scratch_database(server_url) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def adversary_server(adversary_database: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`sale-orders serve` over the module's database: both families, one worker, the default settings."""
    env = clean_env(DATABASE_URL=adversary_database.render_as_string(hide_password=False))
    server = start_server(env, tmp_path_factory.mktemp("adversary"))
    yield server
    assert server.stop() in STOPPED_BY_SIGTERM, server.log.read_text()
    assert "Traceback" not in server.log.read_text(), "the server logged an unexpected error"
