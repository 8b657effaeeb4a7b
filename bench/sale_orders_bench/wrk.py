"""Drive load with wrk and read the one JSON line that lua/common.lua's `done()` prints."""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA_DIR = Path(__file__).resolve().parent / "lua"
RESULT_PREFIX = "BENCH_RESULT "
INSTALL_HINT = "wrk is not installed: install it with `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`"


class WrkMissingError(RuntimeError):
    """wrk is not on PATH."""


class WrkFailedError(RuntimeError):
    """wrk ran but printed no result (bad URL, script error, ...)."""


def require_wrk() -> str:
    """The path of the wrk executable, or WrkMissingError with the install hint."""
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissingError(INSTALL_HINT)
    return path


def wrk_version() -> str:
    result = subprocess.run([require_wrk(), "-v"], capture_output=True, text=True, check=False)
    return (result.stdout or result.stderr).splitlines()[0].split(" Copyright")[0].strip()


@dataclass(frozen=True)
class Load:
    """What wrk sends: a script in lua/ and its arguments (the first is usually the path)."""

    script: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class WrkResult:
    """One wrk run. Latencies in milliseconds; errors are non-2xx responses plus socket errors and timeouts."""

    requests: int
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    non_2xx: int
    socket_errors: int
    first_error: str
    others_cpu_percent: float | None = None  # CPU used by other processes meanwhile, when measured

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors

    @classmethod
    def parse(cls, stdout: str) -> "WrkResult":
        line = next((line for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)), None)
        if line is None:
            raise WrkFailedError(f"wrk printed no {RESULT_PREFIX.strip()} line:\n{stdout}")
        raw = json.loads(line.removeprefix(RESULT_PREFIX))
        return cls(
            requests=raw["requests"],
            duration_s=raw["duration_us"] / 1e6,
            p50_ms=raw["p50_us"] / 1e3,
            p90_ms=raw["p90_us"] / 1e3,
            p99_ms=raw["p99_us"] / 1e3,
            max_ms=raw["max_us"] / 1e3,
            mean_ms=raw["mean_us"] / 1e3,
            non_2xx=raw["non_2xx"],
            socket_errors=raw["socket_errors"],
            first_error=raw["first_error"],
        )


def run_wrk(  # noqa: PLR0913 - wrk's own knobs
    base_url: str,
    load: Load,
    *,
    connections: int,
    duration_s: int,
    threads: int = 1,
    timeout_s: int = 30,
    stop_after: int | None = None,
) -> WrkResult:
    """Run wrk against `base_url` for `duration_s` seconds with `connections` open connections.

    One wrk thread is plenty for the request rates of a Python server, and leaves the cores to it.
    `stop_after` stops each thread once it has had that many responses; wrk still waits out the duration.
    """
    command = [
        require_wrk(),
        f"--connections={connections}",
        f"--threads={max(1, min(threads, connections))}",
        f"--duration={duration_s}s",
        f"--timeout={timeout_s}s",
        f"--script={LUA_DIR / load.script}",
        base_url,
        "--",
        *load.args,
    ]
    env = dict(os.environ)
    env.pop("WRK_STOP_AFTER", None)
    if stop_after is not None:
        env["WRK_STOP_AFTER"] = str(stop_after)
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=duration_s + timeout_s + 30, check=False
    )
    if result.returncode != 0:
        raise WrkFailedError(f"wrk exited with {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return WrkResult.parse(result.stdout)
