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
    ],
    ids=["idempotency-key", "content-type", "authorization"],
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
