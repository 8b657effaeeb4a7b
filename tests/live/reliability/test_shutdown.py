"""SIGTERM: in-flight requests finish and commit, new ones are refused, the process exits cleanly."""

import signal
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from sale_orders.family.record import FAMILY_NAMES
from tests.support.database import EMPTY, query, row_counts, waiting_for_locks
from tests.support.faults import FAULT_ENV, PASSWORD, Database, row_locked, server_env, wait_until
from tests.support.servers import STOPPED_BY_SIGTERM, start_server


def refuses_connections(base_url: str) -> bool:
    try:
        httpx.get(f"{base_url}/health", timeout=2)
    except httpx.TransportError:
        return True
    return False


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_sigterm_lets_in_flight_requests_finish(
    database: Database, tmp_path_factory: pytest.TempPathFactory, family: str
) -> None:
    server = start_server(server_env(database, **FAULT_ENV), tmp_path_factory.mktemp("shutdown"))
    try:
        contact = httpx.post(f"{server.base_url}/sync/contact", json={"name": "S", "email": "s@example.com"}).json()
        order = httpx.post(
            f"{server.base_url}/sync/order", json={"name": "in flight", "contact_id": contact["id"]}
        ).json()
        url = f"{server.base_url}/{family}/order/{order['id']}"
        with ThreadPoolExecutor(1) as pool:
            with row_locked(database.url, "sale_order", order["id"]):
                patch = pool.submit(httpx.patch, url, json={"name": "finished"}, timeout=30)
                # In flight: PostgreSQL shows the PATCH waiting for the row lock, inside its transaction.
                wait_until(lambda: waiting_for_locks(database.url) == 1, seconds=10)
                server.process.send_signal(signal.SIGTERM)
                wait_until(lambda: refuses_connections(server.base_url), seconds=10)
                assert not patch.done()
            # The lock is released here; the in-flight PATCH completes.
            response = patch.result(timeout=30)
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "finished"
        code = server.process.wait(timeout=30)  # the one SIGTERM is enough to exit
    finally:
        server.stop()
    assert code in STOPPED_BY_SIGTERM, server.log.read_text()
    # The change was committed, not lost with the process.
    assert query(database.url, "SELECT id, name FROM sale_order") == [(order["id"], "finished")]
    assert row_counts(database.url) == {**EMPTY, "contact": 1, "sale_order": 1}
    log = server.log.read_text()
    assert "Waiting for" in log or "Shutting down" in log
    assert PASSWORD not in log
