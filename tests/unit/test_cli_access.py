"""The CLI's side of access control: `api-key` makes keys, and `serve` warns when it exposes an open API."""

from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from sale_orders.cli import is_loopback, main
from sale_orders.settings import Settings
from sale_orders.web.auth import api_key_digest
from tests.support.auth import api_keys_setting

WARNING = "without API keys"


@pytest.mark.parametrize("scope", ["read", "write"])
def test_api_key_prints_a_key_and_the_entry_that_accepts_it(scope: str) -> None:
    result = CliRunner().invoke(main, ["api-key", "--scope", scope])
    assert result.exit_code == 0, result.output
    client_line, server_line = result.stdout.splitlines()
    key = client_line.removeprefix("SALE_ORDERS_API_KEY=")
    entry = server_line.removeprefix("API_KEYS=")
    assert len(key) >= 43
    assert Settings(api_keys=SecretStr(entry)).api_key_scopes == {api_key_digest(key): scope}
    again = CliRunner().invoke(main, ["api-key", "--scope", scope]).stdout
    assert key not in again  # a new key each time


EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - the address under test, not one this test binds


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        (EVERY_INTERFACE, False),
        ("::", False),
        ("192.0.2.10", False),
        ("api.example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("host", "api_keys", "warns"),
    [
        (EVERY_INTERFACE, "", True),
        (EVERY_INTERFACE, api_keys_setting(), False),
        ("127.0.0.1", "", False),
    ],
)
def test_serve_warns_on_stderr_when_it_exposes_an_open_api(
    monkeypatch: pytest.MonkeyPatch, host: str, api_keys: str, warns: bool
) -> None:
    served: list[dict[str, Any]] = []
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@localhost/none")  # restored after the test
    monkeypatch.setenv("API_KEYS", api_keys)
    monkeypatch.setattr("sale_orders.db.migrate.upgrade", lambda *_: None)
    monkeypatch.setattr("uvicorn.run", lambda *_, **options: served.append(options))

    result = CliRunner().invoke(main, ["serve", "--host", host])

    assert result.exit_code == 0, result.output
    assert served[0]["host"] == host
    assert (WARNING in result.stderr) is warns
    assert WARNING not in result.stdout
