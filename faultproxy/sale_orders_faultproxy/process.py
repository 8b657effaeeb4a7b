"""The proxy in a process of its own (so it does not share its caller's GIL): its command line, start, control, stop.

`serve` announces where it listens in one line, `proxy HOST:PORT -> TARGET, control HOST:PORT`, which
`ProxyProcess.start` reads to learn the ports it chose; both sides of that line are here.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sale_orders_faultproxy.control import send

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sale_orders_faultproxy.stats import Address, Target

START_SECONDS = 15
STOP_SECONDS = 10
_ANNOUNCED = re.compile(r"^proxy (?P<host>[\d.]+):(?P<port>\d+) -> .*, control (?P<chost>[\d.]+):(?P<cport>\d+)$")


class ProxyStartError(RuntimeError):
    """The proxy's process exited, or did not say where it listens, in time; the message holds its output."""


def show(address: Target) -> str:
    """An address as the command line takes it: `HOST:PORT`, or a unix socket's path."""
    return address if isinstance(address, str) else f"{address[0]}:{address[1]}"


def announcement(listen: Address, target: Target, control: Address | None) -> str:
    """The line `serve` prints once it listens."""
    return f"proxy {show(listen)} -> {show(target)}" + (f", control {show(control)}" if control else "")


def command_line(listen: Address, target: Target, control: Address, *, python: str = sys.executable) -> list[str]:
    """`python -m sale_orders_faultproxy serve` on `listen` (port 0: a free one), forwarding to `target`."""
    return [
        python,
        "-m",
        "sale_orders_faultproxy",
        "serve",
        f"--listen={show(listen)}",
        f"--target={show(target)}",
        f"--control={show(control)}",
    ]


@dataclass
class ProxyProcess:
    """A running proxy process, driven through its control port."""

    process: subprocess.Popen[bytes]
    listen: Address
    control_address: Address

    def command(self, line: str) -> str:
        return send(self.control_address, line)

    def set_delay(self, ms: float) -> None:
        self.command(f"delay {ms:g}")

    def zero(self) -> None:
        self.command("zero")

    def turns(self) -> int:
        return int(json.loads(self.command("stats"))["turns"])

    def stop(self) -> None:
        """SIGTERM to its PID; SIGKILL if it has not exited after STOP_SECONDS."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _announced(log: Path) -> re.Match[str] | None:
    return next(filter(None, map(_ANNOUNCED.match, log.read_text(errors="replace").splitlines())), None)


@contextmanager
def proxy_process(target: Target, log: Path) -> Iterator[ProxyProcess]:
    """A proxy on free loopback ports forwarding to `target`, its output in `log`; stopped by PID when the block ends.

    Raises:
        ProxyStartError: it did not start.
    """
    command = command_line(("127.0.0.1", 0), target, ("127.0.0.1", 0))
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603 - our own module
    proxy = None
    try:
        deadline = time.monotonic() + START_SECONDS
        while proxy is None:
            if (match := _announced(log)) is not None:
                proxy = ProxyProcess(
                    process, (match["host"], int(match["port"])), (match["chost"], int(match["cport"]))
                )
            elif process.poll() is not None or time.monotonic() > deadline:
                raise ProxyStartError(f"the fault proxy did not start:\n{log.read_text(errors='replace')}")
            else:
                time.sleep(0.1)
        yield proxy
    finally:
        if proxy is not None:
            proxy.stop()
        elif process.poll() is None:
            process.kill()
            process.wait()
