"""The sizing rule: threads and pools for a database `RTT` away, from Little's law.

Requests in flight = rate x the time each request holds what it holds. What a request holds differs by family
(checked against the code, `family/_async/services.py` and its sync twin):

- an `async def` request holds a pooled connection only while its statements run: its round trips x RTT;
  between them and around them it holds nothing but a coroutine;
- a `def` request holds a thread, and the thread its connection (`SYNC_POOL_SIZE` is sized to `SYNC_THREADS`:
  a thread never waits for a connection that an idle thread holds), for the request's whole life: its round
  trips x RTT plus its own CPU time.

So, for the rate one endpoint must be served at:

    ASYNC_POOL_SIZE = headroom x rate x round_trips x RTT
    SYNC_THREADS = SYNC_POOL_SIZE = headroom x rate x (round_trips x RTT + cpu)

At the rate one worker can serve at all (rate = 1 / cpu), the sync family needs one thread more than the async
family needs connections: the one running. `headroom` (2) covers what the mean does not: a request also holds
its connection while it waits for the CPU (the event loop, the GIL) between its round trips, which grows when the
worker is busy. The result is at least the defaults (below about 1 ms they already cover one worker's rate, and
fewer threads save little, see `bench network`'s costs), and both pools of one worker together stay within what
PostgreSQL's `max_connections` leaves for it; if they would not, both are cut in proportion, and the rule says so.

A request that finds every connection (sync: every thread) busy queues for one, for at most `POOL_TIMEOUT`
before its 503. With `concurrency` requests outstanding at once, the last in line waits about concurrency / rate:

    POOL_TIMEOUT = headroom x concurrency / rate of the slowest endpoint   (at least the default, 2 s)

Raising it trades fail-fast for queueing: on a cut link a request waits up to POOL_TIMEOUT + DB_RESPONSE_TIMEOUT.

Beyond what a worker serves, a queue only adds waiting: the bound on admission (`MAX_IN_FLIGHT`, per family)
admits what holds a connection (sync: a thread) plus a queue that drains within `QUEUE_TARGET_S`, the wait a
client would rather spend retrying elsewhere:

    MAX_IN_FLIGHT = the family's pool (sync: threads) + rate of the slowest endpoint x QUEUE_TARGET_S

With the defaults near the database (16 connections, a page of 50 at about 400/s, 0.1 s) that is 56: the default
64. Requests beyond it are answered 503 `busy` at once (`bench admission` measures both sides of the bound).

Round trips are counted from the code and measured by `tests/database/api/test_round_trips.py` (PostgreSQL's
statement log) and by the proxy's `turns` in every run of `bench network`.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sale_orders.settings import Settings
from sale_orders_bench.endpoints import LIST_ORDERS, PATCH_ORDER, POST_CONTACT, POST_ORDER

HEADROOM = 2.0
# superuser_reserved_connections (3), and the connections of whoever administers or watches the database.
RESERVED_CONNECTIONS = 10
MAX_THREADS = next(int(rule.le) for rule in Settings.model_fields["sync_threads"].metadata if hasattr(rule, "le"))
# A SELECT 1 through the delay proxy at 0 ms on this machine (`bench network` measures it in every run).
BASE_RTT_MS = 0.1
SIZING_SETTINGS = ("SYNC_THREADS", "SYNC_POOL_SIZE", "ASYNC_POOL_SIZE", "POOL_TIMEOUT", "MAX_IN_FLIGHT")
# The longest a client should wait in a worker's queue before it would rather retry elsewhere.
QUEUE_TARGET_S = 0.1

# Round trips per request, by endpoint and family. One statement each for a page, a create and a keyed create
# (no BEGIN or COMMIT around one statement). Changing an order's lines and tags (lua/patch_order.lua: 3 new
# lines for 3 old ones, 2 new tags for 2 old ones) is BEGIN, the order FOR UPDATE, its tags, its lines, the check
# of every reference, the new tags, INSERT of the new lines, DELETE of the old lines, DELETE and INSERT of the tag
# links, COMMIT: 11 with asyncpg, which sends each executemany as one pipeline; psycopg2 would run an executemany one
# statement after the other unless told to batch them (db/drivers.py: executemany_mode), then it too sends each
# batch of UPDATE or DELETE as one round trip.
ROUND_TRIPS: Mapping[str, Mapping[str, int]] = {
    LIST_ORDERS: {"sync": 1, "async": 1},
    POST_CONTACT: {"sync": 1, "async": 1},
    POST_ORDER: {"sync": 1, "async": 1},
    PATCH_ORDER: {"sync": 11, "async": 11},
}

# Requests/s one worker serves with PostgreSQL near, on this project's 2-core machine: the better of c=8 and c=64
# in docs/benchmarks.md, and PATCH from `bench network --quick` at 0 ms (c=8, a busy machine). The rates to keep
# when a run has not measured its own at 0 ms.
NEAR_RATES: Mapping[str, Mapping[str, float]] = {
    LIST_ORDERS: {"sync": 622, "async": 501},
    POST_CONTACT: {"sync": 1027, "async": 1448},
    POST_ORDER: {"sync": 934, "async": 990},
    PATCH_ORDER: {"sync": 120, "async": 160},
}


@dataclass(frozen=True)
class Workload:
    """One endpoint of one family, served on its own at `rate_per_s` by one worker."""

    family: str
    endpoint: str
    rate_per_s: float
    round_trips: int
    cpu_ms: float
    """The worker's own time per request: 1000 / the rate it serves at most with the database near."""

    def held_ms(self, rtt_ms: float) -> float:
        """How long a request holds its connection (and, in the sync family, its thread)."""
        waiting = self.round_trips * rtt_ms
        return waiting + self.cpu_ms if self.family == "sync" else waiting

    def in_flight(self, rtt_ms: float) -> float:
        """Little's law: the connections (sync: threads) this workload keeps busy on average."""
        return self.rate_per_s * self.held_ms(rtt_ms) / 1000


def workloads(rates: Mapping[tuple[str, str], float]) -> list[Workload]:
    """One workload per (family, endpoint) of `rates`, each served at the rate given, its CPU time 1 / that rate."""
    return [
        Workload(family, endpoint, rate, ROUND_TRIPS[endpoint][family], 1000 / rate)
        for (family, endpoint), rate in rates.items()
        if rate > 0
    ]


def admission_bound(sizes: Mapping[str, int], loads: Iterable[Workload], queue_s: float = QUEUE_TARGET_S) -> int:
    """MAX_IN_FLIGHT: what holds a connection or a thread, plus a queue that drains within `queue_s`."""
    loads = list(loads)
    if not loads:
        return 0
    slowest = min(load.rate_per_s for load in loads)
    held = max(sizes.get("SYNC_THREADS", 0), sizes.get("ASYNC_POOL_SIZE", 0))
    return math.ceil(held + slowest * queue_s)


def default_sizing() -> dict[str, int]:
    """The server's own defaults (settings.py), on this machine."""
    fields = Settings.model_fields
    return {name: int(fields[name.lower()].default) for name in SIZING_SETTINGS}


@dataclass(frozen=True)
class Need:
    """What the rule found for one family: the workload that holds the most, and how much it holds."""

    family: str
    endpoint: str
    in_flight: float
    with_headroom: int


@dataclass(frozen=True)
class SizingPlan:
    """The rule's answer, and why."""

    delay_ms: float
    rtt_ms: float
    env: dict[str, str]
    needs: list[Need] = field(default_factory=list)
    floored: list[str] = field(default_factory=list)
    """Settings set to their default because the rule asked for less."""
    capped: bool = False
    """Whether `max_connections` cut the pools below what the rule asked for."""
    allowed_connections: int = 0


def plan(  # noqa: PLR0913 - keyword-only knobs of one rule
    delay_ms: float,
    loads: Iterable[Workload],
    *,
    rtt_ms: float | None = None,
    base_rtt_ms: float = BASE_RTT_MS,
    max_connections: int = 100,
    workers: int = 1,
    headroom: float = HEADROOM,
    floor: Mapping[str, int] | None = None,
    concurrency: int | None = None,
) -> SizingPlan:
    """The sizing for a database `delay_ms` away one way (RTT = `rtt_ms`, or 2 x delay + `base_rtt_ms`).

    Each family is sized for the workload of its own that holds the most (each endpoint served on its own at its
    rate); for a mix served at once, add up the workloads' in-flight figures instead. With `concurrency` (the
    most requests outstanding at once), POOL_TIMEOUT covers the queue of the slowest workload.
    """
    loads = list(loads)
    rtt = rtt_ms if rtt_ms is not None else 2 * delay_ms + base_rtt_ms
    lowest = dict(floor if floor is not None else default_sizing())
    needs = []
    wanted: dict[str, int] = {}
    for family in ("sync", "async"):
        own = [load for load in loads if load.family == family]
        if not own:
            continue
        top = max(own, key=lambda load: load.in_flight(rtt))
        amount = math.ceil(headroom * top.in_flight(rtt))
        needs.append(Need(family, top.endpoint, round(top.in_flight(rtt), 2), amount))
        wanted[family] = amount
    sizes = {
        "SYNC_THREADS": wanted.get("sync", 0),
        "SYNC_POOL_SIZE": wanted.get("sync", 0),
        "ASYNC_POOL_SIZE": wanted.get("async", 0),
    }
    floored = [name for name, value in sizes.items() if value < lowest[name]]
    sizes = {name: max(value, lowest[name]) for name, value in sizes.items()}
    allowed = max(2, (max_connections - RESERVED_CONNECTIONS) // workers)
    pools = sizes["SYNC_POOL_SIZE"] + sizes["ASYNC_POOL_SIZE"]
    capped = pools > allowed
    if capped:
        sync_pool = max(1, math.floor(allowed * sizes["SYNC_POOL_SIZE"] / pools))
        sizes = {"SYNC_THREADS": sync_pool, "SYNC_POOL_SIZE": sync_pool, "ASYNC_POOL_SIZE": max(1, allowed - sync_pool)}
    sizes["SYNC_THREADS"] = min(sizes["SYNC_THREADS"], MAX_THREADS)
    sizes["SYNC_POOL_SIZE"] = sizes["SYNC_THREADS"]
    queue_floor = lowest.get("POOL_TIMEOUT", default_sizing()["POOL_TIMEOUT"])
    sizes["POOL_TIMEOUT"] = queue_floor
    if concurrency and loads:
        slowest = min(load.rate_per_s for load in loads)
        sizes["POOL_TIMEOUT"] = max(queue_floor, math.ceil(headroom * concurrency / slowest))
    sizes["MAX_IN_FLIGHT"] = max(lowest.get("MAX_IN_FLIGHT", 0), admission_bound(sizes, loads))
    env = {name: str(value) for name, value in sizes.items()}
    return SizingPlan(delay_ms, round(rtt, 3), env, needs, floored, capped, allowed)
