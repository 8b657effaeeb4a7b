"""`sale-orders bench` (or `python -m sale_orders_bench`): one subcommand per measurement.

Light on purpose: `sale-orders` loads this group on every start, so a subcommand imports its measurement (servers,
wrk, matplotlib...) only when it runs.
"""

from pathlib import Path
from typing import Any

import click

from sale_orders_bench import options as o
from sale_orders_bench.cli_common import (
    _DURATION,
    _LADDER_SLUGS,
    _QUICK,
    _ROUNDS,
    _STEP,
    EPILOG,
    _common,
    _concurrency,
    _endpoints,
    _execute,
    _ladder_knobs,
    _run,
)


@click.group(epilog=EPILOG)
def bench() -> None:
    """Benchmark both families under load with wrk, against a raw asyncpg ceiling, layer by layer, or two versions.

    Each subcommand writes results.json, results.md and its plots (bench/README.md says what they mean).
    """


@bench.command(epilog=EPILOG, short_help="every endpoint x family x concurrency, next to the ceiling")
@click.option(
    "--quick",
    is_flag=True,
    help="CI smoke run: 500 orders, c=1,8, 2 s runs; then the ladder once, 1 s per step, no warm-up; fails on errors",
)
@_concurrency("1,8,64; --quick: 1,8")
@_DURATION
@_endpoints("all but patch_order")
@click.option("--metrics", is_flag=True, help="scrape the API's /metrics around the matrix: 5xx and pool waits")
@_common
def matrix(  # noqa: PLR0913, PLR0917 - one parameter per option
    common: dict[str, Any],
    quick: bool,
    concurrency: list[int] | None,
    duration: int | None,
    endpoints: list[str] | None,
    metrics: bool,
) -> None:
    """Every endpoint x family x concurrency, the ceiling next to the runs compared with it."""
    from sale_orders_bench import jobs  # noqa: PLC0415 - heavy: only to run

    run = _run(common, quick=quick, defaults=o.defaults(quick), concurrency=concurrency, duration=duration)
    then_ladder = None
    if quick:  # the smoke run runs the ladder once too, on those of the endpoints given that it serves
        slugs = [slug for slug in endpoints or o.FOCUSED_ENDPOINTS if slug in _LADDER_SLUGS]
        if slugs:
            then_ladder = _ladder_knobs(run, slugs, concurrency or o.FOCUSED_CONCURRENCY, None)
    chosen = o.endpoints(endpoints or o.MATRIX_ENDPOINTS)
    _execute(run, "matrix", jobs.matrix(run, chosen, metrics=metrics, then_ladder=then_ladder))


@bench.command(epilog=EPILOG, short_help="where a request's time goes, layer by layer")
@click.option("--quick", is_flag=True, help="one round, 1 s per step, no warm-up, 500 orders; fails on errors")
@_concurrency("8")
@_endpoints(",".join(_LADDER_SLUGS), _LADDER_SLUGS)
@click.option("--rounds", type=int, help=_ROUNDS.format(o.ROUNDS["ladder"], o.QUICK_ROUNDS["ladder"]))
@_STEP
@_common
def ladder(  # noqa: PLR0913, PLR0917 - one parameter per option
    common: dict[str, Any],
    quick: bool,
    concurrency: list[int] | None,
    endpoints: list[str] | None,
    rounds: int | None,
    step_duration: int | None,
) -> None:
    """Where a request's time goes: each family's ladder from bare Litestar to the product, next to the ceiling.

    Every step (the ceiling, each rung of the ladder app, the product) in alternating rounds of short runs;
    medians, spread, and the microseconds each layer adds.
    """
    from sale_orders_bench import jobs  # noqa: PLC0415 - heavy: only to run

    concurrency = concurrency or o.FOCUSED_CONCURRENCY
    run = _run(common, quick=quick, defaults=o.defaults(quick), concurrency=concurrency, duration=None)
    run.step_duration_s = step_duration or run.step_duration_s
    knobs = _ladder_knobs(run, endpoints or o.FOCUSED_ENDPOINTS, concurrency, rounds)
    _execute(run, "ladder", jobs.ladder(run, knobs))


@bench.command(epilog=EPILOG, short_help="a bound on admission against a queue, beyond what a worker serves")
@_QUICK
@_concurrency("64,256")
@_DURATION
@_endpoints("list_orders,post_contact")
@click.option("--bound", type=int, help="MAX_IN_FLIGHT of the bounded server  [default: the setting's default]")
@click.option("--rounds", type=int, default=2, show_default=True, help="alternating rounds (bounded, unbounded, ...)")
@_common
def admission(  # noqa: PLR0913, PLR0917 - one parameter per option
    common: dict[str, Any],
    quick: bool,
    concurrency: list[int] | None,
    duration: int | None,
    endpoints: list[str] | None,
    bound: int | None,
    rounds: int,
) -> None:
    """The API with its bound on admission (MAX_IN_FLIGHT) against without, at c=64 and c=256.

    Throughput, the client's p99, the p99 of the requests admitted (the server's histogram) and the share
    answered 503 busy at once, medians over alternating rounds.
    """
    from sale_orders_bench import admission as measured  # noqa: PLC0415 - heavy: only to run

    run = _run(common, quick=quick, defaults=o.defaults(quick), concurrency=concurrency or [64, 256], duration=duration)
    chosen = o.endpoints(endpoints or ["list_orders", "post_contact"])
    _execute(run, "admission", measured.measurement(run, chosen, bound=bound, rounds=1 if quick else rounds))


@bench.command("hot-row", short_help="unrelated reads and /health while 64 clients PATCH one order")
@click.option("--quick", is_flag=True, help="one round, 3 s per phase, 500 orders; fails on any read other than a 200")
@click.option(
    "--rounds", type=click.IntRange(min=1), default=3, show_default=True, help="rounds of a quiet and a hammered phase"
)
@click.option("--seconds", type=click.IntRange(min=1), help="seconds per phase  [default: 10; --quick: 3]")
@click.option(
    "--hammers", type=click.IntRange(min=1), default=64, show_default=True, help="clients PATCHing the hot order"
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="folder for the results  [default: bench/results/<timestamp>]",
)
def hot_row(quick: bool, rounds: int, seconds: int | None, hammers: int, output: Path | None) -> None:
    """While HAMMERS clients PATCH one order, do /health and reads of another order stay 200 and fast?

    A few reader threads loop over GET /health, GET /sync/order/{id} and GET /async/order/{id} (an order nobody
    changes) in phases of --seconds: quiet, and while the hammers (half through /sync, half through /async, in a
    process of their own) PATCH one hot order. Rounds alternate (quiet, hammered, hammered, quiet, ...). Reports
    each read's p50, p99 and max and its statuses, hammered/quiet of p50 and p99, the PATCHes' 200s and 409s (a 409
    must be concurrent-change with Retry-After), and the most sessions seen waiting on a Lock at once.

    Starts a scratch PostgreSQL and the API, and stops them by PID; see bench/README.md.
    """
    from sale_orders_bench import hot_row as measured  # noqa: PLC0415 - heavy: only to run

    defaults = o.defaults(quick)
    seconds = seconds or (3 if quick else 10)
    run = o.Run(
        quick=quick,
        orders=defaults.orders,
        concurrency=[hammers],
        duration_s=seconds,
        warmup_s=1,
        output=output,
        fail_on_errors=quick,
    )
    measurement = measured.measurement(run, rounds=1 if quick else rounds, seconds=seconds, hammers=hammers)
    _execute(run, "hot-row", measurement, rounds=1 if quick else rounds, hammers=hammers)


@bench.command(epilog=EPILOG, short_help="py-spy of the API's worker under load, per family")
@_QUICK
@_endpoints("list_orders")
@click.option("--seconds", type=int, default=10, show_default=True, help="seconds of sampling per family")
@click.option("--concurrency", type=int, default=8, show_default=True, help="connections while profiling")
@_common
def profile(common: dict[str, Any], quick: bool, endpoints: list[str] | None, seconds: int, concurrency: int) -> None:
    """py-spy (--gil) of the API's worker under load, per family: flame graph, raw stacks, shares by phase."""
    from sale_orders_bench import jobs  # noqa: PLC0415 - heavy: only to run

    run = _run(common, quick=quick, defaults=o.defaults(quick), concurrency=None, duration=None)
    chosen = o.endpoints(endpoints or ["list_orders"])
    _execute(run, "profile", jobs.profile(run, chosen, concurrency=concurrency, seconds=seconds))


@bench.command(epilog=EPILOG, short_help="the worker's RSS over REQUESTS requests")
@click.argument("requests", type=int, default=200_000)
@_QUICK
@_common
def leak(common: dict[str, Any], requests: int, quick: bool) -> None:
    """The worker's RSS while serving REQUESTS (default 200,000) requests of every endpoint of both families.

    Read at 10%, 25%, 50%, 75% and 100% of them; the growth from the first reading to the last.
    """
    from sale_orders_bench import jobs  # noqa: PLC0415 - heavy: only to run

    run = _run(common, quick=quick, defaults=o.defaults(quick), concurrency=None, duration=None)
    _execute(run, "leak", jobs.leak(run, requests))


@bench.command(epilog=EPILOG, short_help="a page of orders before and after growing to ORDERS")
@click.argument("target", metavar="ORDERS", type=int, default=1_000_000)
@_QUICK
@_DURATION
@_common
def scale(common: dict[str, Any], target: int, quick: bool, duration: int | None) -> None:
    """A page of 50 orders (the first and a random one) with --orders orders, then after growing to ORDERS.

    ORDERS defaults to 1,000,000; the load time is reported too.
    """
    from sale_orders_bench import jobs  # noqa: PLC0415 - heavy: only to run

    run = _run(common, quick=quick, defaults=o.defaults(quick), concurrency=None, duration=duration)
    _execute(run, "scale", jobs.scale(run, target))


@bench.command(epilog=EPILOG, short_help="a page of orders with 1 and with 2 uvicorn workers")
@_QUICK
@click.option("--concurrency", type=int, default=64, show_default=True, help="connections")
@click.option("--rounds", type=int, help=_ROUNDS.format(o.ROUNDS["workers"], o.QUICK_ROUNDS["workers"]))
@_DURATION
@_common
def workers(common: dict[str, Any], quick: bool, concurrency: int, rounds: int | None, duration: int | None) -> None:
    """`GET /order?limit=50` with 1 and 2 uvicorn workers, in alternating rounds: medians and their ratio."""
    from sale_orders_bench import jobs  # noqa: PLC0415 - heavy: only to run

    run = _run(common, quick=quick, defaults=o.defaults(quick), concurrency=[concurrency], duration=duration)
    rounds = rounds or (o.QUICK_ROUNDS if quick else o.ROUNDS)["workers"]
    _execute(run, "workers", jobs.workers(run, concurrency=concurrency, rounds=rounds))


@bench.command(epilog=EPILOG, short_help="git ref REV (A) against the working tree (B)")
@click.argument("rev")
@click.option(
    "--rev-b",
    metavar="REV_OR_WORKTREE",
    help="version B: a git ref, or the folder of another checkout with its .venv  [default: this working tree]",
)
@click.option("--quick", is_flag=True, help="two rounds, 1 s per run, 500 orders; fails on errors")
@_concurrency("8")
@_endpoints(",".join(o.FOCUSED_ENDPOINTS))
@click.option("--rounds", type=int, help=_ROUNDS.format(o.ROUNDS["ab"], o.QUICK_ROUNDS["ab"]))
@_STEP
@_common
def ab(  # noqa: PLR0913, PLR0917 - one parameter per option
    common: dict[str, Any],
    rev: str,
    rev_b: str | None,
    quick: bool,
    concurrency: list[int] | None,
    endpoints: list[str] | None,
    rounds: int | None,
    step_duration: int | None,
) -> None:
    """Is B faster than A? The API at git ref REV (A) against the working tree (B), on one database.

    A is checked out into a temporary git worktree with its own environment (`uv sync --locked`); both are
    served side by side and driven in alternating rounds (A then B, then B then A): medians, B/A, the spread,
    and a verdict only when every round agrees.
    """
    from sale_orders_bench import jobs  # noqa: PLC0415 - heavy: only to run

    concurrency = concurrency or o.FOCUSED_CONCURRENCY
    run = _run(common, quick=quick, defaults=o.defaults(quick), concurrency=concurrency, duration=None)
    run.step_duration_s = step_duration or run.step_duration_s
    rounds = rounds or (o.QUICK_ROUNDS if quick else o.ROUNDS)["ab"]
    chosen = o.endpoints(endpoints or o.FOCUSED_ENDPOINTS)
    _execute(run, "ab", jobs.ab(run, chosen, rev_a=rev, rev_b=rev_b, rounds=rounds))


@bench.command(epilog=EPILOG, short_help="PostgreSQL 0-15 ms away, two sizings side by side, the costs")
@click.option(
    "--quick",
    is_flag=True,
    help="CI smoke run: direct, 0 and 5 ms, 300 orders, c=8, 2 rounds of 1 s, no warm-up, costs N=16; fails on errors",
)
@click.option(
    "--delays",
    callback=o.delays,
    help="comma-separated one-way delays in ms, `direct` for no proxy  [default: direct,0,0.25,1,5,15; --quick: "
    "direct,0,5]",
)
@click.option(
    "--sizings",
    callback=o.choices(o.SIZINGS),
    default=",".join(o.SIZINGS),
    show_default=True,
    help="defaults: the server's SYNC_THREADS, SYNC_POOL_SIZE, ASYNC_POOL_SIZE; recommended: the sizing rule's for "
    "each delay (sale_orders_bench.sizing), served beside the defaults only where it differs",
)
@click.option("--rounds", type=click.IntRange(min=1), help=_ROUNDS.format(3, 2) + " (ABBA)")
@click.option(
    "--costs",
    callback=o.integers,
    help="requests in flight at which to measure the worker's RSS and PostgreSQL's backends  [default: 16,64,256; "
    "--quick: 16]",
)
@click.option("--no-costs", is_flag=True, help="leave out the cost of threads and connections")
@_concurrency("8,64,256; --quick: 8")
@click.option("--duration", type=int, help="seconds per wrk run, per round  [default: 5; --quick: 1]")
@_endpoints(",".join(o.NETWORK_ENDPOINTS))
@_common
def network(  # noqa: PLR0913, PLR0917 - one parameter per option
    common: dict[str, Any],
    quick: bool,
    delays: list[str] | None,
    sizings: list[str],
    rounds: int | None,
    costs: list[int] | None,
    no_costs: bool,
    concurrency: list[int] | None,
    duration: int | None,
    endpoints: list[str] | None,
) -> None:
    """PostgreSQL milliseconds away: the API behind the fault proxy at each delay, with two sizings, and the costs.

    At each delay the API is served with the default sizing and, beside it, the sizing rule's, driven on --endpoints
    x --concurrency x --families in --rounds (defaults then recommended, then the reverse): medians, spread, each
    round's recommended/defaults; then what a thread and a connection cost in memory (--costs).
    Writes results.json, results.md and <endpoint>-c<c>.png  [default folder: bench/results/<timestamp>/network].
    """
    from sale_orders_bench.network.run import measurement  # noqa: PLC0415 - heavy: only to run
    from sale_orders_bench.network.sweep import Network  # noqa: PLC0415

    form = "quick" if quick else "full"
    defaults = o.NETWORK_QUICK if quick else o.NETWORK
    duration = duration or (1 if quick else 5)  # 5 s, not 10: the rounds cost 1.5 times a single pass, not 3
    run = _run(common, quick=quick, defaults=defaults, concurrency=concurrency, duration=duration)
    run.step_duration_s = o.defaults(quick).step_duration
    chosen = Network(
        run=run,
        delays=delays or o.NETWORK_DELAYS[form],
        sizings=sizings,
        costs=[] if no_costs else costs or o.NETWORK_COSTS[form],
        endpoints=[endpoint.name for endpoint in o.endpoints(endpoints or o.NETWORK_ENDPOINTS)],
        rounds=rounds or (2 if quick else 3),
    )
    settings = {"delays": chosen.delays, "sizings": chosen.sizings, "rounds": chosen.rounds, "costs": chosen.costs}
    _execute(run, "network", measurement(chosen), folder="network", **settings)


@bench.command(short_help="in process: µs each per-request ASGI wrapper adds")
@click.option("--requests", type=int, default=20_000, show_default=True, help="requests per round")
def wrappers(requests: int) -> None:
    """In process: the microseconds each per-request ASGI wrapper of the product adds (no server, no database)."""
    import asyncio  # noqa: PLC0415

    from sale_orders_bench.wrappers import main  # noqa: PLC0415 - only to run

    asyncio.run(main(requests))


def main() -> None:
    bench(prog_name="python -m sale_orders_bench")
