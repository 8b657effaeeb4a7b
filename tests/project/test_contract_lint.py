"""The committed contract is lint-clean: Redocly's recommended rules and Spectral's `spectral:oas`, pinned.

Each rule turned off, and each single place ignored, has its reason beside it (contracts/redocly.yaml,
contracts/.redocly.lint-ignore.yaml, contracts/.spectral.yaml). The tools come from contracts/package.json
(`npm ci --prefix contracts`, as .ci/run does).
"""

import subprocess
from pathlib import Path

import pytest

from tests.support import REPO_ROOT
from tests.support.tools import require_tool

CONTRACTS = REPO_ROOT / "contracts"


def linter(name: str) -> Path:
    require_tool("node", install="apt-get install nodejs npm")
    path = CONTRACTS / "node_modules" / ".bin" / name
    if not path.exists():
        pytest.fail(f"{name} is not installed: run `npm ci --prefix contracts` (.ci/run does)")
    return path


def test_redocly_finds_no_error_and_no_warning() -> None:
    result = subprocess.run(
        [linter("redocly"), "lint", "--config", "redocly.yaml", "--max-problems", "1000", "openapi.json"],
        cwd=CONTRACTS,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in result.stdout.lower(), result.stdout


def test_spectral_finds_no_error_and_no_warning() -> None:
    result = subprocess.run(
        [linter("spectral"), "lint", "-r", ".spectral.yaml", "--fail-severity", "warn", "openapi.json"],
        cwd=CONTRACTS,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
