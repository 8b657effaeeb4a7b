"""The faults the lab injects, each named and described once: the CLI, the run, the report and the tests read them here.

A fault's action is the function of `faults` named after it (`api-kill` -> `faults.api_kill`). This module imports
nothing of the lab, so `sale-orders lab --help` and `lab faults` need none of the lab's heavy imports.
"""

import textwrap
from dataclasses import dataclass
from typing import Literal

Target = Literal["one API host", "every API host", "the database"]
HELP_WIDTH = 100


@dataclass(frozen=True)
class Durations:
    """How long each fault lasts, and the quiet time after it."""

    hang: float
    cut: float
    down: float
    orphan: float
    """How long a primary whose Patroni died keeps running after the promotion, before its Patroni is back."""
    settle: float


QUICK = Durations(hang=4, cut=5, down=2, orphan=3, settle=2)
FULL = Durations(hang=8, cut=10, down=5, orphan=10, settle=5)


@dataclass(frozen=True)
class Fault:
    """One fault: its name, what is done, on what, and which of the `Durations` it lasts (if any)."""

    name: str
    description: str
    target: Target
    lasts: str = ""  # a field of Durations

    @property
    def function(self) -> str:
        """The name of its action in `faults`."""
        return self.name.replace("-", "_")

    def duration(self, durations: Durations) -> float | None:
        return getattr(durations, self.lasts) if self.lasts else None

    def help_lines(self, width: int) -> list[str]:
        """`name  description (full; --quick)`, as `--help` and `lab faults` show it, wrapped under its description."""
        lasts = f" ({self.duration(FULL):g} s; --quick {self.duration(QUICK):g} s)" if self.lasts else ""
        indent = " " * (width + 2)
        text = f"{self.name:<{width}}  {self.description}{lasts}"
        return textwrap.wrap(text, HELP_WIDTH, subsequent_indent=indent, break_on_hyphens=False)


FAULTS = (
    Fault("api-kill", "an API host killed (SIGKILL to all its processes) and started again", "one API host"),
    Fault(
        "api-hang", "an API host hung (SIGSTOP to all its processes), then resumed (SIGCONT)", "one API host", "hang"
    ),
    Fault(
        "api-term",
        "an API host stopped gracefully under load (drained in HAProxy, then SIGTERM), started again later",
        "one API host",
        "down",
    ),
    Fault(
        "rolling-restart",
        "every API host in turn: drained in HAProxy, SIGTERM, start, back UP in HAProxy",
        "every API host",
    ),
    Fault("db-upgrade", "`sale-orders db upgrade` from every API host at once", "the database"),
    Fault(
        "link-cut",
        "the links from one API host to both database hosts held (no byte, nothing closed), then released",
        "one API host",
        "cut",
    ),
    Fault(
        "primary-kill",
        "the primary's database host killed (Patroni and PostgreSQL, SIGKILL): the standby is promoted",
        "the database",
    ),
    Fault(
        "old-primary-back",
        "the old primary's Patroni started again: it rejoins as a standby (pg_rewind when needed)",
        "the database",
    ),
    Fault(
        "patroni-kill",
        "Patroni alone killed on the primary (SIGKILL; its PostgreSQL runs on, read-write): the standby is promoted,"
        " the old primary is left running, then its Patroni is started again",
        "the database",
        "orphan",
    ),
)
"""In the order they are injected."""
NAMES = tuple(fault.name for fault in FAULTS)
BY_NAME = {fault.name: fault for fault in FAULTS}


def help_lines() -> list[str]:
    width = max(len(name) for name in NAMES)
    return [line for fault in FAULTS for line in fault.help_lines(width)]
