"""The load: K client threads on the SDK, through HAProxy, writing through one API host, reading through others.

Each client, in turn: creates an order through host A (asking the balancer for it; one create in ten carries no
Idempotency-Key, and HAProxy must never replay those), reads it back by id through host B with its consistency token
(the SDK sends the newest one its writes got: read-your-writes), reads it again through host C without any token (may
be stale by at most MAX_STALENESS_MS), and every fifth turn pages through the orders around it through host B. The
hosts rotate with every turn. The keyed and unkeyed SDK clients share one client's tokens.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sale_orders_client.client import ConsistencyTokens
from sale_orders_lab.clients import FAMILIES, Catalog, Client, Journal, make_client

if TYPE_CHECKING:
    from collections.abc import Sequence

UNKEYED_EVERY = 10
PAGE_EVERY = 5
PAUSE = 0.05  # s between a client's turns: a load that leaves the two cores room for the hosts


@dataclass(frozen=True)
class Target:
    """Where the clients call, with which key, and the API hosts they may ask the balancer for."""

    base_url: str
    token: str
    hosts: tuple[str, ...] = ()


def client_loop(index: int, target: Target, catalog: Catalog, journal: Journal, stop: threading.Event) -> None:
    """One client: create through one host, read back through the others, page, until `stop` is set."""
    client = Client(f"c{index}", journal, catalog, random.Random(index))  # noqa: S311 - load, not secrets
    tokens = ConsistencyTokens()
    url, key = target.base_url, target.token
    with (
        make_client(url, key, retries=True, consistency=tokens) as keyed,
        make_client(url, key, retries=False, consistency=tokens) as plain,
        make_client(url, key, retries=True, consistency=None) as tokenless,
    ):
        count = 0
        last_id = 0
        while not stop.is_set():
            count += 1
            writer, reader, other = _hosts(target.hosts, index + count)
            family = FAMILIES[client.rng.randrange(len(FAMILIES))]
            other_family = FAMILIES[1 - FAMILIES.index(family)]
            unkeyed = count % UNKEYED_EVERY == 0
            creator = plain if unkeyed else keyed
            creator.prefer = writer
            op = client.create(creator, family, keyed=not unkeyed)
            keyed.prefer, tokenless.prefer = reader, other
            if op.acknowledged and op.order_id is not None:
                last_id = op.order_id
                client.read(keyed, other_family, op.order_id)
                client.read(tokenless, family, op.order_id)
            if count % PAGE_EVERY == 0:
                client.page(keyed, family, max(0, last_id - 10))
            stop.wait(PAUSE)


def _hosts(hosts: Sequence[str], turn: int) -> tuple[str, str, str]:
    """Three hosts in rotation (all "" without hosts: let the balancer choose)."""
    if not hosts:
        return "", "", ""
    return hosts[turn % len(hosts)], hosts[(turn + 1) % len(hosts)], hosts[(turn + 2) % len(hosts)]


@dataclass
class Load:
    """K client threads through the balancer."""

    target: Target
    catalog: Catalog
    journal: Journal
    clients: int
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for index in range(1, self.clients + 1):
            thread = threading.Thread(
                target=client_loop,
                args=(index, self.target, self.catalog, self.journal, self.stop),
                name=f"lab-client-{index}",
                daemon=True,
            )
            thread.start()
            self.threads.append(thread)

    def finish(self, seconds: float = 60) -> bool:
        """Stop the clients; whether every one finished its last call within `seconds`."""
        self.stop.set()
        deadline = time.monotonic() + seconds
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self.threads)
