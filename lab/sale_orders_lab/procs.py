"""The lab's processes: each started in a session of its own, stopped by its PID, and seen gone.

A process is identified by its PID and its start time (field 22 of /proc/PID/stat), so a PID reused by the
system later is never taken for a lab process. A zombie counts as gone: a process whose parent exited is
reaped by init in its own time (every ~2 s on this machine), and `kill -0` still succeeds on it meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sale_orders_lab.layout import Address

Say = Callable[[str], None]
ProcessId = tuple[int, int]
"""A PID and its start time (clock ticks since boot)."""


class LabError(RuntimeError):
    """The lab could not do what it had to (start, inject, recover); the message says what."""


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: fields start after the last ")".
    return text[text.rfind(")") + 2 :].split()


def identify(pid: int) -> ProcessId | None:
    """`pid` with its start time, or None when no such process runs."""
    fields = _stat(pid)
    return None if fields is None else (pid, int(fields[19]))


def alive(process: ProcessId) -> bool:
    """Whether this very process (not a later one with its PID) still runs; a zombie does not."""
    fields = _stat(process[0])
    return fields is not None and fields[0] not in {"Z", "X"} and int(fields[19]) == process[1]


def descendants(pid: int) -> list[ProcessId]:
    """Every process below `pid` in the process tree, now."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[ProcessId] = []
    pending = list(children.get(pid, []))
    while pending:
        child = pending.pop()
        if (ident := identify(child)) is not None:
            found.append(ident)
        pending += children.get(child, [])
    return found


def port_in_use(address: Address) -> bool:
    """Whether something listens on `address` (a connection is accepted)."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(address) == 0


def wait_until(condition: Callable[[], bool], seconds: float, what: str, step: float = 0.1) -> float:
    """Poll `condition()` until it holds; return how long that took, or raise LabError after `seconds`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > seconds:
            raise LabError(f"{what}: not within {seconds:g} s")
        time.sleep(step)
    return time.monotonic() - start


@dataclass
class Child:
    """A process the lab started, in a session (and process group) of its own."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    ident: ProcessId

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def signal_group(self, signum: int) -> None:
        """Send `signum` to the child and every process of its group (uvicorn's workers are in its group)."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signum)


@dataclass
class Supervisor:
    """Starts the lab's processes and stops them, and remembers every process it has seen."""

    say: Say
    children: list[Child] = field(default_factory=list)
    seen: set[ProcessId] = field(default_factory=set)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Child:
        with log.open("ab") as output:
            process = subprocess.Popen(  # noqa: S603 - the lab's own commands
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,  # a Ctrl-C in the terminal reaches the lab only: it stops them in order
            )
        ident = identify(process.pid) or (process.pid, 0)
        child = Child(name, process, log, ident)
        self.children.append(child)
        self.seen.add(ident)
        return child

    def note(self, processes: Sequence[ProcessId]) -> None:
        """Remember processes the lab did not start itself (workers, postmasters) but must see gone."""
        self.seen.update(processes)

    def note_tree(self, child: Child) -> None:
        self.note(descendants(child.pid))

    def stop(self, child: Child, *, signum: int = signal.SIGTERM, timeout: float = 15.0, group: bool = True) -> int:
        """Send `signum` (to its group, or to it alone), wait; SIGKILL the group after `timeout` s. The exit status."""
        tree = descendants(child.pid)
        self.note(tree)
        if child.running():
            if group:
                child.signal_group(signum)
            else:
                child.process.send_signal(signum)
        try:
            status = child.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.say(f"{child.name} (pid {child.pid}) did not stop within {timeout:g} s: SIGKILL")
            child.signal_group(signal.SIGKILL)
            status = child.process.wait(timeout=10)
        # What the child left (uvicorn's workers, if it was killed) is ended too.
        for process in tree:
            if alive(process):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process[0], signal.SIGKILL)
        with contextlib.suppress(LabError):
            wait_until(lambda: not any(alive(p) for p in tree), 10, f"the processes of {child.name} gone")
        return status

    def stop_all(self) -> None:
        """Stop every child still running, the last started first."""
        for child in reversed(self.children):
            if child.running():
                self.stop(child, timeout=10)

    def left_running(self) -> list[ProcessId]:
        return sorted(process for process in self.seen if alive(process))
