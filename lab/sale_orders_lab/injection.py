"""One fault injected, and what a fault's action is given: the lab, the clients' log, the durations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sale_orders_lab.procs import LabError

if TYPE_CHECKING:
    from sale_orders_lab import catalogue
    from sale_orders_lab.clients import Catalog, Journal
    from sale_orders_lab.counters import ReadCounters
    from sale_orders_lab.stack import Lab

RECOVERY_SECONDS = 90


class NotRecoveredError(LabError):
    """The fault is over, and an API host still does not serve writes: a finding, not a failure of the lab."""

    def __init__(self, hosts: list[str]) -> None:
        super().__init__(f"not recovered within {RECOVERY_SECONDS} s: {', '.join(hosts)}")
        self.hosts = hosts


@dataclass
class Injection:
    """One fault injected: when, on what, what it measured."""

    name: str
    round: int
    target: str
    started: float
    label: str
    action_done: float | None = None
    recovered: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def injected(self) -> bool:
        return not self.error


@dataclass
class Context:
    lab: Lab
    journal: Journal
    catalog: Catalog
    durations: catalogue.Durations
    counters: ReadCounters | None = None
    down_node: int | None = None
