# ruff: noqa: INP001 - a file Schemathesis loads by path, not a package module
"""Schemathesis hooks for contract runs of this API, loaded by schemathesis.toml (`hooks = "contracts/hooks.py"`).

The CLI (`schemathesis run`, `sale-orders contract`) and the pytest suites in tests/database/contract load the same
file, so every contract run sends what is described here. It imports only Schemathesis and the standard
library: any Schemathesis 4 installation can load it, from the repository's root.
"""

import ast
import os
import threading
import uuid
from typing import Any

import schemathesis

IDEMPOTENCY_KEY = "Idempotency-Key"
API_KEY_VARIABLE = "SALE_ORDERS_API_KEY"
# The contract's money schemas, by title (sale_orders.domain.fields.MONEY_TITLES), and their step: two decimals.
MONEY_STEPS = {"Price": 0.01, "Amount": 0.01}


@schemathesis.hook
def before_load_schema(context: schemathesis.HookContext, raw_schema: dict[str, Any]) -> None:
    """Give Schemathesis the two-decimal rule of money as `multipleOf: 0.01`, which the contract leaves out.

    The published contract has no `multipleOf` on money: python-jsonschema and ajv test it in binary floating
    point and refuse valid prices (0.07, 19.99). Schemathesis generates and checks it exactly (rationals, sent
    as the float that spells them), so with it positive cases carry only prices the server accepts and negative
    ones still include 0.001. Called for every schema loaded once this file is; edits it in place.
    """
    del context
    _add_money_steps(raw_schema)


def _add_money_steps(node: Any) -> None:
    if isinstance(node, dict):
        step = MONEY_STEPS.get(node.get("title", "")) if node.get("type") == "number" else None
        if step is not None:
            node.setdefault("multipleOf", step)
        for value in node.values():
            _add_money_steps(value)
    elif isinstance(node, list):
        for item in node:
            _add_money_steps(item)


@schemathesis.auth()
class ApiKeyFromEnvironment:
    """`Authorization: Bearer $SALE_ORDERS_API_KEY` when that variable is set; nothing when it is not.

    The key reaches Schemathesis through the environment only (a command line is visible to every user of the
    machine). Against a server without keys its served contract requires none, and nothing is sent; against a
    keyed one, the `ignored_auth` check still sends requests without the header and expects 401.
    """

    def get(self, case: schemathesis.Case, ctx: schemathesis.AuthContext) -> str | None:
        del case, ctx
        return os.environ.get(API_KEY_VARIABLE) or None

    def set(self, case: schemathesis.Case, data: str, ctx: schemathesis.AuthContext) -> None:
        del ctx
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    """Give every valid create that sends an Idempotency-Key a key of its own.

    A key sent again with the same body replays the first response, by contract, even when that object has
    been deleted since; generated keys repeat ("0", "A", ...) and so do small bodies, so runs reported the
    replayed object's 404s as failures by chance. Replays have their own property (tests/database/api/test_replays.py).

    Negative cases keep what was generated: the server refuses them before it looks at the key (so they never
    replay), and an edited case is re-judged by Schemathesis, which took some invalid `Authorization` values
    for valid ones.
    """
    del context, kwargs
    if case.meta is not None and case.meta.generation.mode is schemathesis.GenerationMode.NEGATIVE:
        return
    if case.headers and IDEMPOTENCY_KEY in case.headers:
        case.headers[IDEMPOTENCY_KEY] = str(uuid.uuid4())


def _serialise_ast_parsing() -> None:
    """Let one thread at a time run `ast.parse`.

    With several workers, Hypothesis describes the lambdas of Schemathesis' strategies by parsing their source in
    each worker thread at once, and CPython 3.11 then fails with "SystemError: AST constructor recursion depth
    mismatch" (CPython issue 106905): the run reports a runtime error that has nothing to do with the API.
    """
    parse = ast.parse
    lock = threading.Lock()

    def parse_alone(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return parse(*args, **kwargs)

    ast.parse = parse_alone


_serialise_ast_parsing()
