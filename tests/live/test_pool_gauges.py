"""The pool gauges of /metrics under load: connections in use and waiting, threads busy and queued."""

import threading
import time
from collections.abc import Iterator, Mapping

import httpx
import psycopg2
import pytest
from sqlalchemy.engine import URL

from sale_orders.family.record import FAMILY_NAMES
from tests.support.database import dsn, scratch_database
from tests.support.metrics import parse, value
from tests.support.servers import STOPPED_BY_SIGTERM, LiveServer, clean_env, start_server

# Two connections per family and three threads: four held requests must queue somewhere.
SMALL_POOLS = {
    "SYNC_THREADS": "3",
    "SYNC_POOL_SIZE": "2",
    "ASYNC_POOL_SIZE": "2",
    "POOL_TIMEOUT": "60",
    "LOCK_TIMEOUT_MS": "0",  # the held requests wait for their rows as long as the test holds them
}
HELD = 4
# What four requests held on a row lock occupy: sync requests hold a thread each (the fourth waits for one),
# and two connections (the third thread waits for one); async requests hold no thread.
EXPECTED = {
    "sync": {"db_pool_in_use": 2, "db_pool_waiting": 1, "thread_pool_busy": 3, "thread_pool_queued": 1},
    "async": {"db_pool_in_use": 2, "db_pool_waiting": 2, "thread_pool_busy": 0, "thread_pool_queued": 0},
}


@pytest.fixture(scope="module")
def small_server(server_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, URL]]:
    with scratch_database(server_url) as url:
        env = clean_env(DATABASE_URL=url.render_as_string(hide_password=False), **SMALL_POOLS)
        server = start_server(env, tmp_path_factory.mktemp("gauges"))
        yield server, url
        assert server.stop() in STOPPED_BY_SIGTERM, server.log.read_text()


def gauges(base_url: str, family: str) -> dict[str, float]:
    samples = parse(httpx.get(f"{base_url}/metrics").text)
    # The thread pool is the sync family's: its gauges carry that label whichever family is loaded.
    return {
        name: value(samples, f"sale_orders_{name}", family="sync" if "thread" in name else family)
        for name in EXPECTED[family]
    }


def wait_for(base_url: str, family: str, expected: Mapping[str, float], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while (seen := gauges(base_url, family)) != expected:
        assert time.monotonic() < deadline, f"gauges {seen}, expected {expected}"
        time.sleep(0.2)


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_gauges_show_requests_waiting_for_connections_and_threads(
    small_server: tuple[LiveServer, URL], family: str
) -> None:
    server, url = small_server
    contact = httpx.post(f"{server.base_url}/{family}/contact", json={"name": "G", "email": "g@example.com"}).json()
    # An order per request: requests for one row wait their turn in the process, holding nothing (web/row_gate.py).
    orders = [
        httpx.post(f"{server.base_url}/{family}/order", json={"name": "held", "contact_id": contact["id"]}).json()["id"]
        for _ in range(HELD)
    ]
    statuses: list[int] = []
    with psycopg2.connect(dsn(url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sale_order WHERE id = ANY(%s) FOR UPDATE", (orders,))
        requests = [
            threading.Thread(
                target=lambda n=n: statuses.append(
                    httpx.patch(
                        f"{server.base_url}/{family}/order/{orders[n]}", json={"name": f"n{n}"}, timeout=60
                    ).status_code
                )
            )
            for n in range(HELD)
        ]
        for request in requests:
            request.start()
        wait_for(server.base_url, family, EXPECTED[family])
    # The row lock is released here: every held request completes, and the pools drain.
    for request in requests:
        request.join(timeout=60)
    assert statuses == [200] * HELD
    wait_for(server.base_url, family, dict.fromkeys(EXPECTED[family], 0))
