"""The proxy's addresses, constants and counters."""

from __future__ import annotations

import asyncio
import collections
import ipaddress
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeVar

Address = tuple[str, int]
Target = Address | str
"""Where the proxy forwards to: a loopback (host, port), or a unix socket's path (an embedded PostgreSQL's)."""
Direction = Literal["up", "down", "both"]
T = TypeVar("T")

_CLOSE = b""  # queued after the last chunk of a side that closed: close the other side once flushed
_AFTER_HOLD = 0.01  # s: how long a connection accepted during a hold waits after it, before connecting upstream
_HIGH_WATER = 1 << 20  # bytes queued in the proxy for one direction before the source is paused
_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_CANCEL_REQUEST = 80877102


def parse_target(text: str) -> Target:
    """`parse_address`, or a unix socket's path (anything with a `/`)."""
    return text if "/" in text else parse_address(text)


def parse_address(text: str, *, loopback_only: bool = True) -> Address:
    """``"127.0.0.1:6000"`` -> ``("127.0.0.1", 6000)``; refuses non-loopback addresses unless told."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if loopback_only and host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"{host} is not a loopback address")
    return host, int(port)


@dataclass
class ProxyStats:
    """Counters since the proxy started or since `LatencyProxy.zero_stats`."""

    connections_total: int = 0
    connections_open: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    chunks_up: int = 0
    chunks_down: int = 0
    turns: int = 0
    """Client chunks that followed a server chunk on the same connection (plus each connection's first):
    how many times a client waited for the server, i.e. round trips as the link sees them."""
    messages_up: collections.Counter[str] = field(default_factory=collections.Counter)
    """PostgreSQL frontend messages by type byte (``startup``, ``ssl``, ``cancel`` for untyped ones); only
    counted when the proxy was created with ``count_messages=True``."""
    delayed_chunks: int = 0
    lateness_ms_total: float = 0.0
    lateness_ms_max: float = 0.0
    """How much later than due delayed chunks were written (timer precision; chunks held up by a hold are
    not counted). Mean lateness = lateness_ms_total / delayed_chunks."""
    held: bool = False
    delay_up_ms: float = 0.0
    delay_down_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["messages_up"] = dict(self.messages_up)
        return data


def new_loop(*, uvloop_if_available: bool = True) -> asyncio.AbstractEventLoop:
    if not uvloop_if_available:
        return asyncio.new_event_loop()
    try:
        import uvloop  # noqa: PLC0415 - optional
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
