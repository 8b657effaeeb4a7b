"""The control port's protocol: one line per command, one line per answer; its commands, defined once, and a client.

`COMMANDS` names every command with what it does: the proxy runs them from it (`LatencyProxy.command`) and the
command line makes one subcommand of each (`sale-orders faultproxy hold --control HOST:PORT`). An answer is
`ok`, `ok N`, a JSON object (`stats`), or `error ...`, which `send` raises.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from sale_orders_faultproxy.stats import Address, Direction, ProxyStats

DIRECTIONS: tuple[Direction, ...] = ("up", "down", "both")


class LatencyProxy(Protocol):
    """What the commands act on: `sale_orders_faultproxy.proxy.LatencyProxy`."""

    def hold(self) -> None: ...
    def release(self) -> None: ...
    def set_delay(self, ms: float, direction: Direction = "both") -> None: ...
    def reset(self) -> int: ...
    def stats(self) -> ProxyStats: ...
    def zero_stats(self) -> None: ...


@dataclass(frozen=True)
class Command:
    """One command of the control port: what it does, what it takes, and how the proxy runs it."""

    help: str
    run: Callable[[LatencyProxy, list[str]], str]
    arguments: str = ""  # what follows the command's name on the line, as the CLI shows it


def _ok(action: Callable[[LatencyProxy], object]) -> Callable[[LatencyProxy, list[str]], str]:
    def run(proxy: LatencyProxy, _args: list[str]) -> str:
        action(proxy)
        return "ok"

    return run


def _delay(proxy: LatencyProxy, args: list[str]) -> str:
    direction: Direction = "both"
    if len(args) == 2 and args[0] in DIRECTIONS:
        direction = next(known for known in DIRECTIONS if known == args[0])
        args = args[1:]
    if len(args) != 1:
        raise ValueError("delay takes [up|down|both] MS")
    proxy.set_delay(float(args[0]), direction)
    return "ok"


COMMANDS: dict[str, Command] = {
    "hold": Command(
        "cut the link: no byte is forwarded either way, nothing is closed (what the peers send waits)",
        _ok(lambda proxy: proxy.hold()),
    ),
    "release": Command("end a hold: forward what was held back, in order, and carry on", _ok(lambda p: p.release())),
    "delay": Command("set the one-way delay in ms, of both directions or of one", _delay, "[up|down|both] MS"),
    "reset": Command("abort every open connection with an RST; answers how many", lambda p, _: f"ok {p.reset()}"),
    "stats": Command(
        "the counters (connections, bytes, chunks, round trips...) as JSON",
        lambda proxy, _: json.dumps(proxy.stats().as_dict(), sort_keys=True),
    ),
    "zero": Command("set the counters back to zero", _ok(lambda proxy: proxy.zero_stats())),
    "ping": Command("answer ok: whether the proxy is there", _ok(lambda _proxy: None)),
}


def run(proxy: LatencyProxy, line: str) -> str:
    """Run one command line on `proxy`; the answer line."""
    words = line.split()
    if not words:
        return "error empty command"
    command = COMMANDS.get(words[0].lower())
    if command is None:
        return f"error unknown command {words[0].lower()!r}"
    return command.run(proxy, words[1:])


def send(address: Address, command: str, timeout: float = 5.0) -> str:
    """Send one command to a proxy's control port and return its answer (raises on ``error ...``)."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(command.encode() + b"\n")
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    text = answer.decode().strip()
    if text.startswith("error"):
        raise RuntimeError(text)
    return text
