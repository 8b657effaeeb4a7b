from litestar import Litestar
from litestar.testing import TestClient


def test_health(client: TestClient[Litestar]) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_original_example_roundtrip(client: TestClient[Litestar], family: str) -> None:
    other = "async" if family == "sync" else "sync"
    contact = client.post(f"/{family}/contact", json={"name": "Ann", "email": "ann@example.com"})
    assert contact.status_code == 201, contact.text
    p1 = client.post(f"/{family}/product", json={"name": "apple"}).json()
    p2 = client.post(f"/{family}/product", json={"name": "bread"}).json()
    t1 = client.post(f"/{family}/tag", json={"name": "shopping"}).json()
    t2 = client.post(f"/{family}/tag", json={"name": "food"}).json()
    body = {
        "name": "SO001",
        "contact_id": contact.json()["id"],
        "order_lines": [
            {"product_id": p1["id"], "quantity": 1, "price": 0.25},
            {"product_id": p2["id"], "quantity": 2, "price": 1.25},
        ],
        "tag_ids": [t1["id"], t2["id"]],
    }
    created = client.post(f"/{family}/order", json=body)
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["amount_total"] == 2.75
    read_back = client.get(f"/{other}/order/{order['id']}")
    assert read_back.status_code == 200
    assert read_back.json() == order
    assert order["tags"] == [{"id": t1["id"], "name": "shopping"}, {"id": t2["id"], "name": "food"}]
