"""A client following `after` while orders are created through both families sees every acknowledged order.

Creators in both families create orders as fast as the server answers; a follower pages through the orders with
`after` (the last id it got), alternating families, until the creators are done and it has caught up. Every order
acknowledged with a 201 must have been on some page: ids are drawn when a statement starts and rows become
visible at commit, so without the feed's horizon (db/queries/feed.py) a lower id committed late is paged past.
"""

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.servers import LiveServer

CREATORS = 8
ORDERS_EACH = 150


def test_following_after_skips_no_acknowledged_order(adversary_server: LiveServer) -> None:
    with httpx.Client(base_url=adversary_server.base_url, timeout=30) as client:
        contact = client.post("/sync/contact", json={"name": "Ann", "email": "ann@example.com"}).json()["id"]
        product = client.post("/sync/product", json={"name": "apple"}).json()["id"]
        start = max([0, *(order["id"] for order in client.get("/sync/order?limit=100").json())])
    body = {"name": "SO", "contact_id": contact, "order_lines": [{"product_id": product, "quantity": 1, "price": 1}]}
    done = threading.Event()

    def create(number: int) -> list[int]:
        created = []
        with httpx.Client(base_url=adversary_server.base_url, timeout=30) as creator:
            for count in range(ORDERS_EACH):
                family = ("sync", "async")[(number + count) % 2]
                response = creator.post(f"/{family}/order", json=body)
                if response.status_code == 201:
                    created.append(response.json()["id"])
        return created

    def follow() -> set[int]:
        seen: set[int] = set()
        after, quiet_pages = start, 0
        with httpx.Client(base_url=adversary_server.base_url, timeout=30) as follower:
            for family in itertools.cycle(("async", "sync")):
                page = follower.get(f"/{family}/order", params={"after": after, "limit": 50}).json()
                seen.update(order["id"] for order in page)
                after = page[-1]["id"] if page else after
                quiet_pages = 0 if page or not done.is_set() else quiet_pages + 1
                if quiet_pages >= 3:  # the creators are done and three pages in a row were empty
                    return seen
        return seen  # pragma: no cover - the cycle only ends by returning

    with ThreadPoolExecutor(CREATORS + 1) as pool:
        following = pool.submit(follow)
        creations = [pool.submit(create, number) for number in range(CREATORS)]
        acknowledged = {order_id for creation in creations for order_id in creation.result(timeout=300)}
        done.set()
        seen = following.result(timeout=300)
    assert len(acknowledged) > CREATORS * ORDERS_EACH * 0.9, "most creates should succeed"
    assert acknowledged - seen == set(), f"{len(acknowledged - seen)} acknowledged orders never paged"
