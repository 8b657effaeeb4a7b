"""Benchmark the sync and async families of the Sale Orders API against a raw asyncpg ceiling.

Run from the repository's root: `uv run sale-orders bench [ARGS]` (or `uv run python bench/run.py`).
See bench/README.md for what the figures mean.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from endpoints import ENDPOINTS, FAMILIES, DemoIds
from environment import (
    BENCH_DIR,
    CpuMeter,
    ServerProcess,
    api_server,
    ceiling_server,
    postmaster_pid,
    query_one,
    scratch_database,
)
from profiling import run_profile
from report import (
    describe_machine,
    leak_markdown,
    matrix_markdown,
    plot_endpoints,
    plot_rss,
    profile_markdown,
    scale_markdown,
    workers_markdown,
    write_json,
    write_markdown,
)
from scenarios import Bench, HarnessError, run_leak, run_matrix, run_scale, run_workers
from sqlalchemy.engine import URL
from wrk import WrkMissingError, require_wrk, wrk_version

from sale_orders.db.demo import DemoSize, load_demo_data
from sale_orders.db.migrate import upgrade
from sale_orders.settings import Settings
from sale_orders.tools.scrape import MetricsCapture

SLUGS = {endpoint.slug: endpoint for endpoint in ENDPOINTS}
QUICK = {"orders": 500, "concurrency": [1, 8], "duration": 2, "warmup": 1}
BUSY_LOAD = 0.5
FULL = {"orders": 10_000, "concurrency": [1, 8, 64], "duration": 10, "warmup": 2}


def _integers(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from exc
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("expected positive integers")
    return values


def _choices(allowed: Sequence[str]) -> Any:
    def parse(text: str) -> list[str]:
        values = [part.strip() for part in text.split(",") if part.strip()]
        if unknown := [value for value in values if value not in allowed]:
            raise argparse.ArgumentTypeError(f"unknown {unknown}; choose from {', '.join(allowed)}")
        return values

    return parse


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="sale-orders bench",
        description=(
            "Start a scratch PostgreSQL (embedded, or a scratch database on the server at DATABASE_URL), fill it "
            "with demo data, serve the API (`sale-orders serve`) and the raw asyncpg ceiling (bench/ceiling.py), "
            "then drive each endpoint x family x concurrency with wrk. Writes results.json, results.md and PNG "
            "plots. With --scale, --leak, --profile or --compare-workers it runs those measurements instead of "
            "the matrix (add --matrix to run it as well)."
        ),
        epilog="Endpoints: "
        + ", ".join(f"{e.slug} = {e.name}" for e in ENDPOINTS)
        + ". Needs wrk: apt-get install wrk.",
    )
    run = parser.add_argument_group("the matrix")
    run.add_argument(
        "--quick", action="store_true", help="smoke run for CI: 500 orders, c=1,8, 2 s runs; fails on errors"
    )
    run.add_argument("--orders", type=int, help="demo orders to load (default 10,000; --quick 500)")
    run.add_argument("--concurrency", type=_integers, help="comma-separated connection counts (default 1,8,64)")
    run.add_argument("--duration", type=int, help="seconds per wrk run (default 10; --quick 2)")
    run.add_argument("--warmup", type=int, help="seconds of warm-up per endpoint and family (default 2; --quick 1)")
    run.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes, API and ceiling alike (default: 1)"
    )
    run.add_argument(
        "--endpoints",
        type=_choices(list(SLUGS)),
        default=list(SLUGS),
        help="comma-separated endpoint slugs (default: all, see below)",
    )
    run.add_argument(
        "--families",
        type=_choices(FAMILIES),
        default=list(FAMILIES),
        help="comma-separated families (default: sync,async)",
    )
    run.add_argument("--timeout", type=int, default=30, help="wrk's per-request timeout, seconds (default: 30)")
    run.add_argument(
        "--wrk-threads", type=int, default=1, help="wrk threads; one drives thousands of req/s (default: 1)"
    )
    run.add_argument("--output", type=Path, help="directory for the results (default bench/results/<timestamp>)")
    run.add_argument("--fail-on-errors", action="store_true", help="exit 1 if any run had errors (implied by --quick)")
    run.add_argument(
        "--metrics", action="store_true", help="scrape the API's /metrics around the matrix: 5xx and pool waits"
    )
    extra = parser.add_argument_group("extra measurements (instead of the matrix, unless --matrix)")
    extra.add_argument("--matrix", action="store_true", help="run the matrix as well as the extras")
    extra.add_argument(
        "--scale", type=int, nargs="?", const=1_000_000, metavar="ORDERS",
        help="GET /order?limit=50 latency with --orders orders, then after growing to ORDERS (default: 1,000,000)",
    )  # fmt: skip
    extra.add_argument(
        "--leak", type=int, nargs="?", const=200_000, metavar="REQUESTS",
        help="server RSS while serving REQUESTS requests of every endpoint, checked at 10%%..100%% (default: 200,000)",
    )  # fmt: skip
    extra.add_argument(
        "--profile", action="store_true", help="py-spy profile (SVG and summary) of --profile-endpoints per family"
    )
    extra.add_argument(
        "--profile-endpoints",
        type=_choices(list(SLUGS)),
        default=["list_orders"],
        help="comma-separated endpoint slugs to profile (default: list_orders)",
    )
    extra.add_argument("--profile-seconds", type=int, default=10, help="seconds of sampling per family (default: 10)")
    extra.add_argument("--profile-concurrency", type=int, default=8, help="connections while profiling (default: 8)")
    extra.add_argument(
        "--compare-workers", action="store_true", help="GET /order?limit=50 throughput with 1 and 2 workers"
    )
    extra.add_argument(
        "--workers-concurrency", type=int, default=64, help="connections for --compare-workers (default: 64)"
    )
    extra.add_argument("--rounds", type=int, default=3, help="alternating rounds for --compare-workers (default: 3)")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.fail_on_errors = args.fail_on_errors or args.quick
    args.extras = any([args.scale, args.leak, args.profile, args.compare_workers])
    args.run_matrix = args.matrix or not args.extras
    return args


def _git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=BENCH_DIR.parent, capture_output=True, text=True, check=False)
    return result.stdout.strip()


def code_version() -> str:
    """The commit measured, `+changes` when the server's code differs from it."""
    changed = _git("status", "--porcelain", "--", "server")
    return (_git("rev-parse", "--short", "HEAD") or "unknown") + (" +changes in server/" if changed else "")


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def demo_ids(url: URL) -> DemoIds:
    counts = [int(str(query_one(url, f"SELECT coalesce(max(id), 0) FROM {table}"))) for table in TABLES]  # noqa: S608
    return DemoIds(*counts)


TABLES = ("contact", "product", "tag", "sale_order")


@contextmanager
def servers(
    url: URL, args: argparse.Namespace, logs: Path, with_ceiling: bool
) -> Iterator[tuple[ServerProcess, ServerProcess | None]]:
    with ExitStack() as stack:
        api = stack.enter_context(api_server(url, args.workers, logs))
        ceiling = None
        if with_ceiling:
            pool_size = Settings().async_pool_size
            ceiling = stack.enter_context(ceiling_server(url, args.workers, pool_size, logs))
        yield api, ceiling


def run(args: argparse.Namespace, output: Path, document: dict[str, Any]) -> list[str]:
    """Everything between starting the database and stopping it; fills `document`, returns the errors seen."""
    logs = output / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    sections: list[list[str]] = []
    errors: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="sale-orders-bench-") as workdir,
        scratch_database(os.environ.get("DATABASE_URL"), Path(workdir)) as url,
    ):
        print(f"database: {url.render_as_string(hide_password=True)}", flush=True)
        upgrade(url)
        started = time.monotonic()
        load_demo_data(url, DemoSize.for_orders(args.orders))
        document["demo_data"] = {"orders": args.orders, "load_seconds": round(time.monotonic() - started, 2)}
        print(f"loaded {args.orders:,} demo orders in {document['demo_data']['load_seconds']} s", flush=True)
        ids = demo_ids(url)
        document["machine"] = describe_machine(
            str(query_one(url, "SHOW server_version")), wrk_version(), document["load_before"]
        )

        meter = CpuMeter([os.getpid(), *filter(None, [postmaster_pid(url)])])

        def make_bench(api: ServerProcess, ceiling: ServerProcess | None = None) -> Bench:
            return Bench(url, ids, api, ceiling, args.duration, args.timeout, args.wrk_threads, args.warmup, meter)

        if args.run_matrix or args.scale or args.leak or args.profile:
            with servers(url, args, logs, with_ceiling=args.run_matrix) as (api, ceiling):
                bench = make_bench(api, ceiling)
                if args.run_matrix:
                    endpoints = [SLUGS[slug] for slug in args.endpoints]
                    with MetricsCapture(api.base_url) if args.metrics else nullcontext() as capture:
                        document["runs"] = run_matrix(bench, endpoints, args.families, args.concurrency)
                    if capture is not None:
                        document["metrics"] = capture.summary()
                    sections.append(matrix_markdown(document))
                    document["plots"] = [p.name for p in plot_endpoints(document["runs"], output)]
                if args.profile:
                    document["profile"] = run_profile(
                        bench,
                        [SLUGS[slug] for slug in args.profile_endpoints],
                        args.families,
                        args.profile_concurrency,
                        args.profile_seconds,
                        output,
                    )
                    sections.append(profile_markdown(document["profile"]))
                if args.leak:
                    document["leak"] = run_leak(bench, args.leak)
                    points = [(p["requests"], p["rss_mib"]) for p in document["leak"]["points"]]
                    plot_rss(points, output / "leak_rss.png")
                    sections.append(leak_markdown(document["leak"]))
                if args.scale:  # last: it grows the data
                    document["scale"] = run_scale(bench, args.families, args.scale)
                    sections.append(scale_markdown(document["scale"]))
                errors += bench.errors
        if args.compare_workers:

            @contextmanager
            def start_api(workers: int) -> Iterator[ServerProcess]:
                with api_server(url, workers, logs) as api:
                    yield api

            document["workers"] = run_workers(
                start_api,
                make_bench,
                families=args.families,
                concurrency=args.workers_concurrency,
                rounds=args.rounds,
            )
            sections.append(workers_markdown(document["workers"]))
            errors += [f"workers: {r['first_error']}" for r in document["workers"]["runs"] if r["errors"]]
    document["errors"] = errors
    write_markdown(output / "results.md", document, sections)
    return errors


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        require_wrk()
    except WrkMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # Turn SIGTERM into an exception, so every server and the embedded PostgreSQL are still stopped.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    started = datetime.now(UTC)
    output = args.output or BENCH_DIR / "results" / started.strftime("%Y%m%d-%H%M%S")
    output.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    document: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "command": ["bench/run.py", *(argv if argv is not None else sys.argv[1:])],
        "code": code_version(),
        "settings": {
            "orders": args.orders,
            "concurrency": args.concurrency,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "workers": args.workers,
            "wrk_threads": args.wrk_threads,
            "timeout_s": args.timeout,
            "quick": args.quick,
            "sync_threads": settings.sync_threads,
            "sync_pool_size": settings.sync_pool_size,
            "async_pool_size": settings.async_pool_size,
        },
    }
    document["load_before"] = os.getloadavg()
    if document["load_before"][0] > BUSY_LOAD:
        print(f"warning: load average {document['load_before'][0]:.1f}: other work makes the figures noisy", flush=True)
    clock = time.monotonic()
    try:
        errors = run(args, output, document)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        document["elapsed_s"] = round(time.monotonic() - clock, 1)
        write_json(output / "results.json", document)
    print(f"\nwrote {output}/results.json, results.md and the plots in {document['elapsed_s']} s", flush=True)
    if errors:
        print(f"{len(errors)} run(s) had errors:", *errors, sep="\n  ", file=sys.stderr)
        return 1 if args.fail_on_errors else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
