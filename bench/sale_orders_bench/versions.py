"""The versions an A/B run compares: where each one's code is, the Python that runs it, and its server.

A git ref is checked out into a temporary `git worktree`, removed when the run ends however it ends, and
installed into a virtual environment of its own (`uv sync --locked`); the working tree runs in the bench's
own environment; another checkout runs in its own `.venv`. Migration heads are read before anything is
installed, from each version's own migrations, so refusing two versions that cannot share a schema is quick.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from sale_orders_bench.errors import HarnessError
from sale_orders_bench.servers import REPO, server_env
from sale_orders_tools.harness import servers
from sale_orders_tools.harness.servers import ServerProcess, free_port

# What would point uv or Python at the bench's own environment instead of the version's.
FOREIGN_ENVIRONMENT = {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME"}
HEADS = (
    "from alembic.script import ScriptDirectory; from sale_orders.db.migrate import MIGRATIONS; "
    "print(' '.join(sorted(ScriptDirectory(str(MIGRATIONS)).get_heads())))"
)
# Every revision from the heads down to the base, in one version's migrations.
HISTORY = (
    "from alembic.script import ScriptDirectory; from sale_orders.db.migrate import MIGRATIONS; "
    "print(' '.join(r.revision for r in ScriptDirectory(str(MIGRATIONS)).walk_revisions()))"
)


@dataclass
class Version:
    """One version of the API: where its code is, and (once installed) the Python that runs it."""

    label: str  # "A" or "B"
    ref: str  # what was asked for: a git ref, a checkout's path, or the working tree
    commit: str
    tree: Path
    python: str = ""
    needs_install: bool = False  # a temporary worktree, installed by the bench

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run `python args` of this version; its standard output, or HarnessError with what it printed."""
        command = [self.python, *args]
        result = subprocess.run(
            command, cwd=REPO, env=env or own_environment(), capture_output=True, text=True, check=False
        )
        if result.returncode:
            raise HarnessError(f"version {self.label} ({self.ref}): {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def describe(self) -> dict[str, str]:
        return {"label": self.label, "ref": self.ref, "commit": self.commit, "tree": str(self.tree)}


def own_environment(**extra: str) -> dict[str, str]:
    return {**{key: value for key, value in os.environ.items() if key not in FOREIGN_ENVIRONMENT}, **extra}


def _git(*args: str, cwd: Path = REPO) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode:
        raise HarnessError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def _commit_of(tree: Path) -> str:
    try:
        commit = _git("rev-parse", "--short", "HEAD", cwd=tree)
    except HarnessError:
        return "not a git checkout"
    changed = _git("status", "--porcelain", "--", "server", cwd=tree)
    return commit + (" +changes in server/" if changed else "")


@contextmanager
def _worktree(ref: str, label: str, workdir: Path) -> Iterator[Version]:
    try:
        commit = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except HarnessError:
        raise HarnessError(f"{ref!r} is neither a git ref (branch, tag, commit) nor a directory") from None
    tree = workdir / f"version-{label}"
    print(f"version {label}: checking out {ref} ({commit[:10]}) in {tree} ...", flush=True)
    _git("worktree", "add", "--detach", str(tree), commit)
    try:
        yield Version(label, ref, commit[:10], tree, needs_install=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO, capture_output=True, check=False)
        shutil.rmtree(tree, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=REPO, capture_output=True, check=False)


@contextmanager
def checkout(ref: str | None, label: str, workdir: Path) -> Iterator[Version]:
    """The working tree (None), another checkout (a directory), or a git ref (a temporary worktree in `workdir`)."""
    if ref is None:
        yield Version(label, "working tree", _commit_of(REPO), REPO, sys.executable)
    elif Path(ref).is_dir():
        tree = Path(ref).resolve()
        yield Version(label, ref, _commit_of(tree), tree)
    else:
        with _worktree(ref, label, workdir) as version:
            yield version


def _read(version: Version, program: str, what: str) -> str:
    """What `program` prints, run by the bench's Python on the version's own code."""
    env = own_environment(PYTHONPATH=str(version.tree / "server"))
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise HarnessError(f"cannot read the {what} of {version.label} ({version.ref}):\n{result.stderr}")
    return result.stdout.strip()


def migration_heads(version: Version) -> str:
    """The version's migration heads."""
    return _read(version, HEADS, "migration heads")


def require_compatible_heads(a: Version, b: Version) -> tuple[str, bool]:
    """The migration heads the database ends at, and whether B must migrate it after A did.

    Both versions share one database: the same heads, or B's migrations extending A's (B then upgrades
    what A created: the older version runs on the newer schema, as in a rolling deployment).

    Raises:
        HarnessError: B's migrations do not contain A's heads, so no schema fits both.
    """
    first, second = migration_heads(a), migration_heads(b)
    if first == second:
        return first, False
    if set(first.split()) <= set(_read(b, HISTORY, "migration history").split()):
        return f"{first} (A) -> {second} (B)", True
    msg = (
        f"A ({a.ref}) has migration head(s) {first or 'none'} and B ({b.ref}) has {second or 'none'}, and B's "
        "migrations do not extend A's: they cannot share one database. Compare versions with compatible migrations."
    )
    raise HarnessError(msg)


def install(version: Version, logs: Path) -> None:
    """Give the version its Python: `uv sync --locked` in a temporary worktree, or another checkout's `.venv`."""
    if version.python:
        return
    python = version.tree / ".venv" / "bin" / "python"
    if version.needs_install:
        uv = os.environ.get("UV") or shutil.which("uv")
        if uv is None:
            raise HarnessError(f"uv is not on PATH: it installs version {version.label}'s environment")
        print(f"version {version.label}: uv sync --locked --no-dev --all-packages in {version.tree} ...", flush=True)
        log = logs / f"uv-sync-{version.label}.log"
        with log.open("w") as output:
            # No dev group (tests, linters); every workspace member, so that a version whose `demo-data` is a
            # development verb (sale_orders_tools) has it too.
            command = [uv, "sync", "--locked", "--no-dev", "--all-packages"]
            synced = subprocess.run(
                command, cwd=version.tree, env=own_environment(), stdout=output, stderr=output, check=False
            )
        if synced.returncode:
            raise HarnessError(f"uv sync --locked failed for {version.ref}: see {log}")
    elif not python.exists():
        raise HarnessError(f"{version.tree} has no .venv: run `uv sync --locked` there first")
    version.python = str(python)


def serve_options(version: Version, migrate: bool) -> list[str]:
    """`serve` options this version has: no access log (as the matrix), and no migrations for the second one."""
    available = version.run("-m", "sale_orders.cli", "serve", "--help")
    options = [option for option in ("--no-access-log",) if option in available]
    if not migrate and "--no-migrate" in available:
        options.append("--no-migrate")
    return options


def _server_env(url: URL) -> dict[str, str]:
    return {key: value for key, value in server_env(url).items() if key not in FOREIGN_ENVIRONMENT}


@contextmanager
def serve(version: Version, url: URL, workers: int, logs: Path, *, migrate: bool) -> Iterator[ServerProcess]:
    """`sale-orders serve` of this version on a free port; run from this repository, so both versions read one .env."""
    port = free_port()
    options = [*serve_options(version, migrate), "--workers", str(workers)]
    command = [version.python, "-m", "sale_orders.cli", "serve", "--port", str(port), *options]
    log = logs / f"api-{version.label}-{port}.log"
    server = servers.start(command, port=port, log=log, env=_server_env(url), cwd=REPO, name=f"api {version.label}")
    try:
        yield server
    finally:
        server.stop()


def load_demo_data(version: Version, url: URL, orders: int) -> None:
    """Demo data written by the version's own loader: it fits the schema whatever the working tree holds."""
    version.run("-m", "sale_orders.cli", "demo-data", "--orders", str(orders), env=_server_env(url))
