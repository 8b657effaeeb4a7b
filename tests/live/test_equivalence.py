"""Properties: the sync and async families return equivalent sale orders, through the generated SDK.

Valid payloads come from Schemathesis' strategies for the committed contract (so they cover whatever the
contract allows), with their ids mapped onto rows that exist. Calls go through the SDK's blocking and
asyncio functions against a live server; each example asserts only on what it created.
"""

import asyncio
import json
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from sale_orders.contract import CONTRACT_PATH
from sale_orders_client import Client
from sale_orders_client.api.async_ import (
    async_create_order,
    async_delete_order,
    async_get_order,
    async_list_orders,
    async_update_order,
)
from sale_orders_client.api.sync import (
    sync_create_order,
    sync_delete_order,
    sync_get_order,
    sync_list_orders,
    sync_update_order,
)
from sale_orders_client.models import Order, OrderCreate, OrderUpdate
from tests.support import REPO_ROOT
from tests.support.contract import as_httpx_request
from tests.support.servers import LiveServer

CONTRACT = json.loads((REPO_ROOT / CONTRACT_PATH).read_text())
schema = schemathesis.openapi.from_dict(CONTRACT)
ORDER_BODIES = schema["/sync/order"]["POST"].as_strategy().map(lambda case: case.body)
ORDER_CHANGES = schema["/sync/order/{item_id}"]["PATCH"].as_strategy().map(lambda case: case.body)
POOL = 4  # contacts, products and tags that generated ids are mapped onto


class Families:
    """Both families through the SDK: `create`/`get`/... by family name, blocking or asyncio."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.client = Client(base_url=base_url, raise_on_unexpected_status=True)

    def create(self, family: str, body: dict[str, Any], *, use_asyncio: bool) -> Order:
        module = sync_create_order if family == "sync" else async_create_order
        return self._order(module, use_asyncio, body=OrderCreate.from_dict(body))

    def get(self, family: str, order_id: int, *, use_asyncio: bool) -> Any:
        module = sync_get_order if family == "sync" else async_get_order
        return self._call(module, use_asyncio, item_id=order_id)

    def update(self, family: str, order_id: int, changes: dict[str, Any], *, use_asyncio: bool) -> Order:
        module = sync_update_order if family == "sync" else async_update_order
        return self._order(module, use_asyncio, item_id=order_id, body=OrderUpdate.from_dict(changes))

    def delete(self, family: str, order_id: int, *, use_asyncio: bool) -> int:
        module = sync_delete_order if family == "sync" else async_delete_order
        return int(self._detailed(module, use_asyncio, item_id=order_id).status_code)

    def page(self, family: str, after: int, limit: int) -> list[Order]:
        module = sync_list_orders if family == "sync" else async_list_orders
        result = module.sync(client=self.client, after=after, limit=limit)
        assert isinstance(result, list)
        return result

    def _order(self, module: Any, use_asyncio: bool, **kwargs: Any) -> Order:
        result = self._call(module, use_asyncio, **kwargs)
        assert isinstance(result, Order), result
        return result

    def _call(self, module: Any, use_asyncio: bool, **kwargs: Any) -> Any:
        return self._detailed(module, use_asyncio, **kwargs).parsed

    def _detailed(self, module: Any, use_asyncio: bool, **kwargs: Any) -> Any:
        if not use_asyncio:
            return module.sync_detailed(client=self.client, **kwargs)

        async def call() -> Any:
            async with Client(base_url=self.base_url) as client:
                return await module.asyncio_detailed(client=client, **kwargs)

        return asyncio.run(call())


@pytest.fixture(scope="module")
def families(live_server: LiveServer) -> Families:
    return Families(live_server.base_url)


@pytest.fixture(scope="module")
def pool(live_server: LiveServer) -> dict[str, list[int]]:
    """Contacts, products and tags that every example's ids are mapped onto."""
    run = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=live_server.base_url) as http:

        def create(path: str, body: dict[str, str]) -> int:
            response = http.post(path, json=body)
            assert response.status_code == 201, response.text
            return int(response.json()["id"])

        return {
            "contact": [create("/sync/contact", {"name": f"c{i}", "email": f"c{i}@example.com"}) for i in range(POOL)],
            "product": [create("/async/product", {"name": f"p{i}"}) for i in range(POOL)],
            "tag": [create("/sync/tag", {"name": f"equivalence {run} {i}"}) for i in range(POOL)],
        }


def onto_pool(body: dict[str, Any], pool: dict[str, list[int]]) -> dict[str, Any]:
    """The same payload, with every id replaced by an existing one (tag ids stay distinct)."""
    mapped = dict(body)
    if "contact_id" in body:
        mapped["contact_id"] = pool["contact"][int(body["contact_id"]) % POOL]
    if "order_lines" in body:
        mapped["order_lines"] = [
            {**line, "product_id": pool["product"][int(line["product_id"]) % POOL]} for line in body["order_lines"]
        ]
    if "tag_ids" in body:
        mapped["tag_ids"] = list(dict.fromkeys(pool["tag"][int(tag) % POOL] for tag in body["tag_ids"]))
    if "name" in body:
        mapped["name"] = f"{body['name'][:180]} {uuid.uuid4().hex[:8]}"  # unique per example
    return mapped


def exact_total(body: dict[str, Any]) -> Decimal:
    """The oracle: sum of quantity x price, in Decimal, from the numbers as written in the request."""
    return sum(
        (Decimal(repr(float(line["price"]))) * int(line["quantity"]) for line in body.get("order_lines", [])),
        Decimal(0),
    )


def as_json(order: Order) -> dict[str, Any]:
    return order.to_dict()


FAMILY_PAIRS = [("sync", "async"), ("async", "sync")]


@pytest.mark.parametrize(("writer", "reader"), FAMILY_PAIRS)
@given(body=ORDER_BODIES, write_asyncio=st.booleans(), read_asyncio=st.booleans())
def test_created_through_one_family_reads_the_same_through_the_other(
    families: Families,
    pool: dict[str, list[int]],
    writer: str,
    reader: str,
    body: dict[str, Any],
    write_asyncio: bool,
    read_asyncio: bool,
) -> None:
    body = onto_pool(body, pool)
    created = families.create(writer, body, use_asyncio=write_asyncio)
    read = families.get(reader, created.id, use_asyncio=read_asyncio)
    assert as_json(read) == as_json(created)
    assert Decimal(repr(created.amount_total)) == exact_total(body)
    assert [line.to_dict() for line in created.order_lines] == [
        {**line, "price": float(line["price"]), "quantity": int(line["quantity"])}
        for line in body.get("order_lines", [])
    ]
    assert [tag.id for tag in created.tags] == sorted(body.get("tag_ids", []))


@given(body=ORDER_BODIES)
def test_the_same_order_through_each_family_is_equal_apart_from_id(
    families: Families, pool: dict[str, list[int]], body: dict[str, Any]
) -> None:
    body = onto_pool(body, pool)
    through_sync = as_json(families.create("sync", body, use_asyncio=False))
    through_async = as_json(families.create("async", body, use_asyncio=True))
    assert through_sync.pop("id") != through_async.pop("id")
    assert through_sync == through_async


@pytest.mark.parametrize(("writer", "reader"), FAMILY_PAIRS)
@given(body=ORDER_BODIES, changes=ORDER_CHANGES, use_asyncio=st.booleans())
def test_updates_and_deletes_through_one_family_show_through_the_other(
    families: Families,
    pool: dict[str, list[int]],
    writer: str,
    reader: str,
    body: dict[str, Any],
    changes: dict[str, Any],
    use_asyncio: bool,
) -> None:
    order = families.create(writer, onto_pool(body, pool), use_asyncio=use_asyncio)
    changed = families.update(writer, order.id, onto_pool(changes, pool), use_asyncio=use_asyncio)
    assert as_json(families.get(reader, order.id, use_asyncio=not use_asyncio)) == as_json(changed)
    assert families.delete(writer, order.id, use_asyncio=use_asyncio) == 204
    assert families.delete(reader, order.id, use_asyncio=not use_asyncio) == 404


BROKEN = st.sampled_from(
    [
        ("contact_id", 2**53 - 1),
        ("order_lines", [{"product_id": 2**53 - 1, "quantity": 1, "price": 1}]),
        ("tag_ids", [2**53 - 1]),
        ("order_lines", [{"product_id": 1, "quantity": 0, "price": 1}]),
        ("order_lines", [{"product_id": 1, "quantity": -3, "price": 1}]),
        ("order_lines", [{"product_id": 1, "quantity": "2", "price": 1}]),
        ("order_lines", [{"product_id": 1, "quantity": 1, "price": -1}]),
        ("order_lines", [{"product_id": 1, "quantity": 1, "price": 0.001}]),
        ("order_lines", [{"product_id": 1, "quantity": 1, "price": "1.00"}]),
        ("contact_id", "1"),
        ("contact_id", None),
        ("name", 7),
        ("tag_ids", [1, 1]),
        ("surprise", True),
    ]
)


@given(body=ORDER_BODIES, breakage=BROKEN)
def test_both_families_reject_broken_orders_alike(
    families: Families, pool: dict[str, list[int]], body: dict[str, Any], breakage: tuple[str, Any]
) -> None:
    field, value = breakage
    broken = {**onto_pool(body, pool), field: value}
    http = families.client.get_httpx_client()
    answers = [http.post(f"/{family}/order", json=broken) for family in ("sync", "async")]
    assert answers[0].status_code == answers[1].status_code
    assert 400 <= answers[0].status_code < 500
    assert answers[0].json()["type"] == answers[1].json()["type"]


@given(after=st.integers(min_value=1, max_value=2**53 - 1) | st.just(1), limit=st.integers(min_value=1, max_value=100))
def test_pages_are_the_same_through_both_families(families: Families, after: int, limit: int) -> None:
    sync_page = [as_json(order) for order in families.page("sync", after, limit)]
    async_page = [as_json(order) for order in families.page("async", after, limit)]
    assert sync_page == async_page
    assert [order["id"] for order in sync_page] == sorted(order["id"] for order in sync_page)


@given(case=schema["/sync/order"]["POST"].as_strategy(GenerationMode.NEGATIVE))
def test_both_families_answer_contract_violations_alike(families: Families, case: schemathesis.Case) -> None:
    http = families.client.get_httpx_client()
    request = as_httpx_request(case.as_transport_kwargs(base_url=families.base_url))
    answers = [http.post(f"/{family}/order", **request) for family in ("sync", "async")]
    assert answers[0].status_code == answers[1].status_code, answers[0].text
    assert 400 <= answers[0].status_code < 500, answers[0].text
    assert answers[0].json()["type"] == answers[1].json()["type"]
