"""The experiments stand apart from the reference, as packages that read as such.

The benchmark, the lab, the fault proxy and the tools (with the harness they share) are packages of their own: no
import cycle among their modules (counting imports inside functions and for type checkers too), no import of a
package they must not need, no `sys.path` tricks, and no hand-written module over 400 lines.
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

PACKAGES = {
    "sale_orders": REPO_ROOT / "server" / "sale_orders",
    "sale_orders_tools": REPO_ROOT / "tools" / "sale_orders_tools",
    "sale_orders_faultproxy": REPO_ROOT / "faultproxy" / "sale_orders_faultproxy",
    "sale_orders_lab": REPO_ROOT / "lab" / "sale_orders_lab",
    "sale_orders_bench": REPO_ROOT / "bench" / "sale_orders_bench",
}
EXPERIMENTS = [name for name in PACKAGES if name != "sale_orders"]
# What each package may import of the others: the server none of them, the fault proxy nothing of the project.
ALLOWED = {
    "sale_orders": set(),
    "sale_orders_faultproxy": set(),
    "sale_orders_tools": {"sale_orders", "sale_orders_client"},
    "sale_orders_lab": {"sale_orders", "sale_orders_client", "sale_orders_tools", "sale_orders_faultproxy"},
    "sale_orders_bench": {"sale_orders", "sale_orders_tools", "sale_orders_faultproxy"},
}
FIRST_PARTY = {*PACKAGES, "sale_orders_client"}
LONGEST = 400


def modules(package: str) -> dict[str, Path]:
    """Every module of `package`, by dotted name."""
    root = PACKAGES[package]
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(path: Path, package: str = "") -> Iterator[str]:
    """Every module name an `import` anywhere in the file names (at its top, in a function, for type checkers).

    A relative import (the family twins import their siblings so) is resolved against `package`, the dotted name
    of the file's own package.
    """
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or node.level):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def graph() -> dict[str, set[str]]:
    """First-party module -> the first-party modules it imports."""
    known = {name: path for package in PACKAGES for name, path in modules(package).items()}
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for name_imported in imported(path, package):
            target = name_imported
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
        edges[name] = targets
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            if component:
                found.append(sorted([node, *component]))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_among_the_packages_modules() -> None:
    edges = graph()
    assert len(edges) > 100, "the graph should hold every module of every package"
    assert cycles(edges) == []


@pytest.mark.parametrize("package", list(PACKAGES))
def test_a_package_imports_only_the_packages_it_may(package: str) -> None:
    imports = {target.split(".")[0] for path in modules(package).values() for target in imported(path)} & FIRST_PARTY
    assert imports - {package} <= ALLOWED[package]


def hand_written() -> Iterator[Path]:
    for package in EXPERIMENTS:
        yield from PACKAGES[package].rglob("*.py")
    yield from (REPO_ROOT / "tests" / "support").rglob("*.py")


def test_no_hand_written_module_of_the_experiments_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(REPO_ROOT)): lines
        for path in hand_written()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > LONGEST
    }
    assert long == {}


def test_nothing_reaches_its_imports_by_changing_sys_path() -> None:
    trick = re.compile(r"sys\.path\.(append|insert|extend)|--app-dir|PYTHONPATH=.*bench")
    folders = [*(PACKAGES[package] for package in EXPERIMENTS), REPO_ROOT / "tests"]
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for folder in folders
        for path in folder.rglob("*.py")
        if path != Path(__file__) and trick.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
