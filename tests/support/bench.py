"""Running `sale-orders bench` from a test: its environment, the command, and what a failure shows."""

import os
import subprocess
import sys
from pathlib import Path

from tests.support import REPO_ROOT
from tests.support.servers import clean_env


def bench_env() -> dict[str, str]:
    """Never the developer's database: the embedded one, or a scratch database on TEST_DATABASE_URL's server."""
    env = clean_env()
    if test_server := os.environ.get("TEST_DATABASE_URL"):
        env["DATABASE_URL"] = test_server
    return env


def run_bench(output: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    """`sale-orders bench ARGS --output OUTPUT`, as a user runs it from the repository."""
    return subprocess.run(
        [sys.executable, "-m", "sale_orders.cli", "bench", *args, "--output", str(output)],
        cwd=REPO_ROOT,
        env=bench_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def explained(result: subprocess.CompletedProcess[str]) -> str:
    """A failed run's output, for an assertion's message."""
    return f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
