"""One run of the lab: up, load, faults, measurements, the SQL check, down; the figures and the exit status."""

from __future__ import annotations

import datetime as dt
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg2

from sale_orders_lab import catalogue, faults, report, verify
from sale_orders_lab.clients import Journal, make_catalog, sdk_has_retries
from sale_orders_lab.counters import ReadCounters
from sale_orders_lab.injection import Context, Injection
from sale_orders_lab.layout import DATABASE, Layout
from sale_orders_lab.load import Load, Target
from sale_orders_lab.measure import Measure
from sale_orders_lab.procs import LabError, Supervisor
from sale_orders_lab.stack import Lab, Teardown

if TYPE_CHECKING:
    from types import FrameType

BASELINE_SECONDS = 3.0
NO_FAULTS_SECONDS = 4.0


@dataclass(frozen=True)
class Options:
    quick: bool = False
    rounds: int = 3
    clients: int = 6
    faults: tuple[str, ...] = catalogue.NAMES
    no_faults: bool = False
    measure_seconds: float = 0.0
    """How long each measurement phase lasts (`measure`); 0: none."""
    output: Path | None = None
    logs: Path | None = None


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _commit() -> str:
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        done = subprocess.run(  # noqa: S603 - git, found on PATH
            [git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, timeout=5
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def run(options: Options) -> int:  # noqa: C901, PLR0912, PLR0915 - the run, step by step, with its failure paths
    started = time.monotonic()

    def say(message: str) -> None:
        if message:
            sys.stdout.write(f"{time.monotonic() - started:7.1f}s {message}\n")
            sys.stdout.flush()

    root = Path(tempfile.mkdtemp(prefix="sale-orders-lab-"))
    layout = Layout(root)
    supervisor = Supervisor(say)
    lab = Lab(layout, say, supervisor)
    journal = Journal()
    load: Load | None = None
    injections: list[Injection] = []
    rows: list[dict[str, Any]] = []
    stored: list[verify.Stored] = []
    measured: dict[str, Any] = {}
    phases: list[report.Window] = []
    unknown = 0
    failed = ""
    durations = catalogue.QUICK if options.quick else catalogue.FULL
    previous = {signum: signal.signal(signum, _interrupt) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        chosen = "none" if options.no_faults else ", ".join(options.faults)
        say(f"lab folder {root}; {options.clients} clients; faults: {chosen}")
        lab.up()
        catalog = make_catalog(layout.balancer_url, lab.token)
        counters = ReadCounters(layout, lab.token)
        hosts = tuple(api.name for api in layout.api_hosts)
        load = Load(Target(layout.balancer_url, lab.token, hosts), catalog, journal, options.clients)
        counters.mark("baseline")
        load.start()
        baseline_start = journal.now()
        retries = "the SDK's RetryPolicy" if sdk_has_retries() else "none (this SDK has no RetryPolicy yet)"
        say(
            f"{options.clients} clients through HAProxy: each creates through one API host, reads back through"
            f" another with its token and a third without; SDK retries: {retries}"
        )
        time.sleep(NO_FAULTS_SECONDS if options.no_faults else BASELINE_SECONDS)
        if not options.no_faults:
            context = Context(lab, journal, catalog, durations, counters)
            for round_number in range(1, options.rounds + 1):
                injections.extend(faults.inject(context, name, round_number, say) for name in options.faults)
        say("stopping the clients")
        if not load.finish(60):
            failed = "a client did not finish its last call within 60 s"
        if options.measure_seconds:
            measure = Measure(lab, journal, catalog, counters, options.clients, options.measure_seconds, say)
            measured = measure.run()
            phases = measure.windows
        end = journal.now()
        counters.mark("end")
        ops = journal.snapshot()
        stored, unknown = verify.check(layout.admin_dsn(DATABASE), ops)
        rows = report.figures(ops, stored, injections, baseline_start, end, phases, counters.windows())
        say(f"checked {len(stored)} creates of the clients' log in SQL")
    except KeyboardInterrupt as exc:
        failed = f"interrupted ({exc})" if str(exc) else "interrupted"
        say(f"FAILED: {failed}")
    except (LabError, psycopg2.Error, OSError, RuntimeError, ValueError) as exc:
        failed = str(exc) or type(exc).__name__
        say(f"FAILED: {failed}")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # the teardown runs to its end
        if load is not None:
            load.finish(10)
        if options.logs is not None:
            _keep_logs(root, journal, options.logs)
            say(f"logs kept in {options.logs}")
        say("stopping the lab")
        teardown = lab.down()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    _say_teardown(say, teardown)
    total = report.summary(rows, unknown, failed.splitlines()[0] if failed else "")
    if not teardown.clean:
        total["failed"] = total["failed"] or "the lab left something behind"
    result: dict[str, Any] = {
        "mode": _mode(options),
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "seconds": round(time.monotonic() - started, 1),
        "clients": options.clients,
        "rounds": 0 if options.no_faults else options.rounds,
        "sdk_retries": sdk_has_retries(),
        "durations": durations.__dict__,
        "faults": rows,
        "measured": measured,
        "summary": total,
        "teardown": {**teardown.as_dict(), "clean": teardown.clean},
        "final_line": report.final_line(total),
    }
    written_here = not options.no_faults and bool(options.faults)
    output = options.output if options.output is not None else (Path("docs/lab") if written_here else None)
    if output is not None:
        report.write(output, result)
        say(f"wrote {output / 'results.json'} and {output / 'results.md'}")
    sys.stdout.write(f"{result['final_line']}\n")
    sys.stdout.flush()
    return 0 if report.passed(total) else 1


def _mode(options: Options) -> str:
    if options.no_faults:
        return "no faults"
    if not options.faults:
        return "reads"
    return "quick" if options.quick else "full"


def _say_teardown(say: Any, teardown: Teardown) -> None:
    state = "nothing left" if teardown.clean else "SOMETHING LEFT"
    say(
        f"lab down: {len(teardown.processes)} processes seen, {len(teardown.left_running)} left running;"
        f" {len(teardown.ports)} ports, {len(teardown.ports_in_use)} in use; folder removed:"
        f" {teardown.folder_removed}: {state}"
    )
    import json  # noqa: PLC0415

    sys.stdout.write("lab teardown " + json.dumps(teardown.as_dict()) + "\n")


def _keep_logs(root: Path, journal: Journal, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    journal.write(folder / "clients.jsonl")
    for log in root.rglob("*.log"):
        shutil.copy(log, folder / "-".join(log.relative_to(root).parts))
