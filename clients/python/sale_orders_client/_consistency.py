"""Read your own writes from any host: the newest consistency token this client's writes got, sent with its reads.

Every write the API answers carries a ``Consistency-Token`` header. A client keeps the newest one
(``ConsistencyTokens``) and sends it with every GET: a server that would answer from a standby does so only once
the standby has every write up to that token, otherwise it answers from the primary. Hand-written (checked by
ruff and mypy in the project), copied into the generated package by ``sale-orders client``.
"""

import threading
from collections.abc import Awaitable, Callable  # noqa: TC003 - copied alone into the SDK: kept plain
from typing import Any

import httpx

HEADER = "Consistency-Token"
_READS = frozenset({"GET", "HEAD"})


class ConsistencyTokens:
    """The newest consistency token a client has been answered with; safe to share between threads."""

    def __init__(self) -> None:
        self._newest: int | None = None
        self._lock = threading.Lock()

    @property
    def newest(self) -> int | None:
        """The newest token seen, or None before the client's first write."""
        return self._newest

    def observe(self, response: httpx.Response) -> None:
        """Keep the response's token if it is newer than the one kept (tokens grow with time)."""
        value = response.headers.get(HEADER, "")
        if value.isdigit():
            with self._lock:
                if self._newest is None or int(value) > self._newest:
                    self._newest = int(value)

    def stamp(self, request: httpx.Request) -> None:
        """Send the newest token with a read, unless the caller gave one."""
        if request.method in _READS and self._newest is not None and HEADER not in request.headers:
            request.headers[HEADER] = str(self._newest)


def consistent_httpx_args(
    httpx_args: dict[str, Any], tokens: "ConsistencyTokens | None", *, asynchronous: bool
) -> dict[str, Any]:
    """The httpx Client arguments with event hooks that keep and send `tokens` (None: none added)."""
    args = dict(httpx_args)
    if tokens is None:
        return args
    hooks = {name: list(found) for name, found in args.pop("event_hooks", {}).items()}
    if asynchronous:

        async def stamp(request: httpx.Request) -> None:
            tokens.stamp(request)

        async def observe(response: httpx.Response) -> None:
            tokens.observe(response)

        request_hook: Callable[[httpx.Request], Awaitable[None] | None] = stamp
        response_hook: Callable[[httpx.Response], Awaitable[None] | None] = observe
    else:
        request_hook, response_hook = tokens.stamp, tokens.observe
    hooks.setdefault("request", []).append(request_hook)
    hooks.setdefault("response", []).append(response_hook)
    args["event_hooks"] = hooks
    return args
