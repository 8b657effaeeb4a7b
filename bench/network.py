"""`bench --network`: both families with PostgreSQL milliseconds away, behind the delay proxy, and what sizing costs.

The API (`sale-orders serve`, as the matrix serves it) reaches PostgreSQL directly, then through the fault proxy
(tools/sale_orders_tools/faultproxy, its own process) at each one-way delay; at each delay it is served once with
the default sizing and once with the sizing rule's (bench/sizing.py), and every endpoint x concurrency x family
is driven with wrk. Then the cost of a thread and of a connection: the worker's RSS with N requests in flight in
each family, and the memory of PostgreSQL's backends. Every process it starts is stopped by its PID at the end.
"""

import argparse
import math
import os
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg2
import sizing
from endpoints import BY_NAME, DemoIds, Endpoint
from environment import REPO as REPO_ROOT
from environment import CpuMeter, postmaster_pid, server_env
from report import Row, describe_machine, write_markdown
from report_network import network_markdown, plot_network
from scenarios import Bench, HarnessError, Progress, as_row, summary
from sqlalchemy.engine import URL
from wrk import WrkResult, wrk_version

from sale_orders.db.drivers import libpq_dsn
from sale_orders.db.migrate import upgrade
from sale_orders_faultproxy.process import ProxyProcess, ProxyStartError, proxy_process
from sale_orders_faultproxy.stats import Address, Target, parse_address
from sale_orders_tools.demo import DemoSize, load_demo_data
from sale_orders_tools.harness import servers
from sale_orders_tools.harness.databases import ScratchPostgres, query_one, scratch_postgres
from sale_orders_tools.harness.gauges import GaugePeaks, RssPeak, rss_kib
from sale_orders_tools.harness.servers import ServerProcess, ServerStartError

DIRECT = "direct"
DEFAULTS, RECOMMENDED = "defaults", "recommended"
SIZINGS = (DEFAULTS, RECOMMENDED)
RTT_SAMPLES = 50
# What each extra thread and connection costs: requests in flight at a delay long enough that the worker's CPU is
# not what limits them (N in flight at most COST_RATE requests/s), on the cheapest read of one row.
COST_ENDPOINT = "GET /contact/{id}"
COST_RATE = 400
# Connecting takes several round trips; at the costs' delays of up to 320 ms they exceed the fail-fast defaults.
COST_TIMEOUTS = {"POOL_TIMEOUT": "60", "DB_CONNECT_TIMEOUT": "60", "DB_RESPONSE_TIMEOUT": "60"}


@dataclass(frozen=True)
class Point:
    """Where PostgreSQL is: `delay_ms` None is direct (no proxy), otherwise through the proxy."""

    delay_ms: float | None

    @property
    def label(self) -> str:
        return DIRECT if self.delay_ms is None else f"{self.delay_ms:g} ms"


# -- the database -----------------------------------------------------------------------------------------------


def proxy_target(url: URL) -> Target:
    """What the proxy forwards to: the server's unix socket, or its loopback TCP address."""
    port = url.port or 5432
    socket_dir = url.query.get("host")
    if isinstance(socket_dir, tuple):
        socket_dir = socket_dir[0]
    if socket_dir and str(socket_dir).startswith("/"):
        return f"{socket_dir}/.s.PGSQL.{port}"
    host = url.host or "127.0.0.1"
    try:
        return parse_address(f"{host}:{port}")
    except ValueError as exc:
        msg = f"--network puts a proxy in front of PostgreSQL on this machine; DATABASE_URL names {host}"
        raise HarnessError(msg) from exc


def through(url: URL, listen: Address) -> URL:
    """`url` with the proxy's address instead of the server's."""
    query = {key: value for key, value in url.query.items() if key != "host"}
    return url.set(host=listen[0], port=listen[1], query=query)


def _demo_ids(url: URL) -> DemoIds:
    tables = ("contact", "product", "tag", "sale_order")
    return DemoIds(*(int(str(query_one(url, f"SELECT coalesce(max(id), 0) FROM {t}"))) for t in tables))  # noqa: S608


def measure_rtt(url: URL, samples: int) -> dict[str, float]:
    """Round trips of `SELECT 1` on one connection: median and p90, in milliseconds."""
    connection = psycopg2.connect(libpq_dsn(url))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            times = []
            for _ in range(samples):
                started = time.perf_counter()
                cursor.execute("SELECT 1")
                cursor.fetchone()
                times.append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()
    times.sort()
    return {"median_ms": round(statistics.median(times), 3), "p90_ms": round(times[int(0.9 * (len(times) - 1))], 3)}


# -- the server -------------------------------------------------------------------------------------------------


@contextmanager
def api_server(url: URL, env: dict[str, str], workers: int, logs: Path) -> Iterator[ServerProcess]:
    """`sale-orders serve` over `url` with `env` (the sizing), as the matrix serves it; migrated beforehand."""
    options = ["--workers", str(workers), "--no-access-log", "--no-migrate"]
    try:
        server = servers.start_serve(log_dir=logs, env=server_env(url, **env), cwd=REPO_ROOT, options=options)
    except ServerStartError as exc:
        raise HarnessError(str(exc)) from exc
    try:
        yield server
    finally:
        server.stop()


# -- the sweep --------------------------------------------------------------------------------------------------


@dataclass
class Sweep:
    """Everything one --network run shares between its server starts."""

    args: argparse.Namespace
    database: ScratchPostgres
    proxy: ProxyProcess
    ids: DemoIds
    meter: CpuMeter
    logs: Path
    progress: Progress
    errors: list[str]

    def url_for(self, point: Point) -> URL:
        return self.database.url if point.delay_ms is None else through(self.database.url, self.proxy.listen)

    def bench(self, url: URL, api: ServerProcess) -> Bench:
        args = self.args
        return Bench(url, self.ids, api, None, args.duration, args.timeout, args.wrk_threads, args.warmup, self.meter)


def _rates(
    rows: Sequence[Row], families: Sequence[str], endpoints: Sequence[Endpoint]
) -> tuple[dict[tuple[str, str], float], dict[str, str]]:
    """The rates to keep, per family and endpoint: its best req/s through the proxy at 0 ms, else direct (of the
    runs without errors), else bench/sizing.py's NEAR_RATES; and where each came from."""
    rates, sources = {}, {}
    for family in families:
        for endpoint in endpoints:
            key = (family, endpoint.name)
            for label in ("0 ms", DIRECT):
                measured = [
                    r["requests_per_s"]
                    for r in rows
                    if (r["family"], r["endpoint"], r["delay"]) == (*key, label) and not r["errors"]
                ]
                if measured:
                    rates[key], sources[f"{family} {endpoint.name}"] = max(measured), f"measured {label}"
                    break
            else:
                rates[key] = sizing.NEAR_RATES[endpoint.name][family]
                sources[f"{family} {endpoint.name}"] = "NEAR_RATES"
    return rates, sources


def _measure(sweep: Sweep, bench: Bench, point: Point, sizing_name: str, target: tuple[Endpoint, int, str]) -> Row:
    endpoint, concurrency, family = target
    sweep.progress.start(f"delay {point.label}, sizing {sizing_name}, {family} {endpoint.name} c={concurrency}")
    proxied = point.delay_ms is not None
    if proxied:
        sweep.proxy.zero()
    with GaugePeaks(bench.api.base_url, 0.5) as gauges:
        result = bench.wrk(bench.api.base_url, endpoint.load(f"/{family}", bench.ids), concurrency)
    turns = sweep.proxy.turns() if proxied else None
    sweep.progress.finish(result)
    if result.errors:
        where = f"delay {point.label}, sizing {sizing_name}, {family} {endpoint.name} c={concurrency}"
        sweep.errors.append(f"{where}: {summary(result)}")
    return as_row(
        family,
        endpoint.name,
        concurrency,
        result,
        delay=point.label,
        delay_ms=point.delay_ms,
        proxied=proxied,
        sizing=sizing_name,
        round_trips_per_request=round(turns / result.requests, 2) if turns is not None and result.requests else None,
        **gauges.of(family),
    )


def serve_and_measure(sweep: Sweep, point: Point, sizing_name: str, env: dict[str, str]) -> list[Row]:
    """One server start: every endpoint x concurrency x family at this point, with this sizing."""
    args = sweep.args
    url = sweep.url_for(point)
    print(f"serving at delay {point.label}, sizing {sizing_name}: {_env_text(env)} ...", flush=True)
    with api_server(url, env, args.workers, sweep.logs) as api:
        bench = sweep.bench(url, api)
        endpoints = [BY_NAME[name] for name in args.network_endpoints]
        if args.warmup:
            bench.warm_up([(family, endpoint) for endpoint in endpoints for family in args.families])
        rows = [
            _measure(sweep, bench, point, sizing_name, (endpoint, concurrency, family))
            for endpoint in endpoints
            for concurrency in args.concurrency
            for family in args.families
        ]
    return [{**row, **{name.lower(): int(value) for name, value in env.items()}} for row in rows]


def _env_text(env: dict[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in env.items())


def sweep_points(sweep: Sweep, points: Sequence[Point]) -> tuple[list[Row], list[dict[str, Any]]]:
    """Every point, each with each sizing; a recommended sizing equal to the defaults is not served twice."""
    args = sweep.args
    endpoints = [BY_NAME[name] for name in args.network_endpoints]
    rows: list[Row] = []
    plans = []
    defaults = {name: str(value) for name, value in sizing.default_sizing().items()}
    for point in points:
        if point.delay_ms is not None:
            sweep.proxy.set_delay(point.delay_ms)
        rtt = measure_rtt(sweep.url_for(point), RTT_SAMPLES)
        rates, sources = _rates(rows, args.families, endpoints)
        loads = sizing.workloads({(f, e): rate for (f, e), rate in rates.items()})
        plan = sizing.plan(
            point.delay_ms or 0.0,
            loads,
            rtt_ms=rtt["median_ms"],
            max_connections=sweep.database.max_connections,
            workers=args.workers,
            concurrency=max(args.concurrency),
        )
        plans.append(
            {
                "delay": point.label,
                "delay_ms": point.delay_ms,
                "rtt_ms": rtt,
                "defaults": defaults,
                "recommended": plan.env,
                "needs": [asdict(need) for need in plan.needs],
                "floored": plan.floored,
                "capped": plan.capped,
                "allowed_connections": plan.allowed_connections,
                "rates_from": sorted(set(sources.values())),
                "rates": [
                    {"family": f, "endpoint": e, "requests_per_s": r, "from": sources[f"{f} {e}"]}
                    for (f, e), r in rates.items()
                ],
            }
        )
        print(
            f"delay {point.label}: SELECT 1 takes {rtt['median_ms']:.2f} ms (p90 {rtt['p90_ms']:.2f}); the rule "
            f"recommends {_env_text(plan.env)}" + (" (capped by max_connections)" if plan.capped else ""),
            flush=True,
        )
        measured: dict[str, list[Row]] = {}
        for sizing_name in args.sizings:
            env = defaults if sizing_name == DEFAULTS else plan.env
            same = next((name for name, values in measured.items() if _env_of(values) == env), None)
            if same is not None:
                runs = len(endpoints) * len(args.concurrency) * len(args.families)
                sweep.progress.total -= runs
                print(f"delay {point.label}: sizing {sizing_name} is the {same} sizing: measured once", flush=True)
                measured[sizing_name] = [{**row, "sizing": sizing_name, "same_as": same} for row in measured[same]]
            else:
                measured[sizing_name] = serve_and_measure(sweep, point, sizing_name, env)
            rows += measured[sizing_name]
    add_ratios(rows)
    return rows, plans


def _env_of(rows: Sequence[Row]) -> dict[str, str]:
    return {name: str(rows[0][name.lower()]) for name in sizing.SIZING_SETTINGS} if rows else {}


def add_ratios(rows: Sequence[Row]) -> None:
    """Each run's req/s over the same family, endpoint, concurrency and sizing through the proxy at 0 ms."""
    base = {(r["family"], r["endpoint"], r["concurrency"], r["sizing"]): r for r in rows if r["delay"] == "0 ms"}
    for row in rows:
        zero = base.get((row["family"], row["endpoint"], row["concurrency"], row["sizing"]))
        row["ratio_to_0ms"] = (
            round(row["requests_per_s"] / zero["requests_per_s"], 3) if zero and zero["requests_per_s"] else None
        )


def proxy_cost(rows: Sequence[Row], plans: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the proxy itself costs: through it at 0 ms against direct, default sizing, per run; and SELECT 1."""
    direct = {
        (r["family"], r["endpoint"], r["concurrency"]): r
        for r in rows
        if (r["delay"], r["sizing"]) == (DIRECT, DEFAULTS)
    }
    comparisons = []
    for row in rows:
        other = direct.get((row["family"], row["endpoint"], row["concurrency"]))
        if row["delay"] != "0 ms" or row["sizing"] != DEFAULTS or other is None:
            continue
        comparisons.append(
            {
                "family": row["family"],
                "endpoint": row["endpoint"],
                "concurrency": row["concurrency"],
                "direct_requests_per_s": other["requests_per_s"],
                "proxy_requests_per_s": row["requests_per_s"],
                "ratio": round(row["requests_per_s"] / other["requests_per_s"], 3) if other["requests_per_s"] else None,
                "direct_p50_ms": other["p50_ms"],
                "proxy_p50_ms": row["p50_ms"],
            }
        )
    rtts = {plan["delay"]: plan["rtt_ms"]["median_ms"] for plan in plans}
    return {"select_1_ms": {label: rtts.get(label) for label in (DIRECT, "0 ms")}, "runs": comparisons}


# -- what a thread and a connection cost -------------------------------------------------------------------------


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
    allowed = sweep.database.max_connections - sizing.RESERVED_CONNECTIONS
    counts = sorted(n for n in counts if n <= allowed)
    if not counts:
        return {"skipped": f"max_connections allows {allowed} connections for the bench"}
    top = counts[-1]
    env = {"SYNC_THREADS": str(top), "SYNC_POOL_SIZE": str(top), "ASYNC_POOL_SIZE": str(top), **COST_TIMEOUTS}
    url = through(sweep.database.url, sweep.proxy.listen)
    endpoint = BY_NAME[COST_ENDPOINT]
    steps = []
    for family in sweep.args.families:
        sweep.proxy.set_delay(cost_delay_ms(counts[0]))
        with api_server(url, env, 1, sweep.logs) as api:
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
                    result = bench.wrk(api.base_url, endpoint.load(f"/{family}", sweep.ids), count, duration)
                time.sleep(0.5)
                after = rss_kib(pid)
                backends = backend_memory(sweep.database.url)
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


# -- the run ----------------------------------------------------------------------------------------------------


@contextmanager
def _proxy_process(target: Target, logs: Path) -> Iterator[ProxyProcess]:
    try:
        with proxy_process(target, logs / "faultproxy.log") as proxy:
            yield proxy
    except ProxyStartError as exc:
        raise HarnessError(str(exc)) from exc


def wanted_connections(args: argparse.Namespace) -> int:
    """Enough for both pools at the highest concurrency (a pool beyond it is never used) and for the costs."""
    return int(2 * max([*args.concurrency, *args.costs]) + 2 * sizing.RESERVED_CONNECTIONS)


def run_network(args: argparse.Namespace, output: Path, document: dict[str, Any]) -> list[str]:
    """The --network measurement; fills `document`, writes results.md and the plots, returns the errors seen."""
    logs = output / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    # Nearest first: the rule sizes each point from the rates kept at 0 ms (or direct), measured before it.
    delays = sorted(set(args.delays), key=lambda delay: -1.0 if delay == DIRECT else float(delay))
    points = [Point(None if delay == DIRECT else float(delay)) for delay in delays]
    errors: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="sale-orders-bench-") as workdir,
        scratch_postgres(
            os.environ.get("DATABASE_URL"), Path(workdir), min_connections=wanted_connections(args)
        ) as database,
        _proxy_process(proxy_target(database.url), logs) as proxy,
    ):
        url = database.url
        print(f"database: {url.render_as_string(hide_password=True)}; {database.max_connections_note}", flush=True)
        print(f"proxy: 127.0.0.1:{proxy.listen[1]} -> {proxy_target(url)} (PID {proxy.process.pid})", flush=True)
        upgrade(url)
        started = time.monotonic()
        load_demo_data(url, DemoSize.for_orders(args.orders))
        document["demo_data"] = {"orders": args.orders, "load_seconds": round(time.monotonic() - started, 2)}
        print(f"loaded {args.orders:,} demo orders in {document['demo_data']['load_seconds']} s", flush=True)
        document["machine"] = describe_machine(
            str(query_one(url, "SHOW server_version")), wrk_version(), document["load_before"]
        )
        meter = CpuMeter([os.getpid(), *filter(None, [postmaster_pid(url)])])
        runs = len(points) * len(args.sizings) * len(args.network_endpoints) * len(args.concurrency)
        costs = len(args.costs) * len(args.families)
        progress = Progress(runs * len(args.families) + costs)
        sweep = Sweep(args, database, proxy, _demo_ids(url), meter, logs, progress, errors)
        rows, plans = sweep_points(sweep, points)
        network: dict[str, Any] = {
            "delays": [point.label for point in points],
            "sizings": list(args.sizings),
            "max_connections": database.max_connections,
            "max_connections_note": database.max_connections_note,
            "proxy_pid": proxy.process.pid,
            "round_trips": {e: dict(sizing.ROUND_TRIPS[e]) for e in args.network_endpoints},
            "plans": plans,
            "runs": rows,
            "proxy_cost": proxy_cost(rows, plans),
        }
        document["network"] = network
        if args.costs:
            network["costs"] = measure_costs(sweep, args.costs)
    document["errors"] = errors
    document["plots"] = [path.name for path in plot_network(network, output)]
    write_markdown(output / "results.md", document, [network_markdown(document)])
    return errors
