"""The load: K client threads on the generated SDK, through HAProxy, and their own log of every call.

Each client creates orders, each with an Idempotency-Key of its own (one key per logical create, named in the
log) and a name made of that key, reads each acknowledged order back through the other family, and pages
through the orders. One create in ten carries no key: HAProxy must never replay those. The client relies on
the SDK for retries (`RetryPolicy`, when the SDK has it): one logical call is one entry of the log, whatever
the SDK did underneath. An order is acknowledged when the client received its 201.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Self

import httpx

from sale_orders_client import AuthenticatedClient
from sale_orders_client import client as sdk_client
from sale_orders_client.api.async_ import async_create_order, async_get_order, async_list_orders
from sale_orders_client.api.sync import sync_create_order, sync_get_order, sync_list_orders
from sale_orders_client.models import ContactCreate, OrderCreate, OrderLine, ProductCreate, TagCreate
from sale_orders_client.types import UNSET

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from sale_orders_lab.layout import ApiHost

FAMILIES = ("sync", "async")
UNKEYED_EVERY = 10
PAGE_EVERY = 5
TIMEOUT = httpx.Timeout(30.0, connect=3.0)
PROBE_TIMEOUT = httpx.Timeout(3.0)
PAUSE = 0.05  # s between a client's calls: a load that leaves the two cores room for the hosts


@dataclass(frozen=True)
class Op:
    """One logical call of a client, as the client saw it."""

    client: str
    fault: str
    kind: str
    """create, create-unkeyed, read, page."""
    family: str
    started: float
    seconds: float
    status: int
    """The HTTP status the client got in the end; 0 when it got none (a connection error or a timeout)."""
    error: str = ""
    key: str = ""
    name: str = ""
    order_id: int | None = None

    @property
    def acknowledged(self) -> bool:
        return self.kind.startswith("create") and self.status == 201 and self.order_id is not None

    @property
    def outcome(self) -> str:
        return str(self.status) if self.status else self.error or "no answer"


@dataclass
class Journal:
    """Every client's log, and the name of the fault under way (each call is counted against it)."""

    started: float = field(default_factory=time.monotonic)
    fault: str = "baseline"
    ops: list[Op] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return time.monotonic() - self.started

    def record(self, op: Op) -> None:
        with self._lock:
            self.ops.append(op)

    def snapshot(self) -> list[Op]:
        with self._lock:
            return list(self.ops)

    def last_ack(self) -> float | None:
        with self._lock:
            return next((op.started + op.seconds for op in reversed(self.ops) if op.acknowledged), None)

    def write(self, path: Path) -> None:
        with path.open("w") as output:
            for op in self.snapshot():
                output.write(json.dumps(asdict(op)) + "\n")


def _retry_options(*, retries: bool) -> dict[str, Any]:
    """The SDK's retry setting, where the SDK has one: its policy for keyed calls, none for the rest."""
    policy = getattr(sdk_client, "RetryPolicy", None)
    if policy is None:  # an SDK without built-in retries: every call is one attempt
        return {}
    if not retries:
        return {"retry": None}
    try:
        return {"retry": policy(max_attempts=8, max_delay=2.0)}
    except TypeError:
        return {"retry": policy()}


def sdk_has_retries() -> bool:
    return getattr(sdk_client, "RetryPolicy", None) is not None


class _LastStatus(threading.local):
    status = 0


@dataclass
class Caller:
    """An SDK client, and the last status it received (for a body the SDK cannot parse, e.g. a proxy's page)."""

    sdk: AuthenticatedClient
    last: _LastStatus

    def __enter__(self) -> Self:
        self.sdk.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sdk.__exit__(*exc)


def make_client(base_url: str, token: str, *, retries: bool, timeout: httpx.Timeout = TIMEOUT) -> Caller:
    last = _LastStatus()

    def remember(response: httpx.Response) -> None:
        last.status = response.status_code

    sdk = AuthenticatedClient(
        base_url=base_url,
        token=token,
        timeout=timeout,
        httpx_args={"event_hooks": {"response": [remember]}},
        **_retry_options(retries=retries),
    )
    return Caller(sdk, last)


@dataclass(frozen=True)
class Catalog:
    """What every order refers to: made once, through the balancer."""

    contact_id: int
    product_ids: tuple[int, int]
    tag_id: int


def make_catalog(base_url: str, token: str) -> Catalog:
    from sale_orders_client.api.sync import (  # noqa: PLC0415
        sync_create_contact,
        sync_create_product,
        sync_create_tag,
    )

    with make_client(base_url, token, retries=True) as caller:
        client = caller.sdk
        suffix = uuid.uuid4().hex[:8]
        contact = sync_create_contact.sync(client=client, body=ContactCreate(name="Lab", email="lab@example.com"))
        apple = sync_create_product.sync(client=client, body=ProductCreate(name=f"apple {suffix}"))
        bread = sync_create_product.sync(client=client, body=ProductCreate(name=f"bread {suffix}"))
        tag = sync_create_tag.sync(client=client, body=TagCreate(name=f"lab {suffix}"))
    ids = [getattr(item, "id", None) for item in (contact, apple, bread, tag)]
    if not all(isinstance(item_id, int) for item_id in ids):
        raise RuntimeError(f"the catalog could not be made: {contact!r} {apple!r} {bread!r} {tag!r}")
    contact_id, apple_id, bread_id, tag_id = (int(item_id) for item_id in ids if item_id is not None)
    return Catalog(contact_id, (apple_id, bread_id), tag_id)


def order_body(catalog: Catalog, name: str, rng: random.Random) -> OrderCreate:
    lines = [
        OrderLine(product_id=catalog.product_ids[0], quantity=rng.randint(1, 5), price=Decimal("0.25")),
        OrderLine(product_id=catalog.product_ids[1], quantity=rng.randint(1, 5), price=Decimal("1.25")),
    ]
    return OrderCreate(name=name, contact_id=catalog.contact_id, order_lines=lines, tag_ids=[catalog.tag_id])


@dataclass
class Client:
    """One client of the lab: who it is in the log, the SDK clients it calls with, and what it refers to."""

    who: str
    journal: Journal
    catalog: Catalog
    rng: random.Random

    def _timed(self, caller: Caller, call: Callable[[], Any]) -> tuple[float, float, int, str, Any]:
        """Run one logical SDK call: (started, seconds, status, error, the SDK's response or None)."""
        start = self.journal.now()
        status, error, response = 0, "", None
        try:
            response = call()
            status = int(response.status_code)
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        except ValueError:  # a body that is not the API's (the SDK could not parse it)
            status, error = caller.last.status, "unparsed body"
        return start, self.journal.now() - start, status, error, response

    def create(self, caller: Caller, family: str, *, keyed: bool = True) -> Op:
        """Create one order (with a key of its own unless told), and log what the client got."""
        key = str(uuid.uuid4())
        name = f"lab {key}" if keyed else f"lab unkeyed {key}"
        body = order_body(self.catalog, name, self.rng)
        fault = self.journal.fault
        module = sync_create_order if family == "sync" else async_create_order
        sent_key = key if keyed else UNSET
        started, seconds, status, error, response = self._timed(
            caller, lambda: module.sync_detailed(client=caller.sdk, body=body, idempotency_key=sent_key)
        )
        order_id = getattr(response.parsed, "id", None) if status == 201 and response is not None else None
        kind = "create" if keyed else "create-unkeyed"
        op = Op(self.who, fault, kind, family, started, seconds, status, error, key if keyed else "", name, order_id)
        self.journal.record(op)
        return op

    def call(self, caller: Caller, kind: str, family: str, call: Callable[[], Any]) -> Op:
        fault = self.journal.fault
        started, seconds, status, error, _ = self._timed(caller, call)
        op = Op(self.who, fault, kind, family, started, seconds, status, error)
        self.journal.record(op)
        return op

    def read(self, caller: Caller, family: str, order_id: int) -> Op:
        getter = sync_get_order if family == "sync" else async_get_order
        return self.call(caller, "read", family, lambda: getter.sync_detailed(order_id, client=caller.sdk))

    def page(self, caller: Caller, family: str, after: int) -> Op:
        lister = sync_list_orders if family == "sync" else async_list_orders
        return self.call(caller, "page", family, lambda: lister.sync_detailed(client=caller.sdk, after=after, limit=20))


@dataclass(frozen=True)
class Target:
    """Where the clients call, with which key."""

    base_url: str
    token: str


def client_loop(index: int, target: Target, catalog: Catalog, journal: Journal, stop: threading.Event) -> None:
    """One client: create, read back through the other family, page, until `stop` is set."""
    client = Client(f"c{index}", journal, catalog, random.Random(index))  # noqa: S311 - load, not secrets
    with (
        make_client(target.base_url, target.token, retries=True) as keyed,
        make_client(target.base_url, target.token, retries=False) as plain,
    ):
        count = 0
        last_id = 0
        while not stop.is_set():
            count += 1
            family = FAMILIES[client.rng.randrange(len(FAMILIES))]
            unkeyed = count % UNKEYED_EVERY == 0
            op = client.create(plain if unkeyed else keyed, family, keyed=not unkeyed)
            if op.acknowledged and op.order_id is not None:
                last_id = op.order_id
                client.read(keyed, FAMILIES[1 - FAMILIES.index(family)], op.order_id)
            if count % PAGE_EVERY == 0:
                client.page(keyed, family, max(0, last_id - 40))
            stop.wait(PAUSE)


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


def probe_writes(api: ApiHost, token: str, catalog: Catalog, journal: Journal) -> bool:
    """Whether `api` itself (not the balancer) creates an order now, in every family; logged like any create."""
    client = Client(f"probe-{api.name}", journal, catalog, random.Random())  # noqa: S311 - load, not secrets
    with make_client(api.base_url, token, retries=False, timeout=PROBE_TIMEOUT) as caller:
        creates = [client.create(caller, family) for family in FAMILIES]  # every family, even after a failure
    return all(op.acknowledged for op in creates)
