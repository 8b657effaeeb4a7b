"""The sweep: every point (direct, then each delay through the proxy) x sizing, served and measured with wrk.

At each point the API is served once with the default sizing and once with the sizing rule's recommendation for
that point (from the rates kept nearer the database); a recommendation equal to the defaults is served once.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from sale_orders_bench import sizing
from sale_orders_bench.endpoints import BY_NAME, Endpoint
from sale_orders_bench.errors import HarnessError
from sale_orders_bench.network.links import DIRECT, RTT_SAMPLES, Point, measure_rtt, through
from sale_orders_bench.options import Run
from sale_orders_bench.report import Row
from sale_orders_bench.scenarios import Bench, Progress, as_row, summary
from sale_orders_bench.servers import REPO, server_env
from sale_orders_bench.session import Prepared
from sale_orders_faultproxy.process import ProxyProcess
from sale_orders_tools.harness import servers
from sale_orders_tools.harness.gauges import GaugePeaks
from sale_orders_tools.harness.servers import ServerProcess, ServerStartError

DEFAULTS, RECOMMENDED = "defaults", "recommended"
SIZINGS = (DEFAULTS, RECOMMENDED)


@dataclass(frozen=True)
class Network:
    """What `bench network` is given, beyond the run's own settings."""

    run: Run
    delays: list[str]
    sizings: list[str]
    costs: list[int]
    endpoints: list[str]  # endpoint names


@contextmanager
def api_server(url: URL, env: dict[str, str], workers: int, logs: Path) -> Iterator[ServerProcess]:
    """`sale-orders serve` over `url` with `env` (the sizing), as the matrix serves it; migrated beforehand."""
    options = ["--workers", str(workers), "--no-access-log", "--no-migrate"]
    try:
        server = servers.start_serve(log_dir=logs, env=server_env(url, **env), cwd=REPO, options=options)
    except ServerStartError as exc:
        raise HarnessError(str(exc)) from exc
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Sweep:
    """Everything one `bench network` run shares between its server starts."""

    network: Network
    ready: Prepared
    proxy: ProxyProcess
    progress: Progress
    errors: list[str]

    @property
    def run(self) -> Run:
        return self.network.run

    def url_for(self, point: Point) -> URL:
        url = self.ready.url
        return url if point.delay_ms is None else through(url, self.proxy.listen)

    def bench(self, url: URL, api: ServerProcess) -> Bench:
        """A Bench on `api`, reached at `url` (through the proxy or not), with the run's wrk settings."""
        return replace(self.ready.bench(self.run, api), url=url)


def _rates(
    rows: Sequence[Row], families: Sequence[str], endpoints: Sequence[Endpoint]
) -> tuple[dict[tuple[str, str], float], dict[str, str]]:
    """The rates to keep, per family and endpoint, and where each came from.

    Its best req/s through the proxy at 0 ms, else direct (of the runs without errors), else `sizing.NEAR_RATES`.
    """
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
    run = sweep.run
    url = sweep.url_for(point)
    print(f"serving at delay {point.label}, sizing {sizing_name}: {_env_text(env)} ...", flush=True)
    with api_server(url, env, run.workers, sweep.ready.logs) as api:
        bench = sweep.bench(url, api)
        endpoints = [BY_NAME[name] for name in sweep.network.endpoints]
        if run.warmup_s:
            bench.warm_up([(family, endpoint) for endpoint in endpoints for family in run.families])
        rows = [
            _measure(sweep, bench, point, sizing_name, (endpoint, concurrency, family))
            for endpoint in endpoints
            for concurrency in run.concurrency
            for family in run.families
        ]
    return [{**row, **{name.lower(): int(value) for name, value in env.items()}} for row in rows]


def _env_text(env: dict[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in env.items())


def sweep_points(sweep: Sweep, points: Sequence[Point]) -> tuple[list[Row], list[dict[str, Any]]]:
    """Every point, each with each sizing; a recommended sizing equal to the defaults is not served twice."""
    run = sweep.run
    endpoints = [BY_NAME[name] for name in sweep.network.endpoints]
    rows: list[Row] = []
    plans = []
    defaults = {name: str(value) for name, value in sizing.default_sizing().items()}
    for point in points:
        if point.delay_ms is not None:
            sweep.proxy.set_delay(point.delay_ms)
        rtt = measure_rtt(sweep.url_for(point), RTT_SAMPLES)
        rates, sources = _rates(rows, run.families, endpoints)
        loads = sizing.workloads({(f, e): rate for (f, e), rate in rates.items()})
        plan = sizing.plan(
            point.delay_ms or 0.0,
            loads,
            rtt_ms=rtt["median_ms"],
            max_connections=sweep.ready.database.max_connections,
            workers=run.workers,
            concurrency=max(run.concurrency),
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
        for sizing_name in sweep.network.sizings:
            env = defaults if sizing_name == DEFAULTS else plan.env
            same = next((name for name, values in measured.items() if _env_of(values) == env), None)
            if same is not None:
                runs = len(endpoints) * len(run.concurrency) * len(run.families)
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
