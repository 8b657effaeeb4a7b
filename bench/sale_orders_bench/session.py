"""One benchmark run, whatever it measures.

Its results folder and document, a scratch database with demo data, the servers, and what it exits with.

`execute` wraps a measurement: it checks for wrk, turns SIGTERM into an exception (so every server and the embedded
PostgreSQL are still stopped), writes results.json even when the measurement fails, and returns the exit status.
`prepared` makes the scratch database every measurement starts from; `served` starts the API next to it (and the
ceiling and the ladder when asked).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL

from sale_orders.db.migrate import upgrade
from sale_orders.settings import Settings
from sale_orders_bench.endpoints import DemoIds
from sale_orders_bench.errors import HarnessError
from sale_orders_bench.ladder_runs import Servers as LadderServers
from sale_orders_bench.machine import CpuMeter, describe_machine, postmaster_pid
from sale_orders_bench.options import Run
from sale_orders_bench.report import write_json
from sale_orders_bench.scenarios import Bench
from sale_orders_bench.servers import REPO, RESULTS, api_server, ceiling_server, feature_servers, ladder_server
from sale_orders_bench.wrk import WrkMissingError, require_wrk, wrk_version
from sale_orders_tools.demo import DemoSize, load_demo_data
from sale_orders_tools.harness.databases import ScratchPostgres, query_one, scratch_postgres

if TYPE_CHECKING:
    from sale_orders_tools.harness.servers import ServerProcess

BUSY_LOAD = 0.5
TABLES = ("contact", "product", "tag", "sale_order")
Measurement = Callable[[Path, dict[str, Any]], list[str]]
"""Fills the document, writes results.md and the plots into the folder; returns the errors seen."""


def _git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
    return result.stdout.strip()


def code_version() -> str:
    """The commit measured, `+changes` when the server's code differs from it."""
    changed = _git("status", "--porcelain", "--", "server")
    return (_git("rev-parse", "--short", "HEAD") or "unknown") + (" +changes in server/" if changed else "")


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def command_line(command_path: str, name: str) -> list[str]:
    """The command as it was typed, as far as this process can tell: `sale-orders bench NAME ...`."""
    arguments = sys.argv[sys.argv.index(name) + 1 :] if name in sys.argv else []
    return [*command_path.split(), *arguments]


def execute(run: Run, command: list[str], measurement: Measurement, *, folder: str = "", **settings: Any) -> int:
    """Run `measurement` into `run.output` (default bench/results/<timestamp>[/folder]); the exit status."""
    try:
        require_wrk()
    except WrkMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    started = datetime.now(UTC)
    output = run.output or RESULTS / started.strftime("%Y%m%d-%H%M%S") / folder
    output.mkdir(parents=True, exist_ok=True)
    server = Settings()
    document: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "command": command,
        "code": code_version(),
        "settings": {
            **run.settings,
            "sync_threads": server.sync_threads,
            "sync_pool_size": server.sync_pool_size,
            "async_pool_size": server.async_pool_size,
            **settings,
        },
    }
    document["load_before"] = os.getloadavg()
    if document["load_before"][0] > BUSY_LOAD:
        print(f"warning: load average {document['load_before'][0]:.1f}: other work makes the figures noisy", flush=True)
    clock = time.monotonic()
    try:
        errors = measurement(output, document)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        document["elapsed_s"] = round(time.monotonic() - clock, 1)
        write_json(output / "results.json", document)
    print(f"\nwrote {output}/results.json, results.md and the plots in {document['elapsed_s']} s", flush=True)
    if errors:
        print(f"{len(errors)} run(s) had errors:", *errors, sep="\n  ", file=sys.stderr)
        return 1 if run.fail_on_errors else 0
    return 0


def demo_ids(url: URL) -> DemoIds:
    counts = [int(str(query_one(url, f"SELECT coalesce(max(id), 0) FROM {table}"))) for table in TABLES]  # noqa: S608
    return DemoIds(*counts)


def describe(url: URL, document: dict[str, Any]) -> CpuMeter:
    """Record the machine in `document`; a meter of the CPU that others use meanwhile."""
    document["machine"] = describe_machine(
        str(query_one(url, "SHOW server_version")), wrk_version(), document["load_before"]
    )
    return CpuMeter([os.getpid(), *filter(None, [postmaster_pid(url)])])


def load_demo(url: URL, orders: int, document: dict[str, Any]) -> None:
    started = time.monotonic()
    load_demo_data(url, DemoSize.for_orders(orders))
    document["demo_data"] = {"orders": orders, "load_seconds": round(time.monotonic() - started, 2)}
    print(f"loaded {orders:,} demo orders in {document['demo_data']['load_seconds']} s", flush=True)


@dataclass(frozen=True)
class Prepared:
    """A scratch database, migrated and filled with demo data, and what a measurement on it needs."""

    database: ScratchPostgres
    ids: DemoIds
    meter: CpuMeter
    logs: Path

    @property
    def url(self) -> URL:
        return self.database.url

    def bench(self, run: Run, api: Any, ceiling: Any = None, duration_s: int | None = None) -> Bench:
        """A Bench on `api` (and `ceiling`) with the run's wrk settings."""
        return Bench(
            self.url,
            self.ids,
            api,
            ceiling,
            duration_s or run.duration_s,
            run.timeout_s,
            run.wrk_threads,
            run.warmup_s,
            self.meter,
        )


@contextmanager
def prepared(run: Run, output: Path, document: dict[str, Any], *, min_connections: int = 0) -> Iterator[Prepared]:
    """A scratch PostgreSQL (embedded, or a scratch database at DATABASE_URL), migrated, with the run's demo data."""
    logs = output / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="sale-orders-bench-") as workdir,
        scratch_postgres(os.environ.get("DATABASE_URL"), Path(workdir), min_connections=min_connections) as database,
    ):
        url = database.url
        note = f"; {database.max_connections_note}" if min_connections else ""
        print(f"database: {url.render_as_string(hide_password=True)}{note}", flush=True)
        upgrade(url)
        load_demo(url, run.orders, document)
        yield Prepared(database, demo_ids(url), describe(url, document), logs)


@dataclass(frozen=True)
class Served:
    """The servers a measurement drives, and the Bench that drives them."""

    bench: Bench
    ladder: LadderServers | None


@contextmanager
def served(run: Run, ready: Prepared, *, with_ceiling: bool, with_ladder: bool = False) -> Iterator[Served]:
    """`sale-orders serve` over the scratch database, with the ceiling and the ladder next to it when asked."""
    with ExitStack() as stack:
        api = stack.enter_context(api_server(ready.url, run.workers, ready.logs))
        ceiling = ladder = None
        if with_ceiling:
            pool_size = Settings().async_pool_size
            ceiling = stack.enter_context(ceiling_server(ready.url, run.workers, pool_size, ready.logs))
        features: dict[str, ServerProcess] = {}
        if with_ladder:
            ladder = stack.enter_context(ladder_server(ready.url, run.workers, ready.logs))
            features = stack.enter_context(feature_servers(ready.url, run.workers, ready.logs))
        bench = ready.bench(run, api, ceiling)
        yield Served(bench, LadderServers(api, ceiling, ladder, features) if ceiling and ladder else None)
