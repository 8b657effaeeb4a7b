"""Reading orders takes a fixed number of SQL statements, whatever the number of orders, lines and tags."""

import pytest

from tests.support.api import Api
from tests.support.database import StatementCounter

# A page or one order: the orders, then their lines, then their tags (selectinload), nothing per row.
READ_STATEMENTS = 3


@pytest.mark.parametrize("orders", [1, 10, 40])
def test_listing_orders_takes_three_statements(api: Api, count_statements: StatementCounter, orders: int) -> None:
    body = api.order_fixture(lines=[(1, "1.00")] * 5, tags=3)
    for i in range(orders):
        api.create("/order", {**body, "name": f"SO{i}"})
    with count_statements:
        page = api.get("/order", params={"limit": 100}).json()
    assert len(page) == orders
    assert sum(len(order["order_lines"]) for order in page) == 5 * orders
    assert count_statements.count == READ_STATEMENTS, count_statements.statements


@pytest.mark.parametrize("lines", [0, 1, 30])
def test_reading_one_order_takes_three_statements(api: Api, count_statements: StatementCounter, lines: int) -> None:
    order = api.create("/order", api.order_fixture(lines=[(2, "0.50")] * lines, tags=2))
    with count_statements:
        assert api.get(f"/order/{order['id']}").json() == order
    assert count_statements.count == READ_STATEMENTS, count_statements.statements


@pytest.mark.parametrize("lines", [1, 30])
def test_creating_an_order_takes_five_statements(api: Api, count_statements: StatementCounter, lines: int) -> None:
    body = api.order_fixture(lines=[(2, "0.50")] * lines, tags=2)
    with count_statements:
        api.create("/order", body)
    # check contact and products, load tags, insert the order, its lines (one batch), its tag links
    assert count_statements.count == 5, count_statements.statements
