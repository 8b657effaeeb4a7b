"""Idempotency-Keys expire after IDEMPOTENCY_WINDOW_HOURS (24 by default), and expired ones are purged."""

import subprocess
import sys
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import create_engine
from sqlalchemy.engine import URL

from sale_orders.db.drivers import with_driver
from sale_orders.db.purge import purge_expired_idempotency_keys
from sale_orders.db.queries import idempotency
from sale_orders.settings import Settings
from tests.support.api import Api, assert_problem
from tests.support.database import query
from tests.support.servers import clean_env

WINDOW = Settings().idempotency_window


def age_keys(database_url: URL, age: timedelta, *keys: str) -> None:
    """Pretend these keys were claimed `age` ago."""
    moved = query(
        database_url,
        "UPDATE idempotency_key SET created_at = now() - %s WHERE key = ANY(%s) RETURNING key",
        (age, list(keys)),
    )
    assert sorted(key for (key,) in moved) == sorted(keys)


def stored_keys(database_url: URL) -> list[str]:
    return [key for (key,) in query(database_url, "SELECT key FROM idempotency_key ORDER BY key")]


def test_the_window_is_24_hours_by_default() -> None:
    assert Settings(_env_file=None).idempotency_window == timedelta(hours=24)


def test_a_key_is_remembered_until_its_window_ends(api: Api, database_url: URL) -> None:
    first = api.post("/tag", json={"name": "a"}, headers={"Idempotency-Key": "k"})
    age_keys(database_url, WINDOW - timedelta(minutes=5), "k")
    again = api.post("/tag", json={"name": "a"}, headers={"Idempotency-Key": "k"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len(api.get("/tag").json()) == 1


def test_a_retry_after_the_window_is_a_new_request(api: Api, database_url: URL) -> None:
    first = api.post("/tag", json={"name": "a"}, headers={"Idempotency-Key": "k"})
    age_keys(database_url, WINDOW + timedelta(minutes=5), "k")
    # Another body is no longer a reuse (422): the key is claimed anew, for this request.
    renewed = api.post("/tag", json={"name": "b"}, headers={"Idempotency-Key": "k"})
    assert first.status_code == renewed.status_code == 201
    assert renewed.json()["id"] != first.json()["id"]
    # From then on the key stands for the new request, in both families.
    replayed = api.other.post("/tag", json={"name": "b"}, headers={"Idempotency-Key": "k"})
    assert replayed.status_code == 201
    assert replayed.json() == renewed.json()
    assert [tag["name"] for tag in api.get("/tag").json()] == ["a", "b"]
    assert query(
        database_url, "SELECT count(*), bool_and(created_at > now() - interval '1 minute') FROM idempotency_key"
    ) == [(1, True)]


@pytest.mark.parametrize(
    ("age", "answered"), [(WINDOW - timedelta(minutes=5), 201), (WINDOW + timedelta(minutes=5), 422)]
)
def test_an_order_whose_contact_is_gone_is_replayed_only_within_the_window(
    api: Api, database_url: URL, age: timedelta, answered: int
) -> None:
    body = api.order_fixture()
    first = api.post("/order", json=body, headers={"Idempotency-Key": "gone"})
    assert first.status_code == 201
    assert api.delete(f"/order/{first.json()['id']}").status_code == 204
    assert api.delete(f"/contact/{body['contact_id']}").status_code == 204
    age_keys(database_url, age, "gone")
    retried = api.other.post("/order", json=body, headers={"Idempotency-Key": "gone"})
    # Within the window the key answers as the first time; after it, the request is new, and refers to nothing.
    assert retried.status_code == answered, retried.text
    if answered == 201:
        assert retried.json() == first.json()
    else:
        assert_problem(retried, 422, "missing-reference")
    assert stored_keys(database_url) == ["gone"]


def test_purge_deletes_expired_keys_only_in_batches(api: Api, database_url: URL) -> None:
    for key in ("old-1", "old-2", "old-3", "new"):
        assert api.post("/tag", json={"name": key}, headers={"Idempotency-Key": key}).status_code == 201
    age_keys(database_url, WINDOW + timedelta(seconds=1), "old-1", "old-2", "old-3")
    assert purge_expired_idempotency_keys(database_url, WINDOW, batch_size=2) == 3
    assert stored_keys(database_url) == ["new"]
    assert purge_expired_idempotency_keys(database_url, WINDOW, batch_size=2) == 0


def test_a_purge_in_progress_blocks_no_create(api: Api, database_url: URL) -> None:
    """The purge locks the rows it deletes, not the table: creates with new keys go on meanwhile."""
    for key in ("old", "fresh"):
        assert api.post("/tag", json={"name": key}, headers={"Idempotency-Key": key}).status_code == 201
    age_keys(database_url, WINDOW + timedelta(seconds=1), "old")
    engine = create_engine(with_driver(database_url, "psycopg2"))
    try:
        with engine.connect() as purge, purge.begin():
            deleted = purge.execute(idempotency.purge_expired(WINDOW, 100)).all()
            assert [key for (key,) in deleted] == ["old"]
            # While the purge's transaction is open: a new key, and a retry of a kept one.
            created = api.post("/tag", json={"name": "during"}, headers={"Idempotency-Key": "during"})
            retried = api.post("/tag", json={"name": "fresh"}, headers={"Idempotency-Key": "fresh"})
            assert (created.status_code, retried.status_code) == (201, 201)
    finally:
        engine.dispose()
    assert stored_keys(database_url) == ["during", "fresh"]


def test_the_purge_command_reports_what_it_deleted(client: TestClient[Litestar], database_url: URL) -> None:
    assert client.post("/sync/tag", json={"name": "t"}, headers={"Idempotency-Key": "old"}).status_code == 201
    age_keys(database_url, timedelta(hours=3), "old")
    env = clean_env(DATABASE_URL=database_url.render_as_string(hide_password=False), IDEMPOTENCY_WINDOW_HOURS="2")
    result = subprocess.run(
        [sys.executable, "-m", "sale_orders.cli", "idempotency", "purge", "--batch-size", "1"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "purged 1 Idempotency-Keys older than 2 h" in result.stdout
    assert stored_keys(database_url) == []
