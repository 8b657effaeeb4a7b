"""Response headers set on every response, before it starts.

Security headers: the API answers JSON only, so browsers must not sniff, frame or cache it. The docs UI
(sale_orders.app.docs) sets its own Content-Security-Policy.

A fix for the `Allow` header of Litestar's automatic OPTIONS responses: Litestar 2.25 builds one OPTIONS
handler per route handler and keeps the first, so `OPTIONS /x/{id}` answered `Allow: DELETE, OPTIONS`
although the path also serves GET and PATCH. Clients, and Schemathesis' `allow_header_conformance` check,
read `Allow` as the list of what the path supports. Wherever GET is allowed, so is HEAD
(sale_orders.web.edge answers it), in OPTIONS and 405 responses alike.
"""

from collections.abc import Iterable

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_405_METHOD_NOT_ALLOWED
from litestar.types import Message, Scope


def _allow(methods: Iterable[str]) -> str:
    allowed = {method.strip().upper() for method in methods if method.strip()}
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(sorted(allowed))


def _methods_by_path(app: Litestar) -> dict[str, str]:
    return {route.path_format: _allow(route.methods) for route in app.routes if isinstance(route, HTTPRoute)}


SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"cache-control": b"no-store",
}


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Add the security headers a response does not set itself."""
    del scope
    if message["type"] == "http.response.start":
        present = {name.lower() for name, _ in message.get("headers", [])}
        extra = [(name, value) for name, value in SECURITY_HEADERS.items() if name not in present]
        message["headers"] = [*message.get("headers", []), *extra]


async def list_every_method_in_allow(message: Message, scope: Scope) -> None:
    """Before an OPTIONS or a 405 response starts, set `Allow` to every method its path serves."""
    if message["type"] != "http.response.start":
        return
    headers = message.get("headers", [])
    if scope.get("method") == "OPTIONS":
        methods = _methods_by_path(scope["app"]).get(str(scope.get("path_template")))
    elif message["status"] == HTTP_405_METHOD_NOT_ALLOWED:
        given = [value.decode("latin-1") for name, value in headers if name.lower() == b"allow"]
        methods = _allow(",".join(given).split(",")) if given else None
    else:
        return
    if methods:
        kept = [(name, value) for name, value in headers if name.lower() != b"allow"]
        message["headers"] = [*kept, (b"allow", methods.encode())]
