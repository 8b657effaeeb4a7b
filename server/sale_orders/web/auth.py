"""API keys at the HTTP edge: a guard for both families' routers, and the contract's bearer scheme.

A key is a random string the server never stores: `API_KEYS` holds the SHA-256 of each key with its scope
(sale_orders.settings). A request's key is hashed once and its digest compared with every configured digest in
constant time (`hmac.compare_digest`, no early exit), so how long a request takes tells nothing about which bytes
matched. The guard is installed only when keys are configured.
"""

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import Reference, SecurityRequirement, SecurityScheme
from litestar.types import Guard

from sale_orders.settings import ApiKeyScope

SCHEME_NAME = "ApiKey"
SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    SCHEME_NAME: SecurityScheme(
        type="http",
        scheme="bearer",
        description="An API key, sent as `Authorization: Bearer <key>`. Required on every /sync and /async"
        " operation when the server is configured with keys; a read key may only GET.",
    )
}
SECURITY: list[SecurityRequirement] = [{SCHEME_NAME: []}]

# HEAD needs no entry: sale_orders.web.edge serves it as GET before routing.
_READ_METHODS = frozenset({"GET", "OPTIONS"})
_REALM = 'Bearer realm="sale-orders"'
_NO_KEY = {"WWW-Authenticate": _REALM}
_BAD_KEY = {"WWW-Authenticate": f'{_REALM}, error="invalid_token"'}
_READ_ONLY = {"WWW-Authenticate": f'{_REALM}, error="insufficient_scope", scope="write"'}


def new_api_key() -> str:
    """A fresh key: 256 random bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def api_key_digest(key: str) -> str:
    """The SHA-256 of `key` as lowercase hex: what `API_KEYS` holds instead of the key."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_guard(scopes: Mapping[str, ApiKeyScope]) -> Guard:
    """A guard admitting requests whose bearer key is in `scopes` (by digest) with a scope for their method.

    A handful of keys is the expected case: comparing with each is cheaper than the SHA-256 itself.

    Raises, from the guard:
        NotAuthorizedException: no bearer key, or an unknown one (401 with `WWW-Authenticate: Bearer`).
        PermissionDeniedException: a read key on a method that changes data (403).
    """

    def require_api_key(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        scheme, _, key = connection.headers.get("authorization", "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise NotAuthorizedException("send an API key: `Authorization: Bearer <key>`", headers=_NO_KEY)
        digest = api_key_digest(key)
        scope: ApiKeyScope | None = None
        for known, known_scope in scopes.items():  # every entry, whether or not one matched already
            if hmac.compare_digest(known, digest):
                scope = known_scope
        if scope is None:
            raise NotAuthorizedException("the API key is not valid", headers=_BAD_KEY)
        if scope != "write" and connection.scope.get("method") not in _READ_METHODS:
            raise PermissionDeniedException("this API key may only read; changes need a write key", headers=_READ_ONLY)

    return require_api_key
