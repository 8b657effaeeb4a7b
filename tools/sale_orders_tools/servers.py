"""Servers as child processes on free ports, stopped by their PID: for the tests, the benchmark and `contract`.

One helper for all of them: start a command, wait until its `GET /health` answers 200, and stop it with
SIGTERM (then SIGKILL if it does not exit), so no caller leaves a server behind.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STARTUP_SECONDS = 60
# uvicorn shuts down gracefully on SIGTERM, then re-raises it: the exit status says "ended by SIGTERM".
STOPPED_BY_SIGTERM = frozenset({0, -signal.SIGTERM, 128 + signal.SIGTERM})


class ServerStartError(RuntimeError):
    """The server exited, or did not answer /health, before it was ready; the message holds its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class ServerProcess:
    """A server subprocess answering at `base_url`, its output in `log`."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def stop(self, timeout: float = STARTUP_SECONDS) -> int:
        """SIGTERM to the PID, wait for it to exit (SIGKILL after `timeout` s); return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def worker_pids(self) -> list[int]:
        """The processes serving requests: uvicorn's workers, or the process itself with one worker."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        workers = [pid for pid in pids if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        return workers or [self.process.pid]

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/health", timeout=2) as response:  # noqa: S310 - our URL
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False


def _wait_until_healthy(server: ServerProcess) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.healthy():
        if server.process.poll() is not None or time.monotonic() > deadline:
            log = server.log.read_text(errors="replace")
            msg = f"{server.name} did not start (exit status {server.process.poll()}):\n{log}"
            raise ServerStartError(msg)
        time.sleep(0.2)


def start(  # noqa: PLR0913 - keyword-only parts of one command line
    command: Sequence[str],
    *,
    port: int,
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    name: str = "api",
) -> ServerProcess:
    """Run `command` (which serves on `port`); return once its /health answers 200.

    Raises:
        ServerStartError: it exited or did not answer within STARTUP_SECONDS; it has been stopped.
    """
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own commands
            list(command), cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    server = ServerProcess(name, process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_healthy(server)
    except BaseException:  # a failed start, or Ctrl-C or SIGTERM while waiting: never leave it running
        server.stop()
        raise
    return server


def start_serve(
    *, log_dir: Path, env: dict[str, str] | None = None, cwd: Path | None = None, options: Sequence[str] = ()
) -> ServerProcess:
    """`sale-orders serve` on a free port, with `options`; its log is `log_dir/api-<port>.log`."""
    port = free_port()
    command = [sys.executable, "-m", "sale_orders.cli", "serve", "--port", str(port), *options]
    return start(command, port=port, log=log_dir / f"api-{port}.log", env=env, cwd=cwd)


@contextmanager
def scratch_server(*, options: Sequence[str] = (), env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve the API on a free port; yield its base URL; stop it when the block ends.

    Without DATABASE_URL in `env` (or the environment) it runs on an embedded PostgreSQL in a temporary
    folder, so the run never touches the developer's data.
    """
    with tempfile.TemporaryDirectory(prefix="sale-orders-") as scratch:
        child_env = {**os.environ, "DATA_DIR": str(Path(scratch) / "data"), **(env or {})}
        server = start_serve(log_dir=Path(scratch), env=child_env, options=options)
        try:
            yield server.base_url
        finally:
            server.stop()
