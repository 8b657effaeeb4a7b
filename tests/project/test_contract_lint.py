"""The committed contract is lint-clean: Redocly's recommended rules and Spectral's `spectral:oas`, pinned.

Each rule turned off, and each single place ignored, has its reason beside it (contracts/redocly.yaml,
contracts/.redocly.lint-ignore.yaml, contracts/.spectral.yaml). The tools are pinned by contracts/package-lock.json
and installed by the test session when missing (the `contract_node_modules` fixture).
"""

import subprocess
from pathlib import Path

from tests.support.node import CONTRACTS


def test_redocly_finds_no_error_and_no_warning(contract_node_modules: Path) -> None:
    redocly = contract_node_modules / ".bin" / "redocly"
    result = subprocess.run(
        [redocly, "lint", "--config", "redocly.yaml", "--max-problems", "1000", "openapi.json"],
        cwd=CONTRACTS,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in result.stdout.lower(), result.stdout


def test_spectral_finds_no_error_and_no_warning(contract_node_modules: Path) -> None:
    spectral = contract_node_modules / ".bin" / "spectral"
    result = subprocess.run(
        [spectral, "lint", "-r", ".spectral.yaml", "--fail-severity", "warn", "openapi.json"],
        cwd=CONTRACTS,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
