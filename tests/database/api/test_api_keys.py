"""API keys: once configured, every operation of both families needs one; without keys nothing changes."""

import json
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from pydantic import ValidationError

from sale_orders.settings import Settings
from sale_orders_tools.contract import CONTRACT_PATH
from tests.support import REPO_ROOT
from tests.support.api import Api, assert_problem
from tests.support.asgi import http_scope, in_client_loop
from tests.support.auth import READ_KEY, WRITE_KEY, bearer

CONTRACT = json.loads((REPO_ROOT / CONTRACT_PATH).read_text())
READ_METHODS = {"get"}


def operations(family: str) -> list[tuple[str, str]]:
    """(method, path) of every operation of `family` in the contract, ids set to 1."""
    return [
        (method, path.removeprefix(f"/{family}").replace("{item_id}", "1"))
        for path, item in CONTRACT["paths"].items()
        if path.startswith(f"/{family}/")
        for method in item
    ]


def request(api: Api, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
    return api.client.request(method, api.url(path), headers=headers, json={} if method in {"post", "patch"} else None)


def test_the_contract_lists_every_operation_of_a_family(family: str) -> None:
    assert len(operations(family)) == 20


def test_no_key_is_a_401_on_every_operation(secured_api: Api) -> None:
    for method, path in operations(secured_api.family):
        response = request(secured_api, method, path)
        assert_problem(response, 401, "unauthorized", mentions="Authorization: Bearer")
        assert response.headers["www-authenticate"] == 'Bearer realm="sale-orders"', (method, path)


# Ids of their own: the keys are random per process, and pytest-xdist needs every worker to collect the same ids.
@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {WRITE_KEY}x", "Bearer not-a-key", f"Basic {WRITE_KEY}", f"{WRITE_KEY}", "Bearer "],
    ids=["key-plus-a-character", "unknown-key", "basic-scheme", "no-scheme", "empty-key"],
)
def test_an_unknown_key_or_scheme_is_a_401_on_every_operation(secured_api: Api, authorization: str) -> None:
    for method, path in operations(secured_api.family):
        response = request(secured_api, method, path, {"Authorization": authorization})
        problem = assert_problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer "), (method, path)
        assert WRITE_KEY not in json.dumps(problem)


def test_a_read_key_reads_and_is_a_403_on_every_write(secured_api: Api) -> None:
    for method, path in operations(secured_api.family):
        response = request(secured_api, method, path, bearer(READ_KEY))
        if method in READ_METHODS:
            assert response.status_code in {200, 404}, (method, path, response.text)
        else:
            assert_problem(response, 403, "forbidden", mentions="write key")
            assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("authorization", "status", "kind"),
    [(None, 401, "unauthorized"), (f"Bearer {READ_KEY}", 403, "forbidden")],
    ids=["no-key", "read-key"],
)
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_a_change_without_a_write_key_is_refused_before_its_body_arrives(
    secured_api: Api, method: str, authorization: str | None, status: int, kind: str
) -> None:
    # The body never arrives: the key is checked first, so nothing waits for it (docs/security.md).
    headers = [("content-type", "application/json"), ("content-length", "100")]
    headers += [("authorization", authorization)] if authorization else []
    scope = http_scope(method, secured_api.url("/contact/1"), headers)
    in_client_loop(secured_api.client, scope).problem(status, kind)


def test_a_write_key_reaches_every_operation(secured_api: Api) -> None:
    write = bearer(WRITE_KEY)
    statuses: dict[tuple[str, str], int] = {}

    def call(method: str, path: str, template: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = secured_api.client.request(method, secured_api.url(path), headers=write, json=body)
        statuses[method, template] = response.status_code
        return response.json() if response.content else {}

    bodies = {"/contact": {"name": "Ann", "email": "ann@example.com"}, "/product": {"name": "p"}, "/tag": {"name": "t"}}
    ids = {path: call("post", path, path, body)["id"] for path, body in bodies.items()}
    order_body = {"name": "SO1", "contact_id": ids["/contact"], "tag_ids": [ids["/tag"]]}
    ids["/order"] = call("post", "/order", "/order", order_body)["id"]
    for path, item_id in ids.items():
        call("get", path, path)
        call("get", f"{path}/{item_id}", f"{path}/{{item_id}}")
        call("patch", f"{path}/{item_id}", f"{path}/{{item_id}}", bodies.get(path, order_body))
    for path in ("/order", "/contact", "/product", "/tag"):  # the order first: it uses the others
        call("delete", f"{path}/{ids[path]}", f"{path}/{{item_id}}")

    expected = {"post": 201, "get": 200, "patch": 200, "delete": 204}
    templates = {(method, path.replace("/1", "/{item_id}")) for method, path in operations(secured_api.family)}
    assert set(statuses) == templates
    assert {key: status for key, status in statuses.items() if status != expected[key[0]]} == {}


def test_a_read_key_reads_what_a_write_key_wrote(secured_api: Api) -> None:
    created = secured_api.post("/tag", json={"name": "t"}, headers=bearer(WRITE_KEY))
    assert created.status_code == 201
    read = secured_api.other.get(f"/tag/{created.json()['id']}", headers=bearer(READ_KEY))
    assert read.json() == created.json()


@pytest.mark.parametrize("path", ["/health", "/docs", "/openapi.json"])
def test_health_docs_and_spec_need_no_key(secured_client: TestClient[Litestar], path: str) -> None:
    assert secured_client.get(path).status_code == 200


def test_without_keys_the_api_is_open_and_installs_no_guard(api: Api, app: Litestar) -> None:
    assert api.post("/tag", json={"name": "t"}).status_code == 201
    assert api.get("/tag", headers={"Authorization": "Bearer anything"}).status_code == 200
    assert [
        route.path
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if handler.resolve_guards()
    ] == []


def test_with_keys_the_families_and_metrics_are_guarded(secured_client: TestClient[Litestar]) -> None:
    app = secured_client.app
    guarded = {route.path for route in app.routes for handler in route.route_handlers if handler.resolve_guards()}
    open_paths = {route.path for route in app.routes} - guarded
    assert "/metrics" in guarded
    assert all(path.startswith(("/sync", "/async")) for path in guarded - {"/metrics"}), guarded
    # Open: liveness, the docs UI and the contract (docs/security.md lists every route).
    assert all(path.startswith(("/health", "/docs", "/openapi.json", "/schema")) for path in open_paths), open_paths


def test_with_keys_metrics_need_a_key(secured_client: TestClient[Litestar]) -> None:
    assert_problem(secured_client.get("/metrics"), 401, "unauthorized")
    scraped = secured_client.get("/metrics", headers={"Authorization": f"Bearer {READ_KEY}"})
    assert scraped.status_code == 200
    assert "sale_orders_requests_total" in scraped.text


@pytest.mark.parametrize(
    "entry",
    [f"write:{WRITE_KEY}", "admin:" + "0" * 64, "write:" + "0" * 63, "0" * 64, "write:" + "A" * 64],
    ids=["a-key-not-its-digest", "unknown-scope", "short-digest", "no-scope", "repeated-key"],
)
def test_a_malformed_api_keys_setting_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    monkeypatch.setenv("API_KEYS", f"read:{'a' * 64},{entry}")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "API_KEYS entry 2" in str(refused.value)
    assert entry[:8] not in str(refused.value)
    assert WRITE_KEY not in str(refused.value)


@pytest.mark.parametrize("setting", [",", " , ,"])
def test_an_api_keys_setting_without_entries_is_refused(monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    monkeypatch.setenv("API_KEYS", setting)
    with pytest.raises(ValidationError, match="API_KEYS is set but has no entries"):
        Settings()
