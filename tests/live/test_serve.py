"""`sale-orders serve` as a user runs it: embedded PostgreSQL, health, clean stop on SIGTERM."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sale_orders.family.record import FAMILY_NAMES
from tests.support.database import embedded_data_dir
from tests.support.servers import STOPPED_BY_SIGTERM, LiveServer, clean_env, start_server


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with embedded_data_dir("serve") as folder:
        yield folder


def test_serve_with_embedded_postgres_answers_and_stops_cleanly(data_dir: Path, tmp_path: Path) -> None:
    server = start_server(clean_env(DATA_DIR=str(data_dir)), tmp_path)
    try:
        assert httpx.get(f"{server.base_url}/health").json() == {"status": "ok", "database": "ok"}
        created = httpx.post(f"{server.base_url}/sync/tag", json={"name": "kept"})
        assert created.status_code == 201
    finally:
        code = server.stop()
    log = server.log.read_text()
    assert code in STOPPED_BY_SIGTERM, log
    assert "stopping embedded PostgreSQL" in log
    # Nothing of the embedded PostgreSQL library's own chatter (its INFO lines and empty stdout:/stderr:).
    assert "embedded_postgres" not in log, log
    assert "stdout:" not in log, log
    assert not (data_dir / "postgres18" / "postmaster.pid").exists(), "the embedded server was not stopped"

    # The data persists: a second start serves the tag created by the first.
    again = start_server(clean_env(DATA_DIR=str(data_dir)), tmp_path)
    try:
        assert [tag["name"] for tag in httpx.get(f"{again.base_url}/async/tag").json()] == ["kept"]
    finally:
        assert again.stop() in STOPPED_BY_SIGTERM


def test_live_server_serves_both_families(live_server: LiveServer) -> None:
    for family in FAMILY_NAMES:
        response = httpx.get(f"{live_server.base_url}/{family}/order", params={"limit": 1})
        assert response.status_code == 200


def test_help_lists_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sale_orders.cli", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("serve", "db", "openapi", "client"):
        assert command in result.stdout
    serve_help = subprocess.run(
        [sys.executable, "-m", "sale_orders.cli", "serve", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in ("--host", "--port", "--workers", "--reload"):
        assert option in serve_help
