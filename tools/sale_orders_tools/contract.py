"""The contract and what is generated from it: contracts/openapi.json and the SDK in clients/python.

Both are committed; the tests regenerate them and fail on any difference.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from litestar import Litestar
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from sale_orders.app.openapi_document import served_document
from sale_orders.family.record import FAMILY_NAMES
from sale_orders.settings import Settings

CONTRACT_PATH = Path("contracts/openapi.json")
CLIENT_PATH = Path("clients/python")
CLIENT_CONFIG = Path("clients/openapi-python-client.yaml")
CLIENT_TEMPLATES = Path("clients/templates")
# The SDK's hand-written modules (retries, money), checked by ruff and mypy there and copied verbatim into the
# generated package, whose templates import them; the package is CLIENT_CONFIG's package_name_override.
CLIENT_RUNTIME = Path("clients/runtime")
CLIENT_PACKAGE = "sale_orders_client"
# The contract does not depend on the database; the app only connects when it starts serving.
_UNUSED_URL = make_url("postgresql://contract@localhost/contract")


# The committed contract is what a server configured with API keys serves; the key itself does not matter.
_A_KEY = SecretStr(f"write:{'0' * 64}")


def openapi_document(app: Litestar) -> dict[str, Any]:
    """The OpenAPI document `app` serves, as plain JSON data."""
    return served_document(app)


def render(document: dict[str, Any]) -> str:
    """Canonical text: sorted keys, two-space indent, final newline, so diffs stay small and stable."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def current_contract() -> str:
    """The contract of the app as it is now, as canonical text."""
    from sale_orders.app import create_app  # noqa: PLC0415 - the app imports this module's users

    return render(openapi_document(create_app(_UNUSED_URL, Settings(api_keys=_A_KEY))))


def write_contract(output: Path = CONTRACT_PATH) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(current_contract(), encoding="utf-8")


def generate_client(output: Path = CLIENT_PATH, contract: Path = CONTRACT_PATH) -> str:
    """Generate the Python SDK from `contract` into `output` with the pinned generator; return its output.

    The generator renders clients/templates; the modules of CLIENT_RUNTIME are then copied into the package as
    they are (the generator's post hooks never touch them).

    Raises:
        subprocess.CalledProcessError: the generator failed, or warned (warnings fail: a spec that makes the
            generator drop a response is a spec to fix).
    """
    generator = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent)) or "openapi-python-client"
    with tempfile.TemporaryDirectory() as scratch:
        # Generate next to nothing else, then swap: a failed run never leaves a half-written SDK behind.
        target = Path(scratch) / "client"
        result = subprocess.run(  # noqa: S603 - fixed arguments
            [
                generator,
                "generate",
                f"--path={contract}",
                f"--config={CLIENT_CONFIG}",
                f"--custom-template-path={CLIENT_TEMPLATES}",
                "--meta=uv",
                f"--output-path={target}",
                "--fail-on-warning",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        for module in sorted(CLIENT_RUNTIME.glob("*.py")):
            shutil.copyfile(module, target / CLIENT_PACKAGE / module.name)
        if output.exists():
            shutil.rmtree(output)
        shutil.copytree(target, output)
    return result.stdout + result.stderr


def _resolve(node: Any, document: dict[str, Any]) -> Any:
    """`node` with every local `$ref` replaced by what it points to (the contract has no cycles)."""
    if isinstance(node, dict):
        if set(node) == {"$ref"}:
            target: Any = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(target, document)
        return {key: _resolve(value, document) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, document) for item in node]
    return node


def _resolve_security(requirements: list[dict[str, list[str]]], document: dict[str, Any]) -> list[Any]:
    """Security requirements with each scheme's name replaced by its definition: equal schemes, equal operations."""
    schemes = document.get("components", {}).get("securitySchemes", {})
    return [
        [{"scheme": schemes.get(name), "scopes": scopes} for name, scopes in sorted(requirement.items())]
        for requirement in requirements
    ]


def family_differences(document: dict[str, Any]) -> list[str]:
    """How the families differ as a contract, beyond their path prefix, operationId and tag.

    Returns:
        One line per difference: an operation only some families have, or one whose parameters, request body,
        responses or security differ once every `$ref` and security scheme name is resolved. Empty when the
        families are identical.
    """
    operations: dict[str, dict[tuple[str, str], Any]] = {family: {} for family in FAMILY_NAMES}
    for path, item in document.get("paths", {}).items():
        family, _, rest = path.lstrip("/").partition("/")
        if family not in operations:
            continue
        for method, operation in item.items():
            comparable = {k: v for k, v in operation.items() if k not in {"operationId", "tags"}}
            if "security" in comparable:
                comparable["security"] = _resolve_security(comparable["security"], document)
            operations[family][(f"/{rest}", method)] = _resolve(comparable, document)
    first, *others = FAMILY_NAMES
    differences = []
    for other in others:
        for (rest, method), operation in sorted(operations[first].items()):
            counterpart = operations[other].get((rest, method))
            if counterpart is None:
                differences.append(f"{method.upper()} /{first}{rest} has no /{other} counterpart")
                continue
            differences += [
                f"{method.upper()} {rest}: the families' {part} differ"
                for part in sorted(set(operation) | set(counterpart))
                if operation.get(part) != counterpart.get(part)
            ]
        differences += [
            f"{method.upper()} /{other}{rest} has no /{first} counterpart"
            for rest, method in sorted(set(operations[other]) - set(operations[first]))
        ]
    return differences
