"""A header the API reads once, given twice, is a 400 (over a real HTTP server, which keeps both lines).

In process the test client joins repeated headers into one: this needs uvicorn.
"""

import http.client
import json
from urllib.parse import urlsplit

import pytest

from tests.support.servers import LiveServer

CONTACT = json.dumps({"name": "Ann", "email": "ann@example.com"}).encode()


@pytest.mark.parametrize("family", ["sync", "async"])
@pytest.mark.parametrize(
    "repeated",
    [
        [("Idempotency-Key", "first"), ("Idempotency-Key", "second")],
        [("Content-Type", "application/json"), ("Content-Type", "text/plain")],
        [("Authorization", "Bearer one"), ("Authorization", "Bearer two")],
        [("Consistency-Token", "abc"), ("Consistency-Token", "1")],
        [("Consistency-Token", "1"), ("Consistency-Token", "abc")],
    ],
    ids=["idempotency-key", "content-type", "authorization", "consistency-token", "consistency-token-valid-first"],
)
def test_a_repeated_header_is_a_400(adversary_server: LiveServer, family: str, repeated: list[tuple[str, str]]) -> None:
    address = urlsplit(adversary_server.base_url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
    try:
        connection.putrequest("POST", f"/{family}/contact")
        names = {name for name, _ in repeated}
        if "Content-Type" not in names:
            connection.putheader("Content-Type", "application/json")
        for name, value in repeated:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(CONTACT)))
        connection.endheaders(CONTACT)
        response = connection.getresponse()
        problem = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 400
    assert response.getheader("content-type", "").startswith("application/problem+json")
    assert problem["errors"] == [{"loc": repeated[0][0].lower(), "message": "given more than once"}]


def raw_exchange(server: LiveServer, method: str, path: str, headers: list[tuple[str, str]]) -> tuple[int, bytes]:
    address = urlsplit(server.base_url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
    try:
        connection.putrequest(method, path)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_repeated_authorization_on_metrics_is_a_400_too(adversary_server: LiveServer) -> None:
    status, body = raw_exchange(
        adversary_server, "GET", "/metrics", [("Authorization", "Bearer one"), ("Authorization", "Bearer two")]
    )
    assert status == 400, body
    assert json.loads(body)["errors"] == [{"loc": "authorization", "message": "given more than once"}]


def test_a_websocket_upgrade_is_an_ordinary_request(adversary_server: LiveServer) -> None:
    # Found by attacking: uvicorn answered any Upgrade a bare 403 text/plain; there is no WebSocket route.
    upgrade = [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ]
    status, body = raw_exchange(adversary_server, "GET", "/health/live", upgrade)
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, body = raw_exchange(adversary_server, "GET", "/nothing-here", upgrade)
    assert status == 404
    assert json.loads(body)["type"] == "urn:sale-orders:problem:not-found"
