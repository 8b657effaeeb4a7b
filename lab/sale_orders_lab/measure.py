"""Reads from standbys, measured with no fault: what they cost, what they save the primary, and remote_apply.

Three phases of the same client load (`load`), one after the other, each `seconds` long:

1. `standby`: READ_DATABASE_URL set, `synchronous_commit = on` (PostgreSQL's default: the standby has flushed a
   commit, not necessarily applied it, when the client gets its 201);
2. `remote_apply`: the same, with `synchronous_commit = remote_apply` in Patroni's configuration (the synchronous
   standby has applied every acknowledged commit);
3. `primary`: READ_DATABASE_URL unset (every API host restarted without it), `synchronous_commit = on`.

Per phase: creates and reads per second and their latencies, as the clients saw them; how many reads standbys
answered (each host's /metrics); the primary's and the standby's transactions per second (pg_stat_database:
xact_commit + xact_rollback, one per statement here, since reads run in autocommit) and CPU (the postmaster's and
its children's, from /proc); and the reads without a token that missed the client's write acknowledged just before
(what remote_apply is for). Besides, one API host is asked at c=1 for the same order many times: answered by the
standby (token 1, which every standby has), refused by it and answered by the primary (a token no transaction has
reached), and with READ_DATABASE_URL unset: the extra latency of a read the standby refuses. The server never waits
for a standby; that extra latency is what a refusal costs. And creates at c=1, with `on` and with `remote_apply`.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg2

from sale_orders_lab import patroni
from sale_orders_lab.clients import FAMILIES, Client, Journal, make_client
from sale_orders_lab.counters import scrape, standby_share
from sale_orders_lab.layout import DATABASE
from sale_orders_lab.load import Load, Target
from sale_orders_lab.procs import LabError, descendants, wait_until
from sale_orders_lab.report import Window

if TYPE_CHECKING:
    from collections.abc import Callable

    from sale_orders_lab.clients import Catalog, Op
    from sale_orders_lab.counters import ReadCounters
    from sale_orders_lab.stack import Lab

NEVER_REACHED = "999999999999999999"
"""A consistency token no transaction has reached: every standby refuses the read, the primary answers it."""
EVERY_STANDBY = "1"
LATENCY_READS = 200
LATENCY_CREATES = 150


@dataclass(frozen=True)
class Phase:
    name: str
    standby_reads: bool
    synchronous_commit: str

    @property
    def label(self) -> str:
        return f"phase {self.name}"


PHASES = (Phase("standby", True, "on"), Phase("remote_apply", True, "remote_apply"), Phase("primary", False, "on"))


@dataclass
class Measure:
    lab: Lab
    journal: Journal
    catalog: Catalog
    counters: ReadCounters
    clients: int
    seconds: float
    say: Callable[[str], None]
    windows: list[Window] = field(default_factory=list)
    """Each phase's window in the clients' log, from its start to the next one's."""

    def run(self) -> dict[str, Any]:
        found: dict[str, Any] = {"seconds": self.seconds, "clients": self.clients, "phases": {}}
        latency: dict[str, Any] = {}
        try:
            for phase in PHASES:
                self._prepare(phase)
                found["phases"][phase.name] = self._phase(phase)
                if phase.name == "standby":
                    latency.update(self._reads({"standby": EVERY_STANDBY, "fallback": NEVER_REACHED}))
                if phase.name == "primary":
                    latency.update(self._reads({"primary": EVERY_STANDBY}))
                if phase.name in {"standby", "remote_apply"}:
                    found["phases"][phase.name]["create_c1"] = self._creates(phase)
        finally:
            self._set_synchronous_commit(None)
        ends = [window.start for window in self.windows[1:]] + [self.journal.now()]
        self.windows = [Window(window.label, window.start, end) for window, end in zip(self.windows, ends, strict=True)]
        found["read_latency_c1"] = latency
        found["fallback_extra_ms"] = {
            family: _extra(latency, family) for family in FAMILIES if "fallback" in latency and "primary" in latency
        }
        return found

    # -- the cluster and the hosts, per phase ---------------------------------------------------------------

    def _prepare(self, phase: Phase) -> None:
        self._set_synchronous_commit(None if phase.synchronous_commit == "on" else phase.synchronous_commit)
        fleet = self.lab.hosts
        if fleet.standby_reads != phase.standby_reads:
            fleet.standby_reads = phase.standby_reads
            self.say(f"restarting every API host {'with' if phase.standby_reads else 'without'} READ_DATABASE_URL")
            for api in self.lab.layout.api_hosts:
                fleet.stop(api)
            for api in self.lab.layout.api_hosts:
                fleet.start(api, wait=False)
            for api in self.lab.layout.api_hosts:
                fleet.wait_healthy(api)
            wait_until(self.lab.all_up, 30, "HAProxy seeing every API host UP", step=0.1)

    def _set_synchronous_commit(self, value: str | None) -> None:
        leader = patroni.leader(self.lab.layout)
        if leader is None:
            raise LabError("no primary to configure")
        patroni.set_parameters(self.lab.layout, leader, {"synchronous_commit": value})
        wanted = value or "on"
        db = self.lab.layout.db_hosts[leader - 1]
        wait_until(
            lambda: _show(self.lab, db.number, "synchronous_commit") == wanted, 30, f"synchronous_commit {wanted}"
        )
        time.sleep(1.5)  # every node and pooled session has reloaded

    # -- one phase of load ----------------------------------------------------------------------------------

    def _phase(self, phase: Phase) -> dict[str, Any]:
        lab = self.lab
        primary = patroni.leader(lab.layout)
        if primary is None:
            raise LabError("no primary")
        standby = next(db.number for db in lab.layout.db_hosts if db.number != primary)
        self.say(f"{phase.label}: {self.clients} clients for {self.seconds:g} s")
        self.journal.fault = phase.label
        self.counters.mark(phase.label)
        self.windows.append(Window(phase.label, self.journal.now(), self.journal.now()))
        before = {number: _node_load(lab, number) for number in (primary, standby)}
        start = time.monotonic()
        target = Target(lab.layout.balancer_url, lab.token, tuple(api.name for api in lab.layout.api_hosts))
        load = Load(target, self.catalog, self.journal, self.clients)
        load.start()
        time.sleep(self.seconds)
        load.finish(60)
        elapsed = time.monotonic() - start
        after = {number: _node_load(lab, number) for number in (primary, standby)}
        self.counters.mark(f"{phase.label} end")
        reads = self.counters.windows().get(phase.label)
        ops = [op for op in self.journal.snapshot() if op.fault == phase.label and not op.client.startswith("probe")]
        return {
            "standby_reads": phase.standby_reads,
            "synchronous_commit": phase.synchronous_commit,
            "seconds": round(elapsed, 1),
            **_client_figures(ops, elapsed),
            "reads_served": dict(reads or {}),
            "standby_share": None if reads is None else standby_share(reads),
            "primary": _rates(before[primary], after[primary], elapsed, len(ops)),
            "standby": _rates(before[standby], after[standby], elapsed, len(ops)),
        }

    # -- c=1 latencies, straight on one API host -----------------------------------------------------------

    def _order_id(self) -> int:
        return next(op.order_id for op in reversed(self.journal.snapshot()) if op.acknowledged and op.order_id)

    def _reads(self, tokens: dict[str, str]) -> dict[str, Any]:
        """Reads of one order at c=1 on api1 with each of `tokens` in turn, per family; where api1 answered them.

        The tokens alternate request by request, so that the machine's other work weighs on each alike.
        """
        api = self.lab.layout.api_hosts[0]
        order_id = self._order_id()
        seconds: dict[tuple[str, str], list[float]] = {(name, family): [] for name in tokens for family in FAMILIES}
        before = scrape(api.base_url, self.lab.token) or Counter()
        with httpx.Client(base_url=api.base_url, headers={"Authorization": f"Bearer {self.lab.token}"}) as http:
            for family in FAMILIES:
                http.get(f"/{family}/order/{order_id}")  # a warm connection
                for _ in range(LATENCY_READS):
                    for name, token in tokens.items():
                        start = time.perf_counter()
                        answer = http.get(f"/{family}/order/{order_id}", headers={"Consistency-Token": token})
                        if answer.status_code == 200:
                            seconds[name, family].append(time.perf_counter() - start)
        after = scrape(api.base_url, self.lab.token) or Counter()
        found: dict[str, Any] = {name: {family: _ms(seconds[name, family]) for family in FAMILIES} for name in tokens}
        served = {key: after.get(key, 0) - before.get(key, 0) for key in ("standby", "primary")}
        for name in tokens:
            found[name]["served_together"] = served
        return found

    def _creates(self, phase: Phase) -> dict[str, Any]:
        """Creates at c=1 on api1, per family: what a write costs with this synchronous_commit.

        Each create is read back at once on api2 without a token: how often a standby had not applied it yet.
        """
        writer, reader = self.lab.layout.api_hosts[0], self.lab.layout.api_hosts[1]
        client = Client("c1-creates", self.journal, self.catalog, random.Random(1))  # noqa: S311 - load
        found: dict[str, Any] = {"read_back_without_token": 0, "read_back_missed": 0}
        self.journal.fault = phase.label
        with (
            make_client(writer.base_url, self.lab.token, retries=False) as caller,
            make_client(reader.base_url, self.lab.token, retries=False) as tokenless,
        ):
            for family in FAMILIES:
                ops = [client.create(caller, family) for _ in range(LATENCY_CREATES)]
                found[family] = _ms([op.seconds for op in ops if op.acknowledged])
            for family in FAMILIES:
                for _ in range(LATENCY_CREATES):
                    op = client.create(caller, family)
                    if op.order_id is not None:
                        read = client.read(tokenless, family, op.order_id)
                        found["read_back_without_token"] += read.status in {200, 404}
                        found["read_back_missed"] += read.status == 404
        return found


def _extra(latency: dict[str, Any], family: str) -> dict[str, float | None]:
    """How much longer, at the median, a read the standby refused took than others.

    Than one the standby answered (measured together), and than one with no standby at all (measured later).
    """
    fallback = latency["fallback"][family]["p50_ms"]

    def minus(other: float | None) -> float | None:
        return None if fallback is None or other is None else round(fallback - other, 2)

    return {
        "than_standby_p50_ms": minus(latency["standby"][family]["p50_ms"]),
        "than_primary_only_p50_ms": minus(latency["primary"][family]["p50_ms"]),
    }


def _ms(seconds: list[float]) -> dict[str, Any]:
    if not seconds:
        return {"n": 0, "p50_ms": None, "p99_ms": None}
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 2), "p99_ms": round(p99 * 1000, 2)}


def _client_figures(ops: list[Op], seconds: float) -> dict[str, Any]:
    creates = [op for op in ops if op.kind == "create"]
    acked = [op for op in creates if op.acknowledged]
    reads = [op for op in ops if op.kind in {"read", "read-no-token", "page"} and op.status == 200]
    untokened = [op for op in ops if op.kind == "read-no-token" and op.status in {200, 404}]
    missed = sum(1 for op in untokened if op.status == 404)
    return {
        "calls": len(ops),
        "creates_per_s": round(len(acked) / seconds, 1),
        "create": _ms([op.seconds for op in acked]),
        "reads_per_s": round(len(reads) / seconds, 1),
        "read": _ms([op.seconds for op in reads]),
        "untokened_reads": len(untokened),
        "untokened_missed_own_write": missed,
        "errors": sum(1 for op in ops if op.status not in {200, 201}),
    }


def _show(lab: Lab, number: int, setting: str) -> str | None:
    try:
        connection = psycopg2.connect(lab.layout.node_dsn(lab.layout.db_hosts[number - 1], timeout=2))
    except psycopg2.Error:
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting(%s)", (setting,))
            row = cursor.fetchone()
    finally:
        connection.close()
    return None if row is None else str(row[0])


@dataclass(frozen=True)
class NodeLoad:
    transactions: int
    cpu_s: float


def _node_load(lab: Lab, number: int) -> NodeLoad:
    """A node's transactions so far (in the API's database) and the CPU its PostgreSQL processes have used."""
    connection = psycopg2.connect(lab.layout.node_dsn(lab.layout.db_hosts[number - 1], database=DATABASE))
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
            )
            row = cursor.fetchone()
    finally:
        connection.close()
    pid = patroni.postmaster(lab.layout, number)
    return NodeLoad(int(row[0]) if row else 0, _cpu_seconds(pid) if pid else 0.0)


def _cpu_seconds(postmaster: int) -> float:
    """CPU used by a postmaster, the children it reaped, and the children it has now."""
    ticks = os.sysconf("SC_CLK_TCK")

    def fields(pid: int) -> list[str]:
        text = Path(f"/proc/{pid}/stat").read_text()
        return text[text.rfind(")") + 2 :].split()

    try:
        own = fields(postmaster)
    except OSError:
        return 0.0
    total = sum(int(own[i]) for i in (11, 12, 13, 14))  # utime, stime, cutime, cstime
    for pid, _ in descendants(postmaster):
        try:
            child = fields(pid)
        except OSError:
            continue
        total += int(child[11]) + int(child[12])
    return total / ticks


def _rates(before: NodeLoad, after: NodeLoad, seconds: float, calls: int) -> dict[str, Any]:
    transactions = after.transactions - before.transactions
    return {
        "transactions_per_s": round(transactions / seconds, 1),
        "transactions_per_call": round(transactions / calls, 2) if calls else None,
        "cpu_share": round((after.cpu_s - before.cpu_s) / seconds, 3),
    }
