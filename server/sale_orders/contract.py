"""The OpenAPI contract as committed in contracts/openapi.json: deterministic bytes for the same app."""

import json
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.serialization import encode_json
from sqlalchemy.engine import make_url

CONTRACT_PATH = Path("contracts/openapi.json")
# The contract does not depend on the database; the app only connects when it starts serving.
_UNUSED_URL = make_url("postgresql://contract@localhost/contract")


def openapi_document(app: Litestar) -> dict[str, Any]:
    """The app's OpenAPI document as plain JSON data."""
    document: dict[str, Any] = json.loads(encode_json(app.openapi_schema.to_schema()))
    return document


def render(document: dict[str, Any]) -> str:
    """Canonical text: sorted keys, two-space indent, final newline, so diffs stay small and stable."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def current_contract() -> str:
    """The contract of the app as it is now, as canonical text."""
    from sale_orders.app import create_app  # noqa: PLC0415 - the app imports this module's users

    return render(openapi_document(create_app(_UNUSED_URL)))


def write_contract(output: Path = CONTRACT_PATH) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(current_contract(), encoding="utf-8")
