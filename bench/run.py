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

import ab
import versions
from endpoints import DemoIds
from environment import (
    BENCH_DIR,
    CpuMeter,
    api_server,
    ceiling_server,
    ladder_server,
    postmaster_pid,
)
from ladder_runs import Servers as LadderServers
from ladder_runs import run_ladder
from network import run_network
from options import SLUGS, parse_args
from profiling import run_profile
from report import (
    describe_machine,
    leak_markdown,
    matrix_markdown,
    metrics_markdown,
    plot_endpoints,
    plot_rss,
    profile_markdown,
    scale_markdown,
    workers_markdown,
    write_json,
    write_markdown,
)
from report_ab import ab_markdown
from report_ladder import ladder_markdown, plot_ladder
from scenarios import Bench, HarnessError, run_leak, run_matrix, run_scale, run_workers
from sqlalchemy.engine import URL
from wrk import WrkMissingError, require_wrk, wrk_version

from sale_orders.db.migrate import upgrade
from sale_orders.settings import Settings
from sale_orders_tools.demo import DemoSize, load_demo_data
from sale_orders_tools.harness.databases import query_one, scratch_postgres
from sale_orders_tools.harness.gauges import MetricsCapture
from sale_orders_tools.harness.servers import ServerProcess

BUSY_LOAD = 0.5


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
    url: URL, args: argparse.Namespace, logs: Path, *, with_ceiling: bool, with_ladder: bool
) -> Iterator[tuple[ServerProcess, ServerProcess | None, ServerProcess | None]]:
    with ExitStack() as stack:
        api = stack.enter_context(api_server(url, args.workers, logs))
        ceiling = ladder = None
        if with_ceiling:
            pool_size = Settings().async_pool_size
            ceiling = stack.enter_context(ceiling_server(url, args.workers, pool_size, logs))
        if with_ladder:
            ladder = stack.enter_context(ladder_server(url, args.workers, logs))
        yield api, ceiling, ladder


def describe(url: URL, document: dict[str, Any]) -> CpuMeter:
    """Record the machine in `document`; a meter of the CPU that others use meanwhile."""
    document["machine"] = describe_machine(
        str(query_one(url, "SHOW server_version")), wrk_version(), document["load_before"]
    )
    return CpuMeter([os.getpid(), *filter(None, [postmaster_pid(url)])])


def measure_served(
    args: argparse.Namespace,
    output: Path,
    document: dict[str, Any],
    bench: Bench,
    ladder_servers: LadderServers | None,
) -> list[list[str]]:
    """What runs on the served API: matrix, ladder, profile, leak and scale (last: it grows the data)."""
    sections = []
    document["plots"] = []
    if args.run_matrix:
        endpoints = [SLUGS[slug] for slug in args.endpoints]
        with MetricsCapture(bench.api.base_url) if args.metrics else nullcontext() as capture:
            document["runs"] = run_matrix(bench, endpoints, args.families, args.concurrency)
        sections.append(matrix_markdown(document))
        if capture is not None:
            document["metrics"] = capture.summary()
            sections.append(metrics_markdown(document["metrics"]))
        document["plots"] += [p.name for p in plot_endpoints(document["runs"], output)]
    if ladder_servers is not None:
        document["ladder"] = run_ladder(
            bench,
            ladder_servers,
            endpoints=args.ladder_endpoints,
            families=args.families,
            concurrencies=args.focused_concurrency,
            rounds=args.ladder_rounds,
            duration_s=args.step_duration,
            warmup_s=0 if args.quick else args.warmup,
        )
        sections.append(ladder_markdown(document["ladder"]))
        document["plots"].append(plot_ladder(document["ladder"], output / "ladder.png").name)
    if args.profile:
        endpoints = [SLUGS[slug] for slug in args.profile_endpoints]
        document["profile"] = run_profile(
            bench, endpoints, args.families, args.profile_concurrency, args.profile_seconds, output
        )
        sections.append(profile_markdown(document["profile"]))
    if args.leak:
        document["leak"] = run_leak(bench, args.leak)
        points = [(p["requests"], p["rss_mib"]) for p in document["leak"]["points"]]
        plot_rss(points, output / "leak_rss.png")
        sections.append(leak_markdown(document["leak"]))
    if args.scale:
        document["scale"] = run_scale(bench, args.families, args.scale)
        sections.append(scale_markdown(document["scale"]))
    return sections


def run(args: argparse.Namespace, output: Path, document: dict[str, Any]) -> list[str]:
    """Everything between starting the database and stopping it; fills `document`, returns the errors seen."""
    logs = output / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    sections: list[list[str]] = []
    errors: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="sale-orders-bench-") as workdir,
        scratch_postgres(os.environ.get("DATABASE_URL"), Path(workdir)) as database,
    ):
        url = database.url
        print(f"database: {url.render_as_string(hide_password=True)}", flush=True)
        upgrade(url)
        started = time.monotonic()
        load_demo_data(url, DemoSize.for_orders(args.orders))
        document["demo_data"] = {"orders": args.orders, "load_seconds": round(time.monotonic() - started, 2)}
        print(f"loaded {args.orders:,} demo orders in {document['demo_data']['load_seconds']} s", flush=True)
        ids = demo_ids(url)
        meter = describe(url, document)

        def make_bench(api: ServerProcess, ceiling: ServerProcess | None = None) -> Bench:
            return Bench(url, ids, api, ceiling, args.duration, args.timeout, args.wrk_threads, args.warmup, meter)

        if args.run_matrix or args.run_ladder or args.scale or args.leak or args.profile:
            with_ceiling = args.run_matrix or args.run_ladder
            with servers(url, args, logs, with_ceiling=with_ceiling, with_ladder=args.run_ladder) as (
                api,
                ceiling,
                ladder,
            ):
                bench = make_bench(api, ceiling)
                ladder_servers = LadderServers(api, ceiling, ladder) if ceiling and ladder else None
                sections += measure_served(args, output, document, bench, ladder_servers)
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
                rounds=args.workers_rounds,
            )
            sections.append(workers_markdown(document["workers"]))
            errors += [f"workers: {r['first_error']}" for r in document["workers"]["runs"] if r["errors"]]
    document["errors"] = errors
    write_markdown(output / "results.md", document, sections)
    return errors


def run_ab_mode(args: argparse.Namespace, output: Path, document: dict[str, Any]) -> list[str]:
    """Version A, then version B, served on one scratch database; alternating runs of both; fills `document`."""
    logs = output / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sale-orders-bench-") as workdir, ExitStack() as stack:
        a = stack.enter_context(versions.checkout(args.ab, "A", Path(workdir)))
        b = stack.enter_context(versions.checkout(args.ab_rev_b, "B", Path(workdir)))
        heads, b_migrates = versions.require_compatible_heads(a, b)
        for version in (a, b):
            versions.install(version, logs)
        print(f"A: {a.ref} ({a.commit}); B: {b.ref} ({b.commit}); migration head(s) {heads}", flush=True)
        url = stack.enter_context(scratch_postgres(os.environ.get("DATABASE_URL"), Path(workdir))).url
        print(f"database: {url.render_as_string(hide_password=True)}", flush=True)
        # One after the other: `serve` migrates at start, and two migrations must not race.
        apis = {"A": stack.enter_context(versions.serve(a, url, args.workers, logs, migrate=True))}
        apis["B"] = stack.enter_context(versions.serve(b, url, args.workers, logs, migrate=b_migrates))
        started = time.monotonic()
        # By the version whose migrations the database is at: the older one's `demo-data` would refuse a revision
        # it does not know.
        versions.load_demo_data(b if b_migrates else a, url, args.orders)
        document["demo_data"] = {"orders": args.orders, "load_seconds": round(time.monotonic() - started, 2)}
        meter = describe(url, document)
        bench = Bench(
            url, demo_ids(url), apis["A"], None, args.step_duration, args.timeout, args.wrk_threads, args.warmup, meter
        )
        document["ab"] = {
            "versions": {"A": a.describe(), "B": b.describe()},
            "migration_heads": heads,
            **ab.run_ab(
                bench,
                apis,
                endpoints=args.focused_endpoints,
                families=args.families,
                concurrencies=args.focused_concurrency,
                rounds=args.ab_rounds,
                duration_s=args.step_duration,
            ),
        }
    document["errors"] = bench.errors
    write_markdown(output / "results.md", document, [ab_markdown(document["ab"])])
    return bench.errors


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
    if args.network and args.output is None:
        output /= "network"
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
            "step_duration_s": args.step_duration,
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
    if args.network:
        document["settings"] |= {"delays": args.delays, "sizings": args.sizings, "costs": args.costs}
    document["load_before"] = os.getloadavg()
    if document["load_before"][0] > BUSY_LOAD:
        print(f"warning: load average {document['load_before'][0]:.1f}: other work makes the figures noisy", flush=True)
    clock = time.monotonic()
    try:
        if args.ab:
            errors = run_ab_mode(args, output, document)
        elif args.network:
            errors = run_network(args, output, document)
        else:
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
