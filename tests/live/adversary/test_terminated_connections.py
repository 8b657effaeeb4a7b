"""Under a storm of `pg_terminate_backend` on the API's connections, both families answer only 200, 201 or 503.

Every connection the API holds is terminated again and again while clients read and create through both
families and ask /health: PostgreSQL reports SQLSTATE 57P01 (admin shutdown) or the connection is simply gone,
which must be a 503 with Retry-After in both families, never a 500; and once the storm ends, both serve again
without a restart.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg2
from sqlalchemy.engine import URL

from tests.support.database import dsn
from tests.support.servers import LiveServer

STORM_SECONDS = 4


def test_terminated_connections_are_503s_in_both_families(
    adversary_server: LiveServer, adversary_database: URL
) -> None:
    base = adversary_server.base_url
    with httpx.Client(base_url=base, timeout=30) as client:
        contact = client.post("/sync/contact", json={"name": "Ann", "email": "ann@example.com"}).json()["id"]
    done = threading.Event()

    def terminate() -> int:
        terminated = 0
        admin = psycopg2.connect(dsn(adversary_database.set(database="postgres")))
        admin.autocommit = True
        sql = (
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        try:
            with admin.cursor() as cursor:
                while not done.is_set():
                    cursor.execute(sql, (adversary_database.database,))
                    (count,) = cursor.fetchone() or (0,)
                    terminated += count
                    time.sleep(0.02)
        finally:
            admin.close()
        return terminated

    def use(number: int) -> list[tuple[int, bool]]:
        family = ("sync", "async")[number % 2]
        answers: list[tuple[int, bool]] = []
        with httpx.Client(base_url=base, timeout=30) as user:
            while not done.is_set():
                responses = (
                    user.get(f"/{family}/contact/{contact}"),
                    user.get(f"/{family}/order?limit=5"),
                    user.post(f"/{family}/product", json={"name": "p"}),
                    user.get("/health"),
                )
                answers.extend((response.status_code, "retry-after" in response.headers) for response in responses)
        return answers

    with ThreadPoolExecutor(9) as pool:
        storm = pool.submit(terminate)
        users = [pool.submit(use, number) for number in range(8)]
        time.sleep(STORM_SECONDS)
        done.set()
        answers = [answer for user in users for answer in user.result(timeout=60)]
        terminated = storm.result(timeout=60)
    assert terminated > 0, "the storm terminated nothing"
    statuses = {status for status, _ in answers}
    assert statuses <= {200, 201, 503}, sorted(statuses)
    assert all(retry for status, retry in answers if status == 503), "a 503 without Retry-After"
    with httpx.Client(base_url=base, timeout=30) as client:  # healed: a stale connection fails once at most
        for family in ("sync", "async"):
            answers_after = [client.get(f"/{family}/contact/{contact}").status_code for _ in range(20)]
            assert answers_after[-5:] == [200] * 5, answers_after
