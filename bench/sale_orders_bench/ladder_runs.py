"""The ladder: each family's rungs (`ladder`) between the raw ceiling and the product, in alternating rounds.

Per endpoint and family the steps are: the ceiling (where it serves the endpoint), every rung, the product.
Each round runs every step once, the next round in the opposite order, so a slow drift of a shared machine
weighs on every step alike; a step's figure is the median of its rounds.
"""

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sale_orders.features import SUMMARIES
from sale_orders_bench.endpoints import CEILING, Endpoint
from sale_orders_bench.errors import HarnessError
from sale_orders_bench.ladder.rungs import API_KEYS_RUNG, FEATURE_RUNGS, FEATURES, LAST_FEATURE, rungs_for
from sale_orders_bench.ladder.rungs import BY_NAME as RUNGS
from sale_orders_bench.report import Row
from sale_orders_bench.scenarios import WARMUP_CONNECTIONS, Bench, Progress, as_row, summary
from sale_orders_tools.harness.servers import ServerProcess

PRODUCT = "product"
BASE = "server, driver and database"


@dataclass(frozen=True)
class Step:
    """One measured step of a family's ladder."""

    name: str  # CEILING, a rung's name or PRODUCT
    family: str  # whose ladder; CEILING for the ceiling, which both families share
    label: str
    layer: str  # what the step adds to the one before it
    base_url: str
    prefix: str


@dataclass(frozen=True)
class Servers:
    api: ServerProcess
    ceiling: ServerProcess
    ladder: ServerProcess
    features: Mapping[str, ServerProcess]  # the product with some of its features, by feature rung (`ladder.rungs`)


def has_body(endpoint: Endpoint) -> bool:
    return endpoint.name.startswith("POST")


def family_steps(endpoint: Endpoint, family: str, servers: Servers) -> list[Step]:
    """The ceiling (if it serves this endpoint), each rung that differs on it, then the product."""
    steps = []
    if endpoint.served_by_ceiling:
        steps.append(
            Step(CEILING, CEILING, "raw ASGI app on raw asyncpg (the ceiling)", BASE, servers.ceiling.base_url, "")
        )
    for rung in rungs_for(has_body(endpoint)):
        layer = rung.layer_of(family) if steps else f"Litestar, {BASE}"
        steps.append(Step(rung.name, family, rung.adds[family], layer, servers.ladder.base_url, rung.prefix(family)))
    for feature in FEATURE_RUNGS:
        if family in feature.families:
            url = servers.features[feature.name].base_url
            steps.append(Step(feature.name, family, feature.adds, feature.layer, url, f"/{family}"))
    steps.append(
        Step(
            PRODUCT,
            family,
            f"the product (`/{family}`): + `{LAST_FEATURE}`: {SUMMARIES[LAST_FEATURE]}",
            FEATURES,
            servers.api.base_url,
            f"/{family}",
        )
    )
    keyed = servers.features[API_KEYS_RUNG.name].base_url
    steps.append(Step(API_KEYS_RUNG.name, family, API_KEYS_RUNG.adds, API_KEYS_RUNG.layer, keyed, f"/{family}"))
    return steps


def plan(endpoints: Sequence[Endpoint], families: Sequence[str], servers: Servers) -> list[tuple[Endpoint, Step]]:
    """Every step once, grouped by endpoint so each is measured close in time to those it is compared with."""
    targets: list[tuple[Endpoint, Step]] = []
    for endpoint in endpoints:
        for family in families:
            targets += [
                (endpoint, step) for step in family_steps(endpoint, family, servers) if (endpoint, step) not in targets
            ]
    return targets


def warm_up(bench: Bench, targets: Sequence[tuple[Endpoint, Step]], seconds: int) -> None:
    """Run every step briefly; an error here means a rung or the harness is broken: stop."""
    print(f"ladder: warming up {len(targets)} steps, {seconds} s each ...", flush=True)
    for endpoint, step in targets:
        result = bench.wrk(step.base_url, endpoint.load(step.prefix, bench.ids), WARMUP_CONNECTIONS, seconds)
        if result.errors or not result.requests:
            msg = f"warm-up of ladder step {step.family} {step.name} {endpoint.name} failed: {summary(result)}"
            raise HarnessError(msg)


def run_ladder(  # noqa: PLR0913 - the knobs of one measurement
    bench: Bench,
    servers: Servers,
    *,
    endpoints: Sequence[Endpoint],
    families: Sequence[str],
    concurrencies: Sequence[int],
    rounds: int,
    duration_s: int,
    warmup_s: int,
) -> dict[str, Any]:
    """Every step of every family's ladder, `rounds` times; per endpoint and family, medians and shares of time.

    With `warmup_s` 0 (the smoke run) nothing is warmed up: the measured runs still fail on any error.
    """
    targets = plan(endpoints, families, servers)
    if warmup_s:
        warm_up(bench, targets, warmup_s)
    progress = Progress(rounds * len(targets) * len(concurrencies))
    rows = []
    for round_number in range(1, rounds + 1):
        ordered = targets if round_number % 2 else targets[::-1]
        for concurrency in concurrencies:
            for endpoint, step in ordered:
                progress.start(
                    f"ladder round {round_number}: {step.family} {step.name} {endpoint.name} c={concurrency}"
                )
                result = bench.wrk(step.base_url, endpoint.load(step.prefix, bench.ids), concurrency, duration_s)
                progress.finish(result)
                if result.errors:
                    bench.errors.append(f"ladder {step.family} {step.name} {endpoint.name}: {summary(result)}")
                rows.append(as_row(step.family, endpoint.name, concurrency, result, step=step.name, round=round_number))
    ladders = [
        summarise(endpoint, family, concurrency, family_steps(endpoint, family, servers), rows)
        for endpoint in endpoints
        for family in families
        for concurrency in concurrencies
    ]
    return {
        "rounds": rounds,
        "duration_s": duration_s,
        "concurrency": list(concurrencies),
        "runs": rows,
        "ladders": ladders,
    }


def summarise(
    endpoint: Endpoint, family: str, concurrency: int, steps: Sequence[Step], rows: Sequence[Row]
) -> dict[str, Any]:
    """Medians per step, ratios to bare Litestar and to the thinnest path, and the microseconds each step adds.

    Time per request is 1 / throughput: at a fixed concurrency on a saturated machine, what one more request
    costs of the machine; a step's share is what it adds to the step before.
    """
    bare = next(step.name for step in steps if step.name in RUNGS)
    thinnest = [step.name for step in steps if step.name in RUNGS and not RUNGS[step.name].beyond_thinnest][-1]
    products_way = [step.name for step in steps if step.name in RUNGS][-1]  # the `autocommit` rung
    summaries = []
    for step in steps:
        runs = [
            row
            for row in rows
            if (row["step"], row["endpoint"], row["concurrency"]) == (step.name, endpoint.name, concurrency)
            and row["family"] == step.family
        ]
        rates = [row["requests_per_s"] for row in runs]
        summaries.append(
            {
                "step": step.name,
                "label": step.label,
                "layer": step.layer,
                "rounds": len(runs),
                "requests_per_s": round(statistics.median(rates), 1),
                "min_requests_per_s": min(rates),
                "max_requests_per_s": max(rates),
                "p50_ms": round(statistics.median(row["p50_ms"] for row in runs), 2),
                "p99_ms": round(statistics.median(row["p99_ms"] for row in runs), 2),
                "errors": sum(row["errors"] for row in runs),
            }
        )
    by_step = {item["step"]: item for item in summaries}
    previous_us = None
    for item in summaries:
        # The API-key rung is the product with keys: what it adds is to the product, the step before it.
        item["of_bare_litestar"] = _ratio(item["requests_per_s"], by_step[bare]["requests_per_s"])
        item["of_thinnest_path"] = _ratio(item["requests_per_s"], by_step[thinnest]["requests_per_s"])
        item["of_products_way"] = _ratio(item["requests_per_s"], by_step[products_way]["requests_per_s"])
        item["us_per_request"] = round(1e6 / item["requests_per_s"], 1) if item["requests_per_s"] else None
        item["adds_us"] = (
            round(item["us_per_request"] - previous_us, 1)
            if previous_us is not None and item["us_per_request"] is not None
            else None
        )
        previous_us = item["us_per_request"]
    return {
        "endpoint": endpoint.name,
        "family": family,
        "concurrency": concurrency,
        "bare_litestar": bare,
        "thinnest_path": thinnest,
        "products_way": products_way,
        "steps": summaries,
    }


def _ratio(value: float, base: float) -> float | None:
    return round(value / base, 3) if base else None
