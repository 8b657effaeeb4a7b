"""The generated SDK against the app in-process: the test client is handed to the SDK's client."""

from decimal import Decimal

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from sale_orders_client import Client
from sale_orders_client.api.async_ import async_create_order, async_get_order
from sale_orders_client.api.sync import (
    sync_create_contact,
    sync_create_product,
    sync_create_tag,
    sync_get_order,
    sync_list_orders,
)
from sale_orders_client.models import (
    ContactCreate,
    Order,
    OrderCreate,
    OrderLine,
    ProblemDetails,
    ProductCreate,
    TagCreate,
)


@pytest.fixture
def sdk(client: TestClient[Litestar]) -> Client:
    return Client(base_url=str(client.base_url)).set_httpx_client(client)


def test_original_flow_through_the_sdk_in_both_families(sdk: Client) -> None:
    contact = sync_create_contact.sync(client=sdk, body=ContactCreate(name="Ann", email="ann@example.com"))
    apple = sync_create_product.sync(client=sdk, body=ProductCreate(name="apple"))
    bread = sync_create_product.sync(client=sdk, body=ProductCreate(name="bread"))
    tags = [sync_create_tag.sync(client=sdk, body=TagCreate(name=name)) for name in ("shopping", "food")]
    assert contact
    assert apple
    assert bread
    assert all(tags)
    body = OrderCreate(
        name="SO001",
        contact_id=contact.id,
        order_lines=[
            OrderLine(product_id=apple.id, quantity=1, price=0.25),
            OrderLine(product_id=bread.id, quantity=2, price=1.25),
        ],
        tag_ids=[tag.id for tag in tags],
    )
    created = async_create_order.sync(client=sdk, body=body)
    assert isinstance(created, Order)
    assert Decimal(repr(created.amount_total)) == Decimal("2.75")
    assert [tag.name for tag in created.tags] == ["shopping", "food"]
    read = sync_get_order.sync(client=sdk, item_id=created.id)
    assert isinstance(read, Order)
    assert read.to_dict() == created.to_dict()
    assert sync_list_orders.sync(client=sdk) == [read]

    missing = async_get_order.sync_detailed(client=sdk, item_id=999)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, ProblemDetails)
    assert missing.parsed.type_ == "urn:sale-orders:problem:not-found"
