"""Helpers for the tests, in one place: conftest files define fixtures from these, and tests import these."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
