"""Schemathesis for the tests: the project's configuration, an app slot, httpx arguments, a cross-family ledger."""

import contextlib
import json
import os
from typing import Any

import schemathesis
from litestar.types import ASGIApp, Receive, Scope, Send
from schemathesis import APIOperation, Case, Response
from schemathesis.config import SchemathesisConfig

from sale_orders.domain.fields import MONEY_TITLES
from sale_orders.domain.limits import PRICE_SCALE
from sale_orders_tools.contract import CONTRACT_PATH
from tests.support import REPO_ROOT

ContractCase = Case[APIOperation[Any, Any, Any, Any]]
"""A case of any operation of the contract (Schemathesis types its OpenAPI operation only for type checkers)."""


def as_httpx_request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Schemathesis' (requests-style) transport arguments as httpx request arguments, less method and URL."""
    # httpx takes ASCII header strings only; Schemathesis sends any text, so pass non-ASCII values as UTF-8.
    headers = {
        name: value if value.isascii() else value.encode() for name, value in (kwargs.get("headers") or {}).items()
    }
    request: dict[str, Any] = {"headers": headers, "params": kwargs.get("params") or None}
    if "json" in kwargs:
        request["content"] = json.dumps(kwargs["json"]).encode()
    elif isinstance(kwargs.get("data"), bytes | str):
        request["content"] = kwargs["data"]
    elif kwargs.get("data") is not None:
        request["data"] = kwargs["data"]
    return request


def contract_config(api_key: str) -> SchemathesisConfig:
    """schemathesis.toml as `schemathesis run` reads it from the repository's root, with `api_key` as the run's key.

    Loading it loads its hooks (contracts/hooks.py, a path from the root) into this process, as the CLI does; they
    send the key from SALE_ORDERS_API_KEY, which this sets for the rest of the process.
    """
    os.environ["SALE_ORDERS_API_KEY"] = api_key
    with contextlib.chdir(REPO_ROOT):
        return SchemathesisConfig.from_path(REPO_ROOT / "schemathesis.toml")


def json_object(case: ContractCase) -> dict[str, Any]:
    """The case's body, which every create and update of the contract declares as a JSON object."""
    assert isinstance(case.body, dict)
    return case.body


def with_money_steps(node: Any) -> Any:
    """`node` with `multipleOf` on every money schema (by title), as contracts/hooks.py gives the contract runs.

    The published contract leaves the two-decimal rule to the description (common validators test `multipleOf`
    in binary floating point); generated data must follow it, or every order drawn is a 400.
    """
    if isinstance(node, dict):
        changed = {key: with_money_steps(value) for key, value in node.items()}
        if changed.get("type") == "number" and changed.get("title") in MONEY_TITLES:
            changed.setdefault("multipleOf", 10.0**-PRICE_SCALE)
        return changed
    if isinstance(node, list):
        return [with_money_steps(item) for item in node]
    return node


def data_schema() -> schemathesis.BaseSchema:
    """The committed contract for drawing request data from: no security requirements, Schemathesis' defaults.

    Its users send to servers without API keys, so a generated (or removed) `Authorization` is not a contract
    violation there. And without a config, Schemathesis would load schemathesis.toml, which installs the
    contract runs' hooks.
    """
    contract = with_money_steps(json.loads((REPO_ROOT / CONTRACT_PATH).read_text()))
    for item in contract["paths"].values():
        for operation in item.values():
            operation.pop("security", None)
    return schemathesis.openapi.from_dict(contract, config=SchemathesisConfig())


class AppSlot:
    """An ASGI app that forwards to the app a fixture puts in it.

    Schemathesis takes a schema's app when the tests are collected, before any fixture runs, and the contract
    suites' app can only be built once its database exists.
    """

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            msg = "no app in the slot: request the fixture that fills it"
            raise RuntimeError(msg)
        await self.app(scope, receive, send)


class ResourceLedger:
    """What a stateful run created and deleted, by resource and id, whichever family it went through.

    Schemathesis' `ensure_resource_availability` tracks deletions by path, so a contact created through
    /async and deleted through /sync looks like a lost resource. This ledger knows both paths name one row.
    """

    def __init__(self) -> None:
        self.alive: set[tuple[str, int]] = set()

    def record(self, case: ContractCase, response: Response) -> None:
        """Update the ledger with a response; fail if a living resource was not found."""
        _, resource, *rest = case.path.strip("/").split("/")
        item_id = (case.path_parameters or {}).get("item_id")
        if case.method == "POST" and response.status_code == 201:
            self.alive.add((resource, response.json()["id"]))
        elif rest and isinstance(item_id, int) and (resource, item_id) in self.alive:
            if case.method == "DELETE" and response.status_code == 204:
                self.alive.discard((resource, item_id))
            assert response.status_code != 404, f"{resource} {item_id} was created and not deleted, yet 404"
