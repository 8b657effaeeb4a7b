"""`bench/run.py --quick` works end to end: it serves, loads, measures and reports, without a single error.

A smoke test: it never asserts a speed, only that every endpoint of both families answered 2xx under load
and that the results (JSON, Markdown, plots) were written. It needs wrk: CI must install it.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENDPOINTS = {"POST /contact", "GET /contact/{id}", "POST /order", "GET /order/{id}", "GET /order?limit=50"}
FAMILIES = {"sync", "async"}
DATABASE_SETTINGS = {"DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "DATA_DIR"}


@pytest.fixture(autouse=True)
def empty_tables() -> None:
    """Replaces the suite's per-test truncation: the benchmark starts and drops a database of its own."""


def bench_env() -> dict[str, str]:
    """Never the developer's database: the embedded one, or a scratch database on TEST_DATABASE_URL's server."""
    env = {key: value for key, value in os.environ.items() if key.upper() not in DATABASE_SETTINGS}
    if test_server := os.environ.get("TEST_DATABASE_URL"):
        env["DATABASE_URL"] = test_server
    return env


def test_bench_quick_writes_results_for_every_endpoint_and_family_without_errors(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        hint = "wrk is not installed, so the benchmark cannot run: apt-get install wrk"
        if os.environ.get("CI"):
            pytest.fail(hint)
        pytest.skip(f"!!! BENCHMARK SMOKE TEST NOT RUN: {hint} (in CI this fails) !!!")

    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--output", str(tmp_path)],
        cwd=REPO,
        env=bench_env(),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    output = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, output
    assert (tmp_path / "results.md").is_file()
    assert list(tmp_path.glob("*.png")), "no plots were written"
    runs = json.loads((tmp_path / "results.json").read_text())["runs"]
    covered = {(run["family"], run["endpoint"]) for run in runs}
    assert covered >= {(family, endpoint) for family in FAMILIES for endpoint in ENDPOINTS}
    assert {run["endpoint"] for run in runs if run["family"] == "ceiling"} == {"POST /contact", "GET /order?limit=50"}
    failed = [run for run in runs if run["errors"] != 0]
    assert not failed, failed
    assert all(run["ratio"] is not None and run["requests"] > 0 for run in runs), runs
