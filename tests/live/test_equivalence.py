"""Properties: the sync and async families behave the same for every resource, through the generated SDK.

Valid payloads come from Schemathesis' strategies for the committed contract (so they cover whatever the
contract allows), with their ids mapped onto rows that exist. Calls go through the SDK's blocking and
asyncio functions against a live server; each example asserts only on what it created, and pages are drawn
where rows are known to exist. Money is compared as the `Decimal`s the SDK reads.
"""

import asyncio
import itertools
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from email_validator import validate_email
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from sale_orders.domain import limits
from sale_orders.family.record import FAMILY_NAMES
from sale_orders_client import Client
from sale_orders_client.models import (
    ContactCreate,
    ContactUpdate,
    Order,
    OrderCreate,
    OrderUpdate,
    ProductCreate,
    ProductUpdate,
    TagCreate,
    TagUpdate,
)
from sale_orders_client.types import Response
from tests.support.contract import as_httpx_request, data_schema, json_object
from tests.support.sdk import operation
from tests.support.servers import LiveServer

if TYPE_CHECKING:
    from collections.abc import Callable

schema = data_schema()
RESOURCES = ("contact", "product", "tag", "order")
BODIES = {r: schema[f"/sync/{r}"]["POST"].as_strategy().map(json_object) for r in RESOURCES}
CHANGES = {r: schema[f"/sync/{r}/{{item_id}}"]["PATCH"].as_strategy().map(json_object) for r in RESOURCES}
CREATE: dict[str, type[ContactCreate | ProductCreate | TagCreate | OrderCreate]] = {
    "contact": ContactCreate,
    "product": ProductCreate,
    "tag": TagCreate,
    "order": OrderCreate,
}
UPDATE: dict[str, type[ContactUpdate | ProductUpdate | TagUpdate | OrderUpdate]] = {
    "contact": ContactUpdate,
    "product": ProductUpdate,
    "tag": TagUpdate,
    "order": OrderUpdate,
}
NAME_LENGTH = {"contact": limits.NAME_LENGTH, "product": limits.NAME_LENGTH, "tag": limits.TAG_LENGTH}
POOL = 4  # contacts, products and tags that generated ids are mapped onto
PAGED = 12  # rows of each resource created for the paging property, half through each family
FAMILY_PAIRS = list(itertools.permutations(FAMILY_NAMES, 2))


class Families:
    """Both families through the SDK: operations by family and resource, blocking or asyncio, as JSON."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.client = Client(base_url=base_url, raise_on_unexpected_status=True)

    def create(self, family: str, resource: str, body: dict[str, Any], *, use_asyncio: bool) -> dict[str, Any]:
        body_model = CREATE[resource].from_dict(body)
        return self._expect(201, family, f"create_{resource}", use_asyncio, body=body_model)

    def get(self, family: str, resource: str, item_id: int, *, use_asyncio: bool) -> dict[str, Any]:
        return self._expect(200, family, f"get_{resource}", use_asyncio, item_id=item_id)

    def update(
        self, family: str, resource: str, item_id: int, changes: dict[str, Any], *, use_asyncio: bool
    ) -> dict[str, Any]:
        body = UPDATE[resource].from_dict(changes)
        return self._expect(200, family, f"update_{resource}", use_asyncio, item_id=item_id, body=body)

    def delete(self, family: str, resource: str, item_id: int, *, use_asyncio: bool) -> int:
        return int(self._detailed(family, f"delete_{resource}", use_asyncio, item_id=item_id).status_code)

    def page(self, family: str, resource: str, after: int | None, limit: int) -> list[dict[str, Any]]:
        bounds = {"limit": limit} if after is None else {"after": after, "limit": limit}
        response = self._detailed(family, f"list_{resource}s", use_asyncio=False, **bounds)
        assert response.status_code == 200, response.content
        assert response.parsed is not None
        return [as_data(item) for item in response.parsed]

    def _expect(self, status: int, family: str, name: str, use_asyncio: bool, **kwargs: Any) -> dict[str, Any]:
        response = self._detailed(family, name, use_asyncio, **kwargs)
        assert response.status_code == status, (family, name, response.content)
        assert response.parsed is not None
        return as_data(response.parsed)

    def _detailed(self, family: str, name: str, use_asyncio: bool, **kwargs: Any) -> Response[Any]:
        module = operation(family, name)
        if not use_asyncio:
            response: Response[Any] = module.sync_detailed(client=self.client, **kwargs)
            return response

        async def call() -> Response[Any]:
            async with Client(base_url=self.base_url) as client:
                answer: Response[Any] = await module.asyncio_detailed(client=client, **kwargs)
                return answer

        return asyncio.run(call())


def as_data(parsed: Any) -> dict[str, Any]:
    """A model the SDK parsed, as JSON-like data with its money as the Decimals it read (`to_dict` writes floats)."""
    data: dict[str, Any] = parsed.to_dict()
    if isinstance(parsed, Order):
        data["amount_total"] = parsed.amount_total
        data["order_lines"] = [{**line.to_dict(), "price": line.price} for line in parsed.order_lines]
    return data


@pytest.fixture(scope="module")
def families(live_server: LiveServer) -> Families:
    return Families(live_server.base_url)


def _post(http: httpx.Client, path: str, body: dict[str, Any]) -> int:
    response = http.post(path, json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture(scope="module")
def pool(live_server: LiveServer) -> dict[str, list[int]]:
    """Contacts, products and tags that every example's ids are mapped onto."""
    run = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=live_server.base_url) as http:
        return {
            "contact": [
                _post(http, "/sync/contact", {"name": f"c{i}", "email": f"c{i}@example.com"}) for i in range(POOL)
            ],
            "product": [_post(http, "/async/product", {"name": f"p{i}"}) for i in range(POOL)],
            "tag": [_post(http, "/sync/tag", {"name": f"equivalence {run} {i}"}) for i in range(POOL)],
        }


@pytest.fixture(scope="module")
def paged(live_server: LiveServer, pool: dict[str, list[int]]) -> dict[str, list[int]]:
    """PAGED rows of every resource, created alternately through each family: the ids pages are drawn among."""
    run = uuid.uuid4().hex[:8]
    bodies: dict[str, Callable[[int], dict[str, Any]]] = {
        "contact": lambda i: {"name": f"paged {i}", "email": f"paged{i}@example.com"},
        "product": lambda i: {"name": f"paged {i}"},
        "tag": lambda i: {"name": f"paged {run} {i}"},
        "order": lambda i: {
            "name": f"paged {i}",
            "contact_id": pool["contact"][i % POOL],
            "order_lines": [{"product_id": pool["product"][i % POOL], "quantity": 1 + i, "price": 0.5}],
            "tag_ids": [pool["tag"][i % POOL]],
        },
    }
    with httpx.Client(base_url=live_server.base_url) as http:
        return {
            resource: [_post(http, f"/{FAMILY_PAIRS[i % 2][0]}/{resource}", make(i)) for i in range(PAGED)]
            for resource, make in bodies.items()
        }


def unique(name: str, resource: str) -> str:
    """`name`, cut to leave room for a suffix that makes it unique per example (tag names must be)."""
    return f"{name[: NAME_LENGTH.get(resource, limits.NAME_LENGTH) - 9]} {uuid.uuid4().hex[:8]}"


def onto_pool(resource: str, body: dict[str, Any], pool: dict[str, list[int]]) -> dict[str, Any]:
    """The same payload, with every id replaced by an existing one (tag ids stay distinct), and a unique name."""
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
        mapped["name"] = unique(body["name"], resource)
    return mapped


def as_written(number: float) -> Decimal:
    """A JSON number of a request as the decimal it was written as (its shortest repr)."""
    return Decimal(repr(float(number)))


def exact_total(body: dict[str, Any]) -> Decimal:
    """The oracle: sum of quantity x price, in Decimal, from the numbers as written in the request."""
    return sum(
        (as_written(line["price"]) * int(line["quantity"]) for line in body.get("order_lines", [])),
        Decimal(0),
    )


def assert_stored_as_sent(resource: str, body: dict[str, Any], created: dict[str, Any]) -> None:
    """What a create answers is what was sent: e-mails normalised, order totals exact, tags by id."""
    if resource != "order":
        expected = {**body, "id": created["id"]}
        if "email" in body:
            expected["email"] = validate_email(
                body["email"], check_deliverability=False, test_environment=True
            ).normalized
        assert created == expected
        return
    assert (created["name"], created["contact_id"]) == (body["name"], body["contact_id"])
    assert type(created["amount_total"]) is Decimal
    assert created["amount_total"] == exact_total(body)
    assert all(type(line["price"]) is Decimal for line in created["order_lines"])
    assert created["order_lines"] == [
        {**line, "price": as_written(line["price"]), "quantity": int(line["quantity"])}
        for line in body.get("order_lines", [])
    ]
    assert [tag["id"] for tag in created["tags"]] == sorted(body.get("tag_ids", []))


@pytest.mark.parametrize(("writer", "reader"), FAMILY_PAIRS)
@pytest.mark.parametrize("resource", RESOURCES)
@given(data=st.data(), write_asyncio=st.booleans(), read_asyncio=st.booleans())
def test_created_through_one_family_reads_the_same_through_the_other(
    families: Families,
    pool: dict[str, list[int]],
    resource: str,
    writer: str,
    reader: str,
    data: st.DataObject,
    write_asyncio: bool,
    read_asyncio: bool,
) -> None:
    body = onto_pool(resource, data.draw(BODIES[resource], label="body"), pool)
    created = families.create(writer, resource, body, use_asyncio=write_asyncio)
    assert families.get(reader, resource, created["id"], use_asyncio=read_asyncio) == created
    assert_stored_as_sent(resource, body, created)


@pytest.mark.parametrize("resource", RESOURCES)
@given(data=st.data())
def test_the_same_body_through_each_family_is_equal_apart_from_id(
    families: Families, pool: dict[str, list[int]], resource: str, data: st.DataObject
) -> None:
    # Deleted in between, so that a unique name (tags) can be created again.
    body = onto_pool(resource, data.draw(BODIES[resource], label="body"), pool)
    through_sync = families.create("sync", resource, body, use_asyncio=False)
    assert families.delete("sync", resource, through_sync["id"], use_asyncio=False) == 204
    through_async = families.create("async", resource, body, use_asyncio=True)
    assert through_sync.pop("id") != through_async.pop("id")
    assert through_sync == through_async


@pytest.mark.parametrize(("writer", "reader"), FAMILY_PAIRS)
@pytest.mark.parametrize("resource", RESOURCES)
@given(data=st.data(), use_asyncio=st.booleans())
def test_updates_and_deletes_through_one_family_show_through_the_other(
    families: Families,
    pool: dict[str, list[int]],
    resource: str,
    writer: str,
    reader: str,
    data: st.DataObject,
    use_asyncio: bool,
) -> None:
    created = families.create(
        writer, resource, onto_pool(resource, data.draw(BODIES[resource]), pool), use_asyncio=use_asyncio
    )
    changes = onto_pool(resource, data.draw(CHANGES[resource], label="changes"), pool)
    changed = families.update(writer, resource, created["id"], changes, use_asyncio=use_asyncio)
    if resource != "order":
        assert {key: changed[key] for key in changes if key != "email"} == {
            k: v for k, v in changes.items() if k != "email"
        }
    assert families.get(reader, resource, created["id"], use_asyncio=not use_asyncio) == changed
    assert families.delete(writer, resource, created["id"], use_asyncio=use_asyncio) == 204
    assert families.delete(reader, resource, created["id"], use_asyncio=not use_asyncio) == 404


# A valid body broken one way, and the problem both families must answer: (field, value, status, kind).
BROKEN: dict[str, list[tuple[str, object, int, str]]] = {
    "contact": [
        ("email", "not an e-mail", 400, "validation-error"),
        ("name", "", 400, "validation-error"),
        ("name", 7, 400, "validation-error"),
        ("id", 5, 400, "validation-error"),
    ],
    "product": [
        ("name", None, 400, "validation-error"),
        ("name", "x" * (limits.NAME_LENGTH + 1), 400, "validation-error"),
        ("surprise", True, 400, "validation-error"),
    ],
    "tag": [
        ("name", "x" * (limits.TAG_LENGTH + 1), 400, "validation-error"),
        ("name", "a\x00b", 400, "validation-error"),
        ("name", "taken", 409, "conflict"),  # the name of an existing tag
    ],
    "order": [
        ("contact_id", limits.MAX_ID, 422, "missing-reference"),
        ("order_lines", [{"product_id": limits.MAX_ID, "quantity": 1, "price": 1}], 422, "missing-reference"),
        ("tag_ids", [limits.MAX_ID], 422, "missing-reference"),
        ("order_lines", [{"product_id": 1, "quantity": 0, "price": 1}], 400, "validation-error"),
        ("order_lines", [{"product_id": 1, "quantity": -3, "price": 1}], 400, "validation-error"),
        ("order_lines", [{"product_id": 1, "quantity": "2", "price": 1}], 400, "validation-error"),
        ("order_lines", [{"product_id": 1, "quantity": 1, "price": -1}], 400, "validation-error"),
        ("order_lines", [{"product_id": 1, "quantity": 1, "price": 0.001}], 400, "validation-error"),
        ("order_lines", [{"product_id": 1, "quantity": 1, "price": "1.00"}], 400, "validation-error"),
        ("contact_id", "1", 400, "validation-error"),
        ("contact_id", None, 400, "validation-error"),
        ("name", 7, 400, "validation-error"),
        ("tag_ids", [1, 1], 400, "validation-error"),
        ("surprise", True, 400, "validation-error"),
    ],
}


@pytest.mark.parametrize("resource", RESOURCES)
@given(data=st.data())
def test_both_families_reject_broken_bodies_alike(
    families: Families, pool: dict[str, list[int]], resource: str, data: st.DataObject
) -> None:
    field, value, status, kind = data.draw(st.sampled_from(BROKEN[resource]), label="breakage")
    if value == "taken":
        value = families.get("sync", "tag", pool["tag"][0], use_asyncio=False)["name"]
    broken = {**onto_pool(resource, data.draw(BODIES[resource], label="body"), pool), field: value}
    http = families.client.get_httpx_client()
    for family in FAMILY_NAMES:
        answer = http.post(f"/{family}/{resource}", json=broken)
        assert answer.status_code == status, (family, answer.text)
        assert answer.json()["type"] == f"urn:sale-orders:problem:{kind}", (family, answer.text)


@pytest.mark.parametrize("resource", RESOURCES)
@given(data=st.data(), limit=st.integers(min_value=1, max_value=100))
def test_pages_are_the_same_through_both_families(
    families: Families, paged: dict[str, list[int]], resource: str, data: st.DataObject, limit: int
) -> None:
    known = paged[resource]
    # Start before, among or at the end of the known rows, so that pages hold data.
    after = data.draw(st.none() | st.integers(min_value=max(1, known[0] - 1), max_value=known[-1] - 1), label="after")
    sync_page = families.page("sync", resource, after, limit)
    assert sync_page == families.page("async", resource, after, limit)
    ids = [item["id"] for item in sync_page]
    assert sync_page, "a page drawn among existing rows is not empty"
    assert ids == sorted(ids)
    assert len(ids) <= limit
    assert all(item_id > (after or 0) for item_id in ids)
    # No known row is skipped: every known row after `after`, up to the page's end, is on it.
    end = ids[-1] if len(ids) == limit else known[-1]
    assert [item_id for item_id in known if (after or 0) < item_id <= end] == [i for i in ids if i in known]


@pytest.mark.parametrize("resource", RESOURCES)
@given(data=st.data())
def test_both_families_answer_contract_violations_alike(families: Families, resource: str, data: st.DataObject) -> None:
    case = data.draw(schema[f"/sync/{resource}"]["POST"].as_strategy(GenerationMode.NEGATIVE), label="case")
    http = families.client.get_httpx_client()
    request = as_httpx_request(case.as_transport_kwargs(base_url=families.base_url))
    for family in FAMILY_NAMES:
        answer = http.post(f"/{family}/{resource}", **request)
        assert answer.status_code == 400, (family, answer.text)
        assert answer.json()["type"] == "urn:sale-orders:problem:validation-error", (family, answer.text)
