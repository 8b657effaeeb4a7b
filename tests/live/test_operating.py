"""Operating `serve` on several hosts: concurrent starts, --no-migrate, metrics of two workers, JSON logs."""

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from sale_orders.db.migrate import alembic_config, upgrade
from sale_orders.family.record import FAMILY_NAMES
from sale_orders.settings import Settings
from sale_orders_tools.harness import servers
from tests.support.database import query, scratch_database
from tests.support.faults import PASSWORD
from tests.support.metrics import parse, value
from tests.support.servers import STOPPED_BY_SIGTERM, LiveServer, clean_env


@pytest.fixture
def fresh_database(server_url: URL) -> Iterator[URL]:
    with scratch_database(server_url) as url:
        yield url


def serve(url: URL, workdir: Path, *options: str, **settings: str) -> LiveServer:
    env = clean_env(DATABASE_URL=url.render_as_string(hide_password=False), **settings)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return servers.start_serve(log_dir=workdir, env=env, cwd=workdir, options=options)
    except servers.ServerStartError as exc:
        pytest.fail(str(exc))


def stop(server: LiveServer) -> str:
    code = server.stop()
    log = server.log.read_text()
    assert code in STOPPED_BY_SIGTERM, log
    return log


def test_servers_started_together_on_a_fresh_database_all_come_up(fresh_database: URL, tmp_path: Path) -> None:
    with ThreadPoolExecutor(3) as pool:
        started = list(pool.map(lambda n: serve(fresh_database, tmp_path / f"host-{n}"), range(3)))
    try:
        for number, server in enumerate(started):
            assert httpx.post(f"{server.base_url}/sync/tag", json={"name": f"host {number}"}).status_code == 201
    finally:
        for server in started:
            stop(server)
    head = ScriptDirectory.from_config(alembic_config(fresh_database)).get_current_head()
    assert query(fresh_database, "SELECT version_num FROM alembic_version") == [(head,)]


def test_no_migrate_leaves_the_schema_to_a_release_step(fresh_database: URL, tmp_path: Path) -> None:
    server = serve(fresh_database, tmp_path, "--no-migrate")
    try:
        assert query(fresh_database, "SELECT to_regclass('alembic_version')") == [(None,)]
        upgrade(fresh_database)  # the release step
        assert httpx.post(f"{server.base_url}/async/tag", json={"name": "after release"}).status_code == 201
    finally:
        stop(server)


def test_two_workers_report_every_request_whichever_answers_the_scrape(fresh_database: URL, tmp_path: Path) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_999999.db").write_bytes(b"left by an earlier run")  # `serve` must empty the folder
    settings = {"PROMETHEUS_MULTIPROC_DIR": str(shared), "SYNC_THREADS": "3", "SYNC_POOL_SIZE": "3"}
    server = serve(fresh_database, tmp_path / "api", "--workers", "2", **settings)
    try:
        assert len(server.worker_pids()) == 2
        with httpx.Client(base_url=server.base_url) as client:
            for family in FAMILY_NAMES * 10:
                # A new connection each time, so that both workers get requests.
                assert client.get(f"/{family}/tag", headers={"Connection": "close"}).status_code == 200
            scrapes = [parse(client.get("/metrics", headers={"Connection": "close"}).text) for _ in range(4)]
            # Gauges add up over the live workers, each of which writes its own at start and every second.
            deadline = time.monotonic() + 30
            while (pools := value(scrapes[-1], "sale_orders_db_pool_size", family="sync")) != 2 * 3:
                assert time.monotonic() < deadline, f"sync pool size {pools}:\n{server.log.read_text()}"
                time.sleep(0.5)
                scrapes.append(parse(client.get("/metrics", headers={"Connection": "close"}).text))
    finally:
        stop(server)
    for samples in scrapes:
        for family in FAMILY_NAMES:
            counted = value(samples, "sale_orders_requests_total", family=family, path=f"/{family}/tag")
            assert counted == 10, (family, counted)
    assert value(scrapes[-1], "sale_orders_db_pool_size", family="async") == 2 * Settings().async_pool_size
    assert value(scrapes[-1], "sale_orders_thread_pool_size", family="sync") == 2 * 3


def test_json_logs_name_the_request_and_family_on_every_line(server_url: URL, tmp_path: Path) -> None:
    with scratch_database(server_url) as url:
        server = serve(url.set(password=PASSWORD), tmp_path, LOG_FORMAT="json")
        try:
            for family, request_id in (("sync", "req-sync-1"), ("async", "req-async-1")):
                response = httpx.get(f"{server.base_url}/{family}/contact/404", headers={"X-Request-ID": request_id})
                assert response.status_code == 404
            assert httpx.get(f"{server.base_url}/health", headers={"X-Request-ID": "req-health"}).status_code == 200
        finally:
            log = stop(server)
    assert PASSWORD not in log
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]  # every line is JSON
    assert all({"time", "level", "logger", "message", "request_id", "family"} <= set(line) for line in lines), lines
    access = {line["request_id"]: line for line in lines if line["logger"] == "uvicorn.access"}
    ours = {"req-sync-1": ("sync", 404), "req-async-1": ("async", 404), "req-health": ("other", 200)}
    assert {request_id: (access[request_id]["family"], access[request_id]["status"]) for request_id in ours} == ours
    # The start-up probes of /health got ids of their own.
    assert all(request_id and line["family"] for request_id, line in access.items())
    assert any(line["message"].startswith("Application startup complete") for line in lines)
    assert all(line["request_id"] is None for line in lines if line["logger"] != "uvicorn.access")
