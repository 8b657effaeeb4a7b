"""The machine a benchmark runs on: what it is (for the report), and how much of its CPU others used meanwhile."""

import os
import platform
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from sqlalchemy.engine import URL

from sale_orders_tools.harness.databases import query_one

PACKAGES = ("litestar", "sqlalchemy", "advanced-alchemy", "pydantic", "asyncpg", "psycopg2-binary", "uvicorn")


def _proc_value(path: str, key: str) -> str:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return "unknown"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(key)), "unknown")


def describe_machine(postgres_version: str, wrk_version: str, load_before: Sequence[float]) -> dict[str, str]:
    """Where the figures come from: they only compare with figures from the same kind of machine."""
    ram_kib = _proc_value("/proc/meminfo", "MemTotal").split()[0]
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpu": _proc_value("/proc/cpuinfo", "model name"),
        "cores": str(os.cpu_count()),
        "ram": f"{int(ram_kib) / 1024**2:.1f} GiB" if ram_kib.isdigit() else "unknown",
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": postgres_version,
        "wrk": wrk_version,
        "load average before the run": " ".join(f"{load:.2f}" for load in load_before),
        "packages": ", ".join(f"{name} {version}" for name, version in versions.items()),
    }


def _busy_ticks() -> int:
    """CPU ticks spent busy by the whole machine so far (/proc/stat: everything but idle and iowait)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq + steal


def _processes() -> dict[int, tuple[int, int]]:
    """Every process: its parent, and the CPU ticks used by it and by its children it has reaped."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        table[int(entry.name)] = (int(fields[1]), sum(int(value) for value in fields[11:15]))
    return table


class CpuMeter:
    """How much CPU processes outside the benchmark used while it ran: a shared machine's noise, measured.

    Ours are the process trees under `roots` (this process, so the servers and wrk, and the PostgreSQL
    postmaster); everything else busy on the machine is someone else's.
    """

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots

    def _ours(self) -> int:
        table = _processes()
        children: dict[int, list[int]] = {}
        for pid, (parent, _) in table.items():
            children.setdefault(parent, []).append(pid)
        total, stack = 0, [root for root in self.roots if root in table]
        while stack:
            pid = stack.pop()
            total += table[pid][1]
            stack += children.get(pid, [])
        return total

    def mark(self) -> tuple[float, int, int]:
        return time.monotonic(), _busy_ticks(), self._ours()

    def others_percent(self, mark: tuple[float, int, int]) -> float:
        """Share of the machine's CPU (all cores) used by other processes since `mark`."""
        started, busy, ours = mark
        elapsed_ticks = (time.monotonic() - started) * os.sysconf("SC_CLK_TCK") * (os.cpu_count() or 1)
        others = (_busy_ticks() - busy) - (self._ours() - ours)
        return round(max(0.0, 100 * others / elapsed_ticks), 1) if elapsed_ticks else 0.0


def postmaster_pid(url: URL) -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine (the parent of its checkpointer)."""
    pid = query_one(url, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
    if not isinstance(pid, int) or not Path(f"/proc/{pid}/stat").exists():
        return None
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
