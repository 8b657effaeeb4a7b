"""`bench hot-row`: while 64 clients hammer one order, /health stays 200 and unrelated reads stay fast.

The API is served once over the scratch database. A few reader threads loop over `GET /health`,
`GET /sync/order/{cold}` and `GET /async/order/{cold}` (a demo order nobody changes) in phases of `seconds`:
quiet (nothing else runs) and hammered (meanwhile `hammers` clients PATCH one hot order in a loop, half through
/sync, half through /async, as `tests/live/adversary/test_hot_row.py` does), in alternating rounds (quiet, hammered,
then hammered, quiet, ...). Per phase: each read's latency (p50, p99, max) and status counts, the PATCHes' 200s and
409s (a 409 must be `concurrent-change` with `Retry-After`), and the most API sessions seen waiting on a Lock at
once in `pg_stat_activity` (the row gate keeps that at one per process: docs/reliability.md).
"""

import math
import multiprocessing
import queue
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from pathlib import Path
from statistics import median
from typing import Any, Self

import httpx
import psycopg2

from sale_orders.db.drivers import libpq_dsn
from sale_orders_bench.errors import HarnessError
from sale_orders_bench.jobs import _written
from sale_orders_bench.options import Run
from sale_orders_bench.scenarios import Progress
from sale_orders_bench.servers import api_server
from sale_orders_bench.session import Measurement, prepared

QUIET, HAMMERED = "quiet", "hammered"
READERS = 3
# Each read, by the name the tables give it: its path, the cold order's id in place of `{cold}`.
READS = {
    kind: kind.removeprefix("GET ") for kind in ("GET /health", "GET /sync/order/{cold}", "GET /async/order/{cold}")
}
CLIENT_TIMEOUT_S = 30
LOCK_POLL_S = 0.02
HAMMERS_START_TIMEOUT_S = 120
# The test's query: sessions of the API waiting on a Lock, on a statement about orders.
LOCK_WAITERS_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    " AND query LIKE '%sale_order%'"
)


def phase_order(rounds: int) -> list[tuple[int, str]]:
    """(round, phase) in alternating rounds: quiet then hammered, then hammered then quiet, and so on."""
    return [
        (number, phase)
        for number in range(1, rounds + 1)
        for phase in ((QUIET, HAMMERED) if number % 2 else (HAMMERED, QUIET))
    ]


def percentile_ms(sorted_seconds: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of latencies already sorted, in milliseconds."""
    rank = max(1, math.ceil(share * len(sorted_seconds)))
    return round(1000 * sorted_seconds[rank - 1], 2)


def outcome(response: httpx.Response) -> str:
    """A PATCH's answer as counted: its status, or `409 not retryable` for a 409 the SDK could not retry."""
    if response.status_code != 409:
        return str(response.status_code)
    try:
        problem = str(response.json().get("type", ""))
    except ValueError:  # not the problem document a 409 must carry
        problem = ""
    retryable = problem.endswith(":concurrent-change") and "retry-after" in response.headers
    return "409" if retryable else "409 not retryable"


# -- the hammers: in a process of their own --------------------------------------------------------------------


@dataclass(frozen=True)
class HotOrder:
    """The order the hammers PATCH, on the served API, and the two tags their bodies alternate between."""

    base_url: str
    order: int
    tags: tuple[int, int]


def hammer(hot: HotOrder, number: int, stop: Event) -> Counter[str]:
    """PATCH the hot order until `stop`, through /sync for an even `number`, else /async; the answers counted."""
    family = ("sync", "async")[number % 2]
    counted: Counter[str] = Counter()
    with httpx.Client(base_url=hot.base_url, timeout=CLIENT_TIMEOUT_S) as client:
        count = 0
        while not stop.is_set():
            body = {"name": f"{number}-{count}", "tag_ids": [hot.tags[(number + count) % 2]]}
            try:
                counted[outcome(client.patch(f"/{family}/order/{hot.order}", json=body))] += 1
            except httpx.HTTPError as exc:
                counted[type(exc).__name__] += 1
            count += 1
    return counted


def hammer_process(
    hot: HotOrder, hammers: int, started: Event, stop: Event, results: "multiprocessing.Queue[dict[str, int]]"
) -> None:
    """Run `hammers` threads until `stop`, then put what their PATCHes were answered, added up, on `results`."""
    with ThreadPoolExecutor(hammers) as pool:
        futures = [pool.submit(hammer, hot, number, stop) for number in range(hammers)]
        started.set()
        totals = sum((future.result() for future in futures), Counter[str]())
    results.put(dict(sorted(totals.items())))


class Hammers:
    """The hammer process of one phase, as a context: started and waited for, then stopped by its PID."""

    def __init__(self, hot: HotOrder, hammers: int) -> None:
        # Spawned, not forked: this process runs threads (readers, the lock sampler, the servers' log readers).
        context = multiprocessing.get_context("spawn")
        self.hammers = hammers
        self.started = context.Event()
        self.stop = context.Event()
        self.results: multiprocessing.Queue[dict[str, int]] = context.Queue()
        arguments = (hot, hammers, self.started, self.stop, self.results)
        self.process = context.Process(target=hammer_process, args=arguments, name="hot-row-hammers")

    def __enter__(self) -> Self:
        self.process.start()
        if not self.started.wait(HAMMERS_START_TIMEOUT_S):
            self.__exit__()
            msg = f"the {self.hammers} hammers did not start within {HAMMERS_START_TIMEOUT_S} s"
            raise HarnessError(msg)
        return self

    def counts(self) -> dict[str, int]:
        """Stop the hammers; what their PATCHes were answered."""
        self.stop.set()
        try:
            return self.results.get(timeout=2 * CLIENT_TIMEOUT_S)
        except queue.Empty as exc:
            raise HarnessError("the hammers did not report their counts") from exc

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.process.join(timeout=2 * CLIENT_TIMEOUT_S)
        if self.process.is_alive():
            self.process.terminate()  # SIGTERM to its own PID
            self.process.join(timeout=10)


# -- the readers and the lock sampler, in this process ---------------------------------------------------------


def read_in_a_loop(base_url: str, cold: int, until: float) -> dict[str, list[tuple[float, str]]]:
    """GET each read kind in turn until `until` (monotonic); per kind, (seconds, status or exception name)."""
    paths = {kind: path.format(cold=cold) for kind, path in READS.items()}
    seen: dict[str, list[tuple[float, str]]] = {kind: [] for kind in READS}
    with httpx.Client(base_url=base_url, timeout=CLIENT_TIMEOUT_S) as client:
        while time.monotonic() < until:
            for kind, path in paths.items():
                began = time.perf_counter()
                try:
                    status = str(client.get(path).status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                seen[kind].append((time.perf_counter() - began, status))
    return seen


def most_waiting_on_a_lock(dsn: str, done: threading.Event) -> int:
    """The most sessions seen waiting on a Lock at once over a statement about orders, until `done`."""
    most = 0
    connection = psycopg2.connect(dsn)
    try:
        connection.autocommit = True  # each poll its own transaction: pg_stat_activity is read afresh
        with connection.cursor() as cursor:
            while not done.is_set():
                cursor.execute(LOCK_WAITERS_SQL)
                row = cursor.fetchone()
                most = max(most, int(row[0]) if row else 0)
                done.wait(LOCK_POLL_S)
    finally:
        connection.close()
    return most


def read_figures(samples: Sequence[tuple[float, str]]) -> dict[str, Any]:
    """Latency (p50, p99, max, ms) and status counts of one read kind in one phase."""
    seconds = sorted(duration for duration, _ in samples)
    statuses = Counter(status for _, status in samples)
    if not seconds:
        return {"requests": 0, "p50_ms": None, "p99_ms": None, "max_ms": None, "statuses": {}}
    return {
        "requests": len(seconds),
        "p50_ms": percentile_ms(seconds, 0.5),
        "p99_ms": percentile_ms(seconds, 0.99),
        "max_ms": round(1000 * seconds[-1], 2),
        "statuses": dict(sorted(statuses.items())),
    }


@dataclass(frozen=True)
class Target:
    """What a phase hammers and reads, and the database whose locks it watches."""

    hot: HotOrder
    cold: int
    dsn: str


def run_phase(target: Target, phase: str, seconds: int, hammers: int) -> dict[str, Any]:
    """One phase: the readers for `seconds`, with the hammers running throughout when `phase` is hammered."""
    done = threading.Event()
    with ExitStack() as stack:
        pool = stack.enter_context(ThreadPoolExecutor(READERS + 1))
        sampler = pool.submit(most_waiting_on_a_lock, target.dsn, done)
        stack.callback(done.set)  # before the pool's exit waits for the sampler
        hammering = stack.enter_context(Hammers(target.hot, hammers)) if phase == HAMMERED else None
        until = time.monotonic() + seconds
        readers = [pool.submit(read_in_a_loop, target.hot.base_url, target.cold, until) for _ in range(READERS)]
        reads = [reader.result() for reader in readers]
        patches = hammering.counts() if hammering is not None else None
        done.set()
        most_waiting = sampler.result()
    return {
        "phase": phase,
        "seconds": seconds,
        "reads": {kind: read_figures([s for found in reads for s in found[kind]]) for kind in READS},
        "patches": patches,
        "patches_per_s": round(sum(patches.values()) / seconds, 1) if patches is not None else None,
        "most_waiting_on_lock": most_waiting,
    }


def phase_errors(label: str, result: dict[str, Any]) -> list[str]:
    """A read answered other than 200; a PATCH answered other than 200 or a retryable 409; no PATCH through."""
    errors = [
        f"{label}: {kind} answered {figures['statuses']}"
        for kind, figures in result["reads"].items()
        if not figures["requests"] or set(figures["statuses"]) != {"200"}
    ]
    if (patches := result["patches"]) is not None:
        if set(patches) - {"200", "409"}:
            errors.append(f"{label}: PATCHes answered {patches}")
        if not patches.get("200"):
            errors.append(f"{label}: no PATCH of the hot order went through ({patches})")
    return errors


def phase_line(result: dict[str, Any]) -> str:
    reads = ", ".join(f"{kind} p50 {f['p50_ms']} ms p99 {f['p99_ms']} ms" for kind, f in result["reads"].items())
    if result["patches"] is None:
        return reads
    waiting = result["most_waiting_on_lock"]
    return f"{reads}; PATCH {result['patches']} ({result['patches_per_s']}/s), most waiting on a Lock {waiting}"


def measurement(run: Run, *, rounds: int, seconds: int, hammers: int) -> Measurement:
    """Fills the document with every phase and a summary, writes results.md, returns the errors seen."""
    order = phase_order(rounds)

    def measure(output: Path, document: dict[str, Any]) -> list[str]:
        phases: list[dict[str, Any]] = []
        errors: list[str] = []
        progress = Progress(len(order))
        with prepared(run, output, document) as ready, api_server(ready.url, run.workers, ready.logs) as api:
            if ready.ids.orders < 2 or ready.ids.tags < 2:
                raise HarnessError("the demo data needs two orders and two tags")
            # The first demo order is hammered, the last one read: unrelated rows.
            target = Target(HotOrder(api.base_url, 1, (1, 2)), ready.ids.orders, libpq_dsn(ready.url))
            read_in_a_loop(api.base_url, target.cold, time.monotonic() + 1)  # warm: pools, first queries
            for round_number, phase in order:
                label = f"round {round_number}, {phase}"
                progress.start(f"{label}, {seconds} s")
                result = {"round": round_number, **run_phase(target, phase, seconds, hammers)}
                print(phase_line(result), flush=True)
                errors += phase_errors(label, result)
                phases.append(result)
        document["hot_row"] = {
            "hot_order": target.hot.order,
            "cold_order": target.cold,
            "hammers": hammers,
            "readers": READERS,
            "seconds": seconds,
            "order": [phase for _, phase in order],
            "phases": phases,
            "summary": summary(phases),
        }
        return _written(output, document, [hot_row_markdown(document["hot_row"])], errors)

    return measure


def _median(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(median(known), 2) if known else None


def _ratio(hammered: float | None, quiet: float | None) -> float | None:
    return round(hammered / quiet, 2) if hammered is not None and quiet else None


def summary(phases: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per read kind: the medians over each condition's phases, and hammered/quiet of p50 and p99."""
    found: dict[str, Any] = {}
    for kind in READS:
        figures: dict[str, Any] = {}
        for phase in (QUIET, HAMMERED):
            reads = [p["reads"][kind] for p in phases if p["phase"] == phase]
            statuses: Counter[str] = Counter()
            for read in reads:
                statuses.update(read["statuses"])
            figures[phase] = {
                "p50_ms": _median([r["p50_ms"] for r in reads]),
                "p99_ms": _median([r["p99_ms"] for r in reads]),
                "max_ms": max((r["max_ms"] for r in reads if r["max_ms"] is not None), default=None),
                "statuses": dict(sorted(statuses.items())),
            }
        figures["p50_ratio"] = _ratio(figures[HAMMERED]["p50_ms"], figures[QUIET]["p50_ms"])
        figures["p99_ratio"] = _ratio(figures[HAMMERED]["p99_ms"], figures[QUIET]["p99_ms"])
        found[kind] = figures
    return found


def _statuses(counts: dict[str, int]) -> str:
    return ", ".join(f"{status}: {count:,}" for status, count in counts.items()) or "-"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def hot_row_markdown(hot_row: dict[str, Any]) -> list[str]:
    """The reads quiet against hammered (medians over phases, their ratio), then each hammered phase's PATCHes."""
    lines = [
        "## A hot row: unrelated reads while one order is hammered",
        "",
        (
            f"{hot_row['readers']} reader threads loop over the reads below (the cold order is {hot_row['cold_order']})"
            f" for {hot_row['seconds']} s per phase, quiet and while {hot_row['hammers']} clients (half /sync, half"
            f" /async) PATCH order {hot_row['hot_order']} in a loop; phases {', '.join(hot_row['order'])}. Latencies"
            " are medians over the phases of each kind (max: the highest); x: hammered / quiet."
        ),
        "",
        (
            "| read | quiet p50 ms | quiet p99 ms | quiet max ms | hammered p50 ms | hammered p99 ms | hammered max ms"
            " | p50 x | p99 x | statuses quiet | statuses hammered |"
        ),
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for kind, figures in hot_row["summary"].items():
        quiet, hammered = figures[QUIET], figures[HAMMERED]
        lines.append(
            f"| {kind} | {_ms(quiet['p50_ms'])} | {_ms(quiet['p99_ms'])} | {_ms(quiet['max_ms'])}"
            f" | {_ms(hammered['p50_ms'])} | {_ms(hammered['p99_ms'])} | {_ms(hammered['max_ms'])}"
            f" | {_times(figures['p50_ratio'])} | {_times(figures['p99_ratio'])}"
            f" | {_statuses(quiet['statuses'])} | {_statuses(hammered['statuses'])} |"
        )
    lines += [
        "",
        (
            "PATCHes of the hot order per hammered phase (a 409 is `concurrent-change` with Retry-After; anything else"
            " is an error), and the most sessions seen waiting on a Lock at once (`pg_stat_activity`, polled every"
            f" {int(LOCK_POLL_S * 1000)} ms):"
        ),
        "",
        "| round | PATCH 200 | PATCH 409 | other | PATCH/s | most waiting on a Lock |",
        "|--:|--:|--:|---|--:|--:|",
    ]
    for phase in hot_row["phases"]:
        if (patches := phase["patches"]) is None:
            continue
        others = {status: count for status, count in patches.items() if status not in {"200", "409"}}
        lines.append(
            f"| {phase['round']} | {patches.get('200', 0):,} | {patches.get('409', 0):,} | {_statuses(others)}"
            f" | {phase['patches_per_s']:,.1f} | {phase['most_waiting_on_lock']} |"
        )
    quiet_waits = [p["most_waiting_on_lock"] for p in hot_row["phases"] if p["phase"] == QUIET]
    return [*lines, "", f"Most waiting on a Lock in the quiet phases: {max(quiet_waits, default=None)}.", ""]
