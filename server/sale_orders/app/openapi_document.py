"""The OpenAPI document as the app serves it: Litestar's, finished with what Litestar cannot say.

- **Security tells the truth about this server.** With API keys configured, every family operation requires
  the bearer scheme and documents its 401 (with `WWW-Authenticate`) and 403; with none, no operation requires
  anything and no 401 or 403 is documented. Operations that need no key say so (`security: []`).
- **Every header has a schema** (Litestar writes none for a documented response header such as `Location`).
- **A 204 has no body** (Litestar documents a JSON null for a handler returning `Response[None]`).
- **Retry-After** is documented on the 503 (database unavailable) and the 409s (a concurrent change, an
  Idempotency-Key in progress) that send it.

The committed contract (`contracts/openapi.json`) is the document of a server configured with keys.
"""

import copy
import json
from typing import Any

from litestar import Litestar, Request
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.serialization import encode_json

KEYED_STATE_KEY = "api_keys_required"
"""App state: whether the app was configured with API keys."""
_DOCUMENT_STATE_KEY = "openapi_document"

_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
_AUTH_STATUSES = ("401", "403")
_RETRY_AFTER = {
    "description": "seconds to wait before retrying",
    "schema": {"type": "integer", "minimum": 0},
}
_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "description": '`Bearer realm="sale-orders"`, with `error="invalid_token"` for an unknown key',
            "schema": {"type": "string"},
        }
    },
    "409": {
        "Retry-After": {
            **_RETRY_AFTER,
            "description": "when the type is `concurrent-change` or `idempotency-key-in-progress`: nothing was"
            " changed, and a retry after this many seconds may succeed",
        }
    },
    "503": {"Retry-After": _RETRY_AFTER},
}
_KEYED = (
    " This document is served by a server configured with API keys: every /sync and /async operation needs"
    " `Authorization: Bearer <key>`."
)
_OPEN = " This server is configured without API keys: no operation needs one."


def _finish_operation(operation: dict[str, Any], *, keyed: bool) -> None:
    responses = operation.get("responses", {})
    if not keyed:
        operation.pop("security", None)
        for status in _AUTH_STATUSES:
            responses.pop(status, None)
    operation.setdefault("security", [])
    # A 204 has no body: Litestar documents one (JSON null) for a handler that returns a `Response[None]`.
    responses.get("204", {}).pop("content", None)
    for status, headers in _HEADERS.items():
        if status in responses:
            responses[status]["headers"] = {**responses[status].get("headers", {}), **headers}
    for response in responses.values():
        for header in response.get("headers", {}).values():
            header.setdefault("schema", {"type": "string"})  # Litestar leaves it out


def finish(document: dict[str, Any], *, keyed: bool) -> dict[str, Any]:
    """`document` (Litestar's, as JSON data) as this server serves it; `keyed`: configured with API keys."""
    finished = copy.deepcopy(document)
    for item in finished.get("paths", {}).values():
        for method, operation in item.items():
            if method in _METHODS:
                _finish_operation(operation, keyed=keyed)
    if not keyed:
        finished.get("components", {}).pop("securitySchemes", None)
    info = finished.setdefault("info", {})
    info["description"] = info.get("description", "") + (_KEYED if keyed else _OPEN)
    return finished


def served_document(app: Litestar) -> dict[str, Any]:
    """The app's OpenAPI document as JSON data, finished once and kept for the app's life."""
    document: dict[str, Any] | None = app.state.get(_DOCUMENT_STATE_KEY)
    if document is None:
        raw = json.loads(encode_json(app.openapi_schema.to_schema()))
        document = finish(raw, keyed=bool(app.state.get(KEYED_STATE_KEY)))
        app.state[_DOCUMENT_STATE_KEY] = document
    return document


class ServedJsonRenderPlugin(JsonRenderPlugin):
    """Litestar's /schema/openapi.json, serving the finished document as /openapi.json does."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        del openapi_schema
        return super().render(request, served_document(request.app))
