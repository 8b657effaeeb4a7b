"""The lab's SDK clients, what one logical call of theirs did, and the log of every call.

A `Caller` is one SDK client: it can ask the balancer for one API host (`prefer`), and remembers which host answered
its last call, with what status and Retry-After. A `Client` is one client of the lab: it creates orders (each with
an Idempotency-Key of its own, named in the log, and a name made of that key), reads one back, pages, and logs each
logical call once, whatever the SDK retried underneath. An order is acknowledged when the client received its 201.
The loop that drives them is `load`.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Self

import httpx

from sale_orders_client import AuthenticatedClient
from sale_orders_client import client as sdk_client
from sale_orders_client.api.async_ import async_create_order, async_get_order, async_list_orders
from sale_orders_client.api.sync import sync_create_order, sync_get_order, sync_list_orders
from sale_orders_client.models import ContactCreate, OrderCreate, OrderLine, ProductCreate, TagCreate
from sale_orders_client.types import UNSET
from sale_orders_lab.haproxy import PREFER_HEADER, SERVED_BY_HEADER

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from sale_orders_client.client import ConsistencyTokens
    from sale_orders_lab.layout import ApiHost

FAMILIES = ("sync", "async")
PAGE_LIMIT = 20
TIMEOUT = httpx.Timeout(30.0, connect=3.0)
PROBE_TIMEOUT = httpx.Timeout(3.0)
READS = ("read", "read-no-token", "page")
"""The kinds of read: an order by id with the client's token, the same without any token, a page with the token."""


@dataclass(frozen=True)
class Op:
    """One logical call of a client, as the client saw it."""

    client: str
    fault: str
    kind: str
    """create, create-unkeyed, read, read-no-token, page."""
    family: str
    started: float
    seconds: float
    status: int
    """The HTTP status the client got in the end; 0 when it got none (a connection error or a timeout)."""
    error: str = ""
    key: str = ""
    name: str = ""
    order_id: int | None = None
    """A create's order (when acknowledged), or the order a read asked for."""
    host: str = ""
    """The API host that answered last ("" when the balancer answered itself, or nothing did)."""
    token: bool = False
    """Whether the call carried the client's consistency token."""
    after: int | None = None
    ids: tuple[int, ...] = ()
    """The orders a page answered."""
    retry_after: str = ""

    @property
    def acknowledged(self) -> bool:
        return self.kind.startswith("create") and self.status == 201 and self.order_id is not None

    @property
    def acknowledged_at(self) -> float:
        return self.started + self.seconds

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


class _Last(threading.local):
    status = 0
    host = ""
    retry_after = ""


@dataclass
class Caller:
    """An SDK client; the host it asks the balancer for; what its last response said (status, host, Retry-After).

    The status is kept for a body the SDK cannot parse (a proxy's page).
    """

    sdk: AuthenticatedClient
    last: _Last
    prefer: str = ""

    @property
    def has_token(self) -> bool:
        return self.sdk.consistency is not None and self.sdk.consistency.newest is not None

    def __enter__(self) -> Self:
        self.sdk.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sdk.__exit__(*exc)


def make_client(
    base_url: str,
    token: str,
    *,
    retries: bool,
    timeout: httpx.Timeout = TIMEOUT,
    consistency: ConsistencyTokens | None = None,
) -> Caller:
    """An SDK client keeping its consistency tokens in `consistency` (shared, or None: no token at all)."""
    last = _Last()
    caller: Caller

    def prefer(request: httpx.Request) -> None:
        if caller.prefer:
            request.headers[PREFER_HEADER] = caller.prefer

    def remember(response: httpx.Response) -> None:
        last.status = response.status_code
        last.host = response.headers.get(SERVED_BY_HEADER, "")
        last.retry_after = response.headers.get("Retry-After", "")

    sdk = AuthenticatedClient(
        base_url=base_url,
        token=token,
        timeout=timeout,
        consistency=consistency,
        httpx_args={"event_hooks": {"request": [prefer], "response": [remember]}},
        **_retry_options(retries=retries),
    )
    caller = Caller(sdk, last)
    return caller


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


@dataclass(frozen=True)
class Answer:
    """What one logical SDK call got."""

    started: float
    seconds: float
    status: int
    error: str
    response: Any
    host: str
    retry_after: str


@dataclass
class Client:
    """One client of the lab: who it is in the log, and what it refers to."""

    who: str
    journal: Journal
    catalog: Catalog
    rng: random.Random

    def _timed(self, caller: Caller, call: Callable[[], Any]) -> Answer:
        """Run one logical SDK call, and say what it got."""
        caller.last.host = caller.last.retry_after = ""
        start = self.journal.now()
        status, error, response = 0, "", None
        try:
            response = call()
            status = int(response.status_code)
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        except ValueError:  # a body that is not the API's (the SDK could not parse it)
            status, error = caller.last.status, "unparsed body"
        seconds = self.journal.now() - start
        return Answer(start, seconds, status, error, response, caller.last.host, caller.last.retry_after)

    def create(self, caller: Caller, family: str, *, keyed: bool = True) -> Op:
        """Create one order (with a key of its own unless told), and log what the client got."""
        key = str(uuid.uuid4())
        name = f"lab {key}" if keyed else f"lab unkeyed {key}"
        body = order_body(self.catalog, name, self.rng)
        fault = self.journal.fault
        module = sync_create_order if family == "sync" else async_create_order
        sent_key = key if keyed else UNSET
        got = self._timed(caller, lambda: module.sync_detailed(client=caller.sdk, body=body, idempotency_key=sent_key))
        order_id = getattr(got.response.parsed, "id", None) if got.status == 201 and got.response is not None else None
        op = Op(
            self.who,
            fault,
            "create" if keyed else "create-unkeyed",
            family,
            got.started,
            got.seconds,
            got.status,
            got.error,
            key if keyed else "",
            name,
            order_id,
            host=got.host,
            retry_after=got.retry_after,
        )
        self.journal.record(op)
        return op

    def read(self, caller: Caller, family: str, order_id: int) -> Op:
        """Read one order by id: `read` when the caller sends a token, `read-no-token` otherwise."""
        getter = sync_get_order if family == "sync" else async_get_order
        kind = "read" if caller.sdk.consistency is not None else "read-no-token"
        token = caller.has_token
        fault = self.journal.fault
        got = self._timed(caller, lambda: getter.sync_detailed(order_id, client=caller.sdk))
        op = Op(self.who, fault, kind, family, got.started, got.seconds, got.status, order_id=order_id)
        return self._log(op, got, token=token)

    def page(self, caller: Caller, family: str, after: int) -> Op:
        """Read the page of orders after `after`, and log which orders it had."""
        lister = sync_list_orders if family == "sync" else async_list_orders
        token = caller.has_token
        fault = self.journal.fault
        got = self._timed(caller, lambda: lister.sync_detailed(client=caller.sdk, after=after, limit=PAGE_LIMIT))
        parsed = got.response.parsed if got.status == 200 and got.response is not None else None
        ids = tuple(int(order.id) for order in parsed) if isinstance(parsed, list) else ()
        op = Op(self.who, fault, "page", family, got.started, got.seconds, got.status, after=after, ids=ids)
        return self._log(op, got, token=token)

    def _log(self, op: Op, got: Answer, *, token: bool) -> Op:
        done = replace(op, error=got.error, host=got.host, retry_after=got.retry_after, token=token)
        self.journal.record(done)
        return done


def probe_writes(api: ApiHost, token: str, catalog: Catalog, journal: Journal) -> bool:
    """Whether `api` itself (not the balancer) creates an order now, in every family; logged like any create."""
    client = Client(f"probe-{api.name}", journal, catalog, random.Random())  # noqa: S311 - load, not secrets
    with make_client(api.base_url, token, retries=False, timeout=PROBE_TIMEOUT) as caller:
        creates = [client.create(caller, family) for family in FAMILIES]  # every family, even after a failure
    return all(op.acknowledged for op in creates)
