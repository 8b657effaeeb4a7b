"""`sale-orders bench network --quick` works end to end: direct, then through the delay proxy, both sizings, the costs.

A smoke test: it never asserts a speed, only that every endpoint of both families answered 2xx at every delay and
sizing, that the proxy counted the round trips the multi-statement PATCH makes, that the costs were measured, that
the results (JSON, Markdown, plots) were written, and that the proxy was stopped. It needs wrk: CI installs it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sale_orders.family.record import FAMILY_NAMES
from tests.support import REPO_ROOT
from tests.support.servers import clean_env
from tests.support.tools import require_tool

pytestmark = pytest.mark.timeout(660)  # longer than the 600 s the run may take on a busy machine

DELAYS = ["direct", "0 ms", "5 ms"]
SIZINGS = ["defaults", "recommended"]
ENDPOINTS = ["GET /order?limit=50", "POST /contact", "POST /order", "PATCH /order/{id}"]
SLUGS = ["list_orders", "post_contact", "post_order", "patch_order"]


@pytest.fixture(autouse=True)
def empty_tables() -> None:
    """Replaces the suite's per-test truncation: the benchmark starts and drops a database of its own."""


@pytest.fixture(autouse=True)
def wrk() -> None:
    require_tool("wrk", install="apt-get install wrk")


def bench_env() -> dict[str, str]:
    """Never the developer's database: the embedded one, or a scratch database on TEST_DATABASE_URL's server."""
    env = clean_env()
    if test_server := os.environ.get("TEST_DATABASE_URL"):
        env["DATABASE_URL"] = test_server
    return env


def test_bench_network_quick_serves_every_delay_and_sizing_without_errors(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sale_orders.cli", "bench", "network", "--quick", "--output", str(tmp_path)],
        cwd=REPO_ROOT,
        env=bench_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "## Across a network" in (tmp_path / "results.md").read_text()
    assert {path.name for path in tmp_path.glob("*.png")} == {f"{slug}-c8.png" for slug in SLUGS}
    network = json.loads((tmp_path / "results.json").read_text())["network"]
    runs = {(r["delay"], r["sizing"], r["endpoint"], r["family"], r["concurrency"]): r for r in network["runs"]}
    expected = {(d, s, e, f, 8) for d in DELAYS for s in SIZINGS for e in ENDPOINTS for f in FAMILY_NAMES}
    assert set(runs) == expected
    assert all(run["errors"] == 0 and run["requests"] > 0 for run in runs.values()), network["runs"]
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

    steps = network["costs"]["steps"]
    assert [(step["family"], step["in_flight"]) for step in steps] == [(f, 16) for f in FAMILY_NAMES]
    assert all(step["errors"] == 0 and step["rss_peak_kib"] >= step["rss_idle_kib"] > 0 for step in steps), steps
    assert all(step["postgres"]["backends"] >= 1 for step in steps), steps
    assert not Path(f"/proc/{network['proxy_pid']}").exists(), "the fault proxy was left running"
