"""Schemathesis against the app in-process: cases are sent through the suite's Litestar TestClient.

Schemathesis' own ASGI transport would run the app on a fresh event loop per call; the app's asyncpg pool
belongs to one loop, so cases go through the test client, which runs the app on its own loop all along.
"""

import json
from typing import Any

import httpx
from schemathesis import Case
from schemathesis.core.transport import Response


def as_httpx_request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Schemathesis' (requests-style) transport arguments as httpx request arguments, less method and URL."""
    # httpx takes ASCII header strings only; Schemathesis sends any text, so pass non-ASCII values as UTF-8.
    headers = {
        name: value if value.isascii() else value.encode() for name, value in (kwargs.get("headers") or {}).items()
    }
    request: dict[str, Any] = {"headers": headers, "params": kwargs.get("params") or None}
    if "json" in kwargs:
        request["content"] = json.dumps(kwargs["json"]).encode()
    elif isinstance(kwargs.get("data"), bytes | str):
        request["content"] = kwargs["data"]
    elif kwargs.get("data") is not None:
        request["data"] = kwargs["data"]
    return request


def send(client: httpx.Client, case: Case) -> tuple[httpx.Response, dict[str, Any]]:
    """Send `case` through `client`; return the response and the transport arguments used."""
    kwargs = case.as_transport_kwargs(base_url=str(client.base_url).rstrip("/"))
    return client.request(kwargs["method"], kwargs["url"], **as_httpx_request(kwargs)), kwargs


def call_and_validate(client: httpx.Client, case: Case, excluded_checks: list[Any] | None = None) -> Response:
    """Send `case` and run every configured check (less `excluded_checks`) on the response."""
    response, kwargs = send(client, case)
    case.validate_response(response, transport_kwargs=kwargs, excluded_checks=excluded_checks)
    return Response.from_any(response)


class ResourceLedger:
    """What a stateful run created and deleted, by resource and id, whichever family it went through.

    Schemathesis' `ensure_resource_availability` tracks deletions by path, so a contact created through
    /async and deleted through /sync looks like a lost resource. This ledger knows both paths name one row.
    """

    def __init__(self) -> None:
        self.alive: set[tuple[str, int]] = set()

    def record(self, case: Case, response: httpx.Response) -> None:
        """Update the ledger with a response; fail if a living resource was not found."""
        _, resource, *rest = case.path.strip("/").split("/")
        item_id = (case.path_parameters or {}).get("item_id")
        if case.method == "POST" and response.status_code == 201:
            self.alive.add((resource, response.json()["id"]))
        elif rest and isinstance(item_id, int) and (resource, item_id) in self.alive:
            if case.method == "DELETE" and response.status_code == 204:
                self.alive.discard((resource, item_id))
            assert response.status_code != 404, f"{resource} {item_id} was created and not deleted, yet 404"
