"""A page never shows a row before a lower id that may still appear: following `after` skips no committed row.

The deterministic case: a transaction has drawn an order id and inserted the order but not committed (as a
create still in flight); a later create commits with a higher id. The later order is readable by id at once, but
no page shows it until the earlier transaction has ended, so a client that pages past it cannot skip the
earlier one. The same for contacts, products and tags.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Connection

from sale_orders.db.drivers import PSYCOPG2
from sale_orders.db.queries import catalog, orders
from tests.support.api import Api


@contextmanager
def create_in_flight(database_url: URL, statement: Any, parameters: dict[str, Any]) -> Iterator[Connection]:
    """The product's create statement run in a transaction that stays open while the block runs, then commits."""
    engine = create_engine(PSYCOPG2.url(database_url))
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            connection.execute(statement, parameters)
            yield connection
            transaction.commit()
    finally:
        engine.dispose()


def ids(page: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in page]


def test_an_order_is_not_paged_past_one_still_being_created(api: Api, database_url: URL) -> None:
    body = api.order_fixture(tags=0)
    first = api.create("/order", body)["id"]
    in_flight_parameters = orders.creation_parameters(api_order(body))
    with create_in_flight(database_url, orders.CREATE_ORDER, in_flight_parameters):
        later = api.create("/order", body)["id"]
        assert api.get(f"/order/{later}").status_code == 200  # readable at once, by id
        for family_api in (api, api.other):
            assert ids(family_api.get("/order?limit=100").json()) == [first]  # but not paged past the one in flight
    assert ids(api.get("/order?limit=100").json()) == [first, later - 1, later]


def test_a_contact_is_not_paged_past_one_still_being_created(api: Api, database_url: URL) -> None:
    first = api.create("/contact", {"name": "first", "email": "a@example.com"})["id"]
    with create_in_flight(database_url, catalog.CONTACTS.insert, {"name": "in flight", "email": "b@example.com"}):
        later = api.create("/contact", {"name": "later", "email": "c@example.com"})["id"]
        assert ids(api.get("/contact?limit=100").json()) == [first]
        assert ids(api.other.get(f"/contact?after={first}").json()) == []
    assert ids(api.get(f"/contact?after={first}").json()) == [later - 1, later]


def api_order(body: dict[str, Any]) -> Any:
    from sale_orders.domain.schemas import OrderCreate  # noqa: PLC0415

    return OrderCreate.model_validate(body)
