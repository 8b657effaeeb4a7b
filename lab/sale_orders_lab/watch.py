"""What a failover looks like from each API host and from its HAProxy, sampled every 0.1 s while it happens.

`HostWatch`: a thread per API host creating an order and reading one back, straight on the host (not through the
balancer), logged like every client's calls: when each host first answered a write with an error after the
primary's death (and whether that was the API's 503 with Retry-After), when it answered 2xx again, and whether the
balancer kept every API host in rotation meanwhile (it checks /health/live). `RouteWatch`: what each API host's
HAProxy routed to (its primary and replica backends), so a node is seen never to be routed to while its Patroni is
dead.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sale_orders_client.client import ConsistencyTokens
from sale_orders_lab import routing
from sale_orders_lab.clients import FAMILIES, PROBE_TIMEOUT, Client, make_client

if TYPE_CHECKING:
    from sale_orders_lab.clients import Catalog, Journal, Op
    from sale_orders_lab.layout import ApiHost
    from sale_orders_lab.stack import Lab

TICK = 0.1


@dataclass
class HostWatch:
    """Writes and reads straight on every API host, every TICK, until stopped."""

    lab: Lab
    journal: Journal
    catalog: Catalog
    since: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    ops: dict[str, list[Op]] = field(default_factory=dict)
    balancer_down: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        """Start watching; `since` (journal time) is when the failover began: set it then."""
        self.since = self.journal.now()
        for api in self.lab.layout.api_hosts:
            self.ops[api.name] = []
            thread = threading.Thread(target=self._host, args=(api,), name=f"lab-watch-{api.name}", daemon=True)
            thread.start()
            self.threads.append(thread)
        thread = threading.Thread(target=self._balancer, name="lab-watch-balancer", daemon=True)
        thread.start()
        self.threads.append(thread)

    def _host(self, api: ApiHost) -> None:
        client = Client(f"watch-{api.name}", self.journal, self.catalog, random.Random())  # noqa: S311 - load
        tokens = ConsistencyTokens()
        url, key = api.base_url, self.lab.token
        with make_client(url, key, retries=False, timeout=PROBE_TIMEOUT, consistency=tokens) as caller:
            turn = 0
            while not self.done.is_set():
                start = time.monotonic()
                family = FAMILIES[turn % 2]
                turn += 1
                op = client.create(caller, family)
                self.ops[api.name].append(op)
                if op.acknowledged and op.order_id is not None:
                    self.ops[api.name].append(client.read(caller, FAMILIES[turn % 2], op.order_id))
                self.done.wait(max(0.0, TICK - (time.monotonic() - start)))

    def _balancer(self) -> None:
        while not self.done.wait(TICK):
            for name, state in self.lab.states().items():
                if state != "UP" and name not in self.balancer_down:
                    self.balancer_down[name] = round(self.journal.now() - self.since, 2)

    def wait_writable(self, seconds: float) -> None:
        """Wait until every host has answered a write with 201 after refusing one (or `seconds` passed)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not all(
            _timeline(ops, self.since)["writes_2xx_again_s"] is not None for ops in self.ops.values()
        ):
            time.sleep(TICK)

    def stop(self) -> dict[str, Any]:
        """Stop, and say what each host answered from `since` on."""
        self.done.set()
        for thread in self.threads:
            thread.join(10)
        hosts = {name: _timeline(ops, self.since) for name, ops in self.ops.items()}
        return {"hosts": hosts, "balancer_marked_down": dict(self.balancer_down)}


def _timeline(ops: list[Op], since: float) -> dict[str, Any]:
    """When a host first refused a write after `since`, what with, and when it wrote again; all from `since`."""
    writes = [op for op in list(ops) if op.kind == "create" and op.acknowledged_at >= since]
    reads = [op for op in list(ops) if op.kind == "read" and op.acknowledged_at >= since]
    refused = next((op for op in writes if not op.acknowledged), None)
    after = [op for op in writes if refused is not None and op.started > refused.started]
    again = next((op for op in after if op.acknowledged), None)
    until = again.started if again is not None else float("inf")
    failed_reads = [op for op in reads if op.status != 200 and op.started < until]
    return {
        "first_refusal_s": None if refused is None else round(refused.acknowledged_at - since, 2),
        "first_refusal": None if refused is None else f"{refused.outcome} Retry-After {refused.retry_after or '-'}",
        "writes_2xx_again_s": None if again is None else round(again.acknowledged_at - since, 2),
        "refused_writes": sum(1 for op in writes if not op.acknowledged),
        "refusals_with_retry_after": sum(1 for op in writes if not op.acknowledged and op.retry_after),
        "slowest_answer_s": round(max((op.seconds for op in writes + reads), default=0.0), 2),
        "reads": len(reads),
        "failed_reads_meanwhile": len(failed_reads),
    }


@dataclass
class RouteWatch:
    """What every API host's HAProxy routes to, every TICK: when each node was UP in each backend."""

    lab: Lab
    since: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    seen: list[tuple[float, str, str, frozenset[str]]] = field(default_factory=list)
    """(seconds since start, API host, backend, the servers UP)."""

    def start(self) -> None:
        self.since = time.monotonic()
        self.thread = threading.Thread(target=self._run, name="lab-watch-routes", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        fleet = self.lab.hosts
        while not self.done.wait(TICK):
            at = time.monotonic() - self.since
            for api in self.lab.layout.api_hosts:
                for backend, states in fleet.routes(api).items():
                    up = frozenset(name for name, state in states.items() if state == "UP")
                    self.seen.append((at, api.name, backend, up))

    def stop(self) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join(10)

    def first(self, backend: str, test: Any, after: float = 0.0) -> float | None:
        """When every API host's HAProxy first met `test(servers UP)` in `backend`, at or after `after` s."""
        hosts = {api.name for api in self.lab.layout.api_hosts}
        met: dict[str, float] = {}
        for at, host, name, up in self.seen:
            if name == backend and at >= after and host not in met and test(up):
                met[host] = at
        return round(max(met.values()), 2) if set(met) == hosts else None

    def ever(self, backend: str, server: str, start: float, end: float) -> bool:
        """Whether any API host's HAProxy had `server` UP in `backend` between `start` and `end` s."""
        return any(name == backend and start <= at <= end and server in up for at, _, name, up in self.seen)


PRIMARY, REPLICAS = routing.PRIMARY, routing.REPLICAS
