"""Requests that can be read only one way: a `before_request` hook of both families' routers.

HTTP lets a client repeat a query parameter or a header, and Python's `int()` reads `+1`, `007`, ` 1` and an
Arabic-Indic one as 1. A request a proxy, a cache or a log may read differently from the app is refused
with a 400 rather than resolved silently:

- a query parameter given twice (`?after=1&after=5`);
- `Idempotency-Key`, `Consistency-Token`, `Content-Type` or `Authorization` given twice (which key, which token,
  which type, whose key?);
- an id in the path or the query not written as plain ASCII digits (`0`, or a digit 1-9 followed by digits),
  the one way the API itself writes ids.

And a POST or PATCH whose body is not JSON (`Content-Type`: 415, `web/bodies.py`), or is empty (400), is refused
here too, before its body is read; only a chunked body is read here, since whether it is empty shows only then.
"""

import re
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from litestar.exceptions import ValidationException

from sale_orders.web.bodies import require_json

_PLAIN_NUMBER = re.compile(r"0|[1-9][0-9]*")
_NUMBER_PARAMETERS = frozenset({"after", "limit"})
_SINGLE_HEADERS = frozenset({b"idempotency-key", b"consistency-token", b"content-type", b"authorization"})
_PATH_ID = "item_id"
_BODY_METHODS = frozenset({"POST", "PATCH"})


def _query_errors(query: bytes) -> list[dict[str, str]]:
    errors, seen = [], set()
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if name in seen:
            errors.append({"key": name, "source": "query", "message": "given more than once"})
        seen.add(name)
        if name in _NUMBER_PARAMETERS and value and not _PLAIN_NUMBER.fullmatch(value):
            errors.append({"key": name, "source": "query", "message": "write it as plain digits, e.g. 42"})
    return errors


def _header_errors(headers: list[tuple[bytes, bytes]]) -> list[dict[str, str]]:
    names = [name for name, _ in headers if name in _SINGLE_HEADERS]
    repeated = sorted({name for name in names if names.count(name) > 1})
    return [{"key": name.decode(), "source": "header", "message": "given more than once"} for name in repeated]


def _path_errors(scope: dict[str, Any]) -> list[dict[str, str]]:
    if _PATH_ID not in scope.get("path_params", {}):
        return []
    segment = scope["path"].rstrip("/").rsplit("/", 1)[-1]
    if _PLAIN_NUMBER.fullmatch(segment):
        return []
    return [{"key": _PATH_ID, "source": "path", "message": "write it as plain digits, e.g. 42"}]


_NO_BODY = {"key": "body", "source": "body", "message": "the request has no body: send the object as JSON"}


async def _body_errors(request: Request[Any, Any, Any], scope: dict[str, Any]) -> list[dict[str, str]]:
    if scope.get("method") not in _BODY_METHODS:
        return []
    require_json(scope)  # a 415 before anything else: the body is not read
    headers = dict(scope["headers"])
    if b"content-length" in headers:
        return [_NO_BODY] if headers[b"content-length"].strip() == b"0" else []
    if b"transfer-encoding" not in headers:
        return [_NO_BODY]
    # Chunked: empty only if its first chunk is the last. Litestar keeps what is read here for the handler.
    return [] if await request.body() else [_NO_BODY]


async def refuse_ambiguous_request(request: Request[Any, Any, Any]) -> None:
    """Raise a 400 (`ValidationException`) naming every ambiguous part of the request; nothing when it has none.

    Raises:
        ValidationException: a 400 listing what is ambiguous.
        UnsupportedMediaTypeException: a POST or PATCH body that is not JSON (415).
    """
    scope: dict[str, Any] = request.scope  # type: ignore[assignment]
    errors = _path_errors(scope) + _header_errors(scope["headers"])
    if not errors:  # the Content-Type is read only once it is known to be one
        errors = await _body_errors(request, scope)
    if query := scope["query_string"]:
        errors += _query_errors(query)
    if errors:
        method = scope.get("method", "")
        raise ValidationException(detail=f"Ambiguous {method} {scope['path']}", extra=errors)
