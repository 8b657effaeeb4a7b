"""Figures per fault, from the clients' log and the SQL check; results.json, results.md and the last line.

A fault's window runs from its injection to the next one's (its recovery and quiet time included); a call
counts against the fault under way when it started. Write outage: the longest time in the window during
which no client got a create acknowledged, from the injection on. Recovered: from the injection until every
API host itself created an order in both families and HAProxy saw all of them UP again. Reads: what they missed
(`reads`), and the share standbys answered (each host's /metrics, `counters`). The measurement phases after the
faults (`measure`) have windows of their own, so their creates are checked and counted too.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sale_orders_lab import catalogue, reads
from sale_orders_lab.clients import READS
from sale_orders_lab.counters import standby_share
from sale_orders_lab.hosts import MAX_STALENESS_MS

if TYPE_CHECKING:
    from pathlib import Path

    from sale_orders_lab.clients import Op
    from sale_orders_lab.injection import Injection
    from sale_orders_lab.verify import Stored

OK_STATUSES = {200, 201}
NOT_FOUND = 404
COMMANDS = {"full": "run", "quick": "run --quick", "no faults": "baseline", "reads": "reads"}
"""The command that makes each mode of run."""


@dataclass(frozen=True)
class Window:
    label: str
    start: float
    end: float


@dataclass(frozen=True)
class Seen:
    """What every window is judged against: every acknowledged create, and where each window's reads were answered."""

    acked: dict[int, reads.Acked]
    served: dict[str, Counter[str]]


def _figures(
    window: Window, ops: list[Op], stored: list[Stored], injection: Injection | None, seen: Seen
) -> dict[str, Any]:
    mine = [op for op in ops if op.fault == window.label]
    clients = [op for op in mine if not op.client.startswith(("probe", "watch"))]
    checks = [item for item in stored if item.op.fault == window.label]
    # A read's 404 is not an error of the service: `reads` judges what it missed (stale, RYW, or within the bound).
    errors = Counter(
        f"{op.kind} {op.outcome}"
        for op in clients
        if op.status not in OK_STATUSES and not (op.kind in READS and op.status == NOT_FOUND)
    )
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
        "longest_wait_s": round(max((op.seconds for op in clients), default=0.0), 2),
        "write_outage_s": round(outage, 2),
        "balancer_errors": sum(1 for op in clients if op.status >= 500 and not op.host),
        **reads.figures(
            [op for op in mine if op.kind in READS],
            [op for op in mine if op.kind.startswith("create")],
            seen.acked,
            MAX_STALENESS_MS / 1000,
        ),
        "reads_served": dict(seen.served.get(window.label, {})),
        "standby_share": standby_share(seen.served[window.label]) if window.label in seen.served else None,
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


def figures(  # noqa: PLR0913, PLR0917 - the run's log, its check, and its windows
    ops: list[Op],
    stored: list[Stored],
    injections: list[Injection],
    baseline_start: float,
    end: float,
    phases: list[Window],
    served: dict[str, Counter[str]],
) -> list[dict[str, Any]]:
    """One entry for the baseline, one per injection, one per measurement phase, in order."""
    starts = [inj.started for inj in injections] + [phases[0].start if phases else end]
    windows = [Window("baseline", baseline_start, starts[0])]
    windows += [Window(inj.label, inj.started, starts[i + 1]) for i, inj in enumerate(injections)]
    by_label = {inj.label: inj for inj in injections}
    seen = Seen(reads.acknowledged(ops), served)
    return [_figures(window, ops, stored, by_label.get(window.label), seen) for window in [*windows, *phases]]


def summary(rows: list[dict[str, Any]], unknown_orders: int, failed: str) -> dict[str, Any]:
    faults = [row for row in rows if "fault" in row]
    errors: Counter[str] = Counter()
    for row in rows:
        for outcome, count in row["errors"].items():
            errors[outcome.split(" ", 1)[1]] += count
    failover = [row for row in faults if row["fault"] in {"primary-kill", "patroni-kill"}]
    served: Counter[str] = Counter()
    for row in rows:
        served.update(row["reads_served"])
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
        "reads": sum(row["reads"] for row in rows),
        "stale_reads": sum(row["stale_reads"] for row in rows),
        "ryw_violations": sum(row["ryw_violations"] for row in rows),
        "lagging_reads": sum(row["lagging_reads"] for row in rows),
        "untokened_reads_answered": sum(row["untokened_reads_answered"] for row in rows),
        "reads_back_answered": sum(row["reads_back_answered"] for row in rows),
        "reads_back_through_another_host": sum(row["reads_back_through_another_host"] for row in rows),
        "reads_served": dict(served),
        "standby_share": standby_share(served),
        "balancer_errors": sum(row["balancer_errors"] for row in rows),
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
    share = total["standby_share"]
    return (
        f"lab: {total['faults']} faults, acknowledged lost {total['acknowledged_lost']},"
        f" duplicated {total['duplicated']}, unkeyed duplicated {total['duplicated_unkeyed']},"
        f" stale reads {total['stale_reads']}, read-your-writes violations {total['ryw_violations']},"
        f" acknowledged {total['acknowledged']}, reads {total['reads']}"
        f" ({'-' if share is None else f'{share:.0%}'} answered by standbys), client errors {errors} ({by_status}),"
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
        and total["stale_reads"] == 0
        and total["ryw_violations"] == 0
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
            " from the clients' own log, checked in SQL; reads answered by standbys from each API host's /metrics."
        ),
        "",
        f"- when: {result['when']}, commit {result['commit']}, {result['seconds']:.0f} s in all",
        f"- {result['clients']} clients through HAProxy, SDK retries: {result['sdk_retries']}",
        f"- final line: `{result['final_line']}`",
        "",
        (
            "| window | target | acknowledged | lost | duplicated (keyed / unkeyed) | reads | stale / RYW | standby"
            " share | client errors | longest wait s | write outage s | recovered s | notes |"
        ),
        "|---|---|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|---|",
    ]
    for row in result["faults"]:
        notes = "; ".join(f"{key} {value}" for key, value in row.get("notes", {}).items() if key != "api_hosts")
        if row.get("error"):
            notes = f"FAILED: {row['error'].splitlines()[0]}; {notes}"
        recovered = row.get("recovered_s")
        share = row.get("standby_share")
        lines.append(
            f"| {row['label']} | {row.get('target', '-')} | {row['acknowledged']} | {row['acknowledged_lost']}"
            f" | {row['duplicated']} / {row['duplicated_unkeyed']} | {row['reads']}"
            f" | {row['stale_reads']} / {row['ryw_violations']} | {'-' if share is None else f'{share:.0%}'}"
            f" | {_errors(row)} | {row['longest_wait_s']} | {row['write_outage_s']}"
            f" | {'-' if recovered is None else recovered} | {notes or '-'} |"
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
        (
            f"Reads: {total['reads']}, {total['stale_reads']} stale, {total['ryw_violations']} read-your-writes"
            f" violations; {total['reads_back_through_another_host']} of {total['reads_back_answered']} reads back"
            f" answered by another API host than the create; {total['lagging_reads']} of"
            f" {total['untokened_reads_answered']} reads without a token missed a write acknowledged less than"
            f" {MAX_STALENESS_MS} ms before (what the bound allows); answered by standbys: {total['reads_served']};"
            f" {total['balancer_errors']} errors were the balancer's own."
        ),
        *_failovers(result["faults"]),
        *_measured(result.get("measured") or {}),
        "",
        "Teardown: " + ("nothing left" if result["teardown"]["clean"] else f"LEFT {result['teardown']}") + ".",
        "",
    ]
    return "\n".join(lines)


def _failovers(rows: list[dict[str, Any]]) -> list[str]:
    """Each failover as every API host saw it, straight (not through the balancer)."""
    found = [row for row in rows if isinstance(row.get("notes", {}).get("api_hosts"), dict)]
    if not found:
        return []
    lines = [
        "",
        "Failovers seen from each API host (writes and reads straight on it every 0.1 s, from the kill):",
        "",
        (
            "| fault | host | first write refused after s | with | 2xx again after s | refused (with Retry-After) |"
            " failed reads meanwhile |"
        ),
        "|---|---|--:|---|--:|--:|--:|",
    ]
    for row in found:
        for host, line in row["notes"]["api_hosts"].items():
            lines.append(
                f"| {row['label']} | {host} | {line['first_refusal_s']} | {line['first_refusal']}"
                f" | {line['writes_2xx_again_s']} | {line['refused_writes']} ({line['refusals_with_retry_after']})"
                f" | {line['failed_reads_meanwhile']} of {line['reads']} |"
            )
    return lines


def _measured(found: dict[str, Any]) -> list[str]:
    """The measurement phases (`measure`): the same load with reads from standbys, with remote_apply, without."""
    if not found.get("phases"):
        return []
    lines = [
        "",
        f"Measured without faults, {found['clients']} clients, {found['seconds']:g} s a phase:",
        "",
        (
            "| phase | creates/s | create p50 / p99 ms | reads/s | read p50 / p99 ms | answered by standbys"
            " | primary transactions/s (per call) | primary CPU | standby transactions/s | reads without a token"
            " that missed the client's write |"
        ),
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name in PHASE_ORDER:
        if (phase := found["phases"].get(name)) is None:
            continue
        share = phase["standby_share"]
        primary, standby = phase["primary"], phase["standby"]
        lines.append(
            f"| {name} | {phase['creates_per_s']} | {phase['create']['p50_ms']} / {phase['create']['p99_ms']}"
            f" | {phase['reads_per_s']} | {phase['read']['p50_ms']} / {phase['read']['p99_ms']}"
            f" | {'-' if share is None else f'{share:.0%}'}"
            f" | {primary['transactions_per_s']} ({primary['transactions_per_call']}) | {primary['cpu_share']:.0%}"
            f" | {standby['transactions_per_s']} | {phase['untokened_missed_own_write']} of {phase['untokened_reads']}"
            " |"
        )
    latency = found.get("read_latency_c1", {})
    if latency:
        lines += ["", "At c=1 on one API host (ms, p50 / p99):", "", "| | sync | async |", "|---|--:|--:|"]
        names = {
            "standby": "read answered by the standby",
            "fallback": "read the standby refused, answered by the primary",
            "primary": "read with READ_DATABASE_URL unset",
        }
        for key, label in names.items():
            if key in latency:
                lines.append(f"| {label} | {_cells(latency[key])} |")
        for name in ("standby", "remote_apply"):
            creates = found["phases"].get(name, {}).get("create_c1")
            if creates:
                commit = "on" if name == "standby" else "remote_apply"
                missed = f"{creates.get('read_back_missed')} of {creates.get('read_back_without_token')}"
                lines.append(f"| create, synchronous_commit {commit} | {_cells(creates)} |")
                lines.append(f"| its order read at once on another host without a token: missed | {missed} | |")
    extra = found.get("fallback_extra_ms") or {}
    if extra:
        lines += [
            "",
            "A read the standby refused took longer at the median, than one it answered / than one with no standby: "
            + ", ".join(
                f"{family} {line['than_standby_p50_ms']} / {line['than_primary_only_p50_ms']} ms"
                for family, line in sorted(extra.items(), reverse=True)
            )
            + " (the server never waits for a standby: that is the cost of a refusal).",
        ]
    return lines


PHASE_ORDER = ("standby", "remote_apply", "primary")


def _cells(latency: dict[str, Any]) -> str:
    return " | ".join(f"{latency[family]['p50_ms']} / {latency[family]['p99_ms']}" for family in ("sync", "async"))
