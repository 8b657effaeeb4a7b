"""`sale-orders bench hot-row --quick` works end to end: it serves, hammers one order, reads others and reports.

A smoke test: it never asserts a speed, only that every read (/health and an unrelated order in both families)
answered 200 in both phases, that the hammers' PATCHes answered 200 or a retryable 409 and some went through, and
that the results were written.
"""

import json
from pathlib import Path

import pytest

from tests.support.bench import explained, run_bench
from tests.support.tools import require_tool

pytestmark = pytest.mark.timeout(660)  # longer than the 600 s the run may take on a busy machine

READS = {"GET /health", "GET /sync/order/{cold}", "GET /async/order/{cold}"}


@pytest.fixture(autouse=True)
def empty_tables() -> None:
    """Replaces the suite's per-test truncation: the benchmark starts and drops a database of its own."""


@pytest.fixture(autouse=True)
def wrk() -> None:
    require_tool("wrk", install="apt-get install wrk")  # every bench run checks for it


def test_bench_hot_row_quick_reads_stay_200_while_one_order_is_hammered(tmp_path: Path) -> None:
    result = run_bench(tmp_path, "hot-row", "--quick", timeout=600)

    assert result.returncode == 0, explained(result)
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
