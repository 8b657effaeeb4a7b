"""Live servers for the tests: `sale-orders serve` in a process of its own, stopped by its PID (the shared harness)."""

from pathlib import Path

import pytest

from sale_orders_tools.harness import servers
from sale_orders_tools.harness.servers import STOPPED_BY_SIGTERM, ServerProcess, clean_env, free_port

__all__ = ["STOPPED_BY_SIGTERM", "LiveServer", "clean_env", "free_port", "start_server"]

LiveServer = ServerProcess


def start_server(env: dict[str, str], workdir: Path) -> LiveServer:
    """Run `sale-orders serve` in `workdir` with `env`; return once /health answers 200 (or fail the test)."""
    try:
        return servers.start_serve(log_dir=workdir, env=env, cwd=workdir)
    except servers.ServerStartError as exc:
        pytest.fail(str(exc))
