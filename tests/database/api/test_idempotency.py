"""Idempotency-Key: a retried create returns the first object and creates nothing, in either family.

What exists afterwards is counted in SQL: one object and one key per request, however often it was sent.
"""

import json

import pytest
from sqlalchemy.engine import URL

from sale_orders.domain.schemas import OrderCreate
from sale_orders.family.fingerprints import fingerprint
from tests.support.api import Api, assert_problem
from tests.support.database import EMPTY, idempotency_keys, query, row_counts


def test_a_retry_returns_the_first_order_and_creates_nothing(api: Api, database_url: URL) -> None:
    body = api.order_fixture()
    catalog = row_counts(database_url)
    first = api.post("/order", json=body, headers={"Idempotency-Key": "order-1"})
    assert first.status_code == 201
    again = api.post("/order", json=body, headers={"Idempotency-Key": "order-1"})
    other_family = api.other.post("/order", json=body, headers={"Idempotency-Key": "order-1"})
    assert again.status_code == other_family.status_code == 201
    assert again.json() == other_family.json() == first.json()
    assert [order["id"] for order in api.get("/order").json()] == [first.json()["id"]]
    one_order = {"sale_order": 1, "sale_order_line": 2, "sale_order_tag": 2, "idempotency_key": 1}
    assert row_counts(database_url) == {**catalog, **one_order}
    assert idempotency_keys(database_url) == [("order", "order-1", first.json()["id"])]


@pytest.mark.parametrize(
    ("path", "body"),
    [("/contact", {"name": "A", "email": "a@example.com"}), ("/product", {"name": "p"}), ("/tag", {"name": "t"})],
)
def test_catalog_creates_are_idempotent_too(api: Api, database_url: URL, path: str, body: dict[str, str]) -> None:
    first = api.post(path, json=body, headers={"Idempotency-Key": "k"})
    again = api.other.post(path, json=body, headers={"Idempotency-Key": "k"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len(api.get(path).json()) == 1
    assert row_counts(database_url) == {**EMPTY, path.strip("/"): 1, "idempotency_key": 1}
    assert idempotency_keys(database_url) == [(path.strip("/"), "k", first.json()["id"])]


def test_the_same_key_with_another_body_is_a_422(api: Api, database_url: URL) -> None:
    api.create("/product", {"name": "p"})
    assert api.post("/tag", json={"name": "a"}, headers={"Idempotency-Key": "k"}).status_code == 201
    assert_problem(
        api.other.post("/tag", json={"name": "b"}, headers={"Idempotency-Key": "k"}), 422, "idempotency-key-reused"
    )
    # Keys are per kind of resource: the same key may create a product.
    product = api.post("/product", json={"name": "q"}, headers={"Idempotency-Key": "k"})
    assert product.status_code == 201
    assert row_counts(database_url) == {**EMPTY, "product": 2, "tag": 1, "idempotency_key": 2}
    assert [(scope, key) for scope, key, _ in idempotency_keys(database_url)] == [("product", "k"), ("tag", "k")]


def test_a_failed_create_does_not_use_up_its_key(api: Api, database_url: URL) -> None:
    body = api.order_fixture()
    catalog = row_counts(database_url)
    rejected = api.post("/order", json={**body, "contact_id": 999}, headers={"Idempotency-Key": "fix-and-retry"})
    assert_problem(rejected, 422, "missing-reference")
    assert row_counts(database_url) == catalog
    created = api.post("/order", json=body, headers={"Idempotency-Key": "fix-and-retry"})
    assert created.status_code == 201
    assert idempotency_keys(database_url) == [("order", "fix-and-retry", created.json()["id"])]


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "é".encode()])
def test_malformed_keys_are_a_400_and_create_nothing(api: Api, database_url: URL, key: str | bytes) -> None:
    response = api.post("/tag", json={"name": "t"}, headers={"Idempotency-Key": key})
    assert_problem(response, 400, "validation-error")
    assert row_counts(database_url) == EMPTY


def test_an_order_key_that_stores_the_whole_answer_is_replayed_as_stored(api: Api, database_url: URL) -> None:
    """Keys stored before migration 0004, or by an older version serving beside this one in a rolling deploy."""
    body = api.order_fixture()
    request = OrderCreate.model_validate(body)
    whole = {"id": 424242, "name": body["name"], "contact_id": body["contact_id"], "order_lines": [], "tags": [],
             "amount_total": 0}  # fmt: skip
    query(
        database_url,
        "INSERT INTO idempotency_key (scope, key, fingerprint, response) VALUES ('order', 'old', %s, %s) RETURNING 1",
        (fingerprint(request), json.dumps(whole)),
    )
    retried = api.post("/order", json=body, headers={"Idempotency-Key": "old"})
    assert (retried.status_code, retried.json()) == (201, whole)
    assert api.get("/order").json() == []
