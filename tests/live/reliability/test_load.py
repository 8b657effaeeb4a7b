"""Concurrency: many creations at once persist exactly once with exact totals; retries and updates race safely.

Each test counts in SQL what the races left behind, rather than trusting the responses.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx

from tests.support.database import EMPTY, idempotency_keys, orphans, query, row_counts
from tests.support.faults import Database
from tests.support.servers import LiveServer

FIXTURE_ROWS = {**EMPTY, "contact": 1, "product": 3, "tag": 2}


def fixtures(http: httpx.Client, run: str) -> dict[str, Any]:
    contact = http.post("/sync/contact", json={"name": "L", "email": "l@example.com"}).json()["id"]
    products = [http.post("/async/product", json={"name": f"p{i}"}).json()["id"] for i in range(3)]
    tags = [http.post("/sync/tag", json={"name": f"load {run} {i}"}).json()["id"] for i in range(2)]
    return {"contact": contact, "products": products, "tags": tags}


def test_200_concurrent_creations_across_both_families_persist_once_with_exact_totals(
    database: Database, roomy_server: LiveServer
) -> None:
    run = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=roomy_server.base_url, timeout=60) as http:
        ids = fixtures(http, run)

        def create(i: int) -> tuple[int, dict[str, Any], Decimal]:
            lines = [
                {"product_id": p, "quantity": 1 + (i + n) % 7, "price": round(0.01 * (i + 3 * n + 1), 2)}
                for n, p in enumerate(ids["products"])
            ]
            body = {
                "name": f"load {run} {i}",
                "contact_id": ids["contact"],
                "order_lines": lines,
                "tag_ids": ids["tags"],
            }
            expected = sum((Decimal(repr(line["price"])) * line["quantity"] for line in lines), Decimal(0))
            # A connection per request: one shared keep-alive client across threads raced on closed sockets.
            response = httpx.post(
                f"{roomy_server.base_url}/{'sync' if i % 2 else 'async'}/order", json=body, timeout=60
            )
            return response.status_code, response.json(), expected

        with ThreadPoolExecutor(32) as pool:
            results = list(pool.map(create, range(200)))
        assert [code for code, _, _ in results] == [201] * 200
        for _, order, expected in results:
            assert Decimal(repr(order["amount_total"])) == expected

        listed: list[dict[str, Any]] = []
        page_query: dict[str, int] = {"limit": 100}
        while page := http.get("/async/order", params=page_query).json():
            listed += page
            page_query["after"] = page[-1]["id"]
        mine = [order for order in listed if order["name"].startswith(f"load {run} ")]
        assert sorted(order["name"] for order in mine) == sorted(f"load {run} {i}" for i in range(200))
        assert {order["id"]: order for order in mine} == {order["id"]: order for _, order, _ in results}
    # In SQL: exactly 200 orders, each with its 3 lines and 2 tags, and the same total as its response.
    assert row_counts(database.url) == {
        **FIXTURE_ROWS,
        "sale_order": 200,
        "sale_order_line": 600,
        "sale_order_tag": 400,
    }
    totals = query(
        database.url, "SELECT order_id, sum(quantity * price) FROM sale_order_line GROUP BY order_id ORDER BY order_id"
    )
    assert totals == sorted((order["id"], expected) for _, order, expected in results)
    assert orphans(database.url) == []


def test_concurrent_retries_with_one_key_create_one_order(database: Database, roomy_server: LiveServer) -> None:
    run = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=roomy_server.base_url, timeout=60) as http:
        ids = fixtures(http, run)
        lines = [{"product_id": product, "quantity": 2, "price": 0.5} for product in ids["products"]]
        body = {"name": f"retry {run}", "contact_id": ids["contact"], "order_lines": lines, "tag_ids": ids["tags"]}

        def post(i: int) -> httpx.Response:
            url = f"{roomy_server.base_url}/{'sync' if i % 2 else 'async'}/order"
            return httpx.post(url, json=body, headers={"Idempotency-Key": run}, timeout=60)

        with ThreadPoolExecutor(16) as pool:
            responses = list(pool.map(post, range(16)))
        assert {response.status_code for response in responses} == {201}
        assert len({response.json()["id"] for response in responses}) == 1
    # One order with its lines and tags, one key naming it: no stray second order from a racing retry.
    one_order = {"sale_order": 1, "sale_order_line": 3, "sale_order_tag": 2, "idempotency_key": 1}
    assert row_counts(database.url) == {**FIXTURE_ROWS, **one_order}
    assert idempotency_keys(database.url) == [("order", run, responses[0].json()["id"])]


def test_concurrent_updates_of_one_order_lose_no_lines(database: Database, roomy_server: LiveServer) -> None:
    run = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=roomy_server.base_url, timeout=60) as http:
        ids = fixtures(http, run)
        order = http.post("/sync/order", json={"name": f"upd {run}", "contact_id": ids["contact"]}).json()

        def replace_lines(i: int) -> httpx.Response:
            lines = [{"product_id": p, "quantity": i + 1, "price": 1} for p in ids["products"]]
            url = f"{roomy_server.base_url}/{'sync' if i % 2 else 'async'}/order/{order['id']}"
            return httpx.patch(url, json={"order_lines": lines}, timeout=60)

        with ThreadPoolExecutor(16) as pool:
            responses = list(pool.map(replace_lines, range(16)))
        assert {response.status_code for response in responses} == {200}
        final = http.get(f"/sync/order/{order['id']}").json()
        # Row locks serialise the updates: the order holds exactly one update's lines, never a mix or a loss.
        quantities = {line["quantity"] for line in final["order_lines"]}
        assert len(final["order_lines"]) == 3
        assert len(quantities) == 1
        assert final["amount_total"] == 3 * quantities.pop()
    # Every replaced line is gone: the order's 3 lines are the only ones, as SQL sees them.
    assert row_counts(database.url) == {**FIXTURE_ROWS, "sale_order": 1, "sale_order_line": 3}
    stored = query(database.url, "SELECT product_id, quantity FROM sale_order_line ORDER BY id")
    assert stored == [(line["product_id"], line["quantity"]) for line in final["order_lines"]]
