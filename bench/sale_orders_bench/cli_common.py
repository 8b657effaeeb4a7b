"""What the `sale-orders bench` subcommands share: their common options, the run's settings, and running one.

Light on purpose, as `cli` is: a measurement's modules are imported only when it runs.
"""

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from sale_orders_bench import options as o
from sale_orders_bench.endpoints import ENDPOINTS, FAMILIES, LADDER_ENDPOINTS

EPILOG = (
    "Endpoints: "
    + ", ".join(f"{e.slug} = {e.name}" for e in ENDPOINTS)
    + ". Needs wrk (apt-get install wrk). Each run starts a scratch PostgreSQL (embedded, or a scratch database on "
    "the server at DATABASE_URL) and every server it needs, and stops them by PID; see bench/README.md."
)


def _common(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options every measurement on a served API shares, handed to `function` as one `common` dict."""
    names = ("orders", "warmup", "workers", "families", "timeout", "wrk_threads", "output", "fail_on_errors")
    decorators = [
        click.option("--orders", type=int, help="demo orders to load  [default: 10,000; --quick: smaller]"),
        click.option("--warmup", type=int, help="seconds of warm-up per target  [default: 2; --quick: shorter]"),
        click.option("--workers", type=int, default=1, show_default=True, help="uvicorn workers, API and ceiling"),
        click.option(
            "--families",
            callback=o.choices(FAMILIES),
            default=",".join(FAMILIES),
            show_default=True,
            help="comma-separated families",
        ),
        click.option("--timeout", type=int, default=30, show_default=True, help="wrk's per-request timeout, seconds"),
        click.option("--wrk-threads", type=int, default=1, show_default=True, help="wrk threads (one drives plenty)"),
        click.option(
            "--output",
            type=click.Path(file_okay=False, path_type=Path),
            help="folder for the results  [default: bench/results/<timestamp>]",
        ),
        click.option("--fail-on-errors", is_flag=True, help="exit 1 if any run had errors (implied by --quick)"),
    ]

    @functools.wraps(function)
    def with_common(**kwargs: Any) -> Any:
        return function(common={name: kwargs.pop(name) for name in names}, **kwargs)

    for decorator in reversed(decorators):
        with_common = decorator(with_common)
    return with_common


def _concurrency(default: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--concurrency", callback=o.integers, help=f"comma-separated connection counts  [default: {default}]"
    )


def _endpoints(default: str, allowed: list[str] = o.SLUGS) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--endpoints", callback=o.choices(allowed), help=f"comma-separated endpoint slugs  [default: {default}]"
    )


def _run(
    common: dict[str, Any], *, quick: bool, defaults: o.Defaults, concurrency: list[int] | None, duration: int | None
) -> o.Run:
    """The run's settings: what was given, else `defaults` (a full or a quick run's)."""
    return o.Run(
        quick=quick,
        orders=common["orders"] or defaults.orders,
        concurrency=concurrency or list(defaults.concurrency),
        duration_s=duration or defaults.duration,
        warmup_s=defaults.warmup if common["warmup"] is None else common["warmup"],
        workers=common["workers"],
        families=common["families"],
        timeout_s=common["timeout"],
        wrk_threads=common["wrk_threads"],
        output=common["output"],
        fail_on_errors=common["fail_on_errors"] or quick,
        step_duration_s=defaults.step_duration,
    )


def _execute(run: o.Run, name: str, measurement: Any, *, folder: str = "", **settings: Any) -> None:
    from sale_orders_bench.session import command_line, execute  # noqa: PLC0415 - heavy: only to run

    command = command_line(click.get_current_context().command_path, name)
    sys.exit(execute(run, command, measurement, folder=folder, **settings))


def _ladder_knobs(run: o.Run, slugs: list[str], concurrency: list[int], rounds: int | None) -> Any:
    from sale_orders_bench.jobs import Ladder  # noqa: PLC0415 - heavy: only to run

    return Ladder(
        endpoints=o.endpoints(slugs),
        concurrency=concurrency,
        rounds=rounds or (o.QUICK_ROUNDS if run.quick else o.ROUNDS)["ladder"],
        step_duration_s=run.step_duration_s or o.defaults(run.quick).step_duration,
        warmup_s=0 if run.quick else run.warmup_s,
    )


_QUICK = click.option(
    "--quick", is_flag=True, help="smaller and shorter (500 orders, 2 s runs, 1 s warm-up); fails on errors"
)
_DURATION = click.option("--duration", type=int, help="seconds per wrk run  [default: 10; --quick: 2]")
_ROUNDS = "alternating rounds  [default: {}; --quick: {}]"
_STEP = click.option("--step-duration", type=int, help="seconds per wrk run  [default: 5; --quick: 1]")
_LADDER_SLUGS = [endpoint.slug for endpoint in LADDER_ENDPOINTS]
