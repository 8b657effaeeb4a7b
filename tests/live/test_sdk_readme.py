"""The SDK README's examples run as written against a live server: Decimal money, retries, both families."""

import re
import subprocess
import sys

import pytest

from tests.support import REPO_ROOT
from tests.support.auth import WRITE_KEY
from tests.support.servers import LiveServer, clean_env

README = REPO_ROOT / "clients/python/README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_readme_has_examples_for_both_families_with_a_key() -> None:
    assert len(EXAMPLES) == 2
    assert "api.sync import" in EXAMPLES[0]
    assert "api.async_ import" in EXAMPLES[1]
    assert all("AuthenticatedClient(" in example for example in EXAMPLES)


def test_the_readme_shows_decimal_money_and_retry_settings() -> None:
    blocking, in_asyncio = EXAMPLES
    # Three prices of 0.1 read back through the SDK sum to exactly 0.3 (run below, against a server).
    assert 'price=Decimal("0.1")) for _ in range(3)' in blocking
    assert 'sum((line.price for line in dimes.order_lines), Decimal(0)) == Decimal("0.3")' in blocking
    assert 'order.amount_total == Decimal("0.3")' in in_asyncio
    assert "price=0." not in README.read_text()  # no float money left in any example
    assert all("retry=" in example and "RetryPolicy(" in example for example in EXAMPLES)
    assert "idempotency_key=key" in blocking


@pytest.mark.parametrize("example", EXAMPLES, ids=["blocking", "asyncio"])
def test_readme_example_runs_against_a_server_with_keys(secured_live_server: LiveServer, example: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", example],
        env=clean_env(SALE_ORDERS_URL=secured_live_server.base_url, SALE_ORDERS_API_KEY=WRITE_KEY),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
