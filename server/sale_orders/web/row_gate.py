"""One change of a row at a time per process: the rest wait here, where waiting holds no connection or thread.

Two PATCHes of one order cannot both proceed: the second waits for the first's row lock. Waiting in PostgreSQL, it
holds a pooled connection (and, in the sync family, a thread) all the while, so 64 clients hammering one order
took every connection of the pool, and unrelated requests, /health included, queued behind them. Here a change
of a row (PATCH or DELETE of `/x/{item_id}`, either family) first takes that row's place in this process,
first come first served, on the event loop; only then does it take a thread or a connection. At most one request
per row and process waits in PostgreSQL, where `LOCK_TIMEOUT_MS` bounds the wait (other processes, other hosts).

A request that cannot take the row's place within `LOCK_TIMEOUT_MS` is answered 409 `concurrent-change` with
`Retry-After`: nothing was changed. A PATCH takes its place only once its whole body has arrived: a client that
trickles its body (until `BODY_TIMEOUT` drops it) holds nothing in the meantime.

The route's guards (the API-key check) run here first, before the body is read, as Litestar runs them before a
handler reads one: a request without a valid key is answered 401 or 403 at once and never waits for its body or
its row. A PATCH whose Content-Length is over `MAX_BODY_BYTES` is passed on unread, and the app answers it 413 at
once, as it answers such a POST.
"""

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from sale_orders.domain import limits
from sale_orders.web.problems import CONCURRENT_CHANGE, RETRY_SOON, ContendedError, answer_as_handled, send_problem

ROW_GATE_STATE_KEY = "row_gate"
"""Where the app's state holds its `RowGate` (one per app: asyncio locks belong to one event loop)."""


@dataclass
class _Place:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holding or waiting: the entry goes when the last one leaves


class RowGate:
    """A first-come-first-served lock per row key, made when first asked for and dropped when nobody uses it.

    Args:
        timeout: the longest a request waits for its turn, in seconds; None: no limit.
    """

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self._places: dict[Hashable, _Place] = {}

    @property
    def rows(self) -> int:
        """Rows that requests hold or wait for now."""
        return len(self._places)

    @asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        """Hold the row `key` for the block; wait up to `timeout` for it, else raise `ContendedError`."""
        place = self._places.get(key)
        if place is None:
            place = self._places[key] = _Place()
        place.users += 1
        try:
            try:
                await asyncio.wait_for(place.lock.acquire(), self.timeout)
            except TimeoutError:
                waited = f"{self.timeout or 0:g} s"
                msg = f"other requests have been changing this row for {waited}; nothing was changed, retry"
                raise ContendedError(msg) from None
            try:
                yield
            finally:
                place.lock.release()
        finally:
            place.users -= 1
            if not place.users:
                del self._places[key]


async def _whole_body(receive: Receive) -> tuple[list[ReceiveMessage], bool]:
    """The request's body messages, read until the body is complete: (them, whether it completed in bounds).

    Stops early at a disconnect, or past `MAX_BODY_BYTES` (the app answers that 413 itself).
    """
    messages: list[ReceiveMessage] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, False
        size += len(message.get("body", b""))
        if size > limits.MAX_BODY_BYTES:
            return messages, False
        if not message.get("more_body", False):
            return messages, True


def _announced_too_large(scope: Scope) -> bool:
    """Whether the request's Content-Length is over `MAX_BODY_BYTES` (the app answers 413 before reading it)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.strip().isdigit() and int(value) > limits.MAX_BODY_BYTES
    return False


def _replaying(messages: list[ReceiveMessage], receive: Receive) -> Receive:
    """`receive`, first handing out `messages` (already received) again."""
    pending = list(messages)

    async def replay() -> ReceiveMessage:
        return pending.pop(0) if pending else await receive()

    return replay


class RowGateMiddleware(ASGIMiddleware):
    """Run a PATCH or DELETE of `/<family>/<resource>/{item_id}` holding its row's turn (`RowGate`).

    The key leaves the family out: `/sync/order/7` and `/async/order/7` are the same row. A request that waited
    too long is answered here (the metrics middleware around it then counts the 409 it got).
    """

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        gate: RowGate | None = scope["app"].state.get(ROW_GATE_STATE_KEY)
        item_id = scope.get("path_params", {}).get("item_id")
        if gate is None or item_id is None:
            await next_app(scope, receive, send)
            return
        route_handler = scope["route_handler"]
        request: Request[Any, Any, Any] = Request(scope, receive, send)
        try:
            # Run again by Litestar before the handler: one more SHA-256 for a keyed PATCH or DELETE.
            if route_handler.resolve_guards():
                await route_handler.authorize_connection(request)
            complete = True
            if scope.get("method") == "PATCH":
                # Too large by its Content-Length: not read, the app answers 413 at once.
                complete = not _announced_too_large(scope)
                if complete:
                    messages, complete = await _whole_body(receive)
                    receive = _replaying(messages, receive)
        except Exception as exc:  # noqa: BLE001 - answered as the handler's own errors are
            await answer_as_handled(request, exc)
            return
        if not complete:  # gone, or too large: the app answers without the row's turn
            await next_app(scope, receive, send)
            return
        resource = scope["path_template"].split("/", 3)[2]  # "/sync/order/{item_id:int}" -> "order"
        try:
            async with gate.turn((resource, item_id)):
                await next_app(scope, receive, send)
        except ContendedError as exc:
            await send_problem(send, 409, CONCURRENT_CHANGE, str(exc), RETRY_SOON)


ROW_GATE = RowGateMiddleware()
