"""Bad settings get one line each, naming the setting and what is wrong, exit status 2, and no traceback."""

import pytest
from click.testing import CliRunner

from sale_orders.cli import main
from sale_orders.settings import Settings

# One value each setting cannot take, and what the line must say about it.
BAD_VALUES = {
    "DATABASE_URL": ("", "set but empty"),
    "DB_HOST": None,  # any host name is a host name (checked when connecting)
    "DB_PORT": ("70000", "less than or equal to 65535"),
    "DB_NAME": None,
    "DB_USER": None,
    "DB_PASSWORD": None,
    "DATA_DIR": ("/etc/hostname", "a file, not a folder"),
    "SYNC_THREADS": ("0", "greater than or equal to 1"),
    "SYNC_POOL_SIZE": ("many", "valid integer"),
    "ASYNC_POOL_SIZE": ("0", "greater than or equal to 1"),
    "POOL_TIMEOUT": ("-1", "greater than or equal to 1"),
    "MAX_IN_FLIGHT": ("-1", "greater than or equal to 0"),
    "SHED_PAUSE": ("5", "less than or equal to 4"),
    "READ_DATABASE_URL": ("mysql://user@host/db", "this API needs postgresql://"),
    "MAX_STALENESS_MS": ("-1", "greater than or equal to 0"),
    "DB_CONNECT_TIMEOUT": ("0", "greater than 0"),
    "DB_RESPONSE_TIMEOUT": ("soon", "valid number"),
    "POOL_PRE_PING": ("maybe", "valid boolean"),
    "STATEMENT_TIMEOUT_MS": ("-5", "greater than or equal to 0"),
    "LOCK_TIMEOUT_MS": ("-1", "greater than or equal to 0"),
    "CORS_ORIGINS": ("example.com", "not an origin"),
    "PGBOUNCER": ("sometimes", "valid boolean"),
    "IDEMPOTENCY_WINDOW_HOURS": ("0", "greater than 0"),
    "LOG_FORMAT": ("xml", "'text' or 'json'"),
    "PROMETHEUS_MULTIPROC_DIR": ("/etc/hostname", "a file, not a folder"),
    "API_KEYS": ("write:abc", "not `read:<sha256 hex>`"),
    "MAX_REQUEST_HEADER_BYTES": ("100", "greater than or equal to 1024"),
    "HEADER_TIMEOUT": ("0", "greater than 0"),
    "BODY_TIMEOUT": ("forever", "valid number"),
    "FEATURES": ("metrics,speed", "unknown FEATURES speed"),
}
SECRETS = {"DATABASE_URL", "API_KEYS"}
MORE_BAD_VALUES = [
    ("DATABASE_URL", "mysql://user@host/db", "this API needs postgresql://"),
    ("DATABASE_URL", "not a url at all", "not a URL"),
    ("DB_PORT", "abc", "valid integer"),
    ("API_KEYS", ",", "no entries"),
    ("STATEMENT_TIMEOUT_MS", "3000", "must be below DB_RESPONSE_TIMEOUT"),
    ("LOCK_TIMEOUT_MS", "2500", "must be below STATEMENT_TIMEOUT_MS"),
]


def test_every_setting_is_in_the_table() -> None:
    assert set(BAD_VALUES) == {name.upper() for name in Settings.model_fields}


CASES = [(name, *value) for name, value in BAD_VALUES.items() if value is not None] + MORE_BAD_VALUES


@pytest.mark.parametrize(("name", "value", "says"), CASES, ids=[f"{name}={value!r}" for name, value, _ in CASES])
def test_a_bad_setting_is_one_line_and_exit_status_2(name: str, value: str, says: str) -> None:
    result = CliRunner().invoke(main, ["db", "upgrade"], env={name: value})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"sale-orders: bad setting {name}"), line
    assert says in line
    if name in SECRETS and value.strip(","):
        assert value not in line  # a URL may hold a password, a key entry may be a key pasted by mistake


def test_a_bad_setting_does_not_stop_help_or_api_key() -> None:
    for args in (["serve", "--help"], ["api-key"]):
        result = CliRunner().invoke(main, args, env={"SYNC_THREADS": "0"})
        assert result.exit_code == 0, result.output
