"""SIGTERM: in-flight requests finish, new ones are refused, the process exits cleanly."""

import threading
import time

import httpx
import psycopg2
import pytest

from tests.support.database import dsn
from tests.support.faults import FAULT_ENV, PASSWORD, Database, server_env
from tests.support.servers import STOPPED_BY_SIGTERM, start_server


@pytest.mark.parametrize("family", ["sync", "async"])
def test_sigterm_lets_in_flight_requests_finish(
    database: Database, tmp_path_factory: pytest.TempPathFactory, family: str
) -> None:
    server = start_server(server_env(database, **FAULT_ENV), tmp_path_factory.mktemp("shutdown"))
    try:
        contact = httpx.post(f"{server.base_url}/sync/contact", json={"name": "S", "email": "s@example.com"}).json()
        order = httpx.post(
            f"{server.base_url}/sync/order", json={"name": "in flight", "contact_id": contact["id"]}
        ).json()
        results: dict[str, httpx.Response] = {}
        with psycopg2.connect(dsn(database.url)) as connection, connection.cursor() as cursor:
            # Hold the order's row lock, so the PATCH below is in flight (waiting) when SIGTERM arrives.
            cursor.execute("SELECT 1 FROM sale_order WHERE id = %s FOR UPDATE", (order["id"],))
            patch = threading.Thread(
                target=lambda: results.update(
                    r=httpx.patch(
                        f"{server.base_url}/{family}/order/{order['id']}", json={"name": "finished"}, timeout=30
                    )
                )
            )
            patch.start()
            time.sleep(0.3)
            server.process.send_signal(15)
            time.sleep(0.3)
            with pytest.raises(httpx.TransportError):  # no new connections while shutting down
                httpx.get(f"{server.base_url}/health", timeout=2)
        # The lock is released here (commit); the in-flight PATCH completes.
        patch.join(timeout=30)
        assert results["r"].status_code == 200, results["r"].text
        assert results["r"].json()["name"] == "finished"
    finally:
        code = server.stop()
    assert code in STOPPED_BY_SIGTERM, server.log.read_text()
    assert "Waiting for" in server.log.read_text() or "Shutting down" in server.log.read_text()
    assert PASSWORD not in server.log.read_text()
