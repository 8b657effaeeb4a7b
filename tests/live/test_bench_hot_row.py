"""`sale-orders bench hot-row --quick` works end to end: it serves, hammers one order, reads others and reports.

A smoke test: it never asserts a speed, only that every read (/health and an unrelated order in both families)
answered 200 in both phases, that the hammers' PATCHes answered 200 or a retryable 409 and some went through, and
that the results were written.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT
from tests.support.servers import clean_env
from tests.support.tools import require_tool

pytestmark = pytest.mark.timeout(660)  # longer than the 600 s the run may take on a busy machine

READS = {"GET /health", "GET /sync/order/{cold}", "GET /async/order/{cold}"}


@pytest.fixture(autouse=True)
def empty_tables() -> None:
    """Replaces the suite's per-test truncation: the benchmark starts and drops a database of its own."""


@pytest.fixture(autouse=True)
def wrk() -> None:
    require_tool("wrk", install="apt-get install wrk")  # every bench run checks for it


def bench_env() -> dict[str, str]:
    """Never the developer's database: the embedded one, or a scratch database on TEST_DATABASE_URL's server."""
    env = clean_env()
    if test_server := os.environ.get("TEST_DATABASE_URL"):
        env["DATABASE_URL"] = test_server
    return env


def test_bench_hot_row_quick_reads_stay_200_while_one_order_is_hammered(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sale_orders.cli", "bench", "hot-row", "--quick", "--output", str(tmp_path)],
        cwd=REPO_ROOT,
        env=bench_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "## A hot row" in (tmp_path / "results.md").read_text()
    hot_row = json.loads((tmp_path / "results.json").read_text())["hot_row"]
    phases = hot_row["phases"]
    assert [phase["phase"] for phase in phases] == ["quiet", "hammered"]
    for phase in phases:
        assert set(phase["reads"]) == READS
        for kind, read in phase["reads"].items():
            assert read["requests"] > 0, (phase["phase"], kind)
            assert set(read["statuses"]) == {"200"}, (phase["phase"], kind, read["statuses"])
    (hammered,) = [phase for phase in phases if phase["phase"] == "hammered"]
    assert set(hammered["patches"]) <= {"200", "409"}, hammered["patches"]
    assert hammered["patches"].get("200", 0) >= 1, hammered["patches"]
    assert set(hot_row["summary"]) == READS
