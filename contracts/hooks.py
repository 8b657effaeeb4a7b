# ruff: noqa: INP001 - a file Schemathesis loads by path, not a package module
"""Schemathesis hooks for contract runs of this API, loaded by schemathesis.toml (`hooks = "contracts/hooks.py"`).

The CLI (`schemathesis run`, `sale-orders contract`) and the pytest suites in tests/database/contract load the same
file, so every contract run sends what is described here. It imports only Schemathesis and the standard
library: any Schemathesis 4 installation can load it, from the repository's root.
"""

import ast
import threading
import uuid
from typing import Any

import schemathesis

IDEMPOTENCY_KEY = "Idempotency-Key"


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
