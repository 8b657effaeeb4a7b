"""The generated SDK against the app in-process, every resource, through each family, blocking and asyncio.

Blocking calls go through the suite's test client; asyncio calls through an `AsyncTestClient` running an app
of their own on the test's event loop (an app's asyncpg pool belongs to one loop). Money is `Decimal` both ways.
"""

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient, TestClient
from sqlalchemy.engine import URL

from sale_orders.app import create_app
from sale_orders_client import Client
from sale_orders_client.models import (
    Contact,
    ContactCreate,
    ContactUpdate,
    Order,
    OrderCreate,
    OrderLine,
    OrderUpdate,
    ProblemDetails,
    Product,
    ProductCreate,
    ProductUpdate,
    Tag,
    TagCreate,
    TagUpdate,
)
from tests.support.database import EMPTY, row_counts
from tests.support.sdk import MODES, Sdk


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run_through_sdk(
    flow: Callable[[Sdk], Awaitable[None]], family: str, mode: str, client: TestClient[Litestar], database_url: URL
) -> None:
    async def run() -> None:
        if mode == "blocking":
            await flow(Sdk(family, Client(base_url=str(client.base_url)).set_httpx_client(client), use_asyncio=False))
            return
        async with AsyncTestClient(create_app(database_url)) as http:
            sdk_client = Client(base_url=str(http.base_url)).set_async_httpx_client(http)
            await flow(Sdk(family, sdk_client, use_asyncio=True))

    asyncio.run(run())


async def assert_gone(sdk: Sdk, resource: str, item_id: int) -> None:
    missing = await sdk.expect(404, f"get_{resource}", item_id=item_id)
    assert isinstance(missing, ProblemDetails)
    assert missing.type_ == "urn:sale-orders:problem:not-found"
    assert str(item_id) in missing.detail


def test_every_resource_through_the_sdk(
    family: str, mode: str, client: TestClient[Litestar], database_url: URL
) -> None:
    async def flow(sdk: Sdk) -> None:
        contact = await sdk.expect(201, "create_contact", body=ContactCreate(name="Ann", email="ann@example.com"))
        apple = await sdk.expect(201, "create_product", body=ProductCreate(name="apple"))
        bread = await sdk.expect(201, "create_product", body=ProductCreate(name="bread"))
        tags = [await sdk.expect(201, "create_tag", body=TagCreate(name=name)) for name in ("shopping", "food")]
        assert isinstance(contact, Contact)
        assert (contact.name, contact.email) == ("Ann", "ann@example.com")
        assert isinstance(apple, Product)
        assert isinstance(bread, Product)
        assert all(isinstance(tag, Tag) for tag in tags)
        assert await sdk.expect(200, "get_contact", item_id=contact.id) == contact
        assert await sdk.expect(200, "get_product", item_id=apple.id) == apple
        assert await sdk.expect(200, "get_tag", item_id=tags[0].id) == tags[0]
        assert await sdk.expect(200, "list_contacts") == [contact]
        assert await sdk.expect(200, "list_products", limit=1) == [apple]
        assert await sdk.expect(200, "list_tags", after=tags[0].id) == [tags[1]]

        body = OrderCreate(
            name="SO001",
            contact_id=contact.id,
            order_lines=[
                OrderLine(product_id=apple.id, quantity=1, price=Decimal("0.25")),
                OrderLine(product_id=bread.id, quantity=2, price=Decimal("1.25")),
            ],
            tag_ids=[tag.id for tag in tags],
        )
        created = await sdk.expect(201, "create_order", body=body)
        assert isinstance(created, Order)
        assert created.amount_total == Decimal("2.75")
        assert [line.price for line in created.order_lines] == [Decimal("0.25"), Decimal("1.25")]
        assert all(type(line.price) is Decimal for line in created.order_lines)
        assert type(created.amount_total) is Decimal
        assert [tag.name for tag in created.tags] == ["shopping", "food"]
        assert await sdk.expect(200, "get_order", item_id=created.id) == created
        assert await sdk.expect(200, "list_orders") == [created]
        assert row_counts(database_url) == {
            **EMPTY,
            "contact": 1,
            "product": 2,
            "tag": 2,
            "sale_order": 1,
            "sale_order_line": 2,
            "sale_order_tag": 2,
        }

        renamed = await sdk.expect(200, "update_contact", item_id=contact.id, body=ContactUpdate(name="Anna"))
        assert renamed == Contact(id=contact.id, name="Anna", email="ann@example.com")
        green = await sdk.expect(200, "update_product", item_id=apple.id, body=ProductUpdate(name="green apple"))
        assert green == Product(id=apple.id, name="green apple")
        groceries = await sdk.expect(200, "update_tag", item_id=tags[1].id, body=TagUpdate(name="groceries"))
        assert groceries == Tag(id=tags[1].id, name="groceries")
        assert await sdk.expect(200, "list_tags") == [tags[0], groceries]
        changes = OrderUpdate(
            order_lines=[OrderLine(product_id=bread.id, quantity=4, price=Decimal("0.5"))], tag_ids=[]
        )
        changed = await sdk.expect(200, "update_order", item_id=created.id, body=changes)
        assert isinstance(changed, Order)
        assert (changed.amount_total, changed.tags, changed.name) == (Decimal("2.00"), [], "SO001")
        assert await sdk.expect(200, "get_order", item_id=created.id) == changed

        in_use = await sdk.expect(409, "delete_contact", item_id=contact.id)
        assert isinstance(in_use, ProblemDetails)
        assert in_use.type_ == "urn:sale-orders:problem:conflict"
        await sdk.expect(204, "delete_order", item_id=created.id)
        await assert_gone(sdk, "order", created.id)
        for resource, item_id in [("contact", contact.id), ("product", apple.id), ("tag", tags[0].id)]:
            await sdk.expect(204, f"delete_{resource}", item_id=item_id)
            await assert_gone(sdk, resource, item_id)
        assert row_counts(database_url) == {**EMPTY, "product": 1, "tag": 1}

    run_through_sdk(flow, family, mode, client, database_url)
