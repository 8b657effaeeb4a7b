"""One proxied connection: two sides, a pipe each way that delays or holds what it carries."""

from __future__ import annotations

import asyncio
import collections
import socket
import struct
import time
from typing import Literal, cast

from sale_orders_faultproxy.stats import (
    _AFTER_HOLD,
    _CANCEL_REQUEST,
    _CLOSE,
    _GSSENC_REQUEST,
    _HIGH_WATER,
    _SSL_REQUEST,
    ProxyStats,
    Target,
)

clock = time.monotonic  # not loop.time(): uvloop's clock counts whole milliseconds


class ProxyState:
    """What every connection of one proxy shares: its settings, its switch and its counters."""

    def __init__(self, delay_up: float, delay_down: float, *, held: bool, count_messages: bool, lead: float) -> None:
        self.delay_up = delay_up
        self.delay_down = delay_down
        self.held = held
        self.held_since = 0.0
        self.released = asyncio.Event()
        if not held:
            self.released.set()
        self.count_messages = count_messages
        self.lead = lead
        self.stats = ProxyStats()
        self.links: set[Link] = set()
        self.loop: asyncio.AbstractEventLoop  # set when the proxy starts
        self.target: Target = ("127.0.0.1", 0)


class _FrontendParser:
    """Splits a PostgreSQL client's byte stream into messages, counting them by type."""

    def __init__(self, counter: collections.Counter[str]) -> None:
        self._counter = counter
        self._buffer = bytearray()
        self._startup = True  # the first message (startup, SSLRequest, CancelRequest) has no type byte

    def feed(self, data: bytes) -> None:
        buf = self._buffer
        buf += data
        pos = 0
        while True:
            if self._startup:
                if len(buf) - pos < 8:
                    break
                length, code = struct.unpack_from("!II", buf, pos)
                if len(buf) - pos < length:
                    break
                kind = {_SSL_REQUEST: "ssl", _GSSENC_REQUEST: "gssenc", _CANCEL_REQUEST: "cancel"}.get(code, "startup")
                self._counter[kind] += 1
                # After SSLRequest the server answers one byte and a (plain) startup follows; after a real
                # startup every message is typed. (An encrypted stream would be counted as garbage.)
                self._startup = kind in ("ssl", "gssenc")
                pos += length
            else:
                if len(buf) - pos < 5:
                    break
                (length,) = struct.unpack_from("!I", buf, pos + 1)
                if len(buf) - pos < 1 + length:
                    break
                self._counter[chr(buf[pos])] += 1
                pos += 1 + length
        del buf[:pos]


class _Pipe:
    """One direction of one proxied connection: a FIFO of timestamped chunks written when they are due."""

    def __init__(self, link: Link, direction: Literal["up", "down"]) -> None:
        self.link = link
        self.direction = direction
        self.source: asyncio.Transport | None = None
        self.sink: asyncio.Transport | None = None
        self.queue: collections.deque[tuple[float, bytes]] = collections.deque()
        self.queued_bytes = 0
        self.timer: asyncio.TimerHandle | None = None
        self.closed = False

    @property
    def delay(self) -> float:
        state = self.link.state
        return state.delay_up if self.direction == "up" else state.delay_down

    def feed(self, data: bytes) -> None:
        """A chunk (or `_CLOSE`) read from the source at this instant."""
        state = self.link.state
        if data:
            stats = state.stats
            if self.direction == "up":
                stats.bytes_up += len(data)
                stats.chunks_up += 1
                if self.link.last_direction != "up":
                    stats.turns += 1
                if self.link.parser is not None:
                    self.link.parser.feed(data)
            else:
                stats.bytes_down += len(data)
                stats.chunks_down += 1
            self.link.last_direction = self.direction
        delay = self.delay
        if not self.queue and not state.held and delay <= 0 and self.sink is not None:
            self._write(data)  # fast path: nothing queued, nothing to wait for
            return
        self.queue.append((clock() + delay, data))
        self.queued_bytes += len(data)
        if self.queued_bytes > _HIGH_WATER:
            self.link.pause(self.source, "queue")
        self.schedule()

    def schedule(self) -> None:
        """Arm the timer for the oldest queued chunk (if not held and not armed)."""
        if self.timer is not None or not self.queue or self.link.state.held or self.sink is None:
            return
        state = self.link.state
        wait = self.queue[0][0] - clock() - state.lead
        if wait <= 0:
            self.flush()
        else:
            self.timer = state.loop.call_later(wait, self._on_timer)

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _on_timer(self) -> None:
        self.timer = None
        self.flush()

    def flush(self) -> None:
        """Write every chunk that is due, then re-arm for the next one."""
        state = self.link.state
        if state.held or self.sink is None:
            return
        now = clock()
        horizon = now + state.lead
        stats = state.stats
        while self.queue and self.queue[0][0] <= horizon:
            due, data = self.queue.popleft()
            self.queued_bytes -= len(data)
            if not state.held_since or due > state.held_since:  # not held up by a hold: how late is it?
                late = now - due
                stats.delayed_chunks += 1
                stats.lateness_ms_total += late * 1000
                stats.lateness_ms_max = max(stats.lateness_ms_max, late * 1000)
            self._write(data)
            if self.closed:
                return
        if self.queued_bytes <= _HIGH_WATER // 2:
            self.link.resume(self.source, "queue")
        self.schedule()

    def _write(self, data: bytes) -> None:
        if self.sink is None:  # the side to write to is gone: nothing to deliver
            return
        if data:
            self.sink.write(data)
            return
        # The source closed: pass the close on (after what was written before it) and stop this pipe.
        self.closed = True
        self.queue.clear()
        self.cancel_timer()
        self.link.close()


class _Side(asyncio.Protocol):
    """The protocol of one of the two sockets of a proxied connection."""

    def __init__(self, link: Link, outgoing: _Pipe, incoming: _Pipe) -> None:
        self.link = link
        self.outgoing = outgoing  # what this side's peer sends us, to be forwarded to the other side
        self.incoming = incoming  # what the other side sends, to be written to this side
        self.transport: asyncio.Transport | None = None

    def connection_made(self, base: asyncio.BaseTransport) -> None:
        transport = cast("asyncio.Transport", base)  # uvloop's transports do not subclass asyncio's
        self.transport = transport
        self.outgoing.source = transport
        self.incoming.sink = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in {socket.AF_INET, socket.AF_INET6}:  # not a unix socket
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.link.apply_pauses(transport)
        self.incoming.schedule()

    def data_received(self, data: bytes) -> None:
        self.outgoing.feed(data)

    def eof_received(self) -> bool:
        self.outgoing.feed(_CLOSE)
        return True  # keep the transport open until the close has been forwarded

    def connection_lost(self, _exc: Exception | None) -> None:
        self.transport = None
        self.outgoing.source = None
        self.incoming.sink = None
        if not self.outgoing.closed:
            self.outgoing.feed(_CLOSE)
        self.link.lost(self)

    def pause_writing(self) -> None:  # this side's send buffer is full: stop reading the other side
        self.link.pause(self.incoming.source, "sink")

    def resume_writing(self) -> None:
        self.link.resume(self.incoming.source, "sink")


class ClientSide(_Side):
    """The accepted socket: connects upstream once accepted (and once no hold is in force)."""

    def connection_made(self, base: asyncio.BaseTransport) -> None:
        super().connection_made(base)
        self.link.connect_task = self.link.state.loop.create_task(self.link.connect())


class Link:
    """One proxied connection: the client's socket, the server's socket and a pipe each way."""

    def __init__(self, state: ProxyState) -> None:
        self.state = state
        self.up = _Pipe(self, "up")
        self.down = _Pipe(self, "down")
        self.client = ClientSide(self, self.up, self.down)
        self.server = _Side(self, self.down, self.up)
        self.last_direction: str = "down"
        self.parser = _FrontendParser(state.stats.messages_up) if state.count_messages else None
        self._pauses: dict[int, set[str]] = collections.defaultdict(set)
        self._closing = False
        self._finished = False
        self.connect_task: asyncio.Task[None] | None = None

    def pause(self, transport: asyncio.Transport | None, reason: str) -> None:
        if transport is None:
            return
        reasons = self._pauses[id(transport)]
        if not reasons and not transport.is_closing():
            transport.pause_reading()
        reasons.add(reason)

    def resume(self, transport: asyncio.Transport | None, reason: str) -> None:
        if transport is None:
            return
        reasons = self._pauses[id(transport)]
        if reason in reasons:
            reasons.discard(reason)
            if not reasons and not transport.is_closing():
                transport.resume_reading()

    def apply_pauses(self, transport: asyncio.Transport) -> None:
        """Pause a new transport if a hold is in force (called from `connection_made`)."""
        if self.state.held:
            self.pause(transport, "hold")
        # uvloop starts reading right after `connection_made` returns, whatever was paused in it: pause again.
        self.state.loop.call_soon(self._repause, transport)

    def _repause(self, transport: asyncio.Transport) -> None:
        if self._pauses[id(transport)] and not transport.is_closing():
            transport.pause_reading()

    def on_hold(self) -> None:
        for side in (self.client, self.server):
            self.pause(side.transport, "hold")
        self.up.cancel_timer()
        self.down.cancel_timer()

    def on_release(self) -> None:
        for side in (self.client, self.server):
            self.resume(side.transport, "hold")
        self.up.schedule()
        self.down.schedule()

    async def connect(self) -> None:
        state = self.state
        try:
            if not state.released.is_set():
                await state.released.wait()  # a cut link connects nowhere: wait for the hold to be lifted
                # A client that gave up during the hold has left its close in the socket: let it be read
                # before connecting, so that a long hold does not end in a burst of dead connections.
                await asyncio.sleep(_AFTER_HOLD)
            if self._closing:
                return
            if isinstance(state.target, str):
                await state.loop.create_unix_connection(lambda: self.server, state.target)
            else:
                await state.loop.create_connection(lambda: self.server, *state.target)
        except OSError:
            if self.client.transport is not None:
                self.client.transport.abort()  # upstream refused: refuse the client too (RST)
            self._finish()
        except asyncio.CancelledError:
            pass  # the client went away before upstream was connected

    def close(self) -> None:
        """Close both sockets gracefully, after what was written to them has been sent."""
        if self._closing:
            return
        self._closing = True
        for side in (self.client, self.server):
            if side.transport is not None:
                side.transport.close()
        if self.connect_task is not None and self.server.transport is None:
            self.connect_task.cancel()

    def abort(self) -> None:
        """Close both sockets with an RST, dropping what is queued."""
        self._closing = True
        for pipe in (self.up, self.down):
            pipe.queue.clear()
            pipe.cancel_timer()
        for side in (self.client, self.server):
            if side.transport is not None:
                side.transport.abort()
        if self.connect_task is not None and self.server.transport is None:
            self.connect_task.cancel()

    def lost(self, side: _Side) -> None:
        if side is self.client and self.server.transport is None and self.connect_task is not None:
            self.connect_task.cancel()
            self._finish()
        elif self.client.transport is None and self.server.transport is None:
            self._finish()

    def _finish(self) -> None:
        if not self._finished:
            self._finished = True
            self.state.links.discard(self)
            self.state.stats.connections_open -= 1
