"""Stale reads and read-your-writes, judged from the clients' own log.

What a read must see, as the API promises it (docs/lab/README.md):

- every write its own client was acknowledged before the read started, when the read carries the client's
  consistency token (the SDK sends it): missing one is a **read-your-writes violation**, and a stale read;
- every write anyone was acknowledged more than MAX_STALENESS_MS before the read started, token or not: missing one
  is a **stale read** (a read answered by an old primary, or by a standby further behind than the bound).

A read without a token that misses a write acknowledged less than MAX_STALENESS_MS before it is what the bound
allows: counted apart, as **lagging** (the freshness `remote_apply` is measured by). An order missing from a read
by id is a 404; from a page, an acknowledged order whose id lies within the ids the page answered (a page may end
early, before orders still being created, so nothing past its last id is judged). A read that failed (5xx, no
answer) saw nothing and is not judged.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sale_orders_lab.clients import Op


@dataclass(frozen=True)
class Acked:
    """An acknowledged create: its order, its client, when the client had its 201."""

    order_id: int
    client: str
    at: float


@dataclass(frozen=True)
class Verdict:
    """What one read missed: nothing, what the bound allows (lagging), or what it must not (stale, RYW)."""

    stale: bool = False
    ryw: bool = False
    lagging: bool = False


def acknowledged(ops: Iterable[Op]) -> dict[int, Acked]:
    return {
        op.order_id: Acked(op.order_id, op.client, op.acknowledged_at)
        for op in ops
        if op.acknowledged and op.order_id is not None
    }


def judge(op: Op, acked: dict[int, Acked], ordered: list[int], bound_s: float) -> Verdict:
    """What `op` (a read) missed among the writes acknowledged before it started.

    `ordered`: the ids of `acked`, sorted.
    """
    if op.kind == "page":
        if op.status != 200 or not op.ids or op.after is None:
            return Verdict()
        seen = set(op.ids)
        wanted = ordered[_first_above(ordered, op.after) : _first_above(ordered, max(op.ids))]
        missing = [acked[order_id] for order_id in wanted if order_id not in seen]
    elif op.status == 404 and op.order_id in acked:
        missing = [acked[op.order_id]]
    else:
        return Verdict()
    stale = ryw = lagging = False
    for write in missing:
        if write.at >= op.started:
            continue  # acknowledged after the read began: no read has to see it
        own = write.client == op.client and op.token
        old = op.started - write.at > bound_s
        ryw = ryw or own
        stale = stale or own or old
        lagging = lagging or not (own or old)
    return Verdict(stale, ryw, lagging and not stale)


def _first_above(ordered: list[int], value: int) -> int:
    """The index of the first id greater than `value`."""
    return bisect.bisect_right(ordered, value)


def figures(reads: list[Op], creates: list[Op], acked: dict[int, Acked], bound_s: float) -> dict[str, Any]:
    """The read figures of one window: reads of each kind, what they missed, how many crossed hosts."""
    ordered = sorted(acked)
    verdicts = [(op, judge(op, acked, ordered, bound_s)) for op in reads]
    writers = {op.order_id: op.host for op in creates if op.acknowledged}
    answered = [op for op in reads if op.kind == "read" and op.host and writers.get(op.order_id)]
    return {
        "reads": len(reads),
        "reads_by_kind": {kind: sum(op.kind == kind for op in reads) for kind in ("read", "read-no-token", "page")},
        "stale_reads": sum(verdict.stale for _, verdict in verdicts),
        "ryw_violations": sum(verdict.ryw for _, verdict in verdicts),
        "lagging_reads": sum(verdict.lagging for _, verdict in verdicts),
        "untokened_reads_answered": sum(1 for op in reads if op.kind == "read-no-token" and op.status in {200, 404}),
        "reads_back_answered": len(answered),
        "reads_back_through_another_host": sum(1 for op in answered if op.host != writers[op.order_id]),
        "stale_examples": [_example(op) for op, verdict in verdicts if verdict.stale][:5],
    }


def _example(op: Op) -> str:
    what = f"page after {op.after}" if op.kind == "page" else f"order {op.order_id}: {op.status}"
    return f"{op.client} {op.kind} {op.family} via {op.host or '?'} at {op.started:.2f} s ({what})"
