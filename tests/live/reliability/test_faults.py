"""Faults in the middle of a request: a statement timeout, a violated constraint on line 3, a connection
killed after the order row. Each answers a clear problem and leaves the database exactly as it was, in both
families; the tests read it back in SQL."""

from collections.abc import Iterator
from typing import Any

import httpx
import psycopg2
import pytest

from sale_orders.family.record import FAMILY_NAMES as FAMILIES
from tests.support.database import EMPTY, dsn, idempotency_keys, orphans, query, row_counts
from tests.support.faults import Database, row_locked, timed
from tests.support.servers import LiveServer

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
# Each resource's row as SQL reads it, to compare before and after a fault.
ROWS = {
    "order": "SELECT o.id, o.name, o.contact_id, array_agg((l.product_id, l.quantity, l.price) ORDER BY l.id),"
    " (SELECT array_agg(t.tag_id ORDER BY t.tag_id) FROM sale_order_tag t WHERE t.order_id = o.id)"
    " FROM sale_order o JOIN sale_order_line l ON l.order_id = o.id WHERE o.id = %s GROUP BY o.id",
    "contact": "SELECT id, name, email FROM contact WHERE id = %s",
    "product": "SELECT id, name FROM product WHERE id = %s",
    "tag": "SELECT id, name FROM tag WHERE id = %s",
}
TABLE = {"order": "sale_order", "contact": "contact", "product": "product", "tag": "tag"}


@pytest.fixture(scope="module")
def faulty(database: Database) -> Iterator[None]:
    with psycopg2.connect(dsn(database.url)) as connection, connection.cursor() as cursor:
        cursor.execute(FAULTS)
    connection.close()
    yield
    with psycopg2.connect(dsn(database.url)) as connection, connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER inject_line_fault ON sale_order_line; DROP FUNCTION inject_line_fault()")
    connection.close()


def order_body(http: httpx.Client, name: str, third_quantity: int) -> dict[str, Any]:
    """An order of three lines on a new contact, product and tag (created through both families)."""
    contact = http.post("/sync/contact", json={"name": "F", "email": "f@example.com"}).json()["id"]
    product = http.post("/async/product", json={"name": "p"}).json()["id"]
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
def test_a_fault_on_line_three_stores_nothing_and_keeps_the_key_free(
    database: Database, server: LiveServer, family: str, third_quantity: int, status: int, kind: str
) -> None:
    key = {"Idempotency-Key": f"fault-{family}-{third_quantity}"}
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        body = order_body(http, f"fault {family} {third_quantity}", third_quantity)
        before = query(database.url, "SELECT id, name, email FROM contact")
        response = http.post(f"/{family}/order", json=body, headers=key)
        assert response.status_code == status, response.text
        assert response.json()["type"] == f"urn:sale-orders:problem:{kind}"
        # No order, no line, no tag link, no claimed key: the transaction was rolled back whole.
        assert row_counts(database.url) == {**EMPTY, "contact": 1, "product": 1, "tag": 1}
        assert query(database.url, "SELECT id, name, email FROM contact") == before

        # The same key still works once the fault is gone, on the same pools, and creates exactly one order.
        fixed = {**body, "order_lines": [*body["order_lines"][:2], {**body["order_lines"][2], "quantity": 3}]}
        retried = http.post(f"/{family}/order", json=fixed, headers=key)
        assert retried.status_code == 201, retried.text
    one_order = {"sale_order": 1, "sale_order_line": 3, "sale_order_tag": 1, "idempotency_key": 1}
    assert row_counts(database.url) == {**EMPTY, "contact": 1, "product": 1, "tag": 1, **one_order}
    assert idempotency_keys(database.url) == [("order", key["Idempotency-Key"], retried.json()["id"])]
    assert query(database.url, "SELECT quantity FROM sale_order_line ORDER BY id") == [(1,), (2,), (3,)]
    assert orphans(database.url) == []


def create(http: httpx.Client, resource: str) -> int:
    """A row of `resource` to lock; an order gets a line and a tag."""
    contact = http.post("/sync/contact", json={"name": "L", "email": "l@example.com"}).json()["id"]
    if resource == "contact":
        return int(contact)
    product = http.post("/async/product", json={"name": "locked"}).json()["id"]
    if resource == "product":
        return int(product)
    tag = http.post("/sync/tag", json={"name": "locked"}).json()["id"]
    if resource == "tag":
        return int(tag)
    line = {"product_id": product, "quantity": 2, "price": 1.25}
    order = {"name": "locked", "contact_id": contact, "order_lines": [line], "tag_ids": [tag]}
    return int(http.post("/sync/order", json=order).json()["id"])


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("resource", ["order", "contact", "product", "tag"])
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_statement_timeout_is_503_and_changes_nothing(
    database: Database, server: LiveServer, family: str, resource: str, method: str
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        item_id = create(http, resource)
        before, counts = query(database.url, ROWS[resource], (item_id,)), row_counts(database.url)
        change = {"name": "waits for the lock"} if method == "PATCH" else None
        with row_locked(database.url, TABLE[resource], item_id):
            response, elapsed = timed(lambda: http.request(method, f"/{family}/{resource}/{item_id}", json=change))
        assert response.status_code == 503, response.text
        assert response.json()["type"] == "urn:sale-orders:problem:unavailable"
        assert "too long" in response.json()["detail"]
        assert 0.9 < elapsed < 5, elapsed  # STATEMENT_TIMEOUT_MS=1000 in FAULT_ENV
        assert query(database.url, ROWS[resource], (item_id,)) == before
        assert row_counts(database.url) == counts
        assert orphans(database.url) == []
        # Nothing was left half-done on the pool's connection: the same change now goes through.
        assert http.request(method, f"/{family}/{resource}/{item_id}", json=change).status_code == (
            200 if method == "PATCH" else 204
        )
