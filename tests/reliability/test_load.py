"""Concurrency: many creations at once persist exactly once with exact totals; retries and updates race safely."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx

from tests.support.servers import LiveServer


def fixtures(http: httpx.Client, run: str) -> dict[str, Any]:
    contact = http.post("/sync/contact", json={"name": "L", "email": "l@example.com"}).json()["id"]
    products = [http.post("/async/product", json={"name": f"p{i}"}).json()["id"] for i in range(3)]
    tags = [http.post("/sync/tag", json={"name": f"load {run} {i}"}).json()["id"] for i in range(2)]
    return {"contact": contact, "products": products, "tags": tags}


def test_200_concurrent_creations_across_both_families_persist_once_with_exact_totals(roomy_server: LiveServer) -> None:
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
        query: dict[str, int] = {"limit": 100}
        while page := http.get("/async/order", params=query).json():
            listed += page
            query["after"] = page[-1]["id"]
        mine = [order for order in listed if order["name"].startswith(f"load {run} ")]
        assert sorted(order["name"] for order in mine) == sorted(f"load {run} {i}" for i in range(200))
        assert {order["id"]: order for order in mine} == {order["id"]: order for _, order, _ in results}


def test_concurrent_retries_with_one_key_create_one_order(roomy_server: LiveServer) -> None:
    run = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=roomy_server.base_url, timeout=60) as http:
        ids = fixtures(http, run)
        body = {"name": f"retry {run}", "contact_id": ids["contact"], "order_lines": [], "tag_ids": []}

        def post(i: int) -> httpx.Response:
            url = f"{roomy_server.base_url}/{'sync' if i % 2 else 'async'}/order"
            return httpx.post(url, json=body, headers={"Idempotency-Key": run}, timeout=60)

        with ThreadPoolExecutor(16) as pool:
            responses = list(pool.map(post, range(16)))
        assert {response.status_code for response in responses} == {201}
        assert len({response.json()["id"] for response in responses}) == 1


def test_concurrent_updates_of_one_order_lose_no_lines(roomy_server: LiveServer) -> None:
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
