"""A live `sale-orders serve`, started by the test session on a free port and stopped by its PID."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from tests.conftest import scratch_database

STARTUP_SECONDS = 30
# uvicorn shuts down gracefully on SIGTERM, then re-raises it: the exit status says "ended by SIGTERM".
STOPPED_BY_SIGTERM = {0, -signal.SIGTERM, 128 + signal.SIGTERM}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def stop(self) -> int:
        """Send SIGTERM to the server's PID and wait for it to exit; return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STARTUP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def start_server(env: dict[str, str], workdir: Path) -> LiveServer:
    """Run `sale-orders serve` in `workdir` with `env` and wait until /health answers 200."""
    port = free_port()
    log = workdir / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "sale_orders.cli", "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{server.base_url}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop()
    pytest.fail(f"/health did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any database settings of the developer's, plus `extra`."""
    names = {"DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "DATA_DIR"}
    return {**{k: v for k, v in os.environ.items() if k.upper() not in names}, **extra}


@pytest.fixture(scope="session")
def live_server(server_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The API served by a real process over its own database on the tests' PostgreSQL server."""
    with scratch_database(server_url) as url:
        env = clean_env(DATABASE_URL=url.render_as_string(hide_password=False))
        server = start_server(env, tmp_path_factory.mktemp("live"))
        yield server
        assert server.stop() in STOPPED_BY_SIGTERM, server.log.read_text()
