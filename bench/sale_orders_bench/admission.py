"""`bench admission`: beyond what a worker serves, a bound on admission against a queue (`MAX_IN_FLIGHT`).

Each endpoint and family is loaded at the concurrencies given (by default c=64, what a worker serves well, and
c=256, four times that) against the API served twice: with the bound (`MAX_IN_FLIGHT`, its default unless given)
and without (`MAX_IN_FLIGHT=0`), in alternating rounds (bounded, unbounded, unbounded, bounded, ...). Per run:
the throughput and the client's p99 over every answer (a refusal is fast); the p99 of the requests the server
admitted, from its own histogram (`sale_orders_request_duration_seconds`, 2xx only: an upper bound, the
histogram's bucket); and how many it refused at once (`sale_orders_requests_shed_total`).
"""

import math
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from statistics import median
from typing import Any

from sale_orders.settings import Settings
from sale_orders_bench.endpoints import Endpoint
from sale_orders_bench.jobs import _written
from sale_orders_bench.options import Run
from sale_orders_bench.scenarios import Progress, summary
from sale_orders_bench.servers import api_server
from sale_orders_bench.session import Measurement, prepared
from sale_orders_tools.harness.gauges import Samples, moved, parse
from sale_orders_tools.harness.servers import ServerProcess

HISTOGRAM = "sale_orders_request_duration_seconds_bucket"


def _samples(api: ServerProcess) -> Samples:
    with urllib.request.urlopen(f"{api.base_url}/metrics", timeout=10) as response:  # noqa: S310 - our server
        return parse(response.read().decode())


def admitted_p99_s(before: Samples, after: Samples, family: str) -> float | None:
    """The upper bound of the histogram bucket holding the 99th percentile of the family's 2xx answers."""
    bounds: dict[float, float] = {}
    for (name, labels), count in after.items():
        if name != HISTOGRAM:
            continue
        found = dict(labels)
        if found.get("family") != family or not found.get("status_code", "").startswith("2"):
            continue
        bound = math.inf if found["le"] == "+Inf" else float(found["le"])
        bounds[bound] = bounds.get(bound, 0.0) + count - before.get((name, labels), 0.0)
    if not bounds or not bounds.get(math.inf):
        return None
    total = bounds[math.inf]
    for bound in sorted(bounds):
        if bounds[bound] >= 0.99 * total:
            return bound
    return None


@contextmanager
def _api(url: Any, run: Run, logs: Path, bound: int) -> Iterator[ServerProcess]:
    with api_server(url, run.workers, logs, MAX_IN_FLIGHT=str(bound)) as api:
        yield api


def measurement(run: Run, endpoints: Sequence[Endpoint], *, bound: int | None, rounds: int) -> Measurement:
    """Fills the document with a row per run, writes results.md, returns the errors other than the refusals."""
    bounded = bound if bound is not None else Settings().max_in_flight
    order = [bounded, 0, 0, bounded] * (rounds // 2) + [bounded, 0][: rounds % 2 * 2]

    def measure(output: Path, document: dict[str, Any]) -> list[str]:
        rows: list[dict[str, Any]] = []
        errors: list[str] = []
        plan = [(endpoint, family, c) for endpoint in endpoints for family in run.families for c in run.concurrency]
        progress = Progress(len(plan) * len(order))
        with prepared(run, output, document) as ready:
            for round_number, limit in enumerate(order, start=1):
                with _api(ready.url, run, ready.logs, limit) as api:
                    bench = ready.bench(run, api)
                    bench.warm_up([(family, endpoint) for endpoint in endpoints for family in run.families])
                    for endpoint, family, concurrency in plan:
                        label = f"round {round_number}, MAX_IN_FLIGHT={limit}: {family} {endpoint.name}"
                        progress.start(f"{label} c={concurrency}")
                        base_url, load = bench.target(family, endpoint)
                        before = _samples(api)
                        result = bench.wrk(base_url, load, concurrency)
                        after = _samples(api)
                        progress.finish(result)
                        shed = moved(before, after, "sale_orders_requests_shed_total", family=family)
                        if result.socket_errors or result.non_2xx > shed:
                            errors.append(f"{label} c={concurrency}: {summary(result)}")
                        rows.append(
                            {
                                "round": round_number,
                                "max_in_flight": limit,
                                "family": family,
                                "endpoint": endpoint.name,
                                "concurrency": concurrency,
                                "requests_per_s": round(result.requests_per_s, 1),
                                "p99_ms": round(result.p99_ms, 2),
                                "admitted_p99_le_s": admitted_p99_s(before, after, family),
                                "shed": int(shed),
                                "requests": result.requests,
                            }
                        )
        document["admission"] = {"bound": bounded, "order": order, "runs": rows}
        return _written(output, document, [admission_markdown(rows, bounded)], errors)

    return measure


def admission_markdown(rows: Sequence[dict[str, Any]], bound: int) -> list[str]:
    """Medians over rounds: with the bound against without, per endpoint, family and concurrency."""
    lines = [
        "## Admission: a bound against a queue",
        "",
        (
            f"`MAX_IN_FLIGHT={bound}` (bounded) against `MAX_IN_FLIGHT=0` (every request admitted), medians over the"
            " rounds. req/s: requests admitted and answered per second (the refused ones are not counted). Admitted"
            " p99: the bucket of the server's own histogram that holds the 99th percentile of its 2xx answers (at"
            " most that); p99 (all): the client's, refusals included. Shed: the share answered 503 `busy` at once."
        ),
        "",
        (
            "| endpoint | family | c | bounded req/s | bounded p99 ms (all) | bounded admitted p99 s | shed % |"
            " unbounded req/s | unbounded p99 ms | unbounded admitted p99 s |"
        ),
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    keys = sorted({(r["endpoint"], r["family"], r["concurrency"]) for r in rows})
    for endpoint, family, concurrency in keys:
        cells = []
        for limit in (bound, 0):
            runs = [
                r
                for r in rows
                if (r["endpoint"], r["family"], r["concurrency"], r["max_in_flight"])
                == (endpoint, family, concurrency, limit)
            ]
            if not runs:
                cells.append(["-"] * (4 if limit else 3))
                continue
            admitted = [r["admitted_p99_le_s"] for r in runs if r["admitted_p99_le_s"] is not None]
            shed = median(100 * r["shed"] / r["requests"] for r in runs if r["requests"])
            admitted_rate = median(r["requests_per_s"] * (1 - r["shed"] / r["requests"]) for r in runs if r["requests"])
            cell = [
                f"{admitted_rate:,.0f}",
                f"{median(r['p99_ms'] for r in runs):,.1f}",
                f"{median(admitted):g}" if admitted else "-",
            ]
            cells.append([*cell, f"{shed:.0f}"] if limit else cell)
        lines.append(f"| {endpoint} | {family} | {concurrency} | " + " | ".join(" | ".join(c) for c in cells) + " |")
    return [*lines, ""]
