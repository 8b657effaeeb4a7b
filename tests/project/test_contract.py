"""The committed contract and SDK are what the app and the generator produce now, and the families agree."""

import copy
import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sale_orders.family.record import FAMILY_NAMES
from sale_orders_tools.contract import CONTRACT_PATH, current_contract, family_differences, generate_client
from tests.support import REPO_ROOT

REGENERATE = "run `uv run sale-orders openapi && uv run sale-orders client` and commit the result"


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((REPO_ROOT / CONTRACT_PATH).read_text())
    return document


def test_committed_contract_is_what_the_app_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    assert (REPO_ROOT / CONTRACT_PATH).read_text() == current_contract(), (
        f"contracts/openapi.json is stale: {REGENERATE}"
    )


def render_in_a_process(hash_seed: int) -> str:
    """The contract as a fresh interpreter renders it, with its own hash seed (set and dict orders differ)."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from sale_orders_tools.contract import current_contract as c; sys.stdout.write(c())",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def test_contract_export_is_deterministic_across_processes() -> None:
    first, second = render_in_a_process(1), render_in_a_process(2)
    assert first == second
    assert first == (REPO_ROOT / CONTRACT_PATH).read_text()


def _tree_differences(left: Path, right: Path) -> list[str]:
    comparison = filecmp.dircmp(left, right, ignore=["__pycache__", ".ruff_cache"])
    found = [*comparison.left_only, *comparison.right_only, *comparison.diff_files]
    # dircmp compares by stat first; compare the common files' bytes to be sure.
    found += [name for name in comparison.same_files if (left / name).read_bytes() != (right / name).read_bytes()]
    for name, sub in comparison.subdirs.items():
        found += [f"{name}/{item}" for item in _tree_differences(left / name, right / name)]
        del sub
    return found


def test_committed_sdk_is_what_the_generator_makes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    generate_client(tmp_path / "client")  # fails on any generator warning
    assert _tree_differences(REPO_ROOT / "clients/python", tmp_path / "client") == [], f"SDK is stale: {REGENERATE}"


def test_families_are_identical_contracts(contract: dict[str, Any]) -> None:
    assert family_differences(contract) == []
    assert sum(path.startswith("/sync/") for path in contract["paths"]) == 8


def _operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][path][method]
    return operation


def test_the_family_checker_finds_differences(contract: dict[str, Any]) -> None:
    changed_parameter = copy.deepcopy(contract)
    _operation(changed_parameter, "/async/order", "get")["parameters"][1]["schema"]["maximum"] = 1000
    assert family_differences(changed_parameter) == ["GET /order: the families' parameters differ"]

    changed_response = copy.deepcopy(contract)
    del _operation(changed_response, "/sync/order/{item_id}", "get")["responses"]["404"]
    assert family_differences(changed_response) == ["GET /order/{item_id}: the families' responses differ"]

    missing_operation = copy.deepcopy(contract)
    del missing_operation["paths"]["/async/tag/{item_id}"]["delete"]
    assert family_differences(missing_operation) == ["DELETE /sync/tag/{item_id} has no /async counterpart"]

    # A schema used by one family only, through its own component, is a difference once refs are resolved.
    own_schema = copy.deepcopy(contract)
    own_schema["components"]["schemas"]["OrderCreate2"] = copy.deepcopy(
        own_schema["components"]["schemas"]["OrderCreate"]
    )
    own_schema["components"]["schemas"]["OrderCreate2"]["properties"]["name"]["maxLength"] = 10
    body = _operation(own_schema, "/sync/order", "post")["requestBody"]["content"]["application/json"]["schema"]
    body["$ref"] = "#/components/schemas/OrderCreate2"
    assert family_differences(own_schema) == ["POST /order: the families' requestBody differ"]


def test_operation_ids_are_unique_and_named_by_family(contract: dict[str, Any]) -> None:
    ids = []
    for path, item in contract["paths"].items():
        for operation in item.values():
            ids.append(operation["operationId"])
            family = path.split("/")[1]
            if family in FAMILY_NAMES:
                assert operation["operationId"].startswith(f"{family}_"), path
                assert operation["tags"] == [family]
            assert operation["summary"]
    assert len(ids) == len(set(ids))
    assert {"sync_create_order", "async_create_order", "sync_list_orders", "async_get_order"} <= set(ids)


def test_every_error_is_documented_as_shared_problem_details(contract: dict[str, Any]) -> None:
    for item in contract["paths"].values():
        for operation in item.values():
            errors = {code: response for code, response in operation["responses"].items() if code >= "400"}
            assert {"408", "431"} <= set(errors)  # the transport's, for any request
            if operation["operationId"] != "health_live":  # liveness asks nothing of the database
                assert "503" in errors
                assert "400" in errors or operation["operationId"] == "health"  # /health takes no input
            for response in errors.values():
                assert response["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
                }


def test_item_operations_document_404(contract: dict[str, Any]) -> None:
    for path, item in contract["paths"].items():
        if path.endswith("{item_id}"):
            assert all("404" in operation["responses"] for operation in item.values()), path


def test_no_parameter_is_published_as_nullable(contract: dict[str, Any]) -> None:
    # A query or header parameter is absent or has a value: no client can send a null.
    parameters = [
        parameter
        for item in contract["paths"].values()
        for op in item.values()
        for parameter in op.get("parameters", [])
    ]
    assert {parameter["name"] for parameter in parameters} >= {"Idempotency-Key", "after", "limit", "item_id"}
    nullable = [parameter["name"] for parameter in parameters if "null" in json.dumps(parameter["schema"])]
    assert nullable == []


def test_every_family_operation_requires_the_bearer_scheme(contract: dict[str, Any]) -> None:
    scheme = contract["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, item in contract["paths"].items():
        for operation in item.values():
            if path.split("/")[1] in FAMILY_NAMES:
                assert operation["security"] == [{"ApiKey": []}], path
                assert {"401", "403"} <= set(operation["responses"]), path
            else:  # /health stays open, and says so
                assert operation["security"] == [], path


def test_the_family_checker_compares_security(contract: dict[str, Any]) -> None:
    unsecured = copy.deepcopy(contract)
    del _operation(unsecured, "/async/order", "post")["security"]
    assert family_differences(unsecured) == ["POST /order: the families' security differ"]

    # Another scheme for one family: a difference when it is defined otherwise, none when defined alike.
    for definition, expected in [
        ({"type": "apiKey", "in": "header", "name": "X-Key"}, ["GET /tag: the families' security differ"]),
        (contract["components"]["securitySchemes"]["ApiKey"], []),
    ]:
        renamed = copy.deepcopy(contract)
        renamed["components"]["securitySchemes"]["Other"] = definition
        _operation(renamed, "/sync/tag", "get")["security"] = [{"Other": []}]
        assert family_differences(renamed) == expected
