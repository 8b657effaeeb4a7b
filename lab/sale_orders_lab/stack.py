"""The lab's engines, up and down: etcd, Patroni, each API host with its links and HAProxy, the balancer.

`down` stops everything by PID in an order that loses nothing it still needs (the balancer first, etcd last),
then checks that every process the lab saw is gone, every port is free, and removes the lab's folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg2

from sale_orders.web.auth import api_key_digest, new_api_key
from sale_orders_lab import etcd, haproxy, patroni
from sale_orders_lab.hosts import Fleet, host_env
from sale_orders_lab.layout import APP_ROLE, DATABASE, ApiHost, Layout
from sale_orders_lab.procs import Child, LabError, ProcessId, Say, Supervisor, identify, port_in_use, wait_until

if TYPE_CHECKING:
    from pathlib import Path

DRAIN_SETTLE_S = 0.5  # how long a drained host stays idle in `maint` before its SIGTERM

BOOT_SECONDS = 60
FAILOVER_SECONDS = 60


@dataclass
class Teardown:
    """What stopping the lab left: nothing, when all is well."""

    processes: list[ProcessId]
    left_running: list[ProcessId]
    ports: list[str]
    ports_in_use: list[str]
    folder: str
    folder_removed: bool

    @property
    def clean(self) -> bool:
        return not self.left_running and not self.ports_in_use and self.folder_removed

    def as_dict(self) -> dict[str, Any]:
        return {
            "processes": [list(process) for process in self.processes],
            "left_running": [list(process) for process in self.left_running],
            "ports": self.ports,
            "ports_in_use": self.ports_in_use,
            "folder": self.folder,
            "folder_removed": self.folder_removed,
        }


@dataclass
class Lab:
    """The running lab: its layout, its processes and the means to act on them."""

    layout: Layout
    say: Say
    supervisor: Supervisor
    token: str = field(default_factory=new_api_key)
    patronis: dict[int, Child] = field(default_factory=dict)
    etcd: Child | None = None
    balancer: Child | None = None
    fleet: Fleet | None = None
    patroni_program: Path | None = None

    @property
    def admin_socket(self) -> Path:
        return self.layout.folder("haproxy") / "admin.sock"

    @property
    def hosts(self) -> Fleet:
        if self.fleet is None:
            raise LabError("the API hosts are not started")
        return self.fleet

    # -- up ----------------------------------------------------------------------------------------------

    def preflight(self) -> None:
        """Every tool is installed and every address is free, or a LabError that says which is not."""
        etcd.program()
        haproxy.program()
        if patroni.runs_as_other_user() and shutil.which("setpriv") is None:
            raise LabError("setpriv (util-linux) is needed to run PostgreSQL as its own user")
        busy = [f"{host}:{port}" for host, port in self.layout.ports() if port_in_use((host, port))]
        if busy:
            raise LabError(f"in use already (another lab running?): {', '.join(busy)}")

    def up(self) -> None:
        self.preflight()
        self.layout.root.chmod(0o755)  # the PostgreSQL user must reach its nodes' folders
        self.patroni_program = patroni.ensure_patroni(self.say)
        bin_dir = patroni.postgres_bin()
        patroni.check_readable([self.patroni_program, bin_dir / "postgres"], self.layout.root)

        folder = self.layout.folder("etcd")
        folder.mkdir()
        self.etcd = self.supervisor.start("etcd", etcd.argv(folder / "data"), log=folder / "etcd.log")
        wait_until(lambda: self._running(self.etcd) and etcd.healthy(), 20, "etcd healthy")
        self.say("etcd healthy on 127.0.0.10:2379")

        for db in self.layout.db_hosts:
            patroni.write_config(self.layout, db.number, bin_dir)
        # pg1 first, alone: the primary is the host the URLs name first, so the first failover is the hard case
        # (a first host that is down), every run.
        primary, standby = 1, 2
        self.start_patroni(primary)
        wait_until(lambda: patroni.leader(self.layout) == primary, BOOT_SECONDS, "pg1 primary", step=0.2)
        self.say(f"pg{primary} is primary")
        self.start_patroni(standby)
        wait_until(lambda: patroni.is_sync_standby(self.layout, standby), BOOT_SECONDS, "the sync standby", step=0.2)
        self.say(f"pg{standby} streams as its synchronous standby")
        self.note_postmasters()
        self._create_database()

        self.fleet = Fleet(self.layout, self.supervisor, f"write:{api_key_digest(self.token)}")
        self.fleet.start_links()
        self.say(
            "links up: every API host reaches both database hosts through its own fault proxies, behind its own"
            " HAProxy (primary :5000 by Patroni's /primary, replicas :5001 by /replica)"
        )
        self.migrate()
        for api in self.layout.api_hosts:
            self.fleet.start(api, wait=False)
        for api in self.layout.api_hosts:
            self.fleet.wait_healthy(api)
        self.say("API hosts up: " + ", ".join(f"{api.name} {api.base_url}" for api in self.layout.api_hosts))
        self._start_balancer()

    def _running(self, child: Child | None) -> bool:
        if child is None or not child.running():
            name = child.name if child else "?"
            log = child.log.read_text(errors="replace")[-3000:] if child else ""
            raise LabError(f"{name} exited:\n{log}")
        return True

    def start_patroni(self, number: int) -> Child:
        if self.patroni_program is None:
            raise LabError("Patroni is not installed")
        db = self.layout.db_hosts[number - 1]
        home = self.layout.folder(db.name)
        argv = patroni.as_postgres_user([str(self.patroni_program), str(home / "patroni.yml")], home)
        child = self.supervisor.start(f"patroni {db.name}", argv, log=home / "patroni.log", cwd=home)
        self.patronis[number] = child
        return child

    def note_postmasters(self) -> None:
        """Remember each node's postmaster and its children, so that the end checks that they are gone."""
        from sale_orders_lab.procs import descendants  # noqa: PLC0415

        for db in self.layout.db_hosts:
            pid = patroni.postmaster(self.layout, db.number)
            if pid is not None and (ident := identify(pid)) is not None:
                self.supervisor.note([ident, *descendants(pid)])

    def _create_database(self) -> None:
        connection = psycopg2.connect(self.layout.admin_dsn())
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD %s",
                    (self.layout.secrets.app,),
                )
                cursor.execute(f"CREATE DATABASE {DATABASE} OWNER {APP_ROLE}")
        finally:
            connection.close()

    def upgrade_command(self, number: int) -> tuple[list[str], dict[str, str], Path]:
        """`sale-orders db upgrade` as API host `number` runs it: its URL, through its links."""
        api = self.layout.api_hosts[number - 1]
        env = host_env(self.layout, api, self.hosts.api_keys, standby_reads=self.hosts.standby_reads)
        folder = self.layout.folder(api.name)
        return [sys.executable, "-m", "sale_orders.cli", "db", "upgrade"], env, folder

    def migrate(self) -> None:
        argv, env, folder = self.upgrade_command(1)
        done = subprocess.run(argv, env=env, cwd=folder, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
        if done.returncode != 0:
            raise LabError(f"db upgrade failed:\n{done.stdout}{done.stderr}")
        self.say("migrations applied (db upgrade from api1)")

    def _start_balancer(self) -> None:
        folder = self.layout.folder("haproxy")
        folder.mkdir()
        config = folder / "haproxy.cfg"
        config.write_text(haproxy.config(self.layout, self.admin_socket))
        if (complaint := haproxy.check_config(config)) is not None:
            raise LabError(f"HAProxy refuses its configuration:\n{complaint}")
        self.balancer = self.supervisor.start("haproxy", haproxy.argv(config), log=folder / "haproxy.log")
        wait_until(
            lambda: self._running(self.balancer) and self.all_up(), 20, "HAProxy seeing every API host UP", step=0.2
        )
        self.say(f"HAProxy on {self.layout.balancer_url}, every API host UP")

    def states(self) -> dict[str, str]:
        return haproxy.server_states(self.admin_socket)

    def drain(self, api: ApiHost, seconds: float = 15) -> float:
        """Take `api` out of HAProxy's rotation and wait until it runs no request; the seconds that took."""
        start = time.monotonic()
        haproxy.set_state(self.admin_socket, api.name, "drain")
        idle = lambda: haproxy.requests_running(self.admin_socket, api.name) == 0  # noqa: E731 - asked twice
        wait_until(idle, seconds, f"{api.name} finishing its requests", step=0.05)
        # Then out of rotation entirely, and idle once more after a moment: a request HAProxy was handing to the
        # host as its count was read (still connecting) is not counted yet, and must not meet the SIGTERM.
        haproxy.set_state(self.admin_socket, api.name, "maint")
        time.sleep(DRAIN_SETTLE_S)
        wait_until(idle, seconds, f"{api.name} finishing its last requests", step=0.05)
        return time.monotonic() - start

    def undrain(self, api: ApiHost) -> None:
        """Put `api` back in HAProxy's rotation (it serves again once its health checks pass)."""
        haproxy.set_state(self.admin_socket, api.name, "ready")

    def all_up(self) -> bool:
        states = self.states()
        return len(states) == len(self.layout.api_hosts) and all(state == "UP" for state in states.values())

    # -- database hosts ----------------------------------------------------------------------------------

    def kill_patroni(self, number: int) -> None:
        child = self.patronis[number]
        self.supervisor.note_tree(child)
        if child.running():
            child.process.send_signal(signal.SIGKILL)  # Patroni alone: its postgres is in a session of its own
            child.process.wait(10)

    def kill_postmaster(self, number: int) -> int | None:
        self.note_postmasters()
        pid = patroni.postmaster(self.layout, number)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pid

    # -- down --------------------------------------------------------------------------------------------

    def down(self) -> Teardown:
        """Stop everything, in order, by PID; check nothing is left; remove the folder."""
        stop = self.supervisor.stop
        if self.balancer is not None:
            stop(self.balancer, timeout=5)
        if self.fleet is not None:
            serving = [child for child in self.fleet.serving.values() if child.running()]
            for child in serving:
                self.supervisor.note_tree(child)
                child.signal_group(signal.SIGCONT)  # a host left hung would never see its SIGTERM
                child.process.send_signal(signal.SIGTERM)
            for child in serving:
                stop(child, timeout=15, group=False)
            for child in [*self.fleet.routers.values(), *self.fleet.links.values()]:
                stop(child, timeout=5)
            self.say("API hosts, their HAProxy and links stopped")
        self.note_postmasters()
        # Patroni killed, not stopped: a stopping primary would hand its lead over first (seconds, for nothing).
        for child in self.patronis.values():
            if child.running():
                child.process.send_signal(signal.SIGKILL)
        for child in self.patronis.values():
            stop(child, timeout=10)
        self._stop_postmasters()
        self.say("Patroni and PostgreSQL stopped")
        if self.etcd is not None:
            stop(self.etcd, timeout=10)
        self.supervisor.stop_all()
        left = self.supervisor.left_running()
        ports = [f"{host}:{port}" for host, port in self.layout.ports()]
        in_use = [
            text for (host, port), text in zip(self.layout.ports(), ports, strict=True) if port_in_use((host, port))
        ]
        shutil.rmtree(self.layout.root, ignore_errors=True)
        return Teardown(
            sorted(self.supervisor.seen), left, ports, in_use, str(self.layout.root), not self.layout.root.exists()
        )

    def _stop_postmasters(self) -> None:
        """Fast shutdown (SIGINT) of every postmaster still running, SIGKILL after 15 s."""
        from sale_orders_lab.procs import alive  # noqa: PLC0415

        running: list[ProcessId] = []
        for db in self.layout.db_hosts:
            pid = patroni.postmaster(self.layout, db.number)
            if pid is not None and (ident := identify(pid)) is not None and alive(ident):
                running.append(ident)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGINT)
        with contextlib.suppress(LabError):
            wait_until(lambda: not any(alive(p) for p in running), 15, "PostgreSQL stopped")
        for process in running:
            if alive(process):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process[0], signal.SIGKILL)
