"""The lab's faults are named once (sale_orders_lab.catalogue): each has its action, its help line and its row."""

import inspect
import re

from click.testing import CliRunner

from sale_orders_lab import catalogue, faults
from sale_orders_lab.cli import lab
from tests.support import REPO_ROOT


def test_every_fault_has_the_action_named_after_it_and_no_action_is_left_over() -> None:
    actions = {
        name
        for name, value in vars(faults).items()
        if inspect.isfunction(value)
        and list(inspect.signature(value).parameters)[:2] == ["context", "inj"]
        and len(inspect.signature(value).parameters) == 3
    }
    assert actions == {fault.function for fault in catalogue.FAULTS}
    assert all(faults.action(fault).__name__ == fault.function for fault in catalogue.FAULTS)


def test_the_help_and_the_list_name_every_fault_in_order() -> None:
    runner = CliRunner()
    for command in (["run", "--help"], ["faults"]):
        output = runner.invoke(lab, command).output
        shown = re.findall(r"(?m)^\s*([a-z]+(?:-[a-z]+)+)\s{2,}", output)
        assert shown == list(catalogue.NAMES), (command, output)


def test_the_lab_page_has_a_row_per_fault_in_order() -> None:
    page = (REPO_ROOT / "docs" / "lab" / "README.md").read_text()
    rows = re.findall(r"(?m)^\| ([a-z]+-[a-z-]+) \|", page)  # a fault name has a hyphen, the header not
    assert rows == list(catalogue.NAMES)
