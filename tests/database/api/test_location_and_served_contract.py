"""Every 201 says where the new resource is; the served contract tells the truth about the server's API keys."""

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from tests.support.api import Api
from tests.support.auth import WRITE_KEY

RESOURCES = {
    "contact": {"name": "Ann", "email": "ann@example.com"},
    "product": {"name": "apple"},
    "tag": {"name": "shopping"},
}


def test_every_create_answers_its_location_in_its_own_family(api: Api) -> None:
    for resource, body in RESOURCES.items():
        response = api.client.post(f"/{api.family}/{resource}", json=body)
        assert response.status_code == 201, response.text
        location = response.headers["location"]
        assert location == f"/{api.family}/{resource}/{response.json()['id']}"
        assert api.client.get(location).json() == response.json()
    order = api.client.post(f"/{api.family}/order", json={"name": "SO001", "contact_id": 1})
    assert order.headers["location"] == f"/{api.family}/order/{order.json()['id']}"


def test_a_replayed_create_answers_the_same_location(api: Api) -> None:
    headers = {"Idempotency-Key": "location-replay"}
    first = api.client.post(f"/{api.family}/tag", json={"name": "once"}, headers=headers)
    again = api.client.post(f"/{api.family}/tag", json={"name": "once"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.headers["location"] == again.headers["location"]


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for item in document["paths"].values() for operation in item.values()]


def test_a_server_without_keys_serves_a_contract_that_requires_none(client: TestClient[Litestar]) -> None:
    document = client.get("/openapi.json").json()
    assert "securitySchemes" not in document["components"]
    for operation in _operations(document):
        assert operation["security"] == []
        assert not {"401", "403"} & set(operation["responses"])
    assert client.get("/schema/openapi.json").json() == document


def test_a_server_with_keys_serves_a_contract_that_requires_them(secured_client: TestClient[Litestar]) -> None:
    document = secured_client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    family_operations = [
        op for path, item in document["paths"].items() if not path.startswith("/health") for op in item.values()
    ]
    for operation in family_operations:
        assert operation["security"] == [{"ApiKey": []}]
        assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
    assert document["paths"]["/health"]["get"]["security"] == []
    assert document["paths"]["/health/live"]["get"]["security"] == []
    unauthorised = secured_client.get("/sync/contact")
    assert unauthorised.status_code == 401
    assert "www-authenticate" in unauthorised.headers
    assert secured_client.get("/sync/contact", headers={"Authorization": f"Bearer {WRITE_KEY}"}).status_code == 200
