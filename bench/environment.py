"""What a benchmark runs against: the API and the ceiling as subprocesses stopped by PID, and the machine's CPU."""

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import URL

from sale_orders.cli import serve
from sale_orders.db.drivers import libpq_dsn as dsn
from sale_orders_tools.harness import servers
from sale_orders_tools.harness.databases import query_one
from sale_orders_tools.harness.servers import ServerProcess, clean_env, free_port

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent


def server_env(url: URL, **extra: str) -> dict[str, str]:
    """The servers' environment: never the developer's own database settings, DATABASE_URL = `url` instead."""
    # API_KEYS empty: a developer's keys (in .env or the shell) would make every benchmark request a 401.
    return clean_env(DATABASE_URL=url.render_as_string(hide_password=False), API_KEYS="", **extra)


@contextmanager
def api_server(url: URL, workers: int, logs: Path) -> Iterator[ServerProcess]:
    """`sale-orders serve` on a free port, over the database at `url`."""
    # No access log, as the ceiling, which logs warnings only.
    options = ["--workers", str(workers), "--no-access-log"]
    server = servers.start_serve(log_dir=logs, env=server_env(url), cwd=REPO, options=options)
    try:
        yield server
    finally:
        server.stop()


def serve_defaults() -> list[str]:
    """`serve`'s default `--loop` and `--http`, as uvicorn options (none for a `serve` without them)."""
    defaults = {param.name: param.default for param in serve.params}
    return [f"--{name}={defaults[name]}" for name in ("loop", "http") if defaults.get(name)]


@contextmanager
def uvicorn_server(
    app: str, name: str, url: URL, workers: int, logs: Path, *options: str, **extra_env: str
) -> Iterator[ServerProcess]:
    """A benchmark-only app in bench/ under uvicorn on a free port, with as many workers as the API.

    With the event loop and HTTP parser `sale-orders serve` uses by default, so the API, the ceiling and the
    ladder run under the same server settings.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        *serve_defaults(),
        *options,
        f"--app-dir={BENCH_DIR}",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--workers={workers}",
        "--no-access-log",
    ]
    server = servers.start(
        command, port=port, log=logs / f"{name}-{port}.log", env=server_env(url, **extra_env), cwd=REPO, name=name
    )
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def ceiling_server(url: URL, workers: int, pool_size: int, logs: Path) -> Iterator[ServerProcess]:
    """bench/ceiling.py: the same SQL on raw asyncpg, no framework."""
    env = {"CEILING_DATABASE_URL": dsn(url), "CEILING_POOL_SIZE": str(pool_size)}
    with uvicorn_server("ceiling:app", "ceiling", url, workers, logs, "--log-level=warning", **env) as server:
        yield server


@contextmanager
def ladder_server(url: URL, workers: int, logs: Path) -> Iterator[ServerProcess]:
    """bench/ladder: every rung from bare Litestar to the thinnest path, configured as the API (DATABASE_URL...)."""
    with uvicorn_server("ladder.app:create_app", "ladder", url, workers, logs, "--factory") as server:
        yield server


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
