"""The benchmark's ladder (sale_orders_bench.ladder): every rung answers a create and a page as the product does.

A rung that answered differently would measure a different job, and the ladder would compare unlike things.
Each rung of each family is compared with the product's family, on the same database, in process.
"""

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.engine import URL

from sale_orders_bench.ladder.app import create_app as create_ladder_app
from sale_orders_bench.ladder.rungs import RUNGS, Rung
from tests.support.api import Api


@pytest.fixture(scope="module")
def ladder(database_url: URL) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_ladder_app(database_url)) as client:
        yield client


@pytest.mark.parametrize("rung", RUNGS, ids=[rung.name for rung in RUNGS])
def test_each_rung_answers_a_create_and_a_page_as_the_product(
    client: TestClient[Litestar], ladder: TestClient[Litestar], family: str, rung: Rung
) -> None:
    api = Api(client, family)
    prefix = rung.prefix(family)

    contact = {"name": "Ann", "email": "ann@example.com"}
    by_product = api.create("/contact", contact)
    by_rung = ladder.post(f"{prefix}/contact", json=contact)
    assert by_rung.status_code == 201, by_rung.text
    assert by_rung.json() == {**by_product, "id": by_product["id"] + 1}

    body = api.order_fixture(lines=[(3, "0.1"), (2, "19.99")])
    order_by_product = api.create("/order", body)
    order_by_rung = ladder.post(f"{prefix}/order", json=body)
    assert order_by_rung.status_code == 201, order_by_rung.text
    assert order_by_rung.json() == {**order_by_product, "id": order_by_product["id"] + 1}
    assert order_by_rung.json()["amount_total"] == 40.28

    for page in ({"limit": 50}, {"limit": 1, "after": order_by_product["id"]}):
        expected = api.get("/order", params=page)
        answered = ladder.get(f"{prefix}/order", params=page)
        assert answered.status_code == 200, answered.text
        assert answered.json() == expected.json()
    # The product reads back what the rung stored: its order, lines and tags.
    assert api.get(f"/order/{order_by_product['id'] + 1}").json() == order_by_rung.json()
