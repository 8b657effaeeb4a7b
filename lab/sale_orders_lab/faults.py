"""What the lab injects, one fault at a time, while the clients run; and how long until it is over.

Each fault of the catalogue (`catalogue.FAULTS`) is done by the function here named after it (`api-kill`:
`api_kill`); tests/unit/test_lab_catalogue.py checks that every fault has one, and nothing else does.

After each fault the lab waits until HAProxy sees every API host UP and every API host itself (not the
balancer) creates an order in both families: "recovered" is that moment, counted from the injection. No
fault restarts an API host to make it recover, except those whose fault is a restart.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg2

from sale_orders_lab import catalogue, patroni
from sale_orders_lab.clients import Catalog, Journal, probe_writes
from sale_orders_lab.procs import LabError, wait_until
from sale_orders_lab.stack import FAILOVER_SECONDS, Lab

if TYPE_CHECKING:
    from collections.abc import Callable

    from sale_orders_lab.layout import ApiHost

RECOVERY_SECONDS = 90


class NotRecoveredError(LabError):
    """The fault is over, and an API host still does not serve writes: a finding, not a failure of the lab."""

    def __init__(self, hosts: list[str]) -> None:
        super().__init__(f"not recovered within {RECOVERY_SECONDS} s: {', '.join(hosts)}")
        self.hosts = hosts


@dataclass
class Injection:
    """One fault injected: when, on what, what it measured."""

    name: str
    round: int
    target: str
    started: float
    label: str
    action_done: float | None = None
    recovered: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def injected(self) -> bool:
        return not self.error


@dataclass
class Context:
    lab: Lab
    journal: Journal
    catalog: Catalog
    durations: catalogue.Durations
    variant: str = "host"
    down_node: int | None = None


def _api(context: Context, round_number: int, offset: int = 0) -> ApiHost:
    hosts = context.lab.layout.api_hosts
    return hosts[(round_number - 1 + offset) % len(hosts)]


def _wait_up(context: Context, api: ApiHost, seconds: float = 30) -> None:
    wait_until(lambda: context.lab.states().get(api.name) == "UP", seconds, f"HAProxy seeing {api.name} UP", step=0.1)


def api_kill(context: Context, inj: Injection, api: ApiHost) -> None:
    fleet = context.lab.hosts
    fleet.kill(api)
    fleet.start(api, wait=False)
    inj.notes["restart_s"] = round(fleet.wait_healthy(api), 2)


def api_hang(context: Context, inj: Injection, api: ApiHost) -> None:
    fleet = context.lab.hosts
    fleet.signal(api, signal.SIGSTOP)
    down = _watch_state(context, api, context.durations.hang)
    fleet.signal(api, signal.SIGCONT)
    inj.notes["hung_s"] = context.durations.hang
    inj.notes["haproxy_marked_down_after_s"] = down


def _drain_and_stop(context: Context, api: ApiHost) -> tuple[float, int]:
    """What a deployment does to stop a host: out of the balancer's rotation, then SIGTERM once it is idle."""
    drained = context.lab.drain(api)
    return drained, context.lab.hosts.stop(api)


def _start_and_rejoin(context: Context, api: ApiHost) -> None:
    context.lab.hosts.start(api)
    context.lab.undrain(api)
    _wait_up(context, api)


def api_term(context: Context, inj: Injection, api: ApiHost) -> None:
    start = time.monotonic()
    drained, status = _drain_and_stop(context, api)
    inj.notes["drained_s"] = round(drained, 2)
    inj.notes["stop_s"] = round(time.monotonic() - start, 2)
    inj.notes["exit_status"] = status
    time.sleep(context.durations.down)
    _start_and_rejoin(context, api)


def rolling_restart(context: Context, inj: Injection, _api_host: ApiHost) -> None:
    took: dict[str, float] = {}
    for api in context.lab.layout.api_hosts:
        start = time.monotonic()
        _drain_and_stop(context, api)
        _start_and_rejoin(context, api)
        took[api.name] = round(time.monotonic() - start, 2)
    inj.notes["per_host_s"] = took


def db_upgrade(context: Context, inj: Injection, _api_host: ApiHost) -> None:
    lab = context.lab
    commands = [lab.upgrade_command(api.number) for api in lab.layout.api_hosts]
    start = time.monotonic()
    running = [
        subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
        for argv, env, cwd in commands
    ]
    results: list[int] = []
    for process in running:
        try:
            process.wait(120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        results.append(process.returncode)
    outputs = [process.stdout.read().decode(errors="replace") if process.stdout else "" for process in running]
    for process in running:
        if process.stdout:
            process.stdout.close()
    inj.notes["exit_statuses"] = results
    inj.notes["seconds"] = round(time.monotonic() - start, 2)
    if any(results):
        raise LabError(f"db upgrade failed on a host: {results}\n" + "\n".join(outputs)[-3000:])


def link_cut(context: Context, inj: Injection, api: ApiHost) -> None:
    fleet = context.lab.hosts
    fleet.cut(api)
    try:
        down = _watch_state(context, api, context.durations.cut)
    finally:
        fleet.mend(api)
    inj.notes["cut_s"] = context.durations.cut
    inj.notes["haproxy_marked_down_after_s"] = down


def _watch_state(context: Context, api: ApiHost, seconds: float) -> float | None:
    """Wait `seconds`; when HAProxy first marked `api` not UP during that time (None: never)."""
    start = time.monotonic()
    marked: float | None = None
    while (elapsed := time.monotonic() - start) < seconds:
        if marked is None and context.lab.states().get(api.name, "UP") != "UP":
            marked = round(elapsed, 2)
        time.sleep(0.1)
    return marked


def primary_kill(context: Context, inj: Injection, _api_host: ApiHost) -> None:
    lab = context.lab
    old = patroni.leader(lab.layout)
    if old is None:
        raise LabError("no primary to kill")
    other = next(db.number for db in lab.layout.db_hosts if db.number != old)
    inj.target = f"pg{old}"
    inj.notes["variant"] = context.variant
    start = time.monotonic()
    lab.kill_patroni(old)
    if context.variant == "host":
        lab.kill_postmaster(old)
    context.down_node = old
    wait_until(lambda: patroni.leader(lab.layout) == other, FAILOVER_SECONDS, f"pg{other} promoted", step=0.1)
    inj.notes["promoted_after_s"] = round(time.monotonic() - start, 2)
    inj.notes["promoted"] = f"pg{other}"


def old_primary_back(context: Context, inj: Injection, _api_host: ApiHost) -> None:
    lab = context.lab
    old = context.down_node
    if old is None:
        raise LabError("no old primary to bring back (primary-kill did not run)")
    inj.target = f"pg{old}"
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
    context.down_node = None
    inj.notes["rejoined_after_s"] = round(time.monotonic() - start, 2)
    inj.notes["old_primary_read_write_seen"] = fence.read_write_seen
    inj.notes["old_primary_writes_committed"] = fence.committed
    with log.open("rb") as text:
        text.seek(log_before)
        inj.notes["pg_rewind"] = b"rewind" in text.read()


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


def action(fault: catalogue.Fault) -> Callable[[Context, Injection, ApiHost], None]:
    """The function that does `fault`: the one of this module named after it."""
    found: Callable[[Context, Injection, ApiHost], None] = globals()[fault.function]
    return found


def recover(context: Context, inj: Injection) -> None:
    """Wait until HAProxy sees every API host UP and every API host creates an order in both families."""
    lab = context.lab
    pending = list(lab.layout.api_hosts)
    deadline = time.monotonic() + RECOVERY_SECONDS
    while pending:
        if time.monotonic() > deadline:
            raise NotRecoveredError([api.name for api in pending])
        pending = [api for api in pending if not probe_writes(api, lab.token, context.catalog, context.journal)]
        if pending:
            time.sleep(0.2)
    wait_until(lab.all_up, 30, "HAProxy seeing every API host UP", step=0.1)
    inj.recovered = context.journal.now()


def inject(context: Context, name: str, round_number: int, say: Callable[[str], None]) -> Injection:
    """Inject one fault, wait for the lab to recover, let it settle; never raises for a fault that failed."""
    fault = catalogue.BY_NAME[name]
    api = _api(context, round_number, catalogue.NAMES.index(name))
    label = f"{name}#{round_number}"
    journal = context.journal
    inj = Injection(name, round_number, api.name, journal.now(), label)
    journal.fault = label
    say(f"fault {label}: {fault.description} ({api.name if fault.target == 'one API host' else fault.target})")
    try:
        action(fault)(context, inj, api)
        inj.action_done = journal.now()
        recover(context, inj)
        say(f"  {label}: recovered after {inj.recovered - inj.started:.1f} s {_notes(inj)}" if inj.recovered else "")
    except NotRecoveredError as exc:
        inj.notes["not_recovered"] = exc.hosts
        say(f"  {label}: NOT RECOVERED: {exc} {_notes(inj)}")
    except (LabError, OSError, RuntimeError, subprocess.SubprocessError) as exc:
        inj.error = str(exc)[:2000]
        say(f"  {label}: FAILED: {inj.error.splitlines()[0] if inj.error else exc!r}")
        with contextlib.suppress(Exception):
            context.lab.hosts.ensure_running()
            for api in context.lab.layout.api_hosts:  # a host left drained by a fault that failed half-way
                context.lab.undrain(api)
    time.sleep(context.durations.settle)
    return inj


def _notes(inj: Injection) -> str:
    return " ".join(f"{key}={value}" for key, value in inj.notes.items())
