"""A/B: two versions of the API (`versions`) served side by side on one database, in alternating runs.

Each round runs every target once per version, A then B in odd rounds and B then A in even ones, so neither
version always runs on a warmer (or busier) machine; figures are medians of the rounds.
"""

import statistics
from collections.abc import Sequence
from typing import Any

from sale_orders_bench.endpoints import Endpoint
from sale_orders_bench.errors import HarnessError
from sale_orders_bench.report import Row
from sale_orders_bench.scenarios import WARMUP_CONNECTIONS, Bench, Progress, as_row, summary
from sale_orders_tools.harness.servers import ServerProcess

MIN_ROUNDS_FOR_VERDICT = 3  # all of 3 paired rounds on one side happens by chance 1 time in 4


def run_ab(  # noqa: PLR0913 - the knobs of one comparison
    bench: Bench,
    apis: dict[str, ServerProcess],
    *,
    endpoints: Sequence[Endpoint],
    families: Sequence[str],
    concurrencies: Sequence[int],
    rounds: int,
    duration_s: int,
) -> dict[str, Any]:
    """Alternating runs of both versions on every target; medians, the ratio B/A and the spread."""
    targets = [(endpoint, family, c) for endpoint in endpoints for family in families for c in concurrencies]
    print(f"A/B: warming up {len(targets) * 2} targets, {bench.warmup_s} s each ...", flush=True)
    for label, api in apis.items():
        for endpoint, family, _ in targets:
            result = bench.wrk(api.base_url, endpoint.load(f"/{family}", bench.ids), WARMUP_CONNECTIONS, bench.warmup_s)
            if result.errors or not result.requests:
                raise HarnessError(f"warm-up of {label} {family} {endpoint.name} failed: {summary(result)}")
    progress = Progress(rounds * len(targets) * 2)
    rows: list[Row] = []
    for round_number in range(1, rounds + 1):
        order = ("A", "B") if round_number % 2 else ("B", "A")
        for endpoint, family, concurrency in targets:
            for label in order:
                progress.start(f"A/B round {round_number}: {label} {family} {endpoint.name} c={concurrency}")
                result = bench.wrk(
                    apis[label].base_url, endpoint.load(f"/{family}", bench.ids), concurrency, duration_s
                )
                progress.finish(result)
                if result.errors:
                    bench.errors.append(f"A/B {label} {family} {endpoint.name} c={concurrency}: {summary(result)}")
                rows.append(as_row(family, endpoint.name, concurrency, result, version=label, round=round_number))
    comparisons = [compare(rows, endpoint.name, family, concurrency) for endpoint, family, concurrency in targets]
    return {"rounds": rounds, "duration_s": duration_s, "runs": rows, "comparisons": comparisons}


def compare(rows: Sequence[Row], endpoint: str, family: str, concurrency: int) -> dict[str, Any]:
    """Both versions' medians on one target, the ratio B/A of the medians, and the spread of the rounds.

    Each round's own B/A ratio is paired (the two runs were next to each other): when every round says the
    same (all above 1 or all below), the difference is beyond what the rounds show as noise.
    """
    runs = {
        label: [
            r
            for r in rows
            if (r["version"], r["endpoint"], r["family"], r["concurrency"]) == (label, endpoint, family, concurrency)
        ]
        for label in ("A", "B")
    }
    medians = {
        label: {
            "requests_per_s": round(statistics.median(r["requests_per_s"] for r in items), 1),
            "min_requests_per_s": min(r["requests_per_s"] for r in items),
            "max_requests_per_s": max(r["requests_per_s"] for r in items),
            "p50_ms": round(statistics.median(r["p50_ms"] for r in items), 2),
            "p99_ms": round(statistics.median(r["p99_ms"] for r in items), 2),
            "errors": sum(r["errors"] for r in items),
        }
        for label, items in runs.items()
    }
    a_by_round = {r["round"]: r["requests_per_s"] for r in runs["A"]}
    paired = [round(r["requests_per_s"] / a_by_round[r["round"]], 3) for r in runs["B"] if a_by_round.get(r["round"])]
    a_rate = medians["A"]["requests_per_s"]
    ratio = round(medians["B"]["requests_per_s"] / a_rate, 3) if a_rate else None
    if len(paired) < MIN_ROUNDS_FOR_VERDICT:
        verdict = "too few rounds"
    elif min(paired) > 1:
        verdict = "B faster"
    elif max(paired) < 1:
        verdict = "B slower"
    else:
        verdict = "within noise"
    return {
        "endpoint": endpoint,
        "family": family,
        "concurrency": concurrency,
        "A": medians["A"],
        "B": medians["B"],
        "ratio_b_to_a": ratio,
        "round_ratios": paired,
        "p50_ratio_b_to_a": _ratio(medians["B"]["p50_ms"], medians["A"]["p50_ms"]),
        "p99_ratio_b_to_a": _ratio(medians["B"]["p99_ms"], medians["A"]["p99_ms"]),
        "verdict": verdict,
    }


def _ratio(value: float, base: float) -> float | None:
    return round(value / base, 3) if base else None
