"""`sale-orders bench matrix --quick` and `bench ab --quick` work end to end: they serve, load, measure and report,
without a single error.

Smoke tests: they never assert a speed, only that every endpoint of both families, every rung of the ladder
and both versions of an A/B run answered 2xx under load, and that the results (JSON, Markdown, plots) were
written. They need wrk: CI must install it.
"""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from sale_orders.db.migrate import MIGRATIONS
from sale_orders.family.record import FAMILY_NAMES
from tests.support import REPO_ROOT
from tests.support.bench import explained, run_bench
from tests.support.tools import require_tool

pytestmark = pytest.mark.timeout(960)  # longer than the 900 s each benchmark run may take on a busy machine

REPO = REPO_ROOT
ENDPOINTS = {"POST /contact", "GET /contact/{id}", "POST /order", "GET /order/{id}", "GET /order?limit=50"}
FOCUSED = {"POST /contact", "GET /order?limit=50", "POST /order"}
FAMILIES = set(FAMILY_NAMES)
RUNGS = ["litestar", "sqlalchemy", "session", "pydantic", "schema", "autocommit"]
BODY_RUNGS = {"pydantic", "schema"}


@pytest.fixture(autouse=True)
def empty_tables() -> None:
    """Replaces the suite's per-test truncation: the benchmark starts and drops a database of its own."""


@pytest.fixture(autouse=True)
def wrk() -> None:
    require_tool("wrk", install="apt-get install wrk")


def bench(output: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_bench(output, *args)


def bench_worktrees() -> list[str]:
    """Git worktrees an A/B run made (in a temporary folder of its own) and left behind."""
    listing = subprocess.run(
        ["git", "worktree", "list", "--porcelain"], cwd=REPO, capture_output=True, text=True, check=True
    )
    return [
        line for line in listing.stdout.splitlines() if line.startswith("worktree ") and "sale-orders-bench-" in line
    ]


# The product's own part of the ladder: without its features, each one added (some only in one family), the product
# as it ships, then with API keys.
FEATURE_STEPS = {
    "sync": ["core", "deadlines", "thread-queue-bound", "unambiguous", "edge", "metrics", "product", "api-keys"],
    "async": ["core", "deadlines", "fair-pool", "unambiguous", "edge", "metrics", "product", "api-keys"],
}


def expected_steps(endpoint: str, family: str) -> list[str]:
    """The ceiling, the rungs that differ on the endpoint, then the product's own steps."""
    rungs = [rung for rung in RUNGS if endpoint.startswith("POST") or rung not in BODY_RUNGS]
    return ["ceiling", *rungs, *FEATURE_STEPS[family]]


def test_bench_quick_runs_the_matrix_and_the_ladder_without_errors(tmp_path: Path) -> None:
    result = bench(tmp_path, "matrix", "--quick")

    assert result.returncode == 0, explained(result)
    assert (tmp_path / "results.md").is_file()
    assert (tmp_path / "ladder.png").is_file()
    assert len(list(tmp_path.glob("*.png"))) > 1, "no matrix plots were written"
    document = json.loads((tmp_path / "results.json").read_text())
    runs = document["runs"]
    covered = {(run["family"], run["endpoint"]) for run in runs}
    assert covered >= {(family, endpoint) for family in FAMILIES for endpoint in ENDPOINTS}
    assert {run["endpoint"] for run in runs if run["family"] == "ceiling"} == {
        "POST /contact",
        "GET /order?limit=50",
        "POST /order",
    }
    failed = [run for run in runs if run["errors"] != 0]
    assert not failed, failed
    assert all(run["ratio"] is not None and run["requests"] > 0 for run in runs), runs

    ladders = document["ladder"]["ladders"]
    assert {(item["family"], item["endpoint"]) for item in ladders} == {(f, e) for f in FAMILIES for e in FOCUSED}
    for item in ladders:
        steps = {step["step"]: step for step in item["steps"]}
        assert list(steps) == expected_steps(item["endpoint"], item["family"]), item
        assert all(step["errors"] == 0 and step["requests_per_s"] > 0 for step in steps.values()), item
        thinnest = "schema" if item["endpoint"].startswith("POST") else "session"
        assert (item["bare_litestar"], item["thinnest_path"]) == ("litestar", thinnest)
        assert steps["litestar"]["of_bare_litestar"] == steps[thinnest]["of_thinnest_path"] == 1.0
        assert item["products_way"] == "autocommit"
        assert steps["autocommit"]["of_products_way"] == 1.0
    ladder_runs = document["ladder"]["runs"]
    assert sum(len(item["steps"]) for item in ladders) - len(ladder_runs) == len(FOCUSED), (
        "the ceiling runs once per endpoint"
    )
    assert "## The ladder" in (tmp_path / "results.md").read_text()
    assert "What each of the product's features costs" in (tmp_path / "results.md").read_text()


def comparison_of(document: dict[str, Any], endpoint: str, family: str) -> dict[str, Any]:
    return next(c for c in document["ab"]["comparisons"] if (c["endpoint"], c["family"]) == (endpoint, family))


def test_bench_ab_compares_head_with_the_working_tree_in_alternating_rounds(tmp_path: Path) -> None:
    result = bench(tmp_path, "ab", "HEAD", "--quick")

    assert result.returncode == 0, explained(result)
    assert bench_worktrees() == [], "the temporary worktree of version A was left behind"
    document = json.loads((tmp_path / "results.json").read_text())
    ab = document["ab"]
    assert (ab["versions"]["A"]["ref"], ab["versions"]["B"]["ref"]) == ("HEAD", "working tree")
    assert ab["migration_heads"]
    for endpoint in FOCUSED:
        for family in FAMILIES:
            comparison = comparison_of(document, endpoint, family)
            for version in ("A", "B"):
                assert comparison[version]["errors"] == 0, comparison
                assert comparison[version]["requests_per_s"] > 0, comparison
            assert comparison["ratio_b_to_a"] is not None
            assert len(comparison["round_ratios"]) == ab["rounds"] == 2
    first_of_each_round: dict[int, str] = {}
    for run in ab["runs"]:
        first_of_each_round.setdefault(run["round"], run["version"])
    assert first_of_each_round == {1: "A", 2: "B"}
    assert len(ab["runs"]) == 2 * 2 * len(FOCUSED) * len(FAMILIES)
    assert "## A/B" in (tmp_path / "results.md").read_text()


def test_bench_ab_refuses_versions_whose_migrations_do_not_extend_each_other(tmp_path: Path) -> None:
    # B replaces A's newest migration with one of its own: no schema fits both.
    other = tmp_path / "other"
    shutil.copytree(REPO / "server" / "sale_orders", other / "server" / "sale_orders")
    newest = ScriptDirectory(str(MIGRATIONS)).get_revision("head")
    assert newest is not None
    versions = other / "server" / "sale_orders" / "db" / "migrations" / "versions"
    (versions / Path(newest.path).name).unlink()
    (versions / "9999_elsewhere.py").write_text(
        f'revision = "9999"\ndown_revision = "{newest.down_revision}"\n\n\ndef upgrade() -> None:\n    pass\n'
    )

    result = bench(tmp_path / "results", "ab", "HEAD", "--quick", "--rev-b", str(other))

    assert result.returncode == 1, explained(result)
    assert f"has migration head(s) {newest.revision} and B ({other}) has 9999, and B's migrations do not" in (
        result.stderr
    )
    assert bench_worktrees() == [], "the temporary worktree of version A was left behind"
