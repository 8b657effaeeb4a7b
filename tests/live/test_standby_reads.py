"""Reads from a standby, with read-your-writes kept: a real streaming standby, in both families.

`sale-orders serve` runs with DATABASE_URL on a primary and READ_DATABASE_URL on its streaming standby. A read
that carries the client's Consistency-Token is answered by the standby only once the standby has replayed the
client's write, else by the primary: with the standby's replay paused, a client still reads what it wrote.
`sale_orders_reads_total` says which server answered each read.
"""

import time
from collections.abc import Iterator

import httpx
import pytest

from sale_orders.db.migrate import upgrade
from tests.support.database import execute
from tests.support.metrics import parse, value
from tests.support.servers import STOPPED_BY_SIGTERM, LiveServer, clean_env, start_server
from tests.support.standby import Replicated, replicated

DATABASE = "standby_reads"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Replicated]:
    with replicated() as pair:
        execute(pair.primary, f"CREATE DATABASE {DATABASE}")
        upgrade(pair.primary.set(database=DATABASE))
        pair.wait_for_replay()
        yield pair


@pytest.fixture(scope="module")
def server(cluster: Replicated, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = clean_env(
        DATABASE_URL=cluster.primary.set(database=DATABASE).render_as_string(hide_password=False),
        READ_DATABASE_URL=cluster.standby.set(database=DATABASE).render_as_string(hide_password=False),
        MAX_STALENESS_MS="500",
    )
    live = start_server(env, tmp_path_factory.mktemp("standby-reads"))
    yield live
    assert live.stop() in STOPPED_BY_SIGTERM, live.log.read_text()


def served(client: httpx.Client, family: str) -> dict[str, float]:
    samples = parse(client.get("/metrics").text)
    return {by: value(samples, "sale_orders_reads_total", family=family, served_by=by) for by in ("standby", "primary")}


def moved(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {by: after[by] - before[by] for by in before}


@pytest.mark.parametrize("family", ["sync", "async"])
def test_a_client_reads_its_writes_whichever_server_answers(
    cluster: Replicated, server: LiveServer, family: str
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        # Replaying: once the standby has the write, it answers the read that carries the write's token.
        created = client.post(f"/{family}/contact", json={"name": "Ann", "email": "ann@example.com"})
        token = created.headers["consistency-token"]
        cluster.wait_for_replay()
        before = served(client, family)
        read = client.get(f"/{family}/contact/{created.json()['id']}", headers={"Consistency-Token": token})
        assert read.json() == created.json()
        assert moved(before, served(client, family)) == {"standby": 1, "primary": 0}

        # Replay paused: the standby lacks the next write; a read with its token is answered by the primary.
        cluster.replay_paused(True)
        try:
            changed = client.patch(f"/{family}/contact/{created.json()['id']}", json={"name": "Ann B"})
            token = changed.headers["consistency-token"]
            assert int(token) > int(created.headers["consistency-token"])
            before = served(client, family)
            for path in (f"/{family}/contact/{created.json()['id']}", f"/{family}/contact?limit=100"):
                read = client.get(path, headers={"Consistency-Token": token})
                assert "Ann B" in read.text, read.text
            assert moved(before, served(client, family)) == {"standby": 0, "primary": 2}
            # Without a token, a standby may answer only while at most MAX_STALENESS_MS behind (0.5 s here).
            time.sleep(0.6)
            before = served(client, family)
            read = client.get(f"/{family}/contact/{created.json()['id']}")
            assert read.json()["name"] == "Ann B"
            assert moved(before, served(client, family)) == {"standby": 0, "primary": 1}
        finally:
            cluster.replay_paused(False)


def test_a_standby_away_sends_reads_to_the_primary(cluster: Replicated, server: LiveServer) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        created = client.post("/sync/tag", json={"name": "kept"}).json()
        cluster.stop_standby()
        for family in ("sync", "async"):
            before = served(client, family)
            answers = [client.get(f"/{family}/tag/{created['id']}").status_code for _ in range(3)]
            assert answers == [200, 200, 200]
            assert moved(before, served(client, family))["primary"] == 3
