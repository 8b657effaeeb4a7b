"""Live servers for the tests: `sale-orders serve` in a process of its own, stopped by its PID."""

import os
from pathlib import Path

import pytest

from sale_orders_tools import servers
from sale_orders_tools.servers import STOPPED_BY_SIGTERM, ServerProcess, free_port

__all__ = ["STOPPED_BY_SIGTERM", "LiveServer", "clean_env", "free_port", "start_server"]

LiveServer = ServerProcess

# A developer's database settings must never reach a test server: it gets what the test gives it.
DATABASE_SETTINGS = {"DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "DATA_DIR"}


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any database settings of the developer's, plus `extra`."""
    return {**{k: v for k, v in os.environ.items() if k.upper() not in DATABASE_SETTINGS}, **extra}


def start_server(env: dict[str, str], workdir: Path) -> LiveServer:
    """Run `sale-orders serve` in `workdir` with `env`; return once /health answers 200 (or fail the test)."""
    try:
        return servers.start_serve(log_dir=workdir, env=env, cwd=workdir)
    except servers.ServerStartError as exc:
        pytest.fail(str(exc))
