"""Faults in the middle of a request: a statement timeout, a violated constraint on line 3, a connection
killed after the order row. Each leaves nothing behind and answers a clear problem, in both families."""

import threading
import time
from collections.abc import Iterator

import httpx
import psycopg2
import pytest

from tests.support.database import dsn
from tests.support.faults import Database
from tests.support.servers import LiveServer

FAMILIES = ("sync", "async")
FAULTS = """
CREATE OR REPLACE FUNCTION inject_line_fault() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.quantity = 13 THEN  -- "a constraint violation on line 3"
        RAISE EXCEPTION 'injected fault' USING ERRCODE = 'check_violation';
    ELSIF NEW.quantity = 666 THEN  -- "a connection killed after the order row"
        PERFORM pg_terminate_backend(pg_backend_pid());
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER inject_line_fault BEFORE INSERT ON sale_order_line
    FOR EACH ROW EXECUTE FUNCTION inject_line_fault();
"""


@pytest.fixture(scope="module")
def faulty(database: Database) -> Iterator[None]:
    with psycopg2.connect(dsn(database.url)) as connection, connection.cursor() as cursor:
        cursor.execute(FAULTS)
    yield
    with psycopg2.connect(dsn(database.url)) as connection, connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER inject_line_fault ON sale_order_line; DROP FUNCTION inject_line_fault()")


def rows_named(database: Database, name: str) -> tuple[int, int, int]:
    """Orders with this name, and all lines and tag links of orders with this name."""
    with psycopg2.connect(dsn(database.url)) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM sale_order WHERE name = %(n)s),"
            " (SELECT count(*) FROM sale_order_line l JOIN sale_order o ON o.id = l.order_id WHERE o.name = %(n)s),"
            " (SELECT count(*) FROM sale_order_tag t JOIN sale_order o ON o.id = t.order_id WHERE o.name = %(n)s)",
            {"n": name},
        )
        counts = cursor.fetchone()
    assert counts is not None
    return counts[0], counts[1], counts[2]


def order_body(http: httpx.Client, name: str, third_quantity: int) -> dict[str, object]:
    contact = http.post("/sync/contact", json={"name": "F", "email": "f@example.com"}).json()["id"]
    product = http.post("/sync/product", json={"name": "p"}).json()["id"]
    tag = http.post("/sync/tag", json={"name": f"fault {name}"}).json()["id"]
    lines = [{"product_id": product, "quantity": q, "price": 1.5} for q in (1, 2, third_quantity)]
    return {"name": name, "contact_id": contact, "order_lines": lines, "tag_ids": [tag]}


@pytest.mark.usefixtures("faulty")
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(
    ("third_quantity", "status", "kind"),
    [(13, 409, "conflict"), (666, 503, "unavailable")],
    ids=["violation", "killed"],
)
def test_a_fault_on_line_three_stores_nothing(
    database: Database, server: LiveServer, family: str, third_quantity: int, status: int, kind: str
) -> None:
    name = f"fault {family} {third_quantity}"
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        response = http.post(f"/{family}/order", json=order_body(http, name, third_quantity))
        assert response.status_code == status, response.text
        assert response.json()["type"] == f"urn:sale-orders:problem:{kind}"
        assert rows_named(database, name) == (0, 0, 0)
        # The API is fine afterwards, on the same pools.
        assert http.post(f"/{family}/order", json=order_body(http, f"{name} ok", 3)).status_code == 201


@pytest.mark.parametrize("family", FAMILIES)
def test_statement_timeout_is_503(database: Database, server: LiveServer, family: str) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        order = http.post(f"/{family}/order", json=order_body(http, f"locked {family}", 1)).json()
        locked = threading.Event()
        release = threading.Event()

        def hold_lock() -> None:
            with psycopg2.connect(dsn(database.url)) as connection, connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM sale_order WHERE id = %s FOR UPDATE", (order["id"],))
                locked.set()
                release.wait(30)

        holder = threading.Thread(target=hold_lock)
        holder.start()
        try:
            assert locked.wait(10)
            started = time.monotonic()
            response = http.patch(f"/{family}/order/{order['id']}", json={"name": "waits for the lock"})
            elapsed = time.monotonic() - started
        finally:
            release.set()
            holder.join()
        assert response.status_code == 503, response.text
        assert "too long" in response.json()["detail"]
        assert 0.9 < elapsed < 5, elapsed  # STATEMENT_TIMEOUT_MS=1000 in FAULT_ENV
        assert http.get(f"/{family}/order/{order['id']}").json()["name"] == f"locked {family}"
