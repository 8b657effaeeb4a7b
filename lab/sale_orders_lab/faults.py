"""What the lab injects, one fault at a time, while the clients run; and how long until it is over.

Each fault of the catalogue (`catalogue.FAULTS`) is done by the function here named after it (`api-kill`:
`api_kill`; the database's are written in `dbfaults` and imported here); tests/unit/test_lab_catalogue.py checks
that every fault has one, and nothing else does.

After each fault the lab waits until HAProxy sees every API host UP and every API host itself (not the
balancer) creates an order in both families: "recovered" is that moment, counted from the injection. No
fault restarts an API host to make it recover, except those whose fault is a restart.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from typing import TYPE_CHECKING

from sale_orders_lab import catalogue
from sale_orders_lab.clients import probe_writes
from sale_orders_lab.dbfaults import old_primary_back, patroni_kill, primary_kill
from sale_orders_lab.injection import RECOVERY_SECONDS, Context, Injection, NotRecoveredError
from sale_orders_lab.procs import LabError, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable

    from sale_orders_lab.layout import ApiHost

DATABASE_FAULTS = (primary_kill, old_primary_back, patroni_kill)
"""Done in `dbfaults`."""


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
    if context.counters is not None:
        context.counters.mark(label)
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
    """The notes in one line; each API host's view of a failover in a few figures."""
    notes = []
    for key, value in inj.notes.items():
        shown = value
        if key == "api_hosts" and isinstance(value, dict):
            shown = {
                host: f"503 after {line['first_refusal_s']} s, 2xx after {line['writes_2xx_again_s']} s"
                for host, line in value.items()
            }
        notes.append(f"{key}={shown}")
    return " ".join(notes)
