"""Each operation costs a fixed number of round trips to PostgreSQL, whatever the number of orders, lines or tags.

Counted by PostgreSQL itself, in its log: statements, and the BEGIN, COMMIT or SET a driver sends on its own.
A single statement runs without BEGIN and COMMIT around it (PostgreSQL makes it atomic on its own).
"""

from typing import Any

import pytest

from sale_orders.family.record import SYNC
from tests.support.api import Api, LoggedServer
from tests.support.database import StatementLog, truncate


def warm(api: Api, method: str, path: str, body: Any = None) -> None:
    """Send a request once, so the drivers have prepared its statements before they are counted."""
    api.client.request(method, api.url(path), json=body)


@pytest.mark.parametrize("orders", [1, 10, 40])
def test_a_page_of_orders_is_one_round_trip(logged_api: Api, server_log: StatementLog, orders: int) -> None:
    body = logged_api.order_fixture(lines=[(1, "1.00")] * 5, tags=3)
    created = [logged_api.create("/order", {**body, "name": f"SO{i}"}) for i in range(orders)]
    after = {"after": created[0]["id"] - 1, "limit": 100} if created[0]["id"] > 1 else {"limit": 100}
    warm(logged_api, "GET", "/order?limit=1")
    with server_log:
        page = logged_api.get("/order", params=after).json()
    assert page == created
    assert server_log.count == 1, server_log.received


@pytest.mark.parametrize("lines", [0, 1, 30])
def test_reading_an_order_is_one_round_trip(logged_api: Api, server_log: StatementLog, lines: int) -> None:
    order = logged_api.create("/order", logged_api.order_fixture(lines=[(2, "0.50")] * lines, tags=2))
    warm(logged_api, "GET", f"/order/{order['id']}")
    with server_log:
        assert logged_api.get(f"/order/{order['id']}").json() == order
    assert server_log.count == 1, server_log.received


@pytest.mark.parametrize("lines", [1, 30])
def test_creating_an_order_is_one_round_trip(logged_api: Api, server_log: StatementLog, lines: int) -> None:
    body = logged_api.order_fixture(lines=[(2, "0.50")] * lines, tags=2)
    logged_api.create("/order", body)
    with server_log:
        created = logged_api.create("/order", body)
    assert server_log.count == 1, server_log.received
    assert logged_api.get(f"/order/{created['id']}").json() == created


@pytest.mark.parametrize("resource", ["order", "contact"])
def test_creating_with_an_idempotency_key_is_one_round_trip_and_a_retry_two(
    logged_api: Api, server_log: StatementLog, resource: str
) -> None:
    body = logged_api.order_fixture() if resource == "order" else {"name": "Di", "email": "di@example.com"}
    logged_api.post(f"/{resource}", json=body, headers={"Idempotency-Key": "warm"})
    logged_api.post(f"/{resource}", json=body, headers={"Idempotency-Key": "warm"})
    with server_log:
        first = logged_api.post(f"/{resource}", json=body, headers={"Idempotency-Key": "counted"})
    # The key claimed, the object created and its answer stored: one statement, no BEGIN or COMMIT.
    assert first.status_code == 201, first.text
    assert server_log.count == 1, server_log.received
    with server_log:
        retried = logged_api.post(f"/{resource}", json=body, headers={"Idempotency-Key": "counted"})
    # The statement finds the key used, then the stored answer is read.
    assert (retried.status_code, retried.json()) == (201, first.json())
    assert server_log.count == 2, server_log.received


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/contact", {"name": "Ann", "email": "ann@example.com"}),
        ("GET", "/contact/{contact}", None),
        ("GET", "/contact", None),
        ("PATCH", "/contact/{contact}", {"name": "Bob"}),
        ("DELETE", "/contact/{contact}", None),
        ("DELETE", "/order/{order}", None),
    ],
)
def test_single_statement_operations_are_one_round_trip(
    logged_api: Api, server_log: StatementLog, method: str, path: str, body: dict[str, str] | None
) -> None:
    order = logged_api.create("/order", logged_api.order_fixture())
    spare = [logged_api.create("/contact", {"name": "Cy", "email": "cy@example.com"}) for _ in range(2)]
    warm(logged_api, method, path.format(contact=spare[0]["id"], order=order["id"] + 10**6), body)
    with server_log:
        response = logged_api.client.request(
            method, logged_api.url(path.format(contact=spare[1]["id"], order=order["id"])), json=body
        )
    assert response.status_code < 300, response.text
    assert server_log.count == 1, server_log.received


def test_changing_every_line_and_tag_of_an_order_in_the_sync_family_is_eleven_round_trips(
    logged_server: LoggedServer, server_log: StatementLog
) -> None:
    """BEGIN, the order locked, its lines, its tags, the reference check, the new tags, the new lines, the old lines
    deleted, the old tag links deleted, the new ones inserted, COMMIT: the deletes are one batch each.

    Only the sync family: asyncpg pipelines a batch in one round trip but PostgreSQL logs each of its statements,
    so the log counts more lines than round trips there (the fault proxy counts them: `bench --network`).
    """
    truncate(logged_server.url)
    api = Api(logged_server.client, SYNC.name)
    body = api.order_fixture(lines=[(1, "1.00")] * 4, tags=3)
    order = api.create("/order", body)
    warm(api, "PATCH", f"/order/{order['id']}", {"tag_ids": [1], "order_lines": body["order_lines"]})
    with server_log:
        response = api.patch(
            f"/order/{order['id']}",
            json={"order_lines": [{"product_id": 1, "quantity": 2, "price": 0.5}] * 3, "tag_ids": [2, 3]},
        )
    assert response.status_code == 200, response.text
    assert server_log.count == 11, server_log.received
