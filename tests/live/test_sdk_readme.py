"""The SDK README's examples run as written against a live server."""

import re
import subprocess
import sys

import pytest

from tests.support import REPO_ROOT
from tests.support.servers import LiveServer, clean_env

README = REPO_ROOT / "clients/python/README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_readme_has_examples_for_both_families() -> None:
    assert len(EXAMPLES) == 2
    assert "api.sync import" in EXAMPLES[0]
    assert "api.async_ import" in EXAMPLES[1]


@pytest.mark.parametrize("example", EXAMPLES, ids=["blocking", "asyncio"])
def test_readme_example_runs(live_server: LiveServer, example: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", example],
        env=clean_env(SALE_ORDERS_URL=live_server.base_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
