"""The generated SDK's money is `decimal.Decimal`, read and written, and the same JSON numbers on the wire.

The SDK reads a money number as `Decimal(str(number))` and writes the float that spells the Decimal exactly,
refusing one that a float would change. Calls go through the SDK's blocking and asyncio functions to an
`httpx.MockTransport` that answers as the server does (totals computed in Decimal, written as JSON numbers).
"""

import asyncio
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sale_orders.domain import limits
from sale_orders_client import AuthenticatedClient
from sale_orders_client.api.async_ import async_create_order
from sale_orders_client.api.sync import sync_create_order
from sale_orders_client.models import Order, OrderCreate, OrderLine, Tag
from sale_orders_client.types import decimal_from_json, decimal_to_json
from tests.support.sdk import MODES

KEY = "test-key"  # the API key the client sends
MAX_CENTS = int(limits.MAX_PRICE * 100)
cents = st.integers(0, MAX_CENTS)
# A total has at most 15 significant digits: 100 lines x 10,000 x 1,000,000.00 is below 10**12.
totals = st.integers(0, 10**15 - 1).map(lambda units: Decimal(units) / 100)


def json_number_texts(wire: bytes | str) -> list[str]:
    """Every non-integer JSON number in `wire`, as the text it is written with."""
    texts: list[str] = []

    def keep(text: str) -> str:
        texts.append(text)
        return text

    json.loads(wire, parse_float=keep)
    return texts


def line(price: Decimal, product_id: int = 1, quantity: int = 1) -> OrderLine:
    return OrderLine(product_id=product_id, quantity=quantity, price=price)


def dimes() -> OrderCreate:
    """Three lines at 0.1: 0.30000000000000004 in floats, 0.3 in decimals."""
    return OrderCreate(name="SO-DIMES", contact_id=1, order_lines=[line(Decimal("0.1"), i) for i in (1, 2, 3)])


class FakeOrders:
    """An httpx transport that creates orders as the server does, and keeps the bodies it was sent."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.content)
        body = json.loads(request.content, parse_float=Decimal)
        lines = body.get("order_lines", [])
        total = sum((Decimal(item["price"]) * item["quantity"] for item in lines), Decimal(0))
        order = {
            "id": 1,
            "name": body["name"],
            "contact_id": body["contact_id"],
            "order_lines": [{**item, "price": float(item["price"])} for item in lines],
            "tags": [],
            "amount_total": float(total),  # the server writes money as the float of its Decimal
        }
        return httpx.Response(201, json=order)

    def client(self) -> AuthenticatedClient:
        transport = httpx.MockTransport(self)
        return AuthenticatedClient(base_url="http://127.0.0.1:9", token=KEY, httpx_args={"transport": transport})


def create(fake: FakeOrders, mode: str, body: OrderCreate) -> Any:
    """`body` created through the SDK's blocking or asyncio function; the parsed answer."""
    if mode == "blocking":
        with fake.client() as client:
            return sync_create_order.sync(client=client, body=body)

    async def call() -> Any:
        async with fake.client() as client:
            return await async_create_order.asyncio(client=client, body=body)

    return asyncio.run(call())


def test_money_reads_as_decimal_and_other_fields_as_they_were() -> None:
    order = Order.from_dict(
        {
            "id": 7,
            "name": "SO001",
            "contact_id": 1,
            "order_lines": [
                {"product_id": 1, "quantity": 2, "price": 1.25},
                {"product_id": 2, "quantity": 1, "price": 5},
            ],
            "tags": [{"id": 3, "name": "food"}],
            "amount_total": 7.5,
        }
    )
    assert type(order.amount_total) is Decimal
    assert order.amount_total == Decimal("7.5")
    assert [(type(item.price), item.price) for item in order.order_lines] == [
        (Decimal, Decimal("1.25")),
        (Decimal, Decimal(5)),
    ]
    assert (order.id, order.tags) == (7, [Tag(id=3, name="food")])


def test_a_json_number_reads_as_the_decimal_it_spells() -> None:
    assert str(OrderLine.from_dict(json.loads('{"product_id": 1, "quantity": 1, "price": 0.1}')).price) == "0.1"
    assert decimal_from_json(0.29) == Decimal("0.29")
    assert decimal_from_json(json.loads("19.99", parse_float=Decimal)) == Decimal("19.99")
    for not_a_number in (True, "1.00", None):
        with pytest.raises(TypeError):
            decimal_from_json(not_a_number)
    with pytest.raises(ValueError, match="finite"):
        decimal_from_json(float("nan"))


def test_0_07_goes_out_as_the_json_number_0_07() -> None:
    assert json.dumps(line(Decimal("0.07")).to_dict()) == '{"price": 0.07, "product_id": 1, "quantity": 1}'
    # 0.07 is the case binary floats are known for: 7 * 0.01 is 0.07000000000000001.
    assert json_number_texts(json.dumps(line(Decimal(7) * Decimal("0.01")).to_dict())) == ["0.07"]


@pytest.mark.parametrize("mode", MODES)
def test_0_07_is_what_the_sdk_sends(mode: str) -> None:
    fake = FakeOrders()
    order = create(fake, mode, OrderCreate(name="SO", contact_id=1, order_lines=[line(Decimal("0.07"), quantity=3)]))
    assert json_number_texts(fake.sent[0]) == ["0.07"]
    assert isinstance(order, Order)
    assert order.amount_total == Decimal("0.21")


def test_every_price_to_100_round_trips_exactly() -> None:
    for k in range(10_001):
        price = Decimal(k) / 100
        wire = json.dumps(line(price).to_dict())
        assert OrderLine.from_dict(json.loads(wire)).price == price, price
        assert Decimal(json.loads(wire, parse_float=str)["price"]) == price, wire


@given(st.lists(cents, max_size=5), totals)
def test_orders_round_trip_exactly(line_cents: list[int], total: Decimal) -> None:
    order = Order(
        id=1,
        name="SO",
        contact_id=1,
        order_lines=[line(Decimal(c) / 100, i + 1) for i, c in enumerate(line_cents)],
        tags=[],
        amount_total=total,
    )
    back = Order.from_dict(json.loads(json.dumps(order.to_dict())))
    assert back == order
    assert [item.price for item in back.order_lines] == [Decimal(c) / 100 for c in line_cents]
    assert back.amount_total == total


@given(st.integers(0, 10**15 - 1), st.integers(-15, 5))
def test_every_decimal_of_15_significant_digits_is_sent_exactly(digits: int, exponent: int) -> None:
    value = Decimal(digits).scaleb(exponent)
    assert Decimal(repr(decimal_to_json(value))) == value


@pytest.mark.parametrize("mode", MODES)
def test_three_lines_at_0_1_total_exactly_0_3(mode: str) -> None:
    fake = FakeOrders()
    order = create(fake, mode, dimes())
    assert isinstance(order, Order)
    assert json_number_texts(fake.sent[0]) == ["0.1", "0.1", "0.1"]
    prices = [item.price for item in order.order_lines]
    assert all(type(price) is Decimal for price in prices)
    assert sum(prices, Decimal(0)) == Decimal("0.3")
    assert str(order.amount_total) == "0.3"
    assert sum(float(price) for price in prices) != 0.3  # what an SDK of floats would have summed


@pytest.mark.parametrize(
    "value",
    [
        Decimal("0.1000000000000000001"),  # 19 significant digits; a float would send 0.1
        Decimal("12345678901234567.89"),  # 19; a float would send 1.2345678901234568e+16
        Decimal("999999.999999999999"),  # 18; a float would send 1000000.0
    ],
)
def test_a_decimal_with_more_digits_than_a_float_keeps_is_refused(value: Decimal) -> None:
    assert len(value.as_tuple().digits) > 15
    with pytest.raises(ValueError, match="cannot be sent exactly"):
        line(value).to_dict()


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_a_decimal_that_is_not_finite_is_refused(value: Decimal) -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        Order(id=1, name="SO", contact_id=1, order_lines=[], tags=[], amount_total=value).to_dict()


@pytest.mark.parametrize("mode", MODES)
def test_a_refused_decimal_is_never_sent(mode: str) -> None:
    fake = FakeOrders()
    body = OrderCreate(name="SO", contact_id=1, order_lines=[line(Decimal("0.1000000000000000001"))])
    with pytest.raises(ValueError, match="cannot be sent exactly"):
        create(fake, mode, body)
    assert fake.sent == []
