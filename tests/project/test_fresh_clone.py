"""A fresh clone syncs without warnings: no workspace member ties its build backend to uv's own version."""

import re
import tomllib

from tests.support import REPO_ROOT


def test_no_package_pins_uv_build_to_a_range_of_uv_versions() -> None:
    # uv warns on every `uv sync` of a fresh clone when its version is outside a member's uv_build range.
    root = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    members = ["", *root["tool"]["uv"]["workspace"]["members"]]
    for member in members:
        pyproject = tomllib.loads((REPO_ROOT / member / "pyproject.toml").read_text())
        requires = pyproject.get("build-system", {}).get("requires", [])
        assert not [r for r in requires if re.match(r"uv[-_]build\b", r)], (member or ".", requires)
