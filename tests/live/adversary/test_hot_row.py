"""64 clients hammering one order do not take the host down: changes of a row queue in the process, not in the pool.

Half the clients PATCH the order through /sync, half through /async; meanwhile others read unrelated orders and
/health. Every PATCH answers 200 or a retryable 409, /health stays 200, every unrelated read succeeds, and at no
moment does more than one of the API's sessions wait in PostgreSQL for the order's lock (`web/row_gate.py`):
the rest wait on the event loop, holding no connection and no thread.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy.engine import URL

from tests.support.database import query
from tests.support.servers import LiveServer

HAMMERS = 64
PATCHES_EACH = 12


def test_a_hot_row_leaves_health_and_other_reads_alone(adversary_server: LiveServer, adversary_database: URL) -> None:
    base = adversary_server.base_url
    with httpx.Client(base_url=base, timeout=30) as client:
        contact = client.post("/sync/contact", json={"name": "Ann", "email": "ann@example.com"}).json()["id"]
        tags = [client.post("/sync/tag", json={"name": f"hot {n}"}).json()["id"] for n in range(2)]
        hot, cold = (
            client.post("/sync/order", json={"name": name, "contact_id": contact}).json()["id"]
            for name in ("hot", "cold")
        )
    done = threading.Event()

    def hammer(number: int) -> list[int]:
        family = ("sync", "async")[number % 2]
        statuses = []
        with httpx.Client(base_url=base, timeout=30) as hammerer:
            for count in range(PATCHES_EACH):
                body = {"name": f"{number}-{count}", "tag_ids": [tags[(number + count) % 2]]}
                response = hammerer.patch(f"/{family}/order/{hot}", json=body)
                if response.status_code == 409:
                    assert response.json()["type"].endswith(":concurrent-change"), response.text
                    assert response.headers["retry-after"] == "1"
                statuses.append(response.status_code)
        return statuses

    def read_others() -> list[int]:
        statuses = []
        with httpx.Client(base_url=base, timeout=30) as reader:
            while not done.is_set():
                statuses += [reader.get(path).status_code for path in ("/health", f"/sync/order/{cold}")]
                statuses.append(reader.get(f"/async/order/{cold}").status_code)
        return statuses

    def count_lock_waits() -> int:
        most = 0
        sql = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
            " AND query LIKE '%%sale_order%%'"
        )
        while not done.is_set():
            ((waiting,),) = query(adversary_database, sql, (adversary_database.database,))
            most = max(most, int(waiting))
            time.sleep(0.01)
        return most

    with ThreadPoolExecutor(HAMMERS + 2) as pool:
        readers = pool.submit(read_others)
        waits = pool.submit(count_lock_waits)
        hammers = [pool.submit(hammer, number) for number in range(HAMMERS)]
        patches = [status for future in hammers for status in future.result(timeout=300)]
        done.set()
        others, most_waiting = readers.result(timeout=60), waits.result(timeout=60)
    assert set(patches) <= {200, 409}, sorted(set(patches))
    assert patches.count(200) >= HAMMERS, "most changes of the hot row should go through"
    assert others, "the readers ran"
    assert set(others) == {200}, sorted(set(others))
    assert most_waiting <= 1, f"{most_waiting} sessions waited for the hot row's lock at once"
