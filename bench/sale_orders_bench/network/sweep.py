"""The sweep: at every point (direct, then each delay through the proxy), both sizings side by side, in rounds.

At each point the API is served with the default sizing and, beside it on the same scratch database and behind the
same link, with the sizing rule's recommendation for that point (from the rates kept nearer the database); a
recommendation equal to the defaults is served once. Every target is then driven in alternating rounds, defaults
then recommended in odd rounds and recommended then defaults in even ones (`figures.schedule`), so a drift of the
shared machine falls on both sizings alike; `figures` turns the rounds into medians with their spread.
"""

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from sale_orders_bench import sizing
from sale_orders_bench.endpoints import BY_NAME, Endpoint
from sale_orders_bench.errors import HarnessError
from sale_orders_bench.network.figures import DEFAULTS, RECOMMENDED, add_ratios, figures, schedule
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

Target = tuple[Endpoint, int, str]  # endpoint, concurrency, family


@dataclass(frozen=True)
class Network:
    """What `bench network` is given, beyond the run's own settings."""

    run: Run
    delays: list[str]
    sizings: list[str]
    costs: list[int]
    endpoints: list[str]  # endpoint names
    rounds: int = 2

    @property
    def targets(self) -> list[Target]:
        """Every endpoint x concurrency x family, in the order each round drives them."""
        return [
            (BY_NAME[name], concurrency, family)
            for name in self.endpoints
            for concurrency in self.run.concurrency
            for family in self.run.families
        ]


def beside_connections(network: Network) -> int:
    """What the defaults server may hold while the recommended one runs beside it: its pools and health check."""
    if not {DEFAULTS, RECOMMENDED} <= set(network.sizings):
        return 0
    defaults = sizing.default_sizing()
    return network.run.workers * (defaults["SYNC_POOL_SIZE"] + defaults["ASYNC_POOL_SIZE"] + 1)


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
    medians: Sequence[Row], families: Sequence[str], endpoints: Sequence[Endpoint]
) -> tuple[dict[tuple[str, str], float], dict[str, str]]:
    """The rates to keep, per family and endpoint, and where each came from.

    Its best median req/s through the proxy at 0 ms, else direct (of the runs without errors), else
    `sizing.NEAR_RATES`.
    """
    rates, sources = {}, {}
    for family in families:
        for endpoint in endpoints:
            key = (family, endpoint.name)
            for label in ("0 ms", DIRECT):
                measured = [
                    r["requests_per_s"]
                    for r in medians
                    if (r["family"], r["endpoint"], r["delay"]) == (*key, label) and not r["errors"]
                ]
                if measured:
                    rates[key], sources[f"{family} {endpoint.name}"] = max(measured), f"measured {label}"
                    break
            else:
                rates[key] = sizing.NEAR_RATES[endpoint.name][family]
                sources[f"{family} {endpoint.name}"] = "NEAR_RATES"
    return rates, sources


def _measure(  # noqa: PLR0913 - where one run sits: point, target, sizing and round
    sweep: Sweep, bench: Bench, point: Point, target: Target, *, sizing_name: str, round_number: int
) -> Row:
    endpoint, concurrency, family = target
    where = f"delay {point.label}, round {round_number}, sizing {sizing_name}, {family} {endpoint.name} c={concurrency}"
    sweep.progress.start(where)
    proxied = point.delay_ms is not None
    if proxied:
        sweep.proxy.zero()
    with GaugePeaks(bench.api.base_url, 0.5) as gauges:
        result = bench.wrk(bench.api.base_url, endpoint.load(f"/{family}", bench.ids), concurrency)
    turns = sweep.proxy.turns() if proxied else None
    sweep.progress.finish(result)
    if result.errors:
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
        round=round_number,
        round_trips_per_request=round(turns / result.requests, 2) if turns is not None and result.requests else None,
        **gauges.of(family),
    )


def serve_point(sweep: Sweep, point: Point, envs: dict[str, dict[str, str]]) -> tuple[list[Row], dict[str, int]]:
    """Each sizing of `envs` served side by side at this point, driven in alternating rounds; rows and the PIDs.

    Within a round each target runs once per sizing, the two runs next to each other, in the round's order.
    """
    run = sweep.run
    url = sweep.url_for(point)
    targets = sweep.network.targets
    rows: list[Row] = []
    with ExitStack() as stack:
        benches = {}
        for name, env in envs.items():
            api = stack.enter_context(api_server(url, env, run.workers, sweep.ready.logs))
            print(f"serving at delay {point.label}, sizing {name} (PID {api.process.pid}): {env_text(env)}", flush=True)
            benches[name] = sweep.bench(url, api)
        if run.warmup_s:
            for bench in benches.values():
                bench.warm_up(list(dict.fromkeys((family, endpoint) for endpoint, _, family in targets)))
        for round_number, order in schedule(list(envs), sweep.network.rounds):
            for target in targets:
                for name in order:
                    row = _measure(sweep, benches[name], point, target, sizing_name=name, round_number=round_number)
                    rows.append({**row, **{key.lower(): int(value) for key, value in envs[name].items()}})
        pids = {name: bench.api.process.pid for name, bench in benches.items()}
    return rows, pids


def env_text(env: dict[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in env.items())


def _plan(sweep: Sweep, point: Point, medians: Sequence[Row]) -> tuple[sizing.SizingPlan, dict[str, Any]]:
    """The rule's sizing for this point, from its measured RTT and the rates kept so far; and its record."""
    run = sweep.run
    endpoints = [BY_NAME[name] for name in sweep.network.endpoints]
    rtt = measure_rtt(sweep.url_for(point), RTT_SAMPLES)
    rates, sources = _rates(medians, run.families, endpoints)
    beside = beside_connections(sweep.network)
    plan = sizing.plan(
        point.delay_ms or 0.0,
        sizing.workloads(rates),
        rtt_ms=rtt["median_ms"],
        max_connections=sweep.ready.database.max_connections - beside,
        workers=run.workers,
        concurrency=max(run.concurrency),
    )
    print(
        f"delay {point.label}: SELECT 1 takes {rtt['median_ms']:.2f} ms (p90 {rtt['p90_ms']:.2f}); the rule "
        f"recommends {env_text(plan.env)}" + (" (capped by max_connections)" if plan.capped else ""),
        flush=True,
    )
    record = {
        "delay": point.label,
        "delay_ms": point.delay_ms,
        "rtt_ms": rtt,
        "defaults": {name: str(value) for name, value in sizing.default_sizing().items()},
        "recommended": plan.env,
        "needs": [asdict(need) for need in plan.needs],
        "floored": plan.floored,
        "capped": plan.capped,
        "allowed_connections": plan.allowed_connections,
        "beside_connections": beside,
        "rates_from": sorted(set(sources.values())),
        "rates": [
            {"family": f, "endpoint": e, "requests_per_s": r, "from": sources[f"{f} {e}"]}
            for (f, e), r in rates.items()
        ],
    }
    return plan, record


def sweep_points(sweep: Sweep, points: Sequence[Point]) -> tuple[list[Row], list[dict[str, Any]]]:
    """Every point, its sizings side by side in alternating rounds.

    A recommendation equal to the defaults is served once and its rows are reported for both (`same_as`).
    """
    rows: list[Row] = []
    plans = []
    for point in points:
        if point.delay_ms is not None:
            sweep.proxy.set_delay(point.delay_ms)
        plan, record = _plan(sweep, point, figures(rows))
        envs: dict[str, dict[str, str]] = {}
        same: dict[str, str] = {}
        for name in sweep.network.sizings:
            env = record["defaults"] if name == DEFAULTS else plan.env
            twin = next((other for other, served in envs.items() if served == env), None)
            if twin is None:
                envs[name] = env
            else:
                same[name] = twin
                sweep.progress.total -= sweep.network.rounds * len(sweep.network.targets)
                print(f"delay {point.label}: sizing {name} is the {twin} sizing: served once", flush=True)
        measured, record["api_pids"] = serve_point(sweep, point, envs)
        record["served"] = list(envs)
        plans.append(record)
        rows += measured
        rows += [
            {**row, "sizing": name, "same_as": twin}
            for name, twin in same.items()
            for row in measured
            if row["sizing"] == twin
        ]
    add_ratios(rows, figures(rows))
    return rows, plans
