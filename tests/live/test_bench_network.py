"""`sale-orders bench network --quick` works end to end: direct, then through the delay proxy, both sizings, the costs.

A smoke test: it never asserts a speed, only that every endpoint of both families answered 2xx at every delay,
sizing and round, that where both sizings were served side by side each target ran them next to each other in
alternating order (defaults then recommended in round 1, the reverse in round 2), that the figures are the rounds'
medians within their spread, that the proxy counted the round trips the multi-statement PATCH makes, that the costs
were measured, that the results (JSON, Markdown, plots) were written, and that the proxy and every API server were
stopped. It needs wrk: CI installs it.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from sale_orders.family.record import FAMILY_NAMES
from tests.support.bench import explained, run_bench
from tests.support.tools import require_tool

pytestmark = pytest.mark.timeout(660)  # longer than the 600 s the run may take on a busy machine

# --quick's points and one further away, where the rule sizes PATCH's 11 round trips beyond the defaults even on a
# busy machine (from ~40 req/s at 0 ms), so that both sizings are served side by side there; not so far that a fresh
# pool's first PATCHes (no warm-up in --quick) take longer than a 1 s run.
DELAYS = ["direct", "0 ms", "5 ms", "10 ms"]
SIZINGS = ["defaults", "recommended"]
ENDPOINTS = ["GET /order?limit=50", "POST /contact", "POST /order", "PATCH /order/{id}"]
SLUGS = ["list_orders", "post_contact", "post_order", "patch_order"]
ROUNDS = 2  # --quick
ABBA = [(1, "defaults"), (1, "recommended"), (2, "recommended"), (2, "defaults")]


@pytest.fixture(autouse=True)
def empty_tables() -> None:
    """Replaces the suite's per-test truncation: the benchmark starts and drops a database of its own."""


@pytest.fixture(autouse=True)
def wrk() -> None:
    require_tool("wrk", install="apt-get install wrk")


def assert_alternating(network: dict[str, Any], both: list[str]) -> None:
    """Where both sizings were served, each target's runs sat next to each other, in ABBA order, one per round."""
    order = [(r["delay"], r["endpoint"], r["family"], r["round"], r["sizing"]) for r in network["runs"]]
    for delay in both:
        for endpoint in ENDPOINTS:
            for family in FAMILY_NAMES:
                target = (delay, endpoint, family)
                seen = [(index, run[3:]) for index, run in enumerate(order) if run[:3] == target]
                assert [turn for _, turn in seen] == ABBA, (target, seen)
                first, second = seen[0][0], seen[2][0]
                assert [index for index, _ in seen] == [first, first + 1, second, second + 1], f"a pair split: {seen}"
    comparisons = {(c["delay"], c["endpoint"], c["family"]): c for c in network["comparisons"]}
    assert set(comparisons) == {(d, e, f) for d in both for e in ENDPOINTS for f in FAMILY_NAMES}
    assert all(len(c["round_ratios"]) == ROUNDS and c["verdict"] == "too few rounds" for c in comparisons.values())


def assert_medians_within_spread(network: dict[str, Any]) -> None:
    figures = network["figures"]
    assert len(figures) == len(DELAYS) * len(SIZINGS) * len(ENDPOINTS) * len(FAMILY_NAMES)
    for figure in figures:
        assert figure["rounds"] == ROUNDS, figure
        assert figure["min_requests_per_s"] <= figure["requests_per_s"] <= figure["max_requests_per_s"], figure


def test_bench_network_quick_serves_every_delay_and_sizing_without_errors(tmp_path: Path) -> None:
    result = run_bench(tmp_path, "network", "--quick", "--delays", "direct,0,5,10", timeout=600)

    assert result.returncode == 0, explained(result)
    assert "## Across a network" in (tmp_path / "results.md").read_text()
    assert {path.name for path in tmp_path.glob("*.png")} == {f"{slug}-c8.png" for slug in SLUGS}
    network = json.loads((tmp_path / "results.json").read_text())["network"]
    assert network["rounds"] == ROUNDS
    assert len(network["runs"]) == len(
        {(r["delay"], r["sizing"], r["round"], r["endpoint"], r["family"]) for r in network["runs"]}
    )
    runs = {(r["delay"], r["sizing"], r["endpoint"], r["family"], r["concurrency"]): r for r in network["runs"]}
    expected = {(d, s, e, f, 8) for d in DELAYS for s in SIZINGS for e in ENDPOINTS for f in FAMILY_NAMES}
    assert set(runs) == expected
    assert all(run["errors"] == 0 and run["requests"] > 0 for run in network["runs"]), network["runs"]
    for run in runs.values():
        if run["delay"] == "direct":
            assert run["round_trips_per_request"] is None
        elif run["endpoint"] == "PATCH /order/{id}":
            assert run["round_trips_per_request"] >= 9, run  # several statements in one transaction
        else:
            assert run["round_trips_per_request"] >= 1, run

    plans = {plan["delay"]: plan for plan in network["plans"]}
    assert list(plans) == DELAYS
    for delay, plan in plans.items():
        same = all(
            runs[delay, "recommended", e, f, 8].get("same_as") == "defaults" for e in ENDPOINTS for f in FAMILY_NAMES
        )
        assert same == (plan["recommended"] == plan["defaults"]), plan
    assert plans["5 ms"]["rtt_ms"]["median_ms"] >= 10, "5 ms each way is at least 10 ms a round trip"
    assert len(network["proxy_cost"]["runs"]) == len(ENDPOINTS) * len(FAMILY_NAMES)
    both = [delay for delay, plan in plans.items() if plan["served"] == SIZINGS]
    assert both, f"the rule recommended the defaults at every point: {plans}"
    assert_alternating(network, both)
    assert_medians_within_spread(network)
    pids = [pid for plan in plans.values() for pid in plan["api_pids"].values()]
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids), "an API server was left running"

    steps = network["costs"]["steps"]
    assert [(step["family"], step["in_flight"]) for step in steps] == [(f, 16) for f in FAMILY_NAMES]
    assert all(step["errors"] == 0 and step["rss_peak_kib"] >= step["rss_idle_kib"] > 0 for step in steps), steps
    assert all(step["postgres"]["backends"] >= 1 for step in steps), steps
    assert not Path(f"/proc/{network['proxy_pid']}").exists(), "the fault proxy was left running"
