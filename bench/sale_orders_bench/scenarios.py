"""What the harness measures: the matrix (endpoint x family x concurrency), scale, leak and workers."""

import math
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.engine import URL

from sale_orders_bench.endpoints import CEILING, ENDPOINTS, LIST_ORDERS, DemoIds, Endpoint, mix_load, scale_page_load
from sale_orders_bench.errors import HarnessError
from sale_orders_bench.machine import CpuMeter
from sale_orders_bench.report import Row, add_ratios
from sale_orders_bench.wrk import Load, WrkResult, run_wrk
from sale_orders_tools.demo import DemoSize, load_demo_data
from sale_orders_tools.harness.gauges import rss_kib
from sale_orders_tools.harness.servers import ServerProcess

WARMUP_CONNECTIONS = 8
NOISE_PERCENT = 5  # other processes' CPU share above which a run is reported as disturbed
LEAK_SEGMENT_S = 20


def summary(result: WrkResult) -> str:
    text = f"{result.requests_per_s:,.0f} req/s p50 {result.p50_ms:.1f} ms p99 {result.p99_ms:.1f} ms"
    if result.others_cpu_percent and result.others_cpu_percent > NOISE_PERCENT:
        text += f"  (other processes used {result.others_cpu_percent:.0f}% of the CPU)"
    if result.errors:
        text += f"  ERRORS {result.errors} (non-2xx {result.non_2xx}, socket {result.socket_errors})"
        text += f": {result.first_error[:160]}"
    return text


@dataclass
class Progress:
    """Numbered progress lines: `[3/30] async GET /order?limit=50 c=8 ... 412 req/s p99 35 ms`."""

    total: int
    done: int = 0

    def start(self, label: str) -> None:
        self.done += 1
        print(f"[{self.done}/{self.total}] {label} ...", end=" ", flush=True)

    def finish(self, result: WrkResult) -> None:
        print(summary(result), flush=True)


def as_row(family: str, endpoint: str, concurrency: int, result: WrkResult, **extra: Any) -> Row:
    return {
        "family": family,
        "endpoint": endpoint,
        "concurrency": concurrency,
        "requests": result.requests,
        "duration_s": round(result.duration_s, 2),
        "requests_per_s": round(result.requests_per_s, 1),
        "p50_ms": round(result.p50_ms, 2),
        "p90_ms": round(result.p90_ms, 2),
        "p99_ms": round(result.p99_ms, 2),
        "max_ms": round(result.max_ms, 2),
        "errors": result.errors,
        "non_2xx": result.non_2xx,
        "socket_errors": result.socket_errors,
        "first_error": result.first_error,
        "others_cpu_percent": result.others_cpu_percent,
        **extra,
    }


@dataclass
class Bench:
    """The servers under test and how to load them."""

    url: URL
    ids: DemoIds
    api: ServerProcess
    ceiling: ServerProcess | None
    duration_s: int
    timeout_s: int
    wrk_threads: int
    warmup_s: int
    meter: CpuMeter
    errors: list[str] = field(default_factory=list)

    def target(self, family: str, endpoint: Endpoint) -> tuple[str, Load]:
        if family == CEILING:
            if self.ceiling is None:
                raise HarnessError("the ceiling is not served")
            return self.ceiling.base_url, endpoint.load("", self.ids)
        return self.api.base_url, endpoint.load(f"/{family}", self.ids)

    def wrk(self, base_url: str, load: Load, concurrency: int, duration_s: int | None = None) -> WrkResult:
        """One wrk run, with the share of the CPU that other processes took meanwhile."""
        mark = self.meter.mark()
        result = run_wrk(
            base_url,
            load,
            connections=concurrency,
            duration_s=duration_s or self.duration_s,
            threads=self.wrk_threads,
            timeout_s=self.timeout_s,
        )
        return replace(result, others_cpu_percent=self.meter.others_percent(mark))

    def warm_up(self, targets: Sequence[tuple[str, Endpoint]]) -> None:
        """Run every target briefly; any error here means the harness or the server is broken: stop."""
        print(f"warming up {len(targets)} targets, {self.warmup_s} s each ...", flush=True)
        for family, endpoint in targets:
            base_url, load = self.target(family, endpoint)
            result = self.wrk(base_url, load, WARMUP_CONNECTIONS, self.warmup_s)
            if result.errors or not result.requests:
                msg = f"warm-up of {family} {endpoint.name} failed: {summary(result)}"
                raise HarnessError(msg)

    def measure(self, progress: Progress, family: str, endpoint: Endpoint, concurrency: int) -> Row:
        progress.start(f"{family} {endpoint.name} c={concurrency}")
        base_url, load = self.target(family, endpoint)
        result = self.wrk(base_url, load, concurrency)
        progress.finish(result)
        if result.errors:
            self.errors.append(f"{family} {endpoint.name} c={concurrency}: {summary(result)}")
        return as_row(family, endpoint.name, concurrency, result)


def matrix_plan(
    endpoints: Sequence[Endpoint], families: Sequence[str], concurrencies: Sequence[int], with_ceiling: bool
) -> list[tuple[str, Endpoint, int]]:
    """Each endpoint at each concurrency: the ceiling (when it serves or stands in for it), then each family.

    Running the ceiling next to the runs compared with it keeps slow drifts of a noisy machine out of the ratios.
    """
    ceilings = {endpoint.ceiling for endpoint in endpoints} if with_ceiling else set()
    plan = []
    for endpoint in ENDPOINTS:
        for concurrency in concurrencies:
            if endpoint.name in ceilings:
                plan.append((CEILING, endpoint, concurrency))
            if endpoint in endpoints:
                plan += [(family, endpoint, concurrency) for family in families]
    return plan


def run_matrix(
    bench: Bench, endpoints: Sequence[Endpoint], families: Sequence[str], concurrencies: Sequence[int]
) -> list[Row]:
    plan = matrix_plan(endpoints, families, concurrencies, with_ceiling=bench.ceiling is not None)
    bench.warm_up(sorted({(family, endpoint) for family, endpoint, _ in plan}, key=lambda t: (t[1].name, t[0])))
    progress = Progress(len(plan))
    rows = [bench.measure(progress, family, endpoint, concurrency) for family, endpoint, concurrency in plan]
    add_ratios(rows)
    return rows


def run_scale(
    bench: Bench, families: Sequence[str], target_orders: int, concurrencies: Sequence[int] = (1, 8)
) -> dict[str, Any]:
    """A page of 50 orders with the demo data, then again after growing the orders to `target_orders`.

    Measures the first page (what the matrix measures) and pages after a random id (a page from anywhere).
    """

    def measure(orders: int) -> list[Row]:
        progress = Progress(len(families) * 2 * len(concurrencies))
        rows = []
        for family in families:
            for page, load in (
                ("first", Load("get.lua", (f"/{family}/order?limit=50",))),
                ("random", scale_page_load(f"/{family}", max(1, orders - 50))),
            ):
                for concurrency in concurrencies:
                    progress.start(f"{orders:,} orders: {family} {LIST_ORDERS} ({page} page) c={concurrency}")
                    result = bench.wrk(bench.api.base_url, load, concurrency)
                    progress.finish(result)
                    rows.append(as_row(family, LIST_ORDERS, concurrency, result, orders=orders, page=page))
        return rows

    before = measure(bench.ids.orders)
    added = target_orders - bench.ids.orders
    print(f"loading {added:,} more orders ...", flush=True)
    started = time.monotonic()
    load_demo_data(
        bench.url,
        DemoSize.for_orders(added),
        seed=2,
        progress=lambda done: print(f"  {done:,} / {added:,}", flush=True) if done % 100_000 == 0 else None,
    )
    load_s = time.monotonic() - started
    print(f"loaded {added:,} orders in {load_s:.1f} s", flush=True)
    after = measure(target_orders)
    comparisons = []
    for old in before:
        new = next(
            r
            for r in after
            if (r["family"], r["page"], r["concurrency"]) == (old["family"], old["page"], old["concurrency"])
        )
        comparisons.append(
            {
                "family": old["family"],
                "page": old["page"],
                "concurrency": old["concurrency"],
                "p50_ratio": round(new["p50_ms"] / old["p50_ms"], 2),
                "p99_ratio": round(new["p99_ms"] / old["p99_ms"], 2),
                "throughput_ratio": round(new["requests_per_s"] / old["requests_per_s"], 2),
            }
        )
    return {
        "orders_before": bench.ids.orders,
        "orders_after": target_orders,
        "orders_loaded": added,
        "load_seconds": round(load_s, 1),
        "runs": before + after,
        "comparisons": comparisons,
    }


def run_leak(bench: Bench, total_requests: int, concurrency: int = 8) -> dict[str, Any]:
    """RSS of the API's worker(s) while serving a mix of every endpoint of both families.

    wrk counts time, not requests: it runs in segments of at most LEAK_SEGMENT_S seconds, sized from the rate
    seen so far, each stopped by the Lua script once it has had the requests still missing to the checkpoint.
    """
    pids = bench.api.worker_pids()

    def rss_mib() -> float:
        return round(sum(rss_kib(pid) for pid in pids) / 1024, 1)

    checkpoints = sorted({int(total_requests * share) for share in (0.1, 0.25, 0.5, 0.75, 1.0)})
    points = [(0, rss_mib())]
    served, errors, rate = 0, 0, 100.0
    for number, checkpoint in enumerate(checkpoints, 1):
        print(f"[{number}/{len(checkpoints)}] leak: mix of every endpoint up to {checkpoint:,} requests ...", end=" ")
        while served < checkpoint:
            missing = checkpoint - served
            duration = max(1, min(LEAK_SEGMENT_S, math.ceil(1.1 * missing / rate)))
            result = run_wrk(
                bench.api.base_url,
                mix_load(bench.ids),
                connections=concurrency,
                duration_s=duration,
                timeout_s=bench.timeout_s,
                stop_after=missing,
            )
            if result.requests < missing:  # ran for the whole duration: a fair rate
                rate = max(1.0, result.requests_per_s)
            served += result.requests
            errors += result.errors
        points.append((served, rss_mib()))
        print(f"{rate:,.0f} req/s, RSS {points[-1][1]} MiB, {errors} errors so far", flush=True)
    if errors:
        bench.errors.append(f"leak: {errors} errors")
    return {
        "pids": pids,
        "concurrency": concurrency,
        "points": [{"requests": n, "rss_mib": mib} for n, mib in points],
        "errors": errors,
        "growth_ratio": round(points[-1][1] / points[1][1], 3),
    }


def run_workers(  # noqa: PLR0913 - the knobs of one comparison
    start_api: Callable[[int], AbstractContextManager[ServerProcess]],
    make_bench: Callable[[ServerProcess], Bench],
    *,
    families: Sequence[str],
    concurrency: int,
    rounds: int,
    workers: Sequence[int] = (1, 2),
) -> dict[str, Any]:
    """`GET /order?limit=50` with 1 and 2 workers, alternating, `rounds` times each; medians and their ratio."""
    endpoint = next(e for e in ENDPOINTS if e.name == LIST_ORDERS)
    rows = []
    progress = Progress(rounds * len(workers) * len(families))
    for round_number in range(1, rounds + 1):
        for count in workers:
            with start_api(count) as api:
                bench = make_bench(api)
                bench.warm_up([(family, endpoint) for family in families])
                for family in families:
                    progress.start(f"round {round_number}: {count} worker(s) {family} {endpoint.name} c={concurrency}")
                    result = bench.wrk(api.base_url, endpoint.load(f"/{family}", bench.ids), concurrency)
                    progress.finish(result)
                    rows.append(as_row(family, endpoint.name, concurrency, result, workers=count, round=round_number))
    medians = {
        f"{family}_{count}": statistics.median(
            row["requests_per_s"] for row in rows if (row["family"], row["workers"]) == (family, count)
        )
        for family in families
        for count in workers
    }
    ratios = {
        family: round(medians[f"{family}_{workers[-1]}"] / base, 2)
        if (base := medians[f"{family}_{workers[0]}"])
        else None
        for family in families
    }
    return {
        "concurrency": concurrency,
        "rounds": rounds,
        "runs": rows,
        "median_requests_per_s": medians,
        "ratios": ratios,
    }
