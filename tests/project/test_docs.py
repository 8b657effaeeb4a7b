"""The documentation tells the truth about the commands, files and code it names.

Every `uv run sale-orders ...` and `just ...` command in the README and the docs exists (its `--help` parses),
every relative link resolves to a file or folder of the repository, and so does every file the docs and the
server's docstrings and comments name (`family/record.py`, `test_twin.py`), and every name of the server's code
they show (`sale_orders.web.edge`, `orders.order_for_update`, `Family.session_key`).
"""

import ast
import importlib
import inspect
import io
import pkgutil
import re
import shlex
import tokenize
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner

import sale_orders
from sale_orders.cli import COMMANDS_ENTRY_POINTS, main
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


# Files and code named in prose. The benchmark history, its archive and the generated results pages are records of
# a past run: they name files as they were then, and are not held to today's tree.
RECORDS = ("docs/benchmarks/", "docs/lab/results.md")
CURRENT_DOCUMENTS = [document for document in DOCUMENTS if not _ids(document).startswith(RECORDS)]
SERVER = REPO_ROOT / "server" / "sale_orders"
SERVER_MODULES = sorted(path for path in SERVER.rglob("*.py") if "migrations" not in path.parts)
_NOT_SOURCE = {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".data"}
_EXTENSIONS = r"(?:py|md|toml|json|ya?ml|j2|jinja|sh|lock|cfg|ini|txt|html|css|js|csv|png|svg)"
# A file's name, with or without folders before it: not part of a URL, a longer path or a longer name.
_FILE = re.compile(rf"(?<![\w./:@$-])((?:\.{{1,2}}/)*(?:[\w.-]+/)*[\w-]+(?:\.[\w-]+)*\.{_EXTENSIONS})(?![\w/]|\.\w)")
_SERVER_NAME = re.compile(r"\bsale_orders(?:\.[A-Za-z_]\w*)+")
_DOTTED = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?:\(.*\))?$")


@cache
def repository_files() -> tuple[frozenset[str], frozenset[str]]:
    """Every file of the working tree (paths from the root), and every file name."""
    paths = set()
    pending = [REPO_ROOT]
    while pending:
        for child in pending.pop().iterdir():
            if child.name in _NOT_SOURCE:
                continue
            if child.is_dir():
                pending.append(child)
            else:
                paths.add(child.relative_to(REPO_ROOT).as_posix())
    return frozenset(paths), frozenset(path.rpartition("/")[2] for path in paths)


def file_exists(named: str, near: Path, bare_in: list[Path] | None) -> bool:
    """Whether the file `named` exists: relative to `near`, or as the end of a path of the repository.

    A bare name (no folder) is looked for in `bare_in` and their subfolders, or anywhere when that is None.
    """
    paths, names = repository_files()
    if named.startswith("."):
        return (near / named).exists()
    if "/" not in named:
        return named in names if bare_in is None else any(any(folder.rglob(named)) for folder in bare_in)
    return named in paths or any(path.endswith(f"/{named}") for path in paths)


def docstrings_and_comments(path: Path) -> str:
    """What a module says in prose: its docstrings and its comments."""
    source = path.read_text(encoding="utf-8")
    texts = [
        docstring
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and (docstring := ast.get_docstring(node, clean=False))
    ]
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    texts += [token.string for token in tokens if token.type == tokenize.COMMENT]
    return "\n".join(texts)


@pytest.mark.parametrize("document", CURRENT_DOCUMENTS, ids=_ids)
def test_every_file_a_document_names_exists(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    missing = sorted({named for named in _FILE.findall(text) if not file_exists(named, document.parent, None)})
    assert missing == [], f"{_ids(document)} names files that do not exist"


def test_every_file_the_servers_docstrings_and_comments_name_exists() -> None:
    # A bare name is the module's neighbour (or in a folder below it), a module of the server, or a top-level file.
    missing = [
        f"{_ids(path)}: {named}"
        for path in SERVER_MODULES
        for named in _FILE.findall(docstrings_and_comments(path))
        if not file_exists(named, path.parent, [path.parent, SERVER]) and not (REPO_ROOT / named).is_file()
    ]
    assert missing == []


@cache
def server_code() -> tuple[dict[str, ModuleType], dict[str, list[Any]], dict[str, list[Any]]]:
    """Every module of the server by dotted name, the modules by their last name, and its classes by name."""
    modules: dict[str, ModuleType] = {"sale_orders": sale_orders}
    for info in pkgutil.walk_packages(sale_orders.__path__, "sale_orders."):
        if ".migrations" not in info.name:
            modules[info.name] = importlib.import_module(info.name)
    by_last_name: dict[str, list[Any]] = {}
    classes: dict[str, list[Any]] = {}
    for name, module in modules.items():
        by_last_name.setdefault(name.rpartition(".")[2], []).append(module)
        for member_name, member in vars(module).items():
            if inspect.isclass(member) and member.__module__ == name:
                classes.setdefault(member_name, []).append(member)
    return modules, by_last_name, classes


def has_attributes(owner: Any, names: list[str]) -> bool:
    """Whether `owner.a.b...` exists: an attribute, or a field a model or dataclass declares."""
    for name in names:
        fields = {**getattr(owner, "model_fields", {}), **getattr(owner, "__dataclass_fields__", {})}
        if not hasattr(owner, name):
            return name in fields or name in getattr(owner, "__annotations__", {})
        owner = getattr(owner, name)
    return True


def resolves(dotted: str) -> bool | None:
    """Whether a dotted name of the server's code exists; None when it names no module or class of the server.

    `sale_orders.x.y` is looked up from its longest importable module; `orders.order_creation` in every module
    whose last name is `orders`; `Family.session_key` in every class of that name.
    """
    modules, by_last_name, classes = server_code()
    first, *rest = dotted.split(".")
    if first == "sale_orders":
        parts = dotted.split(".")
        longest = max(index for index in range(1, len(parts) + 1) if ".".join(parts[:index]) in modules)
        return has_attributes(modules[".".join(parts[:longest])], parts[longest:])
    owners = by_last_name.get(first) or classes.get(first)
    return None if owners is None else any(has_attributes(owner, rest) for owner in owners)


def names_shown(text: str) -> Iterator[str]:
    """The server's dotted names a text shows: `sale_orders.x.y` anywhere, and `a.b` in code spans."""
    yield from _SERVER_NAME.findall(text)
    for span in re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.DOTALL)):
        if (match := _DOTTED.match(span.strip())) and not _FILE.fullmatch(match.group(1)):
            yield match.group(1)


def unresolved(text: str) -> list[str]:
    return sorted({name for name in names_shown(text) if name != COMMANDS_ENTRY_POINTS and resolves(name) is False})


@pytest.mark.parametrize("document", CURRENT_DOCUMENTS, ids=_ids)
def test_every_name_of_the_servers_code_a_document_shows_exists(document: Path) -> None:
    assert unresolved(document.read_text(encoding="utf-8")) == [], f"{_ids(document)} shows names that do not exist"


def test_every_name_of_the_servers_code_its_docstrings_show_exists() -> None:
    missing = {_ids(path): names for path in SERVER_MODULES if (names := unresolved(docstrings_and_comments(path)))}
    assert missing == {}
