"""What each subcommand measures, from a prepared database to results.md.

The matrix, the ladder, a profile, the leak check, the scale check, one worker against two, and A/B.

Each returns a `session.Measurement` for `session.execute`; `network` has its own (`network.run`).
"""

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sale_orders.settings import Settings
from sale_orders_bench import versions
from sale_orders_bench.ab import run_ab
from sale_orders_bench.endpoints import Endpoint
from sale_orders_bench.ladder.rungs import FEATURE_RUNGS
from sale_orders_bench.ladder_runs import run_ladder
from sale_orders_bench.options import Run
from sale_orders_bench.profiling import run_profile
from sale_orders_bench.report import (
    leak_markdown,
    matrix_markdown,
    metrics_markdown,
    plot_endpoints,
    plot_rss,
    profile_markdown,
    scale_markdown,
    workers_markdown,
    write_markdown,
)
from sale_orders_bench.report_ab import ab_markdown
from sale_orders_bench.report_ladder import ladder_markdown, plot_ladder
from sale_orders_bench.scenarios import Bench, run_leak, run_matrix, run_scale, run_workers
from sale_orders_bench.servers import api_server
from sale_orders_bench.session import Measurement, Served, demo_ids, describe, prepared, served
from sale_orders_tools.harness.databases import scratch_postgres
from sale_orders_tools.harness.gauges import MetricsCapture
from sale_orders_tools.harness.servers import ServerProcess


@dataclass(frozen=True)
class Ladder:
    """A ladder's knobs: its endpoints and concurrencies, alternating rounds of short runs."""

    endpoints: list[Endpoint]
    concurrency: list[int]
    rounds: int
    step_duration_s: int
    warmup_s: int


def ladder_connections(run: Run) -> int:
    """Connections the ladder's servers may hold at once, with a few for the harness.

    Per worker: each product server's pools and /health's, the ladder app's four pools and the ceiling's.
    """
    settings = Settings()
    product = settings.sync_pool_size + settings.async_pool_size + 2
    products = len(FEATURE_RUNGS) + 2  # the feature rungs, the product, the product with API keys
    ladder_app = 2 * (settings.sync_pool_size + settings.async_pool_size)
    return run.workers * (products * product + ladder_app + settings.async_pool_size) + 20


def _ladder(servers: Served, run: Run, ladder: Ladder, output: Path, document: dict[str, Any]) -> list[str]:
    if servers.ladder is None:
        raise RuntimeError("the ladder needs the ceiling and the ladder app served")
    document["ladder"] = run_ladder(
        servers.bench,
        servers.ladder,
        endpoints=ladder.endpoints,
        families=run.families,
        concurrencies=ladder.concurrency,
        rounds=ladder.rounds,
        duration_s=ladder.step_duration_s,
        warmup_s=ladder.warmup_s,
    )
    document["plots"].append(plot_ladder(document["ladder"], output / "ladder.png").name)
    return ladder_markdown(document["ladder"])


def matrix(run: Run, endpoints: list[Endpoint], *, metrics: bool, then_ladder: Ladder | None) -> Measurement:
    """Every endpoint x family x concurrency next to the ceiling; then the ladder, if given (the smoke run)."""

    def measure(output: Path, document: dict[str, Any]) -> list[str]:
        with (
            prepared(run, output, document, min_connections=ladder_connections(run) if then_ladder else 0) as ready,
            served(run, ready, with_ceiling=True, with_ladder=bool(then_ladder)) as servers,
        ):
            bench = servers.bench
            document["plots"] = []
            with MetricsCapture(bench.api.base_url) if metrics else nullcontext() as capture:
                document["runs"] = run_matrix(bench, endpoints, run.families, run.concurrency)
            sections = [matrix_markdown(document)]
            if capture is not None:
                document["metrics"] = capture.summary()
                sections.append(metrics_markdown(document["metrics"]))
            document["plots"] += [p.name for p in plot_endpoints(document["runs"], output)]
            if then_ladder is not None:
                sections.append(_ladder(servers, run, then_ladder, output, document))
        return _written(output, document, sections, bench.errors)

    return measure


def ladder(run: Run, knobs: Ladder) -> Measurement:
    """Each family's ladder, from the ceiling through every rung to the product."""

    def measure(output: Path, document: dict[str, Any]) -> list[str]:
        with (
            prepared(run, output, document, min_connections=ladder_connections(run)) as ready,
            served(run, ready, with_ceiling=True, with_ladder=True) as servers,
        ):
            document["plots"] = []
            sections = [_ladder(servers, run, knobs, output, document)]
        return _written(output, document, sections, servers.bench.errors)

    return measure


def _on_the_api(
    run: Run,
    key: str,
    measure: Callable[[Bench, Path], dict[str, Any]],
    markdown: Callable[[dict[str, Any]], list[str]],
) -> Measurement:
    """A measurement of the API alone (no ceiling): `document[key] = measure(bench, output)`, then its section."""

    def measurement(output: Path, document: dict[str, Any]) -> list[str]:
        with prepared(run, output, document) as ready, served(run, ready, with_ceiling=False) as servers:
            document["plots"] = []
            document[key] = measure(servers.bench, output)
        return _written(output, document, [markdown(document[key])], servers.bench.errors)

    return measurement


def profile(run: Run, endpoints: list[Endpoint], *, concurrency: int, seconds: int) -> Measurement:
    """py-spy on the API's worker under load, per family."""

    def measure(bench: Bench, output: Path) -> dict[str, Any]:
        return run_profile(bench, endpoints, run.families, concurrency, seconds, output)

    return _on_the_api(run, "profile", measure, profile_markdown)


def leak(run: Run, requests: int) -> Measurement:
    """The worker's RSS while serving `requests` requests of every endpoint of both families."""

    def measure(bench: Bench, output: Path) -> dict[str, Any]:
        found = run_leak(bench, requests)
        plot_rss([(point["requests"], point["rss_mib"]) for point in found["points"]], output / "leak_rss.png")
        return found

    return _on_the_api(run, "leak", measure, leak_markdown)


def scale(run: Run, target_orders: int) -> Measurement:
    """A page of orders with the demo data, then after growing the orders to `target_orders`."""

    def measure(bench: Bench, _output: Path) -> dict[str, Any]:
        return run_scale(bench, run.families, target_orders)

    return _on_the_api(run, "scale", measure, scale_markdown)


def workers(run: Run, *, concurrency: int, rounds: int) -> Measurement:
    """A page of orders with 1 and 2 uvicorn workers, in alternating rounds."""

    def measure(output: Path, document: dict[str, Any]) -> list[str]:
        with prepared(run, output, document) as ready:

            @contextmanager
            def start_api(count: int) -> Iterator[ServerProcess]:
                with api_server(ready.url, count, ready.logs) as api:
                    yield api

            def make_bench(api: ServerProcess) -> Bench:
                return ready.bench(run, api)

            document["workers"] = run_workers(
                start_api, make_bench, families=run.families, concurrency=concurrency, rounds=rounds
            )
        errors = [f"workers: {r['first_error']}" for r in document["workers"]["runs"] if r["errors"]]
        return _written(output, document, [workers_markdown(document["workers"])], errors)

    return measure


def ab(run: Run, endpoints: list[Endpoint], *, rev_a: str, rev_b: str | None, rounds: int) -> Measurement:
    """Version A, then version B, served on one scratch database; alternating runs of both."""
    step_s = run.step_duration_s or run.duration_s

    def measure(output: Path, document: dict[str, Any]) -> list[str]:
        logs = output / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="sale-orders-bench-") as workdir, ExitStack() as stack:
            a = stack.enter_context(versions.checkout(rev_a, "A", Path(workdir)))
            b = stack.enter_context(versions.checkout(rev_b, "B", Path(workdir)))
            heads, b_migrates = versions.require_compatible_heads(a, b)
            for version in (a, b):
                versions.install(version, logs)
            print(f"A: {a.ref} ({a.commit}); B: {b.ref} ({b.commit}); migration head(s) {heads}", flush=True)
            url = stack.enter_context(scratch_postgres(os.environ.get("DATABASE_URL"), Path(workdir))).url
            print(f"database: {url.render_as_string(hide_password=True)}", flush=True)
            # One after the other: `serve` migrates at start, and two migrations must not race.
            apis = {"A": stack.enter_context(versions.serve(a, url, run.workers, logs, migrate=True))}
            apis["B"] = stack.enter_context(versions.serve(b, url, run.workers, logs, migrate=b_migrates))
            started = time.monotonic()
            # By the version whose migrations the database is at: the older one's `demo-data` would refuse a
            # revision it does not know.
            versions.load_demo_data(b if b_migrates else a, url, run.orders)
            document["demo_data"] = {"orders": run.orders, "load_seconds": round(time.monotonic() - started, 2)}
            meter = describe(url, document)
            bench = Bench(
                url, demo_ids(url), apis["A"], None, step_s, run.timeout_s, run.wrk_threads, run.warmup_s, meter
            )
            document["ab"] = {
                "versions": {"A": a.describe(), "B": b.describe()},
                "migration_heads": heads,
                **run_ab(
                    bench,
                    apis,
                    endpoints=endpoints,
                    families=run.families,
                    concurrencies=run.concurrency,
                    rounds=rounds,
                    duration_s=step_s,
                ),
            }
        return _written(output, document, [ab_markdown(document["ab"])], bench.errors)

    return measure


def _written(output: Path, document: dict[str, Any], sections: list[list[str]], errors: list[str]) -> list[str]:
    document["errors"] = errors
    write_markdown(output / "results.md", document, sections)
    return errors
