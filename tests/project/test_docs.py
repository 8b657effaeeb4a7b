"""The documentation tells the truth about the commands and files it names.

Every `uv run sale-orders ...` and `just ...` command in the README and the docs exists (its `--help` parses),
and every relative link resolves to a file or folder of the repository.
"""

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from sale_orders.cli import main
from tests.support import REPO_ROOT

DOCUMENTS = sorted(
    [
        REPO_ROOT / "README.md",
        *(REPO_ROOT / "docs").rglob("*.md"),
        REPO_ROOT / "bench" / "README.md",
        REPO_ROOT / "clients" / "python" / "README.md",
    ]
)
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_CLI = re.compile(r"(?:uv run )?sale-orders ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)")
_JUST = re.compile(r"(?:uv run )?just ([a-z][a-z-]*)")


def _ids(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


def _code(text: str) -> str:
    """What the document shows as code: fenced blocks and inline spans."""
    fenced = re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.DOTALL)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.DOTALL))
    return "\n".join([*fenced, *inline])


def _commands_of(group: object) -> set[str]:
    return set(getattr(group, "commands", {}))


def cli_commands() -> set[str]:
    """Every `sale-orders` verb and `group verb`, as the CLI registers them."""
    names = set()
    for name, command in main.commands.items():
        names.add(name)
        names |= {f"{name} {sub}" for sub in _commands_of(command)}
    return names


@pytest.mark.parametrize("document", DOCUMENTS, ids=_ids)
def test_every_relative_link_resolves(document: Path) -> None:
    missing = []
    for target in _LINK.findall(document.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (document.parent / target.split("#", 1)[0]).resolve()
        if not path.exists():
            missing.append(target)
    assert missing == [], f"{_ids(document)} links to what does not exist"


@pytest.mark.parametrize("document", DOCUMENTS, ids=_ids)
def test_every_sale_orders_command_shown_exists(document: Path) -> None:
    known = cli_commands()
    shown = set()
    for words in _CLI.findall(_code(document.read_text(encoding="utf-8"))):
        first, _, second = words.partition(" ")
        shown.add(f"{first} {second}" if f"{first} {second}" in known else first)
    assert sorted(shown - known) == [], f"{_ids(document)} shows commands the CLI does not have"
    for command in sorted(shown):
        result = CliRunner().invoke(main, [*shlex.split(command), "--help"])
        assert result.exit_code == 0, (command, result.output)


def test_the_readme_shows_the_two_commands() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "uv run sale-orders serve" in readme
    assert "uv run pytest" in readme


def just_recipes() -> set[str]:
    text = (REPO_ROOT / "justfile").read_text(encoding="utf-8")
    return set(re.findall(r"(?m)^([a-z][a-z-]*)(?:\s[^:]*)?:", text))


@pytest.mark.parametrize("document", DOCUMENTS, ids=_ids)
def test_every_just_recipe_shown_exists(document: Path) -> None:
    shown = set(_JUST.findall(_code(document.read_text(encoding="utf-8"))))
    assert sorted(shown - just_recipes()) == [], f"{_ids(document)} shows recipes the justfile does not have"


def _settings_table() -> dict[str, str | None]:
    """The operating page's settings table: each variable it names, and its default where its row names one."""
    rows: dict[str, str | None] = {}
    for line in (REPO_ROOT / "docs" / "operating.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) >= 3:
            names = re.findall(r"`([A-Z_]+)`", cells[0])
            for name in names:
                rows[name] = cells[1].strip("`") if len(names) == 1 else None
    return rows


def test_the_operating_page_lists_every_setting_with_its_default() -> None:
    from sale_orders.settings import Settings  # noqa: PLC0415 - only this test reads it

    table = _settings_table()
    assert {name.upper() for name in Settings.model_fields} <= set(table), "settings missing from docs/operating.md"
    machine_dependent = {"sync_threads", "sync_pool_size", "async_pool_size"}  # the table gives the formula
    for name, field in Settings.model_fields.items():
        shown = table[name.upper()]
        if type(field.default) in {int, float} and shown is not None and name not in machine_dependent:
            assert shown == f"{field.default:g}", f"{name.upper()}: docs/operating.md says {shown}"
