"""Hostile input is stored literally or rejected with a 4xx; responses never leak internals."""

import json

import pytest
from litestar.testing import TestClient
from sqlalchemy.engine import URL

from sale_orders.app import create_app
from sale_orders.domain import limits
from sale_orders.settings import Settings
from tests.support.api import Api, assert_problem

LITERAL = [
    "'; DROP TABLE contact; --",
    "Robert'); DELETE FROM sale_order; --",
    "<script>alert(1)</script>",
    "\u202e\u200b\u2028 bidi and separators",
    "\x01\x07\x1b[31m control characters",
    "\U0001f600" * 200,  # 200 astral characters: 200 of the 200 allowed
    "a" * limits.NAME_LENGTH,
    "Ω≈ç√∫ 中文 עברית العربية",
]


@pytest.mark.parametrize("name", LITERAL)
def test_strange_strings_are_stored_literally(api: Api, name: str) -> None:
    created = api.create("/product", {"name": name})
    assert created["name"] == name
    assert api.other.get(f"/product/{created['id']}").json()["name"] == name


@pytest.mark.parametrize("name", ["a\x00b", "\U0001f600" * 201])
def test_strings_that_cannot_be_stored_are_rejected(api: Api, name: str) -> None:
    assert_problem(api.post("/product", json={"name": name}), 400, "validation-error")


def test_invalid_utf8_and_lone_surrogates_are_rejected(api: Api) -> None:
    bad_utf8 = b'{"name": "\xff\xfe"}'
    # Found by this test: Litestar let the UnicodeDecodeError through, a 500.
    response = api.post("/product", content=bad_utf8, headers={"content-type": "application/json"})
    assert_problem(response, 400, "validation-error", mentions="UTF-8")
    lone_surrogate = b'{"name": "\\ud800"}'
    response = api.post("/product", content=lone_surrogate, headers={"content-type": "application/json"})
    assert_problem(response, 400, "validation-error")


def test_bodies_over_the_limit_get_413_before_parsing(api: Api) -> None:
    huge = b'{"name": "' + b"x" * limits.MAX_BODY_BYTES + b'"}'
    assert_problem(api.post("/product", content=huge, headers={"content-type": "application/json"}), 413, "too-large")
    lines = [{"product_id": 1, "quantity": 1, "price": 1}] * (limits.MAX_LINES + 1)
    body = json.dumps({"name": "SO", "contact_id": 1, "order_lines": lines}).encode()
    assert len(body) < limits.MAX_BODY_BYTES
    assert_problem(
        api.post("/order", content=body, headers={"content-type": "application/json"}), 400, "validation-error"
    )


def test_every_response_carries_security_headers(api: Api) -> None:
    for response in (api.get("/order"), api.get("/order/999"), api.post("/order", json={})):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"


def test_cors_is_closed_by_default(api: Api) -> None:
    preflight = api.client.options(
        api.url("/order"), headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers
    response = api.get("/order", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_opens_for_configured_origins_only(database_url: URL, family: str) -> None:
    app = create_app(database_url, Settings(cors_origins="https://shop.example, https://admin.example"))
    with TestClient(app) as client:
        for origin in ("https://shop.example", "https://admin.example"):
            allowed = client.options(
                f"/{family}/order", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
            )
            assert allowed.status_code == 204
            assert allowed.headers["access-control-allow-origin"] == origin
            # Only the methods the API serves; a browser may read a new resource's URL, the request id, Retry-After.
            methods = set(allowed.headers["access-control-allow-methods"].replace(" ", "").split(","))
            assert methods == {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST"}
            read = client.get(f"/{family}/order", headers={"Origin": origin})
            exposed = set(read.headers["access-control-expose-headers"].replace(" ", "").lower().split(","))
            assert exposed == {"location", "x-request-id", "retry-after"}
            assert (
                client.get(f"/{family}/order", headers={"Origin": origin}).headers["access-control-allow-origin"]
                == origin
            )
        refused = client.options(
            f"/{family}/order", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        # Litestar's CORS middleware answers a refused preflight itself, as text: the edge makes it a problem.
        assert_problem(refused, 400, "http-error", mentions="Disallowed CORS Origin")
        assert "access-control-allow-origin" not in refused.headers
        assert (
            "access-control-allow-origin"
            not in client.get(f"/{family}/order", headers={"Origin": "https://evil.example"}).headers
        )
