"""Bad input of every kind gets the documented 4xx problem, status and type exactly, and stores nothing."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import URL

from tests.support.api import Api, assert_problem
from tests.support.database import EMPTY, row_counts

HUGE = 2**70

BAD_ORDER_BODIES: dict[str, Any] = {
    "missing name": {"contact_id": 1},
    "missing contact": {"name": "SO"},
    "name of wrong type": {"name": 1, "contact_id": 1},
    "empty name": {"name": "", "contact_id": 1},
    "name too long": {"name": "x" * 201, "contact_id": 1},
    "name with NUL": {"name": "a\x00b", "contact_id": 1},
    "contact id as text": {"name": "SO", "contact_id": "1"},
    "contact id as bool": {"name": "SO", "contact_id": True},
    "contact id as float": {"name": "SO", "contact_id": 1.5},
    "contact id zero": {"name": "SO", "contact_id": 0},
    "contact id huge": {"name": "SO", "contact_id": HUGE},
    "null contact": {"name": "SO", "contact_id": None},
    "unknown field": {"name": "SO", "contact_id": 1, "discount": 5},
    "client-chosen id": {"id": 5, "name": "SO", "contact_id": 1},
    # Litestar took a body field named like a dependency of the handler for a server fault: a 500.
    "unknown field named like a dependency": {"name": "SO", "contact_id": 1, "service": 1, "db_session": 1},
    "lines not a list": {"name": "SO", "contact_id": 1, "order_lines": {}},
    "zero quantity": {"name": "SO", "contact_id": 1, "order_lines": [{"product_id": 1, "quantity": 0, "price": 1}]},
    "negative quantity": {
        "name": "SO",
        "contact_id": 1,
        "order_lines": [{"product_id": 1, "quantity": -2, "price": 1}],
    },
    "fractional quantity": {
        "name": "SO",
        "contact_id": 1,
        "order_lines": [{"product_id": 1, "quantity": 1.5, "price": 1}],
    },
    "huge quantity": {"name": "SO", "contact_id": 1, "order_lines": [{"product_id": 1, "quantity": HUGE, "price": 1}]},
    "negative price": {
        "name": "SO",
        "contact_id": 1,
        "order_lines": [{"product_id": 1, "quantity": 1, "price": -0.01}],
    },
    "price as text": {
        "name": "SO",
        "contact_id": 1,
        "order_lines": [{"product_id": 1, "quantity": 1, "price": "1.00"}],
    },
    "price with 3 decimals": {
        "name": "SO",
        "contact_id": 1,
        "order_lines": [{"product_id": 1, "quantity": 1, "price": 0.125}],
    },
    "price too big": {"name": "SO", "contact_id": 1, "order_lines": [{"product_id": 1, "quantity": 1, "price": 1e300}]},
    "line without product": {"name": "SO", "contact_id": 1, "order_lines": [{"quantity": 1, "price": 1}]},
    "huge product id": {
        "name": "SO",
        "contact_id": 1,
        "order_lines": [{"product_id": HUGE, "quantity": 1, "price": 1}],
    },
    "too many lines": {
        "name": "SO",
        "contact_id": 1,
        "order_lines": [{"product_id": 1, "quantity": 1, "price": 1}] * 101,
    },
    "duplicate tags": {"name": "SO", "contact_id": 1, "tag_ids": [1, 1]},
    "tag as object": {"name": "SO", "contact_id": 1, "tag_ids": [{"name": "food"}]},
    "huge tag id": {"name": "SO", "contact_id": 1, "tag_ids": [HUGE]},
    "body is a list": [],
    "body is a number": 3,
}


@pytest.mark.parametrize("case", BAD_ORDER_BODIES)
def test_bad_order_body_is_a_400(api: Api, database_url: URL, case: str) -> None:
    assert_problem(api.post("/order", json=BAD_ORDER_BODIES[case]), 400, "validation-error")
    assert row_counts(database_url) == EMPTY


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/order/1", {"name": None}),
        ("/order/1", {"order_lines": None}),
        ("/order/1", {"tag_ids": [2, 2]}),
        ("/order/1", {"surprise": 1}),
        ("/contact/1", {"email": "nope"}),
        ("/contact/1", {"name": None}),
        ("/tag/1", {"name": "x" * 101}),
        ("/product/1", {"id": 7}),
    ],
)
def test_bad_patch_body_is_a_400(api: Api, path: str, body: dict[str, Any]) -> None:
    assert_problem(api.patch(path, json=body), 400, "validation-error")


@pytest.mark.parametrize("path", ["/order", "/contact", "/tag", "/product"])
@pytest.mark.parametrize(
    ("content", "content_type", "mentions"),
    [
        (b"", "application/json", "no body"),  # no body at all: refused before anything is read
        (b"{not json", "application/json", "JSON is malformed"),
        (b"null", "application/json", "valid dictionary"),
        # msgspec's RecursionError went through Litestar as a 500.
        (b"[" * 5000, "application/json", "JSON is malformed"),
    ],
    ids=["empty", "malformed", "null", "deep"],
)
def test_empty_or_malformed_body_is_a_400(
    api: Api, database_url: URL, path: str, content: bytes, content_type: str, mentions: str
) -> None:
    response = api.post(path, content=content, headers={"content-type": content_type})
    assert_problem(response, 400, "validation-error", mentions=mentions)
    assert row_counts(database_url) == EMPTY


def no_chunks() -> Iterator[bytes]:
    """An empty body sent chunked (an iterator has no length): the last chunk only, `0\r\n\r\n`."""
    yield from ()


@pytest.mark.parametrize(("method", "path"), [("POST", "/contact"), ("PATCH", "/contact/1")])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_an_empty_body_is_the_same_400_however_it_is_framed(
    api: Api, database_url: URL, method: str, path: str, framing: str
) -> None:
    content = b"" if framing == "content-length" else no_chunks()
    response = api.client.request(method, api.url(path), content=content, headers={"content-type": "application/json"})
    assert ("transfer-encoding" in response.request.headers) == (framing == "chunked")
    problem = assert_problem(response, 400, "validation-error", mentions="the request has no body")
    assert problem["errors"] == [{"loc": "body", "message": "the request has no body: send the object as JSON"}]
    assert row_counts(database_url) == EMPTY


# An id out of bounds is an invalid value (400); a path that is not an integer at all names no resource (404).
BAD_IDS = {"0": 400, "-1": 400, str(2**53): 400, str(2**63): 400, str(2**70): 400, "abc": 404, "1.5": 404, "1e3": 404}


@pytest.mark.parametrize("resource", ["order", "contact", "product", "tag"])
@pytest.mark.parametrize("item_id", BAD_IDS)
def test_bad_ids_in_the_path_are_400_or_404(api: Api, resource: str, item_id: str) -> None:
    status = BAD_IDS[item_id]
    kind = "validation-error" if status == 400 else "not-found"
    for response in (
        api.get(f"/{resource}/{item_id}"),
        api.delete(f"/{resource}/{item_id}"),
        api.patch(f"/{resource}/{item_id}", json={}),
    ):
        problem = assert_problem(response, status, kind)
        if status == 400:
            assert problem["errors"] == [{"loc": "item_id", "message": problem["errors"][0]["message"]}]


@pytest.mark.parametrize("resource", ["order", "contact", "product", "tag"])
@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=x", f"after={2**70}", "after=-1", "after=x", "after=null", "after="]
)
def test_bad_paging_is_a_400(api: Api, resource: str, query: str) -> None:
    problem = assert_problem(api.get(f"/{resource}?{query}"), 400, "validation-error")
    assert [error["loc"] for error in problem["errors"]] == [query.split("=", maxsplit=1)[0]]


def test_unknown_route_and_method_are_problems(api: Api) -> None:
    assert_problem(api.get("/invoice"), 404, "not-found")
    assert_problem(api.client.put(api.url("/order/1"), json={}), 405, "method-not-allowed")


def test_method_not_allowed_lists_the_allowed_methods(api: Api) -> None:
    # Found by Schemathesis (unsupported_method check): the 405 lacked the Allow header RFC 9110 requires.
    response = api.client.request("TRACE", api.url("/contact"))
    assert_problem(response, 405, "method-not-allowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "HEAD", "POST"}


@pytest.mark.parametrize(
    ("path", "methods"), [("/order", "GET, HEAD, OPTIONS, POST"), ("/tag/1", "DELETE, GET, HEAD, OPTIONS, PATCH")]
)
def test_options_lists_every_method_of_the_path(api: Api, path: str, methods: str) -> None:
    # Found by Schemathesis (allow_header_conformance): Litestar listed one handler's methods only.
    response = api.client.options(api.url(path))
    assert response.status_code == 204
    assert response.headers["allow"] == methods
