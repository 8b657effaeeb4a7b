"""What the rounds of `bench network` add up to: medians with their spread, and recommended against defaults.

No I/O: every function here reads the rows the sweep measured (one per round, sizing, endpoint, family and
concurrency, in the order they ran) and returns plain dicts for results.json and the report.
"""

import statistics
from collections.abc import Iterator, Sequence
from typing import Any

from sale_orders_bench import sizing
from sale_orders_bench.ab import compare
from sale_orders_bench.network.links import DIRECT
from sale_orders_bench.report import Row
from sale_orders_tools.harness.gauges import GAUGES

DEFAULTS, RECOMMENDED = "defaults", "recommended"
SIZINGS = (DEFAULTS, RECOMMENDED)
FIGURE_KEY = ("delay", "sizing", "endpoint", "family", "concurrency")
VERDICTS = {"B faster": "recommended faster", "B slower": "recommended slower"}


def schedule(sizings: Sequence[str], rounds: int) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Each round and the order its sizings run in: as given in odd rounds, reversed in even ones (ABBA)."""
    for round_number in range(1, rounds + 1):
        yield round_number, tuple(sizings) if round_number % 2 else tuple(reversed(sizings))


def _median(values: Sequence[float], digits: int) -> float | None:
    return round(statistics.median(values), digits) if values else None


def _figure(items: Sequence[Row]) -> Row:
    """One target's rounds as one figure: medians, the spread of req/s, the errors of all rounds, the gauges' peak."""
    first = items[0]
    rates = [r["requests_per_s"] for r in items]
    trips = [r["round_trips_per_request"] for r in items if r["round_trips_per_request"] is not None]
    figure = {
        **{key: first[key] for key in FIGURE_KEY},
        "delay_ms": first["delay_ms"],
        "proxied": first["proxied"],
        "rounds": len(items),
        "requests": sum(r["requests"] for r in items),
        "requests_per_s": _median(rates, 1),
        "min_requests_per_s": min(rates),
        "max_requests_per_s": max(rates),
        "p50_ms": _median([r["p50_ms"] for r in items], 2),
        "p99_ms": _median([r["p99_ms"] for r in items], 2),
        "errors": sum(r["errors"] for r in items),
        "round_trips_per_request": _median(trips, 2),
        **{f"max_{gauge}": max(r[f"max_{gauge}"] for r in items) for gauge in GAUGES},
        **{name.lower(): first[name.lower()] for name in sizing.SIZING_SETTINGS if name.lower() in first},
    }
    if "same_as" in first:
        figure["same_as"] = first["same_as"]
    return figure


def figures(runs: Sequence[Row]) -> list[Row]:
    """Per delay, sizing, endpoint, family and concurrency: the median of its rounds, in the order first run."""
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in runs:
        groups.setdefault(tuple(row[key] for key in FIGURE_KEY), []).append(row)
    rows = [_figure(items) for items in groups.values()]
    add_ratios(rows, rows)
    return rows


def add_ratios(rows: Sequence[Row], medians: Sequence[Row]) -> None:
    """Each row's req/s over the median of the same family, endpoint, concurrency and sizing, proxied at 0 ms."""
    base = {(r["family"], r["endpoint"], r["concurrency"], r["sizing"]): r for r in medians if r["delay"] == "0 ms"}
    for row in rows:
        zero = base.get((row["family"], row["endpoint"], row["concurrency"], row["sizing"]))
        row["ratio_to_0ms"] = (
            round(row["requests_per_s"] / zero["requests_per_s"], 3) if zero and zero["requests_per_s"] else None
        )


def comparisons(runs: Sequence[Row]) -> list[dict[str, Any]]:
    """Recommended against defaults where both were served, per delay and target, as `ab.compare` pairs A and B.

    Each round's own ratio pairs two runs that sat next to each other; the verdict is given only when every
    round (at least `ab.MIN_ROUNDS_FOR_VERDICT`) puts it on the same side of 1.
    """
    served = [r for r in runs if r["sizing"] in SIZINGS and not r.get("same_as")]
    targets = dict.fromkeys((r["delay"], r["endpoint"], r["family"], r["concurrency"]) for r in served)
    found = []
    for delay, endpoint, family, concurrency in targets:
        pair = [
            {**r, "version": "A" if r["sizing"] == DEFAULTS else "B"}
            for r in served
            if (r["delay"], r["endpoint"], r["family"], r["concurrency"]) == (delay, endpoint, family, concurrency)
        ]
        if {r["version"] for r in pair} != {"A", "B"}:
            continue
        result = compare(pair, endpoint, family, concurrency)
        found.append(
            {
                "delay": delay,
                "endpoint": endpoint,
                "family": family,
                "concurrency": concurrency,
                DEFAULTS: result["A"],
                RECOMMENDED: result["B"],
                "ratio": result["ratio_b_to_a"],
                "round_ratios": result["round_ratios"],
                "p99_ratio": result["p99_ratio_b_to_a"],
                "verdict": VERDICTS.get(result["verdict"], result["verdict"]),
            }
        )
    return found


def proxy_cost(medians: Sequence[Row], plans: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the proxy itself costs: through it at 0 ms against direct, default sizing, medians; and SELECT 1."""
    direct = {
        (r["family"], r["endpoint"], r["concurrency"]): r
        for r in medians
        if (r["delay"], r["sizing"]) == (DIRECT, DEFAULTS)
    }
    found = []
    for row in medians:
        other = direct.get((row["family"], row["endpoint"], row["concurrency"]))
        if row["delay"] != "0 ms" or row["sizing"] != DEFAULTS or other is None:
            continue
        found.append(
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
    return {"select_1_ms": {label: rtts.get(label) for label in (DIRECT, "0 ms")}, "runs": found}
