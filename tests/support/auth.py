"""API keys for the tests: a write key, a read key, and the settings of a server that accepts them."""

from pydantic import SecretStr

from sale_orders.settings import Settings
from sale_orders.web.auth import api_key_digest, new_api_key

WRITE_KEY = new_api_key()
READ_KEY = new_api_key()


def api_keys_setting(*, write: str = WRITE_KEY, read: str = READ_KEY) -> str:
    """The `API_KEYS` value accepting `write` as a write key and `read` as a read key."""
    return f"write:{api_key_digest(write)},read:{api_key_digest(read)}"


def settings_with_keys() -> Settings:
    return Settings(api_keys=SecretStr(api_keys_setting()))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
