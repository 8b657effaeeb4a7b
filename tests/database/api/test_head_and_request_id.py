"""HEAD wherever GET works (RFC 9110), and a request id on every response."""

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.support.api import Api

ENTITY_HEADERS = ("content-type", "content-length", "cache-control")


def assert_head_mirrors_get(client: TestClient[Litestar], path: str) -> None:
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code, path
    assert head.content == b"", path
    assert int(head.headers["content-length"]) > 0, path
    # /metrics changes between two requests (they are counted), so only there the length may differ.
    names = [name for name in ENTITY_HEADERS if path != "/metrics" or name != "content-length"]
    for name in names:
        assert head.headers.get(name) == get.headers.get(name), (path, name)


def test_head_answers_like_get_without_the_body_in_both_families(api: Api) -> None:
    contact = api.create("/contact", {"name": "Ann", "email": "ann@example.com"})
    for path in ("/contact", f"/contact/{contact['id']}", "/contact/999999", "/order?limit=1", "/order?limit=0"):
        assert_head_mirrors_get(api.client, api.url(path))


@pytest.mark.parametrize(
    "path",
    ["/health", "/docs", "/docs/swagger-initializer.js", "/docs/assets/swagger-ui.css", "/openapi.json", "/metrics"],
)
def test_head_works_on_every_other_get_route(client: TestClient[Litestar], path: str) -> None:
    assert client.get(path).status_code == 200
    assert_head_mirrors_get(client, path)


def test_head_on_an_unknown_path_is_a_404(client: TestClient[Litestar]) -> None:
    response = client.head("/no-such-thing")
    assert response.status_code == 404
    assert response.content == b""


def test_every_response_has_a_request_id(api: Api) -> None:
    ids = {api.get("/contact").headers["x-request-id"], api.get("/contact/999999").headers["x-request-id"]}
    assert len(ids) == 2
    assert all(re.fullmatch(r"[0-9a-f]{16}", request_id) for request_id in ids), ids


def test_a_callers_request_id_is_kept_when_it_is_a_plain_token(api: Api) -> None:
    assert api.get("/contact", headers={"X-Request-ID": "lb-7f3a.42"}).headers["x-request-id"] == "lb-7f3a.42"
    for unusable in ("has space", "x" * 65, "<script>"):
        replaced = api.get("/contact", headers={"X-Request-ID": unusable}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{16}", replaced), (unusable, replaced)
