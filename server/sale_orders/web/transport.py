"""What a client may make a connection hold before the app has its request: header bytes, header time, body time.

uvicorn with httptools bounds none of them: headers grow in the parser as long as the client sends them, and a
client trickling its headers or its body holds the connection for ever. `RequestBounds` is mixed into the
HTTP protocols that `serve` runs (`sale_orders.web.uvicorn_protocols`, the only module that knows uvicorn's
insides) and answers in problem details, as the app does:

- the request line and headers over `MAX_REQUEST_HEADER_BYTES`: 431, then close. Bytes are counted before the
  parser sees them, so no more than the limit (plus one read of the socket, when pipelined requests share it)
  ever reaches it.
- headers not complete `HEADER_TIMEOUT` after the connection opened (its first request) or after the first byte
  of a later request: 408 if a byte of them came, then close.
- a body not complete `BODY_TIMEOUT` after its headers: 408 unless the app has started its answer, then close;
  the app sees `http.disconnect` at once.
- an answer 503 `busy` from the admission bound (web/admission.py marks the request's scope with `SHED_SCOPE_KEY`):
  nothing more is read from the connection for `SHED_PAUSE` seconds, its `Retry-After`. A client that retries at
  once (wrk; many scripts) waits anyway, its next request in the socket's buffer, instead of spinning on refusals
  that take the worker's time from the requests admitted (`bench admission`).

A deadline is set only when a request is seen incomplete after a read, so a request that arrives whole in one
read (nearly all of them) sets no timer; a connection sets one when it opens. Idle kept-alive connections are
left to uvicorn's `timeout_keep_alive`; the time the app takes to answer is never limited here.
"""

import asyncio
import enum
import functools
import json
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import cast

from sale_orders.settings import Settings, load_settings
from sale_orders.web.headers import SECURITY_HEADERS
from sale_orders.web.problems import PROBLEM_JSON, PROBLEM_TYPE_PREFIX

log = logging.getLogger(__name__)

# Set (True) on a request's scope when the admission bound answers it 503 `busy` (web/admission.py). Once that answer
# is written, the protocol reads nothing more from the connection for SHED_PAUSE seconds, its `Retry-After`.
SHED_SCOPE_KEY = "sale_orders.shed"


class Phase(enum.Enum):
    """Where a connection's current request is, as far as the bytes read so far tell."""

    IDLE = "idle"  # between requests: nothing of the next one read yet (a new connection waits for HEADERS)
    HEADERS = "headers"  # part of a request line or headers read
    BODY = "body"  # headers complete, body not yet


_IDLE, _HEADERS, _BODY = Phase.IDLE, Phase.HEADERS, Phase.BODY


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """The limits of one process, from its settings."""

    header_bytes: int
    header_timeout: float
    body_timeout: float
    shed_pause: float = 0.0  # after a 503 `busy`: see SHED_SCOPE_KEY

    @classmethod
    def from_settings(cls, settings: Settings) -> "RequestLimits":
        return cls(
            settings.max_request_header_bytes, settings.header_timeout, settings.body_timeout, settings.shed_pause
        )


@functools.cache
def process_limits() -> RequestLimits:
    """This process's limits: each worker reads its settings from the environment, as its app does."""
    return RequestLimits.from_settings(load_settings())


def problem_answer(status: HTTPStatus, kind: str, detail: str, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A whole HTTP/1.1 answer with an RFC 9457 body, closing the connection; `default_headers` are uvicorn's."""
    body = json.dumps(
        {"type": PROBLEM_TYPE_PREFIX + kind, "title": status.phrase, "status": status.value, "detail": detail}
    ).encode()
    headers = [
        *default_headers,
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *SECURITY_HEADERS.items(),
    ]
    head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    return b"HTTP/1.1 %d %s\r\n%s\r\n%s" % (status.value, status.phrase.encode(), head, body)


class RequestBounds(asyncio.Protocol):
    """Limits on a connection's request headers (size, time) and body (time), mixed into an HTTP protocol.

    Place it before the protocol class in the bases. The protocol class supplies the four methods at the end,
    which read its parser's state; everything else here uses the public asyncio protocol API only.
    """

    _header_bytes = 0  # bytes of the current request's line and headers read so far; 0 once they are complete
    _seen: Phase = _IDLE  # the phase after the last read, which the deadline (if any) is for
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._limits = process_limits()
        self._bounded = cast("asyncio.Transport", transport)  # a stream: uvicorn serves TCP and unix sockets
        self._deadlines = asyncio.get_running_loop()
        self._expect(_HEADERS)  # a connection that never sends a whole request is dropped too

    def connection_lost(self, exc: Exception | None) -> None:
        self._expect(_IDLE)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._seen is not _BODY:
            room = self._limits.header_bytes - self._header_bytes
            if len(data) > room:
                self._receive_beyond(data, room)
                return
            self._header_bytes += len(data)
        super().data_received(data)
        if (phase := self._phase()) is not self._seen:
            self._expect(phase)

    def _receive_beyond(self, data: bytes, room: int) -> None:
        """Read `data`, of which only `room` bytes may still be header bytes (a rare path: big reads)."""
        # The headers may end within the room left, with a body after them: the parser reads that much first.
        self._header_bytes += room
        if room:
            super().data_received(data[:room])
        if self._bounded.is_closing() or self._bounded.get_protocol() is not self:  # refused, or upgraded
            return
        if (phase := self._phase()) is not self._seen:
            self._expect(phase)
        if self._header_bytes:  # the headers did not end within the limit
            detail = f"the request line and headers take more than {self._limits.header_bytes} bytes"
            self._drop(_HEADERS, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers-too-large", detail)
            return
        self.data_received(data[room:])

    def _expect(self, phase: Phase) -> None:
        """Set the deadline of `phase`, in place of the one before."""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if phase is _HEADERS:
            self._deadline = self._deadlines.call_later(self._limits.header_timeout, self._headers_late)
        elif phase is _BODY:
            self._deadline = self._deadlines.call_later(self._limits.body_timeout, self._body_late)
        self._seen = phase

    def _headers_late(self) -> None:
        self._deadline = None
        detail = f"the request headers did not arrive within {self._limits.header_timeout:g} s"
        # Silent since it opened: nobody to answer (a client that sent nothing reads nothing).
        self._drop(_HEADERS, HTTPStatus.REQUEST_TIMEOUT if self._header_bytes else None, "request-timeout", detail)

    def _body_late(self) -> None:
        self._deadline = None
        detail = f"the request body did not arrive within {self._limits.body_timeout:g} s of its headers"
        self._drop(_BODY, HTTPStatus.REQUEST_TIMEOUT, "request-timeout", detail)

    def _drop(self, phase: Phase, status: HTTPStatus | None, kind: str, detail: str) -> None:
        """Answer `status` to the request in `phase` where nothing else is being answered, then close."""
        transport = self._bounded
        if transport.is_closing() or transport.get_protocol() is not self:  # closed, or handed to a WebSocket
            return
        answer = status is not None and self._may_answer(phase)
        peer = transport.get_extra_info("peername")
        log.warning(
            "%s - %s: %s, connection closed",
            "%s:%s" % peer[:2] if isinstance(peer, tuple) else peer,  # noqa: UP031 - IPv4 and IPv6 tuples alike
            f"{status.value}" if status is not None and answer else "no answer",
            detail,
        )
        self._expect(_IDLE)
        self._disconnect_app()
        if status is not None and answer:
            transport.write(problem_answer(status, kind, detail, self._default_headers()))
        # A client that reads nothing would hold a closing connection open: drop what it has not taken.
        if transport.get_write_buffer_size():
            transport.abort()
        else:
            transport.close()

    # What the protocol class supplies from its parser's state.
    def _phase(self) -> Phase:
        """The phase after a read; resets `_header_bytes` to 0 once the headers are complete."""
        raise NotImplementedError

    def _may_answer(self, phase: Phase) -> bool:
        """Whether an answer now would be the answer to the request in `phase`.

        No earlier answer is under way or queued, and in `BODY` none has started for this request.
        """
        raise NotImplementedError

    def _disconnect_app(self) -> None:
        """Tell the app's request, if one runs, that the client is gone (as the protocol does on a lost connection)."""
        raise NotImplementedError

    def _default_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers the server puts on every answer (`date`, `server`)."""
        raise NotImplementedError
