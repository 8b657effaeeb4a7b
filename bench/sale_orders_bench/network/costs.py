"""What a thread and a connection cost: the worker's RSS with N requests in flight, and PostgreSQL's backends.

Per family, a fresh worker sized for the largest N serves the cheapest read of one row through the proxy, at a delay
long enough that N requests are in flight at a few hundred requests a second.
"""

import math
import statistics
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg2
from sqlalchemy.engine import URL

from sale_orders.db.drivers import libpq_dsn
from sale_orders_bench import sizing
from sale_orders_bench.endpoints import BY_NAME
from sale_orders_bench.network.links import through
from sale_orders_bench.network.sweep import Sweep, api_server
from sale_orders_bench.scenarios import summary
from sale_orders_bench.wrk import WrkResult
from sale_orders_tools.harness.gauges import GaugePeaks, RssPeak, rss_kib

# What each extra thread and connection costs: requests in flight at a delay long enough that the worker's CPU is
# not what limits them (N in flight at most COST_RATE requests/s), on the cheapest read of one row.
COST_ENDPOINT = "GET /contact/{id}"
COST_RATE = 400
# Connecting takes several round trips; at the costs' delays of up to 320 ms they exceed the fail-fast defaults.
COST_TIMEOUTS = {"POOL_TIMEOUT": "60", "DB_CONNECT_TIMEOUT": "60", "DB_RESPONSE_TIMEOUT": "60"}


def _memory_kib(pid: int) -> dict[str, int] | None:
    """Rss, Pss and private memory of a process (/proc/PID/smaps_rollup), or None when it cannot be read."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return None
    values = {}
    for line in lines:
        name, _, rest = line.partition(":")
        if name in {"Rss", "Pss", "Private_Clean", "Private_Dirty"}:
            values[name] = int(rest.split()[0])
    return {"rss": values["Rss"], "pss": values["Pss"], "private": values["Private_Clean"] + values["Private_Dirty"]}


def backend_memory(url: URL) -> dict[str, Any]:
    """PostgreSQL's client backends of this database (but the one asking): count, mean PSS and private KiB."""
    connection = psycopg2.connect(libpq_dsn(url))
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'"
                " AND datname = current_database() AND pid <> pg_backend_pid()"
            )
            pids = [int(pid) for (pid,) in cursor.fetchall()]
            cursor.execute("SELECT sum(total_bytes) FROM pg_backend_memory_contexts")
            contexts = cursor.fetchone()
    finally:
        connection.close()
    readings = [reading for pid in pids if (reading := _memory_kib(pid)) is not None]
    mean = {key: round(statistics.mean(r[key] for r in readings)) for key in ("pss", "private")} if readings else {}
    return {
        "backends": len(pids),
        "read": len(readings),
        "mean_pss_kib": mean.get("pss"),
        "mean_private_kib": mean.get("private"),
        "own_memory_contexts_kib": round(int(contexts[0]) / 1024) if contexts and contexts[0] else None,
    }


def cost_delay_ms(in_flight: int) -> float:
    """A one-way delay at which `in_flight` requests need at most COST_RATE requests/s."""
    return max(10.0, in_flight * 1000 / (2 * COST_RATE))


def _warm(base_url: str, path: str, times: int = 20) -> None:
    for _ in range(times):
        with urllib.request.urlopen(f"{base_url}{path}", timeout=60) as response:  # noqa: S310 - our URL
            response.read()


def measure_costs(sweep: Sweep, counts: Sequence[int]) -> dict[str, Any]:
    """Per family, a fresh worker sized for max(counts): its RSS idle, with N requests in flight, and after.

    In the sync family N requests in flight are N busy threads, each holding a psycopg2 connection; in the
    async family, N asyncpg connections in use by coroutines. PostgreSQL's backends are measured after each step.
    """
    allowed = sweep.ready.database.max_connections - sizing.RESERVED_CONNECTIONS
    counts = sorted(n for n in counts if n <= allowed)
    if not counts:
        return {"skipped": f"max_connections allows {allowed} connections for the bench"}
    top = counts[-1]
    env = {"SYNC_THREADS": str(top), "SYNC_POOL_SIZE": str(top), "ASYNC_POOL_SIZE": str(top), **COST_TIMEOUTS}
    url = through(sweep.ready.url, sweep.proxy.listen)
    endpoint = BY_NAME[COST_ENDPOINT]
    steps = []
    for family in sweep.run.families:
        sweep.proxy.set_delay(cost_delay_ms(counts[0]))
        with api_server(url, env, 1, sweep.ready.logs) as api:
            bench = sweep.bench(url, api)
            pid = api.worker_pids()[0]
            _warm(api.base_url, f"/{family}/contact/1")
            idle = rss_kib(pid)
            for count in counts:
                delay = cost_delay_ms(count)
                sweep.proxy.set_delay(delay)
                duration = math.ceil(3 + 12 * 2 * delay / 1000)
                sweep.progress.start(f"costs: {family}, {count} requests in flight (delay {delay:g} ms, {duration} s)")
                with RssPeak(pid) as rss, GaugePeaks(api.base_url, 0.5) as gauges:
                    result = bench.wrk(api.base_url, endpoint.load(f"/{family}", sweep.ready.ids), count, duration)
                time.sleep(0.5)
                after = rss_kib(pid)
                backends = backend_memory(sweep.ready.url)
                sweep.progress.finish(result)
                if result.errors:
                    sweep.errors.append(f"costs {family} N={count}: {summary(result)}")
                steps.append(
                    _cost_step(
                        family=family,
                        count=count,
                        delay=delay,
                        result=result,
                        idle=idle,
                        peak=rss.peak,
                        after=after,
                        backends=backends,
                        gauges=gauges,
                    )
                )
    sweep.proxy.set_delay(0)
    return {"endpoint": COST_ENDPOINT, "counts": counts, "sizing": env, "steps": steps}


def _cost_step(  # noqa: PLR0913 - one step's readings
    *,
    family: str,
    count: int,
    delay: float,
    result: WrkResult,
    idle: int,
    peak: int,
    after: int,
    backends: dict[str, Any],
    gauges: GaugePeaks,
) -> dict[str, Any]:
    return {
        "family": family,
        "in_flight": count,
        "delay_ms": delay,
        "requests_per_s": round(result.requests_per_s, 1),
        "errors": result.errors,
        "rss_idle_kib": idle,
        "rss_peak_kib": peak,
        "rss_after_kib": after,
        "kib_per_request_in_flight": round((peak - idle) / count, 1),
        "kib_per_connection_kept": round((after - idle) / count, 1),
        **gauges.of(family),
        "postgres": backends,
    }
