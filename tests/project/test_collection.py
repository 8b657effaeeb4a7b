"""Every collected test has an id of its own: pytest-xdist schedules by id, and runs one test of any duplicate."""

import collections
import subprocess
import sys

from tests.support import REPO_ROOT


def test_every_test_id_is_unique() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0", "-p", "no:cacheprovider"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ids = [line for line in result.stdout.splitlines() if "::" in line]
    assert len(ids) > 400, result.stdout[-3000:]
    assert [test_id for test_id, seen in collections.Counter(ids).items() if seen > 1] == []
