"""Servers as child processes on free ports, stopped by their PID: for the tests, the benchmark, the lab, `contract`.

One helper for all of them: an environment without the developer's database settings (`clean_env`), a free
port, start a command, wait until its `GET /health` answers 200, and stop it with SIGTERM (then SIGKILL if it
does not exit), so no caller leaves a server behind.
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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sale_orders.settings import Settings

STARTUP_SECONDS = 60
# uvicorn shuts down gracefully on SIGTERM, then re-raises it: the exit status says "ended by SIGTERM".
STOPPED_BY_SIGTERM = frozenset({0, -signal.SIGTERM, 128 + signal.SIGTERM})

# Where the API finds its database: a developer's must never reach a child server, which gets what its caller gives.
DATABASE_SETTINGS = frozenset({"DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "DATA_DIR"})
# Every setting of the API, and libpq's own variables (PGHOST, PGPASSWORD...), which the drivers read too.
EVERY_SETTING = frozenset(name.upper() for name in Settings.model_fields)
LIBPQ_PREFIX = "PG"


def _without(foreign: Callable[[str], bool], extra: dict[str, str]) -> dict[str, str]:
    return {**{key: value for key, value in os.environ.items() if not foreign(key.upper())}, **extra}


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the developer's database settings, plus `extra`."""
    return _without(lambda name: name in DATABASE_SETTINGS, extra)


def env_without_settings(**extra: str) -> dict[str, str]:
    """This process's environment without any of the API's settings nor libpq's variables, plus `extra`.

    For a server that must run exactly as its caller configures it (the lab's hosts), whatever the shell says.
    """
    return _without(lambda name: name in EVERY_SETTING or name.startswith(LIBPQ_PREFIX), extra)


def healthy(base_url: str, timeout: float = 2.0) -> bool:
    """Whether `GET base_url/health` answers 200 now."""
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=timeout) as response:  # noqa: S310 - our URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


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
        return healthy(self.base_url)


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
