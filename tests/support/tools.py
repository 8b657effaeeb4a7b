"""External tools some tests need (Chromium, wrk, PgBouncer, node ...): found, or a loud skip (a failure in CI)."""

import os
import shutil
from collections.abc import Iterable

import pytest


def require_tool(name: str, *, install: str, paths: Iterable[str] = ()) -> str:
    """The path of the program `name` (on PATH or at one of `paths`); without it, skip loudly, or fail under CI.

    Args:
        name: the program.
        install: the command that installs it (.ci/run runs it).
        paths: where else it may be installed (e.g. /usr/sbin for daemons).
    """
    found = shutil.which(name) or next((path for path in paths if os.access(path, os.X_OK)), None)
    if found is not None:
        return found
    message = f"{name} is not installed: {install} (.ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(f"!!! SKIPPED, NOT TESTED: {message}; in CI this fails !!!")
