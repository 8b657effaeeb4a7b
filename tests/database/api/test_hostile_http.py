"""Hostile HTTP, as a browser on another site or a careless client sends it: refused with a small, clear 4xx.

Every case runs in both families and leaves nothing stored.
"""

import json
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy.engine import URL

from sale_orders.app import create_app
from sale_orders.domain import limits
from sale_orders.settings import Settings
from sale_orders.web.problems import MAX_LISTED_ERRORS
from tests.support.api import Api, assert_problem
from tests.support.asgi import http_scope, in_client_loop
from tests.support.database import EMPTY, holding, row_counts

CONTACT = {"name": "Ann", "email": "ann@example.com"}


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",  # what a cross-site form or fetch sends without a preflight
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        None,
    ],
)
def test_a_body_that_is_not_json_is_a_415(api: Api, database_url: URL, content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    body = json.dumps(CONTACT).encode()
    assert_problem(api.post("/contact", content=body, headers=headers), 415, "unsupported-media-type")
    assert row_counts(database_url) == EMPTY
    contact = api.create("/contact", CONTACT)
    assert_problem(api.patch(f"/contact/{contact['id']}", content=body, headers=headers), 415, "unsupported-media-type")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/merge-patch+json"])
def test_json_by_any_of_its_names_is_read(api: Api, content_type: str) -> None:
    response = api.post("/contact", content=json.dumps(CONTACT).encode(), headers={"content-type": content_type})
    assert response.status_code == 201, response.text


def test_a_body_of_many_mistakes_gets_a_short_answer(api: Api, database_url: URL) -> None:
    wrong_line = {"product_id": "one", "quantity": "two", "price": "three"}
    body = {"name": 1, "contact_id": "x", "order_lines": [wrong_line] * limits.MAX_LINES}
    problem = assert_problem(api.post("/order", json=body), 400, "validation-error", mentions="more errors")
    assert len(problem["errors"]) == MAX_LISTED_ERRORS
    many_keys = json.dumps({f"key{n}": 1 for n in range(5000)})[: limits.MAX_BODY_BYTES - 2] + "}"
    response = api.post("/contact", content=many_keys.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert len(response.content) < 4096, len(response.content)
    assert row_counts(database_url) == EMPTY


@pytest.mark.parametrize("query", ["after=0&after=5", "limit=1&limit=2", "after=1&limit=5&after=1"])
def test_a_repeated_query_parameter_is_a_400(api: Api, query: str) -> None:
    problem = assert_problem(api.get(f"/order?{query}"), 400, "validation-error", mentions="more than once")
    assert problem["errors"][0]["loc"] in {"after", "limit"}


@pytest.mark.parametrize("key", ["a,b", "a, b"])
def test_two_idempotency_keys_joined_in_one_header_are_a_400(api: Api, database_url: URL, key: str) -> None:
    # A proxy may join a repeated header into one, comma-separated (RFC 9110 5.3): a key has no comma.
    assert_problem(api.post("/contact", json=CONTACT, headers={"Idempotency-Key": key}), 400, "validation-error")
    assert row_counts(database_url) == EMPTY


@pytest.mark.parametrize("tokens", [("abc", "1"), ("1", "abc"), ("1", "1")])
def test_a_repeated_consistency_token_is_a_400_whichever_comes_first(api: Api, tokens: tuple[str, str]) -> None:
    contact = api.create("/contact", CONTACT)
    # Two header lines, as a client sends them (the test client would join them into one).
    headers = [("Consistency-Token", token) for token in tokens]
    for path in (f"/contact/{contact['id']}", "/contact"):
        problem = in_client_loop(api.client, http_scope("GET", api.url(path), headers)).problem(400, "validation-error")
        assert problem["errors"] == [{"loc": "consistency-token", "message": "given more than once"}]


@pytest.mark.parametrize("item_id", ["+1", "%D9%A1", "007", "%201", "1_0", "01"])
def test_a_path_id_not_written_as_plain_digits_is_a_400(api: Api, item_id: str) -> None:
    contact = api.create("/contact", CONTACT)
    assert contact["id"] == 1
    for response in (
        api.get(f"/contact/{item_id}"),
        api.patch(f"/contact/{item_id}", json={"name": "changed"}),
        api.delete(f"/contact/{item_id}"),
    ):
        problem = assert_problem(response, 400, "validation-error", mentions="plain digits")
        assert problem["errors"] == [{"loc": "item_id", "message": "write it as plain digits, e.g. 42"}]
    assert api.get("/contact/1").json()["name"] == "Ann"


@pytest.mark.parametrize("value", ["+1", "007", "1.0", "1e0", "-0", "%D9%A1", "%201"])
def test_a_query_id_not_written_as_plain_digits_is_a_400(api: Api, value: str) -> None:
    for query in (f"after={value}", f"limit={value}"):
        assert_problem(api.get(f"/contact?{query}"), 400, "validation-error", mentions="plain digits")


def test_the_fingerprint_of_a_create_does_not_depend_on_the_order_of_tags(api: Api, database_url: URL) -> None:
    body = api.order_fixture(tags=3)
    key = {"Idempotency-Key": "tags-as-a-set"}
    first = api.post("/order", json=body, headers=key)
    reordered = {**body, "tag_ids": list(reversed(body["tag_ids"]))}
    again = api.other.post("/order", json=reordered, headers=key)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json()
    assert row_counts(database_url)["sale_order"] == 1


@pytest.mark.parametrize(
    "price", [b"0.1000000000000000055511151231257827", b"1.0099999999999999", b"2.001", b"0.10000000000000000001e1"]
)
def test_a_price_with_more_than_two_decimals_is_a_400_however_spelled(
    api: Api, database_url: URL, price: bytes
) -> None:
    body = api.order_fixture(tags=0)
    raw = json.dumps({**body, "order_lines": [{**body["order_lines"][0], "price": 0}]}).encode()
    raw = raw.replace(b'"price": 0', b'"price": ' + price)
    response = api.post("/order", content=raw, headers={"content-type": "application/json"})
    assert_problem(response, 400, "validation-error", mentions="price")
    assert row_counts(database_url)["sale_order"] == 0


@pytest.mark.parametrize(("price", "stored"), [(b"0e-16384", 0), (b"1.0" + b"0" * 17000, 1), (b"25e-2", 0.25)])
def test_a_plain_price_written_oddly_is_stored_as_its_plain_value(api: Api, price: bytes, stored: float) -> None:
    # Found by attacking: exact decoding kept Decimal('0E-16384'), which neither driver could send: a 500.
    body = api.order_fixture(tags=0)
    raw = json.dumps({**body, "order_lines": [{**body["order_lines"][0], "price": 0}]}).encode()
    created = api.post(
        "/order", content=raw.replace(b'"price": 0', b'"price": ' + price), headers={"content-type": "application/json"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["order_lines"][0]["price"] == stored
    patched = api.patch(
        f"/order/{created.json()['id']}",
        content=b'{"order_lines": [{"product_id": %d, "quantity": 1, "price": %s}]}'
        % (body["order_lines"][0]["product_id"], price),
        headers={"content-type": "application/json"},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["order_lines"][0]["price"] == stored


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        ('{"name": "Ann", "email": "ann@example.com"}'.encode("utf-16"), "application/json", 400),
        ('{"name": "Ann", "email": "ann@example.com"}'.encode("utf-32"), "application/json", 400),
        (b"", "text/plain", 415),
        (b'{"name": "Ann", "email": "ann@example.com"}', "application/json; q=1, text/html", 415),
        (b'{"name": 1e1000000000000000000, "email": "ann@example.com"}', "application/json", 400),
    ],
    ids=["utf-16", "utf-32", "empty-text", "joined-types", "exponent-beyond-decimal"],
)
def test_only_one_json_in_utf_8_is_a_body(
    api: Api, database_url: URL, content: bytes, content_type: str, status: int
) -> None:
    response = api.post("/contact", content=content, headers={"content-type": content_type})
    assert_problem(response, status, "validation-error" if status == 400 else "unsupported-media-type")
    assert row_counts(database_url) == EMPTY


@pytest.mark.parametrize(("method", "path"), [("POST", "/contact"), ("PATCH", "/contact/1")])
def test_a_body_announced_over_the_limit_is_a_413_before_it_arrives(api: Api, method: str, path: str) -> None:
    length = str(limits.MAX_BODY_BYTES + 1)
    scope = http_scope(method, api.url(path), [("content-type", "application/json"), ("content-length", length)])
    in_client_loop(api.client, scope).problem(413, "too-large")


def test_a_create_answers_what_was_stored(api: Api) -> None:
    body = api.order_fixture(tags=1)
    raw = json.dumps({**body, "order_lines": [{**body["order_lines"][0], "price": 0}]}).encode()
    created = api.post(
        "/order", content=raw.replace(b'"price": 0', b'"price": -0.0'), headers={"content-type": "application/json"}
    )
    assert created.status_code == 201, created.text
    assert created.json() == api.other.get(f"/order/{created.json()['id']}").json()
    assert created.json()["order_lines"][0]["price"] == 0
    assert b"-0" not in created.content


def test_framework_errors_are_problems_too(api: Api) -> None:
    assert_problem(api.client.get("/schema/nothing-here"), 404, "not-found")
    assert_problem(api.client.get("/nothing-here"), 404, "not-found")
    assert_problem(api.client.request("PUT", api.url("/order/1"), json={}), 405, "method-not-allowed")


@pytest.fixture
def impatient(database_url: URL) -> Any:
    """The app with a short LOCK_TIMEOUT_MS, so that a wait for a row ends soon."""
    with TestClient(create_app(database_url, Settings(lock_timeout_ms=300))) as client:
        yield client


def test_a_change_waiting_too_long_for_its_row_is_a_retryable_409(impatient: Any, api: Api, database_url: URL) -> None:
    order = api.create("/order", api.order_fixture(tags=1))
    tag = order["tags"][0]["id"]
    held = Api(impatient, api.family)
    # Another process (a worker, a host, psql) holds the rows: PostgreSQL's lock_timeout ends the wait.
    with holding(database_url, f"SELECT 1 FROM sale_order WHERE id = {order['id']} FOR UPDATE"):  # noqa: S608
        response = held.patch(f"/order/{order['id']}", json={"name": "changed"})
        assert_problem(response, 409, "concurrent-change")
        assert response.headers["retry-after"] == "1"
        assert_problem(held.delete(f"/order/{order['id']}"), 409, "concurrent-change")
    with holding(database_url, f"SELECT 1 FROM tag WHERE id = {tag} FOR KEY SHARE"):  # noqa: S608
        assert_problem(held.delete(f"/tag/{tag}"), 409, "concurrent-change")
    assert api.get(f"/order/{order['id']}").json() == order  # nothing changed
