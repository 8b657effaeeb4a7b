"""uvicorn's two HTTP/1.1 protocols with `RequestBounds`: the one module that relies on uvicorn's insides.

Checked against uvicorn 0.54.0 with httptools 0.9.0 and h11 0.16.0 (`CHECKED_WITH`). Besides the asyncio
protocol methods it overrides what `UPSTREAM` lists: the httptools parser callbacks `on_header` (a value without
the whitespace after it, as h11 reads it), `on_headers_complete` and `on_message_complete` (the parser binds them
from the protocol when it is made), both protocols' `on_response_complete` (after a 503 `busy`, reading is paused
for `SHED_PAUSE`, uvicorn's keep-alive timer with it), `shutdown` (a connection in that pause is read and its
request answered before it closes), `data_received` and `send_400_response` (a request the parser refuses,
answered as problem details); it calls `_unset_keepalive_if_required` and arms `timeout_keep_alive_handler`; and
it reads the attributes of `UPSTREAM_ATTRIBUTES`: `cycle` (its `response_started`, `response_complete`,
`disconnected`, `message_event`, `scope`, `keep_alive`), `pipeline` (httptools), `conn` (h11), `flow` (uvicorn's
flow control, whose `pause_reading` and `resume_reading` it calls), `loop`, the keep-alive timer and its seconds,
and `server_state.default_headers`.
tests/unit/test_uvicorn_protocols.py fails when one of them changes: read what the new upstream code does with that
state before adapting the names.

`serve` passes these classes to uvicorn by import string (`PROTOCOLS`), so each worker process imports them.
"""

import asyncio
from http import HTTPStatus
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from sale_orders.web.transport import SHED_SCOPE_KEY, Phase, RequestBounds, RequestLimits, problem_answer

# The versions this module was checked against; tests/unit/test_uvicorn_protocols.py asks for a re-check on a change.
CHECKED_WITH = {"uvicorn": "0.54.0", "httptools": "0.9.0", "h11": "0.16.0"}
# What each class overrides or reads of its upstream protocol: (method, its parameters after `self`).
UPSTREAM: dict[type, dict[str, tuple[str, ...]]] = {
    HttpToolsProtocol: {
        "connection_made": ("transport",),
        "connection_lost": ("exc",),
        "data_received": ("data",),
        "on_header": ("name", "value"),
        "on_headers_complete": (),
        "on_message_complete": (),
        "on_response_complete": (),
        "send_400_response": ("msg",),
        "shutdown": (),
        "_unset_keepalive_if_required": (),
        "timeout_keep_alive_handler": (),
    },
    H11Protocol: {
        "connection_made": ("transport",),
        "connection_lost": ("exc",),
        "data_received": ("data",),
        "on_response_complete": (),
        "send_400_response": ("msg",),
        "shutdown": (),
        "_unset_keepalive_if_required": (),
        "timeout_keep_alive_handler": (),
    },
}
# Attributes each protocol instance has once made, and those of its request-response cycle.
UPSTREAM_ATTRIBUTES: dict[type, tuple[str, ...]] = {
    HttpToolsProtocol: (
        "cycle",
        "pipeline",
        "server_state",
        "parser",
        "flow",
        "loop",
        "timeout_keep_alive",
        "timeout_keep_alive_task",
    ),
    H11Protocol: ("cycle", "conn", "server_state", "flow", "loop", "timeout_keep_alive", "timeout_keep_alive_task"),
}
UPSTREAM_CYCLE_ATTRIBUTES = (
    "response_started",
    "response_complete",
    "disconnected",
    "message_event",
    "scope",
    "keep_alive",
)
# Seconds a shutdown reads a connection refused 503 `busy` and not read from since, for a request sent meanwhile.
SHUTDOWN_READ_GRACE = 0.5


class _UvicornState:
    """What both protocols give `RequestBounds` alike: from their request-response cycle and server state."""

    cycle: Any
    server_state: Any
    flow: Any
    loop: asyncio.AbstractEventLoop
    timeout_keep_alive: int
    timeout_keep_alive_task: asyncio.TimerHandle | None
    timeout_keep_alive_handler: Any
    _unset_keepalive_if_required: Any
    _limits: RequestLimits
    _deadlines: asyncio.AbstractEventLoop

    # After a 503 `busy`: the timer that ends the pause (`SHED_PAUSE`); whether nothing was read since (a request
    # the client sent may wait unread in the socket, even once the pause is over); whether a shutdown reads it.
    _shed_pause: asyncio.TimerHandle | None = None
    _unread_since_shed = False
    _draining = False

    def on_response_complete(self) -> None:
        # The cycle whose answer was just written (a pipelined request's cycle replaces it only once started).
        cycle = self.cycle
        shed = cycle is not None and cycle.scope.get(SHED_SCOPE_KEY, False)
        super().on_response_complete()  # type: ignore[misc] # the protocol class after this mixin has it
        # Only a connection left idle: a request pipelined behind the refusal was read already, and now runs.
        idle = self.cycle is cycle and not self.transport.is_closing()
        if shed and idle and self._limits.shed_pause and not self._draining:
            # uvicorn's keep-alive counts from the end of the pause: a request sent during it is read, not dropped.
            self._unset_keepalive_if_required()
            # uvicorn's flow control: its own pause and resume (a slow reader, pipelining) stay consistent with this.
            self.flow.pause_reading()
            self._unread_since_shed = True
            self._shed_pause = self._deadlines.call_later(self._limits.shed_pause, self._read_again)

    def _end_pause(self) -> None:
        if self._shed_pause is not None:
            self._shed_pause.cancel()
            self._shed_pause = None

    def _read_again(self) -> None:
        self._end_pause()
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        self._unset_keepalive_if_required()
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def shutdown(self) -> None:
        """A graceful shutdown; a connection refused and not read from since is read first, its request answered.

        uvicorn closes an idle connection at once: with a request the client sent during the pause unread in the
        socket, that is a reset, and a POST the client cannot tell from one that ran. Here the connection is read
        for `SHUTDOWN_READ_GRACE`: a request whose headers arrive within it runs, and its answer closes the
        connection; then, or if none came, uvicorn's own shutdown closes it.
        """
        if not self._unread_since_shed or self.transport.is_closing():
            super().shutdown()  # type: ignore[misc]
            return
        self._draining = True
        self._end_pause()
        self._unset_keepalive_if_required()
        self.flow.resume_reading()
        self._deadlines.call_later(SHUTDOWN_READ_GRACE, self._drain_ended)

    def _drain_ended(self) -> None:
        if not self.transport.is_closing():
            super().shutdown()  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        self._unread_since_shed = False
        super().data_received(data)  # type: ignore[misc]
        if self._draining and self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False  # its answer closes the connection, as uvicorn's shutdown asks

    def _disconnect_app(self) -> None:
        # As uvicorn's connection_lost does, at once: the app stops waiting for the body and writes nothing more.
        cycle = self.cycle
        if cycle is not None:
            if not cycle.response_complete:
                cycle.disconnected = True
            cycle.message_event.set()

    def _default_headers(self) -> list[tuple[bytes, bytes]]:
        headers: list[tuple[bytes, bytes]] = self.server_state.default_headers
        return headers

    transport: Any

    def send_400_response(self, msg: str) -> None:
        """What the parser cannot read (an unknown method, a broken request line), answered as problem details.

        uvicorn answers it in text/plain ("Invalid HTTP request received."), before the app sees a request.
        """
        del msg  # uvicorn's own words for it, the same whatever was wrong
        detail = "the request is not valid HTTP/1.1 (an unknown method, or a malformed request line or header)"
        self.transport.write(
            problem_answer(HTTPStatus.BAD_REQUEST, "malformed-request", detail, self._default_headers())
        )
        self.transport.close()


class BoundedHttpToolsProtocol(_UvicornState, RequestBounds, HttpToolsProtocol):
    """`serve --http httptools`: uvicorn's httptools protocol within `RequestBounds`."""

    _in_body = False

    def on_header(self, name: bytes, value: bytes) -> None:
        # llhttp keeps the whitespace after a value (`Consistency-Token: 1 `); h11 drops it, as RFC 9110 5.5 says.
        super().on_header(name, value.rstrip(b" \t"))

    def on_headers_complete(self) -> None:
        self._header_bytes = 0
        self._in_body = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body = False
        super().on_message_complete()

    def _phase(self) -> Phase:
        if self._in_body:
            return Phase.BODY
        return Phase.HEADERS if self._header_bytes else Phase.IDLE

    def _may_answer(self, phase: Phase) -> bool:
        if self.pipeline:  # queued requests: an earlier answer is under way
            return False
        cycle = self.cycle
        if phase is Phase.BODY:
            return cycle is not None and not cycle.response_started
        return cycle is None or cycle.response_complete


class BoundedH11Protocol(_UvicornState, RequestBounds, H11Protocol):
    """`serve --http h11`: uvicorn's h11 protocol within `RequestBounds`."""

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # h11 reads requests that were pipelined behind this one only now, outside `data_received`.
        if (phase := self._phase()) is not self._seen:
            self._expect(phase)

    def _phase(self) -> Phase:
        state = self.conn.their_state
        if state is h11.IDLE:
            return Phase.HEADERS if self._header_bytes else Phase.IDLE
        self._header_bytes = 0
        return Phase.BODY if state is h11.SEND_BODY else Phase.IDLE

    def _may_answer(self, phase: Phase) -> bool:
        cycle = self.cycle
        if phase is Phase.BODY:
            return cycle is not None and not cycle.response_started
        return cycle is None or cycle.response_complete


# `serve --http` -> the protocol uvicorn runs, as an import string.
PROTOCOLS = {
    "httptools": f"{__name__}:{BoundedHttpToolsProtocol.__name__}",
    "h11": f"{__name__}:{BoundedH11Protocol.__name__}",
}
