"""The database's faults: its primary host killed, the old primary back, Patroni alone killed on the primary.

Each failover is watched from every API host (`watch.HostWatch`: when each refused writes, with what, and when it
wrote again) and from every API host's HAProxy (`watch.RouteWatch`: when the old primary left rotation, when the
new one entered it, and that a node whose Patroni is dead never came back into it).
"""

from __future__ import annotations

import re
import threading
import time
from typing import TYPE_CHECKING

import psycopg2

from sale_orders_lab import patroni
from sale_orders_lab.procs import LabError, wait_until
from sale_orders_lab.stack import FAILOVER_SECONDS, Lab
from sale_orders_lab.watch import PRIMARY, REPLICAS, HostWatch, RouteWatch

if TYPE_CHECKING:
    from sale_orders_lab.injection import Context, Injection
    from sale_orders_lab.layout import ApiHost

WRITABLE_SECONDS = 60
# What Patroni logs (its own lines, not PostgreSQL's) when it decides what to do with a PostgreSQL it finds running.
_PATRONI_LINE = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ (?:INFO|WARNING|ERROR): (?P<message>.*)$")
_DECISIONS = re.compile(
    r"Lock owner|demot|rewind|crash recovery|starting as a secondary|following a different leader|fenc|watchdog",
    re.IGNORECASE,
)


def _leaders(lab: Lab) -> tuple[int, int]:
    old = patroni.leader(lab.layout)
    if old is None:
        raise LabError("no primary to kill")
    return old, next(db.number for db in lab.layout.db_hosts if db.number != old)


def _failover(context: Context, inj: Injection, *, postgres_too: bool) -> tuple[int, int, RouteWatch]:
    """Kill the primary's Patroni (and its PostgreSQL when told); wait for the promotion and for writes again.

    Notes how that looked from the hosts and their HAProxy; the route watch is left running.
    """
    lab = context.lab
    old, new = _leaders(lab)
    inj.target = f"pg{old}"
    hosts = HostWatch(lab, context.journal, context.catalog)
    routes = RouteWatch(lab)
    routes.start()
    hosts.start()
    time.sleep(0.5)  # a few writes first, so that a refusal is the failover's
    start = time.monotonic()
    killed = start - routes.since
    hosts.since = context.journal.now()
    lab.kill_patroni(old)
    if postgres_too:
        lab.kill_postmaster(old)
    context.down_node = old
    try:
        wait_until(lambda: patroni.leader(lab.layout) == new, FAILOVER_SECONDS, f"pg{new} promoted", step=0.1)
        inj.notes["promoted_after_s"] = round(time.monotonic() - start, 2)
        inj.notes["promoted"] = f"pg{new}"
        hosts.wait_writable(WRITABLE_SECONDS)
    finally:
        seen = hosts.stop()
    old_name, new_name = f"pg{old}", f"pg{new}"
    out = routes.first(PRIMARY, lambda up: old_name not in up, killed)
    into = routes.first(PRIMARY, lambda up: new_name in up, killed)
    inj.notes["haproxy_old_primary_out_after_s"] = None if out is None else round(out - killed, 2)
    inj.notes["haproxy_new_primary_in_after_s"] = None if into is None else round(into - killed, 2)
    inj.notes["api_hosts"] = seen["hosts"]
    inj.notes["balancer_marked_down"] = seen["balancer_marked_down"] or "none"
    return old, new, routes


def primary_kill(context: Context, inj: Injection, _api_host: ApiHost) -> None:
    _, _, routes = _failover(context, inj, postgres_too=True)
    routes.stop()


def old_primary_back(context: Context, inj: Injection, _api_host: ApiHost) -> None:
    lab = context.lab
    old = context.down_node
    if old is None:
        raise LabError("no old primary to bring back (primary-kill did not run)")
    inj.target = f"pg{old}"
    _rejoin(lab, old, inj)
    context.down_node = None


def patroni_kill(context: Context, inj: Injection, _api_host: ApiHost) -> None:
    lab = context.lab
    old, _, routes = _failover(context, inj, postgres_too=False)
    try:
        inj.notes["orphan_read_write"] = _read_write(lab, old)
        time.sleep(context.durations.orphan)  # the old primary runs on, read-write, with no Patroni
        inj.notes["orphan_s"] = context.durations.orphan
        back_at = time.monotonic() - routes.since
        _rejoin(lab, old, inj)
        name = f"pg{old}"
        out = routes.first(PRIMARY, lambda up: name not in up)
        # Out of the primary backend for good, and out of the replica one until its Patroni was back.
        routed = out is None or routes.ever(PRIMARY, name, out + 0.2, time.monotonic() - routes.since)
        inj.notes["orphan_routed"] = "YES" if routed or routes.ever(REPLICAS, name, out or 0.0, back_at) else "never"
    finally:
        routes.stop()
    context.down_node = None


def _read_write(lab: Lab, number: int) -> str:
    """What the node's PostgreSQL says it is, asked directly: `read-write`, `read-only` or `down`."""
    try:
        connection = psycopg2.connect(lab.layout.node_dsn(lab.layout.db_hosts[number - 1], timeout=1))
    except psycopg2.Error:
        return "down"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            row = cursor.fetchone()
    finally:
        connection.close()
    return "read-only" if row and row[0] else "read-write"


def _rejoin(lab: Lab, old: int, inj: Injection) -> None:
    """Start the old primary's Patroni and wait until it is the synchronous standby; note what Patroni did."""
    log = lab.layout.folder(f"pg{old}") / "patroni.log"
    log_before = log.stat().st_size if log.exists() else 0
    start = time.monotonic()
    fence = _FenceWatch(lab, old)
    fence.start()
    try:
        lab.start_patroni(old)
        wait_until(lambda: patroni.is_sync_standby(lab.layout, old), FAILOVER_SECONDS, f"pg{old} back as sync standby")
    finally:
        fence.stop()
    lab.note_postmasters()
    inj.notes["rejoined_after_s"] = round(time.monotonic() - start, 2)
    inj.notes["old_primary_read_write_seen"] = fence.read_write_seen
    inj.notes["old_primary_writes_committed"] = fence.committed
    with log.open("rb") as text:
        text.seek(log_before)
        lines = text.read().decode(errors="replace").splitlines()
    inj.notes["pg_rewind"] = any("rewind" in line for line in lines)
    messages = [match.group("message") for line in lines if (match := _PATRONI_LINE.match(line))]
    decisions = [message[:140] for message in messages if _DECISIONS.search(message)]
    inj.notes["patroni_did"] = list(dict.fromkeys(decisions))[:6]


class _FenceWatch(threading.Thread):
    """Tries a write straight on the old primary every 0.2 s while it comes back: none may commit."""

    def __init__(self, lab: Lab, number: int) -> None:
        super().__init__(daemon=True, name="lab-fence-watch")
        self.lab = lab
        self.number = number
        self.done = threading.Event()
        self.read_write_seen = 0
        self.committed = 0

    def stop(self) -> None:
        self.done.set()
        self.join(10)

    def run(self) -> None:
        dsn = self.lab.layout.node_dsn(self.lab.layout.db_hosts[self.number - 1], timeout=1)
        while not self.done.wait(0.2):
            try:
                connection = psycopg2.connect(dsn)
            except psycopg2.Error:
                continue
            # statement_timeout does not end a wait for a synchronous standby: a timer cancels it.
            timer = threading.Timer(1.0, connection.cancel)
            try:
                connection.autocommit = True
                timer.start()
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_is_in_recovery()")
                    row = cursor.fetchone()
                    if row is not None and not row[0]:
                        self.read_write_seen += 1
                        cursor.execute("CREATE TABLE IF NOT EXISTS lab_fence (at timestamptz DEFAULT now())")
                        cursor.execute("INSERT INTO lab_fence DEFAULT VALUES")
                        if not any("synchronous replication" in notice for notice in connection.notices):
                            self.committed += 1
            except psycopg2.Error:
                pass
            finally:
                timer.cancel()
                connection.close()
