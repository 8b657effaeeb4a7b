"""The API hosts (`sale-orders serve --workers 2`, one address each), their HAProxy and their links to PostgreSQL.

Every API host reaches each database host through a fault proxy of its own (`sale_orders_faultproxy`, its own process),
so one host's link can be delayed or cut while the others' are not; in front of its links runs its own HAProxy
(`routing`), which follows Patroni: DATABASE_URL is its primary port, READ_DATABASE_URL its replica port.
"""

from __future__ import annotations

import signal
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sale_orders_faultproxy.control import send
from sale_orders_faultproxy.process import command_line
from sale_orders_lab import haproxy, routing
from sale_orders_lab.procs import Child, LabError, Supervisor, port_in_use, wait_until
from sale_orders_tools.harness.servers import env_without_settings, healthy

if TYPE_CHECKING:
    from pathlib import Path

    from sale_orders_lab.layout import ApiHost, Layout, Link

WORKERS = 2
START_SECONDS = 120  # importing the app in 6 workers at once on 2 busy cores: tens of seconds
MAX_STALENESS_MS = 1000
# Small pools: 3 hosts x 2 workers x (6 + 6) = 72 connections to the primary, and as many to the replica port, which
# lands on the primary too when no replica is healthy: 144, within max_connections = 200 (patroni.py) with room for
# /health's engines, migrations from every host at once, Patroni and the lab's own checks.
HOST_SETTINGS = {
    "SYNC_THREADS": "6",
    "SYNC_POOL_SIZE": "6",
    "ASYNC_POOL_SIZE": "6",
    "POOL_TIMEOUT": "5",
    "MAX_STALENESS_MS": str(MAX_STALENESS_MS),
    # HAProxy hands its kept-alive connections to a host to other clients, and retries a 503 on another host:
    # a connection left unread after a refusal would hold the next client's request for SHED_PAUSE.
    "SHED_PAUSE": "0",
    "LOG_FORMAT": "text",
}


def host_env(layout: Layout, api: ApiHost, api_keys: str, *, standby_reads: bool = True) -> dict[str, str]:
    """An API host's environment: nothing of the developer's database or API settings, the lab's instead."""
    reads = {"READ_DATABASE_URL": layout.read_url(api)} if standby_reads else {}
    return env_without_settings(
        **HOST_SETTINGS,
        **reads,
        DATABASE_URL=layout.app_url(api),
        API_KEYS=api_keys,
        PROMETHEUS_MULTIPROC_DIR=str(layout.folder(api.name) / "metrics"),
    )


@dataclass
class Fleet:
    """The running API hosts, their HAProxy and their links: start, stop, kill, hang and resume one.

    `standby_reads`: whether hosts started from now on get READ_DATABASE_URL (the lab measures both).
    """

    layout: Layout
    supervisor: Supervisor
    api_keys: str
    serving: dict[str, Child] = field(default_factory=dict)
    links: dict[Link, Child] = field(default_factory=dict)
    routers: dict[str, Child] = field(default_factory=dict)
    standby_reads: bool = True

    def router_socket(self, api: ApiHost) -> Path:
        """The admin socket of `api`'s HAProxy."""
        return self.layout.folder(api.name) / "db-haproxy.sock"

    def start_links(self) -> None:
        """Every API host's links, then its HAProxy in front of them; until each sees a primary UP."""
        for api in self.layout.api_hosts:
            folder = self.layout.folder(api.name)
            folder.mkdir(parents=True, exist_ok=True)
            for link in api.links:
                argv = command_line(link.listen, link.db.postgres, link.control)
                log = folder / f"link-{link.db.name}.log"
                self.links[link] = self.supervisor.start(f"{api.name}->{link.db.name}", argv, log=log)
        for link, child in self.links.items():
            wait_until(
                lambda link=link, child=child: port_in_use(link.control) or not child.running(),  # type: ignore[misc]
                30,
                f"the link {link.api} -> {link.db.name} listening",
            )
            if not child.running():
                raise LabError(f"the link {link.api} -> {link.db.name} exited: {child.log.read_text()[-2000:]}")
        for api in self.layout.api_hosts:
            self._start_router(api)
        for api in self.layout.api_hosts:
            child = self.routers[api.name]

            def primary_up(api: ApiHost = api, child: Child = child) -> bool:
                if not child.running():
                    raise LabError(f"the HAProxy of {api.name} exited: {child.log.read_text()[-2000:]}")
                return bool(routing.up(self.router_socket(api), routing.PRIMARY))

            wait_until(primary_up, 30, f"the HAProxy of {api.name} seeing a primary", step=0.1)

    def _start_router(self, api: ApiHost) -> None:
        folder = self.layout.folder(api.name)
        config = folder / "db-haproxy.cfg"
        config.write_text(routing.config(api, self.router_socket(api)))
        if (complaint := haproxy.check_config(config)) is not None:
            raise LabError(f"HAProxy refuses the configuration of {api.name}'s:\n{complaint}")
        log = folder / "db-haproxy.log"
        self.routers[api.name] = self.supervisor.start(f"{api.name} haproxy", haproxy.argv(config), log=log)

    def routes(self, api: ApiHost) -> dict[str, dict[str, str]]:
        """What `api`'s HAProxy routes to now: each backend's servers and their states."""
        return routing.states(self.router_socket(api))

    def command(self, link: Link, line: str) -> str:
        return send(link.control, line)

    def cut(self, api: ApiHost) -> None:
        """Hold every link of `api`: no byte either way, nothing closed (a link that stopped answering)."""
        for link in api.links:
            self.command(link, "hold")

    def mend(self, api: ApiHost) -> None:
        for link in api.links:
            self.command(link, "release")

    def start(self, api: ApiHost, *, wait: bool = True) -> Child:
        folder = self.layout.folder(api.name)
        folder.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable,
            "-m",
            "sale_orders.cli",
            "serve",
            f"--host={api.address}",
            f"--port={api.http[1]}",
            f"--workers={WORKERS}",
            "--no-migrate",
            "--no-access-log",
        ]
        env = host_env(self.layout, api, self.api_keys, standby_reads=self.standby_reads)
        # Its own folder as the working directory: the repository's .env must not configure a lab host.
        child = self.supervisor.start(api.name, argv, log=folder / "serve.log", env=env, cwd=folder)
        self.serving[api.name] = child
        if wait:
            self.wait_healthy(api)
        return child

    def wait_healthy(self, api: ApiHost, seconds: float = START_SECONDS) -> float:
        child = self.serving[api.name]

        def ready() -> bool:
            if not child.running():
                raise LabError(f"{api.name} exited ({child.process.returncode}): {child.log.read_text()[-3000:]}")
            return healthy(api.base_url, timeout=1.0)

        took = wait_until(ready, seconds, f"{api.name} answering /health", step=0.2)
        self.supervisor.note_tree(child)  # its workers, so that the end of the lab checks they are gone
        return took

    def signal(self, api: ApiHost, signum: int) -> None:
        """Send `signum` to every process of the host (its uvicorn and workers): a host-wide event."""
        self.supervisor.note_tree(self.serving[api.name])
        self.serving[api.name].signal_group(signum)

    def kill(self, api: ApiHost) -> None:
        """The host dies: SIGKILL to every process of it, at once."""
        child = self.serving[api.name]
        self.signal(api, signal.SIGKILL)
        child.process.wait(10)

    def stop(self, api: ApiHost, timeout: float = 30) -> int:
        """A graceful stop: SIGTERM to uvicorn, which stops accepting, finishes what runs and exits."""
        return self.supervisor.stop(self.serving[api.name], timeout=timeout, group=False)

    def ensure_running(self) -> None:
        """Start any host that is not running (after a fault that failed half-way), and resume any stopped one."""
        for api in self.layout.api_hosts:
            child = self.serving.get(api.name)
            if child is None or not child.running():
                self.start(api)
            else:
                child.signal_group(signal.SIGCONT)
        for link in self.links:
            self.command(link, "release")
