"""The contract's Node tools (Redocly, Spectral, ajv), installed by the test session when missing or stale.

`contracts/package-lock.json` pins them, and `npm ci` installs exactly that into contracts/node_modules. A stamp
inside node_modules holds the digest of the lock file it was installed from, so a changed lock file installs again
(`npm ci` empties node_modules first, stamp included). An exclusive lock on a file beside it lets one test process
install while the others (xdist workers, another run in the same clone) wait for it.
"""

import fcntl
import hashlib
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from tests.support import REPO_ROOT

CONTRACTS = REPO_ROOT / "contracts"
NODE_MODULES = CONTRACTS / "node_modules"
PACKAGE_LOCK = CONTRACTS / "package-lock.json"
STAMP = NODE_MODULES / ".installed-from-package-lock.sha256"
MUTEX = CONTRACTS / ".npm-ci.lock"
NPM_CI_ARGS = ["ci", "--prefix", str(CONTRACTS), "--no-audit", "--no-fund"]


class NpmCiError(Exception):
    """`npm ci` failed; the message holds its output."""


def _lock_digest() -> str:
    return hashlib.sha256(PACKAGE_LOCK.read_bytes()).hexdigest()


def is_current() -> bool:
    """Whether contracts/node_modules was installed by `ensure_node_modules` from today's package-lock.json."""
    return STAMP.is_file() and STAMP.read_text().strip() == _lock_digest()


@contextmanager
def _exclusive(path: Path, progress: TextIO, who: str) -> Iterator[None]:
    with path.open("a") as mutex:
        try:
            fcntl.flock(mutex, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress.write(f"[{who}] contracts/node_modules: waiting for another test process to install it\n")
            progress.flush()
            fcntl.flock(mutex, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(mutex, fcntl.LOCK_UN)


def ensure_node_modules(npm: str, progress: TextIO) -> None:
    """Run `npm ci` for contracts/ unless its node_modules is current, writing what it does to `progress`.

    Raises:
        NpmCiError: npm failed (no network, a broken lock file ...), with its output.
    """
    if is_current():
        return
    who = os.environ.get("PYTEST_XDIST_WORKER", "pytest")
    with _exclusive(MUTEX, progress, who):
        if is_current():  # installed by the process this one waited for
            return
        command = [npm, *NPM_CI_ARGS]
        progress.write(f"[{who}] contracts/node_modules is missing or stale, installing: {' '.join(command)}\n")
        progress.flush()
        started = time.monotonic()
        output: list[str] = []
        with subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                output.append(line)
                progress.write(f"[{who}]   {line}")
                progress.flush()
        if process.returncode != 0:
            raise NpmCiError(f"`{' '.join(command)}` exited {process.returncode}:\n{''.join(output)}")
        STAMP.write_text(_lock_digest() + "\n")
        progress.write(f"[{who}] contracts/node_modules installed in {time.monotonic() - started:.0f} s\n")
        progress.flush()
