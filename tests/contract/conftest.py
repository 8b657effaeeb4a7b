"""Schemathesis against the app in-process: cases are sent through the suite's Litestar TestClient.

Schemathesis' own ASGI transport would run the app on a fresh event loop per call; the app's asyncpg pool
belongs to one loop, so cases go through the test client, which runs the app on its own loop all along.
"""

import json
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import TestClient
from schemathesis import Case
from schemathesis.core.transport import Response


def send(client: TestClient[Litestar], case: Case) -> tuple[httpx.Response, dict[str, Any]]:
    """Send `case` through `client`; return the response and the transport arguments used."""
    kwargs = case.as_transport_kwargs(base_url=str(client.base_url).rstrip("/"))
    request: dict[str, Any] = {"headers": kwargs.get("headers"), "params": kwargs.get("params") or None}
    if "json" in kwargs:
        request["content"] = json.dumps(kwargs["json"]).encode()
    elif isinstance(kwargs.get("data"), bytes | str):
        request["content"] = kwargs["data"]
    elif kwargs.get("data") is not None:
        request["data"] = kwargs["data"]
    return client.request(kwargs["method"], kwargs["url"], **request), kwargs


def call_and_validate(client: TestClient[Litestar], case: Case) -> Response:
    """Send `case` and run every configured check on the response."""
    response, kwargs = send(client, case)
    case.validate_response(response, transport_kwargs=kwargs)
    return Response.from_any(response)
