"""The sync family is generated from the async one by unasyncd ([tool.unasyncd] in pyproject.toml).

unasyncd runs in an environment of its own (its pinned `rich` conflicts with Schemathesis'), with the ruff
version the project pins in its dev group, read from pyproject.toml: each tool has one pin.
"""

import filecmp
import re
import shutil
import subprocess
import tempfile
import tomllib
from pathlib import Path

UNASYNCD = "unasyncd==0.10.1"
SOURCE = Path("server/sale_orders/family/_async")
TWIN = Path("server/sale_orders/family/_sync")


def ruff_pin(pyproject: Path = Path("pyproject.toml")) -> str:
    """The project's own `ruff==X.Y.Z` requirement, from its dev group."""
    groups = tomllib.loads(pyproject.read_text(encoding="utf-8"))["dependency-groups"]["dev"]
    pins = [entry for entry in groups if isinstance(entry, str) and re.fullmatch(r"ruff==[\w.]+", entry)]
    if len(pins) != 1:
        msg = f"{pyproject} pins ruff {len(pins)} times in its dev group; expected exactly once (`ruff==X.Y.Z`)"
        raise RuntimeError(msg)
    return pins[0]


def generate(root: Path = Path()) -> None:
    """Regenerate `TWIN` from `SOURCE` under `root`, as `[tool.unasyncd]` says.

    Raises:
        RuntimeError: unasyncd failed (it exits 1 when it rewrote files, as a pre-commit hook does: that is fine).
    """
    command = [
        "uvx",
        "--from",
        UNASYNCD,
        "--with",
        ruff_pin(root / "pyproject.toml"),
        "unasyncd",
        "--force",
        "--no-cache",
    ]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode not in {0, 1} or "transformed" not in result.stdout:
        msg = f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        raise RuntimeError(msg)


def stale_files(root: Path = Path()) -> list[str]:
    """The files of `TWIN` that differ from what unasyncd generates now (generated in a scratch copy)."""
    with tempfile.TemporaryDirectory(prefix="sale-orders-twin-") as scratch:
        copy = Path(scratch)
        shutil.copy(root / "pyproject.toml", copy / "pyproject.toml")
        shutil.copytree(root / SOURCE, copy / SOURCE, ignore=shutil.ignore_patterns("__pycache__"))
        generate(copy)
        generated = sorted(path.name for path in (copy / TWIN).glob("*.py"))
        committed = sorted(path.name for path in (root / TWIN).glob("*.py"))
        changed = [
            name
            for name in generated
            if name in committed and not filecmp.cmp(copy / TWIN / name, root / TWIN / name, shallow=False)
        ]
        return changed + sorted(set(generated) ^ set(committed))
