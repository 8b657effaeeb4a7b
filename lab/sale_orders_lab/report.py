"""Figures per fault, from the clients' log and the SQL check; results.json, results.md and the last line.

A fault's window runs from its injection to the next one's (its recovery and quiet time included); a call
counts against the fault under way when it started. Write outage: the longest time in the window during
which no client got a create acknowledged, from the injection on. Recovered: from the injection until every
API host itself created an order in both families and HAProxy saw all of them UP again.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sale_orders_lab import catalogue

if TYPE_CHECKING:
    from pathlib import Path

    from sale_orders_lab.clients import Op
    from sale_orders_lab.faults import Injection
    from sale_orders_lab.verify import Stored

OK_STATUSES = {200, 201}
COMMANDS = {"full": "run", "quick": "run --quick", "no faults": "baseline"}
"""The command that makes each mode of run."""


@dataclass(frozen=True)
class Window:
    label: str
    start: float
    end: float


def _figures(window: Window, ops: list[Op], stored: list[Stored], injection: Injection | None) -> dict[str, Any]:
    mine = [op for op in ops if op.fault == window.label]
    clients = [op for op in mine if not op.client.startswith("probe")]
    checks = [item for item in stored if item.op.fault == window.label]
    errors = Counter(f"{op.kind} {op.outcome}" for op in clients if op.status not in OK_STATUSES)
    probe_errors = Counter(
        f"{op.kind} {op.outcome}" for op in mine if op.client.startswith("probe") and not op.acknowledged
    )
    acks = sorted(op.started + op.seconds for op in clients if op.acknowledged)
    points = [window.start, *[t for t in acks if window.start <= t <= window.end], window.end]
    outage = max(b - a for a, b in itertools.pairwise(points)) if len(points) > 1 else 0.0
    figures: dict[str, Any] = {
        "label": window.label,
        "calls": len(clients),
        "creates": sum(op.kind.startswith("create") for op in clients),
        "acknowledged": sum(op.acknowledged for op in clients),
        "acknowledged_lost": sum(item.lost for item in checks),
        "duplicated": sum(item.duplicates for item in checks if item.op.key),
        "duplicated_unkeyed": sum(item.duplicates for item in checks if not item.op.key),
        "key_mismatches": sum(item.key_mismatch for item in checks),
        "stored_unacknowledged": sum(1 for item in checks if not item.op.acknowledged and item.orders > 0),
        "errors": dict(sorted(errors.items())),
        "probe_errors": dict(sorted(probe_errors.items())),
        "read_misses": sum(1 for op in clients if op.kind == "read" and op.status == 404),
        "longest_wait_s": round(max((op.seconds for op in clients), default=0.0), 2),
        "write_outage_s": round(outage, 2),
    }
    if injection is not None:
        figures.update(
            {
                "fault": injection.name,
                "round": injection.round,
                "target": injection.target,
                "description": catalogue.BY_NAME[injection.name].description,
                "injected": injection.injected,
                "error": injection.error,
                "recovered_s": None
                if injection.recovered is None
                else round(injection.recovered - injection.started, 2),
                "notes": injection.notes,
            }
        )
    return figures


def figures(
    ops: list[Op], stored: list[Stored], injections: list[Injection], baseline_start: float, end: float
) -> list[dict[str, Any]]:
    """One entry for the baseline, then one per injection, in order."""
    starts = [inj.started for inj in injections] + [end]
    windows = [Window("baseline", baseline_start, starts[0])]
    windows += [Window(inj.label, inj.started, starts[i + 1]) for i, inj in enumerate(injections)]
    by_label = {inj.label: inj for inj in injections}
    return [_figures(window, ops, stored, by_label.get(window.label)) for window in windows]


def summary(rows: list[dict[str, Any]], unknown_orders: int, failed: str) -> dict[str, Any]:
    faults = [row for row in rows if "fault" in row]
    errors: Counter[str] = Counter()
    for row in rows:
        for outcome, count in row["errors"].items():
            errors[outcome.split(" ", 1)[1]] += count
    failover = [row for row in faults if row["fault"] == "primary-kill"]
    return {
        "faults": sum(row["injected"] for row in faults),
        "faults_failed": [row["label"] for row in faults if not row["injected"]],
        "not_recovered": [row["label"] for row in faults if row["injected"] and row["recovered_s"] is None],
        "fault_names": sorted({row["fault"] for row in faults if row["injected"]}),
        "acknowledged": sum(row["acknowledged"] for row in rows),
        "acknowledged_lost": sum(row["acknowledged_lost"] for row in rows),
        "duplicated": sum(row["duplicated"] for row in rows),
        "duplicated_unkeyed": sum(row["duplicated_unkeyed"] for row in rows),
        "key_mismatches": sum(row["key_mismatches"] for row in rows),
        "unknown_orders": unknown_orders,
        "client_errors": dict(sorted(errors.items())),
        "longest_wait_s": max((row["longest_wait_s"] for row in rows), default=0.0),
        "failover_write_outage_s": max((row["write_outage_s"] for row in failover), default=None),
        "recovered_s_max": max((row["recovered_s"] or 0.0 for row in faults), default=None),
        "failed": failed,
    }


def final_line(total: dict[str, Any]) -> str:
    errors = sum(total["client_errors"].values())
    by_status = ", ".join(f"{outcome}: {count}" for outcome, count in total["client_errors"].items()) or "none"
    outage = total["failover_write_outage_s"]
    recovered = total["recovered_s_max"]
    return (
        f"lab: {total['faults']} faults, acknowledged lost {total['acknowledged_lost']},"
        f" duplicated {total['duplicated']}, unkeyed duplicated {total['duplicated_unkeyed']},"
        f" acknowledged {total['acknowledged']}, client errors {errors} ({by_status}),"
        f" longest wait {total['longest_wait_s']:.1f} s,"
        f" failover write outage {'-' if outage is None else f'{outage:.1f} s'},"
        f" every host writable again within {'-' if recovered is None else f'{recovered:.1f} s'}"
        + (f", NOT RECOVERED: {' '.join(total['not_recovered'])}" if total["not_recovered"] else "")
        + (f", FAULTS FAILED: {' '.join(total['faults_failed'])}" if total["faults_failed"] else "")
        + (f", FAILED: {total['failed']}" if total["failed"] else "")
    )


def passed(total: dict[str, Any]) -> bool:
    return (
        not total["failed"]
        and not total["faults_failed"]
        and not total["not_recovered"]
        and total["acknowledged_lost"] == 0
        and total["duplicated"] == 0
        and total["duplicated_unkeyed"] == 0
        and total["key_mismatches"] == 0
        and total["unknown_orders"] == 0
    )


def write(folder: Path, result: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    (folder / "results.md").write_text(markdown(result))


def _errors(row: dict[str, Any]) -> str:
    return ", ".join(f"{outcome} x{count}" for outcome, count in row["errors"].items()) or "-"


def markdown(result: dict[str, Any]) -> str:
    total = result["summary"]
    lines = [
        f"# Lab run: {result['mode']}",
        "",
        (
            f"Written by `uv run sale-orders lab {COMMANDS[result['mode']]}` (lab/sale_orders_lab); every figure is"
            " from the clients' own log, checked in SQL."
        ),
        "",
        f"- when: {result['when']}, commit {result['commit']}, {result['seconds']:.0f} s in all",
        f"- {result['clients']} clients through HAProxy, SDK retries: {result['sdk_retries']}",
        f"- final line: `{result['final_line']}`",
        "",
        (
            "| fault | target | acknowledged | lost | duplicated (keyed / unkeyed) | client errors | longest wait s"
            " | write outage s | recovered s | notes |"
        ),
        "|---|---|--:|--:|--:|---|--:|--:|--:|---|",
    ]
    for row in result["faults"]:
        notes = "; ".join(f"{key} {value}" for key, value in row.get("notes", {}).items())
        if row.get("error"):
            notes = f"FAILED: {row['error'].splitlines()[0]}; {notes}"
        recovered = row.get("recovered_s")
        lines.append(
            f"| {row['label']} | {row.get('target', '-')} | {row['acknowledged']} | {row['acknowledged_lost']}"
            f" | {row['duplicated']} / {row['duplicated_unkeyed']} | {_errors(row)} | {row['longest_wait_s']}"
            f" | {row['write_outage_s']} | {'-' if recovered is None else recovered} | {notes or '-'} |"
        )
    lines += [
        "",
        (
            f"Totals: {total['faults']} faults injected, {total['acknowledged']} orders acknowledged,"
            f" {total['acknowledged_lost']} lost, {total['duplicated']} duplicated for a key,"
            f" {total['duplicated_unkeyed']} unkeyed creates stored twice,"
            f" {total['key_mismatches']} keys naming another order, {total['unknown_orders']} orders no client sent."
        ),
        "",
        "Teardown: " + ("nothing left" if result["teardown"]["clean"] else f"LEFT {result['teardown']}") + ".",
        "",
    ]
    return "\n".join(lines)
