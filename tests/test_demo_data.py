"""`demo-data` loads consistent data fast, and the API keeps working on top of it."""

import psycopg2
from litestar.testing import TestClient
from sqlalchemy.engine import URL

from sale_orders.app import create_app
from sale_orders.db.demo import DemoSize, load_demo_data
from sale_orders.db.migrate import upgrade
from tests.support.database import dsn


def test_demo_data_loads_orders_with_lines_and_tags(tmp_database: URL) -> None:
    upgrade(tmp_database)
    reported: list[int] = []
    load_demo_data(tmp_database, DemoSize(orders=25_000, contacts=100, products=50, tags=20), progress=reported.append)
    assert reported == [10_000, 20_000, 25_000]
    with psycopg2.connect(dsn(tmp_database)) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), min(n), max(n) FROM (SELECT count(*) n FROM sale_order_line GROUP BY order_id) c"
        )
        assert cursor.fetchone() == (25_000, 1, 5)
        cursor.execute("SELECT max(n) FROM (SELECT count(*) n FROM sale_order_tag GROUP BY order_id) c")
        assert cursor.fetchone() == (3,)
    connection.close()

    # Appending continues the ids, and the API's own inserts continue after them.
    load_demo_data(tmp_database, DemoSize(orders=10, contacts=1, products=1, tags=1), seed=2)
    with TestClient(create_app(tmp_database)) as client:
        page = client.get("/async/order", params={"after": 25_000}).json()
        assert [order["id"] for order in page] == list(range(25_001, 25_011))
        assert all(order["amount_total"] > 0 and order["order_lines"] for order in page)
        tag = client.post("/sync/tag", json={"name": "new"})
        assert tag.status_code == 201
        assert tag.json()["id"] == 22
