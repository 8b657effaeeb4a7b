"""Both families through one test client: every API test body runs against /sync and /async."""

from dataclasses import dataclass
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.engine import URL

from tests.support.database import StatementLog


@dataclass
class Api:
    """The test client, bound to one family's prefix."""

    client: TestClient[Litestar]
    family: str

    @property
    def other(self) -> "Api":
        """The same client, bound to the other family."""
        return Api(self.client, "async" if self.family == "sync" else "sync")

    def url(self, path: str) -> str:
        return f"/{self.family}{path}"

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(self.url(path), **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(self.url(path), **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.patch(self.url(path), **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.delete(self.url(path), **kwargs)

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(path, json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def order_fixture(self, lines: list[tuple[int, str]] | None = None, tags: int = 2) -> dict[str, Any]:
        """An order body with a fresh contact, one product per line (quantity, price text) and `tags` tags."""
        contact = self.create("/contact", {"name": "Ann", "email": "ann@example.com"})
        lines = [(1, "0.25"), (2, "1.25")] if lines is None else lines
        order_lines = [
            {"product_id": self.create("/product", {"name": f"product {i}"})["id"], "quantity": q, "price": float(p)}
            for i, (q, p) in enumerate(lines)
        ]
        tag_ids = [self.create("/tag", {"name": f"tag {self.family} {i}"})["id"] for i in range(tags)]
        return {"name": "SO001", "contact_id": contact["id"], "order_lines": order_lines, "tag_ids": tag_ids}


def assert_problem(response: httpx.Response, status: int, kind: str, *, mentions: str = "") -> dict[str, Any]:
    """Assert an RFC 9457 problem response of this status and kind, with no internals leaked."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"] == f"urn:sale-orders:problem:{kind}"
    assert problem["title"]
    assert problem["detail"]
    assert mentions in problem["detail"]
    for leak in ("Traceback", "SELECT", "INSERT", "psycopg2", "asyncpg", "sqlalchemy", 'File "'):
        assert leak not in response.text
    return problem


@dataclass
class LoggedServer:
    """The app on a PostgreSQL of its own that logs every statement it receives."""

    client: TestClient[Litestar]
    log: StatementLog
    url: URL
