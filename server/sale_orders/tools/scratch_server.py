"""`sale-orders serve` as a child process on a free port, for contract runs and benchmarks."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=1) as response:  # noqa: S310 - our own URL
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def scratch_server(*, workers: int = 1, env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve the API on a free port; yield its base URL; stop it (SIGTERM to its PID) when the block ends.

    Without DATABASE_URL in `env` (or the environment) it runs on an embedded PostgreSQL in a temporary
    folder, so the run never touches the developer's data.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="sale-orders-") as scratch:
        child_env = {**os.environ, "DATA_DIR": str(Path(scratch) / "data"), **(env or {})}
        log_path = Path(scratch) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own CLI
                [sys.executable, "-m", "sale_orders.cli", "serve", "--port", str(port), "--workers", str(workers)],
                env=child_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while not _healthy(base_url):
                if process.poll() is not None or time.monotonic() > deadline:
                    msg = f"the server did not start:\n{log_path.read_text()}"
                    raise RuntimeError(msg)
                time.sleep(0.2)
            yield base_url
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STARTUP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
