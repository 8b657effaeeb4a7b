"""`demo-data` loads consistent data fast, and both families keep working on top of it."""

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient
from sqlalchemy.engine import URL

from sale_orders.app import create_app
from sale_orders.db.migrate import upgrade
from sale_orders_tools.demo import DemoSize, load_demo_data
from tests.support.database import query, scratch_database

ORDERS = 25_000
APPENDED = 10


@pytest.fixture(scope="module")
def demo_database(server_url: URL) -> Iterator[tuple[URL, list[int]]]:
    """A database with demo orders, then APPENDED more loaded on top; and the progress reported."""
    with scratch_database(server_url) as url:
        upgrade(url)
        reported: list[int] = []
        load_demo_data(url, DemoSize(orders=ORDERS, contacts=100, products=50, tags=20), progress=reported.append)
        load_demo_data(url, DemoSize(orders=APPENDED, contacts=1, products=1, tags=1), seed=2)
        yield url, reported


def test_demo_data_loads_orders_with_lines_and_tags(demo_database: tuple[URL, list[int]]) -> None:
    url, reported = demo_database
    assert reported == [10_000, 20_000, 25_000]
    lines_per_order = (
        "SELECT count(*), min(n), max(n) FROM (SELECT count(*) n FROM sale_order_line GROUP BY order_id) c"
    )
    assert query(url, lines_per_order) == [(ORDERS + APPENDED, 1, 5)]
    tags_per_order = "SELECT max(n) FROM (SELECT count(*) n FROM sale_order_tag GROUP BY order_id) c"
    assert query(url, tags_per_order) == [(3,)]
    # Appending continued the ids.
    assert query(url, "SELECT min(id), max(id), count(*) FROM sale_order") == [
        (1, ORDERS + APPENDED, ORDERS + APPENDED)
    ]
    assert query(url, "SELECT max(id), count(*) FROM tag") == [(21, 21)]


def test_each_family_reads_demo_data_and_continues_its_ids(demo_database: tuple[URL, list[int]], family: str) -> None:
    url, _ = demo_database
    totals = query(
        url,
        "SELECT order_id, sum(quantity * price) FROM sale_order_line WHERE order_id > %s GROUP BY order_id"
        " ORDER BY order_id",
        (ORDERS,),
    )
    with TestClient(create_app(url)) as client:
        page = client.get(f"/{family}/order", params={"after": ORDERS}).json()
        assert [order["id"] for order in page] == list(range(ORDERS + 1, ORDERS + APPENDED + 1))
        assert [(order["id"], order["amount_total"]) for order in page] == [(i, float(t)) for i, t in totals]
        assert all(order["order_lines"] for order in page)
        # The API's own inserts continue after the loaded ids.
        ((last_tag,),) = query(url, "SELECT max(id) FROM tag")
        tag = client.post(f"/{family}/tag", json={"name": f"new {family}"})
        assert tag.status_code == 201
        assert tag.json()["id"] == last_tag + 1
