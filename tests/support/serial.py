"""Is a pair of concurrent requests explained by some serial order? A model of the API's rules on orders and refs.

Requests that race on the same rows must end as if each had run entirely before or after the others: their answers
and the rows they leave must be those of some serial order. A request answered with a retryable failure
(409 `concurrent-change`, 503) must have had no effect: it is explained as if it had not run at all.

`World` holds what a round of a race may change; each request `apply`s itself to a world as the API's rules say,
giving its status, the order its answer shows and the world after it. `explain` lists every serial history of
the racing requests; `explained` says whether what a test observed is one of them.
"""

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol

RETRYABLE = "retryable"
"""The status of a request answered with a retryable failure: it must have changed nothing."""

Line = tuple[int, int, Decimal]
"""product_id, quantity, price."""


@dataclass(frozen=True)
class Order:
    name: str
    contact: int
    lines: tuple[Line, ...]
    tags: frozenset[int]


NEW = 0
"""The key, in a world, of the order a create makes (its id is not known in advance)."""


@dataclass(frozen=True)
class World:
    contacts: frozenset[int]
    products: frozenset[int]
    tags: frozenset[int]
    orders: Mapping[int, Order]

    def missing(self, contact: int | None, lines: tuple[Line, ...], tags: frozenset[int]) -> bool:
        missing_contact = contact is not None and contact not in self.contacts
        return missing_contact or any(p not in self.products for p, _, _ in lines) or not tags <= self.tags

    def with_order(self, order_id: int, order: Order | None) -> "World":
        orders = {key: value for key, value in self.orders.items() if key != order_id}
        if order is not None:
            orders[order_id] = order
        return replace(self, orders=orders)


@dataclass(frozen=True)
class Outcome:
    """What a request did in a world: its status, the order its answer shows (if any), and the world after."""

    status: int | str
    world: World
    shows: Order | None = None


class Request(Protocol):
    def apply(self, world: World) -> Outcome: ...


@dataclass(frozen=True)
class CreateOrder:
    order: Order

    def apply(self, world: World) -> Outcome:
        if world.missing(self.order.contact, self.order.lines, self.order.tags):
            return Outcome(422, world)
        return Outcome(201, world.with_order(NEW, self.order), self.order)


@dataclass(frozen=True)
class PatchOrder:
    order_id: int
    name: str | None = None
    contact: int | None = None
    lines: tuple[Line, ...] | None = None
    tags: frozenset[int] | None = None

    def apply(self, world: World) -> Outcome:
        order = world.orders.get(self.order_id)
        if order is None:
            return Outcome(404, world)
        if world.missing(self.contact, self.lines or (), self.tags or frozenset()):
            return Outcome(422, world)
        changed = Order(
            self.name if self.name is not None else order.name,
            self.contact if self.contact is not None else order.contact,
            self.lines if self.lines is not None else order.lines,
            self.tags if self.tags is not None else order.tags,
        )
        return Outcome(200, world.with_order(self.order_id, changed), changed)


@dataclass(frozen=True)
class DeleteOrder:
    order_id: int

    def apply(self, world: World) -> Outcome:
        if self.order_id not in world.orders:
            return Outcome(404, world)
        return Outcome(204, world.with_order(self.order_id, None))


@dataclass(frozen=True)
class DeleteReferenced:
    """DELETE of a contact, product or tag: refused (409) while an order refers to it."""

    kind: str  # "contact", "product" or "tag"
    item_id: int

    def used(self, world: World) -> bool:
        for order in world.orders.values():
            if self.kind == "contact" and order.contact == self.item_id:
                return True
            if self.kind == "product" and any(p == self.item_id for p, _, _ in order.lines):
                return True
            if self.kind == "tag" and self.item_id in order.tags:
                return True
        return False

    def apply(self, world: World) -> Outcome:
        present = {"contact": world.contacts, "product": world.products, "tag": world.tags}[self.kind]
        if self.item_id not in present:
            return Outcome(404, world)
        if self.used(world):
            return Outcome(409, world)
        gone = frozenset({self.item_id})
        if self.kind == "contact":
            return Outcome(204, replace(world, contacts=world.contacts - gone))
        if self.kind == "product":
            return Outcome(204, replace(world, products=world.products - gone))
        return Outcome(204, replace(world, tags=world.tags - gone))


@dataclass(frozen=True)
class Explanation:
    """One serial history: each request's outcome (in the requests' own order), and the world it leaves."""

    outcomes: tuple[Outcome, ...]
    world: World

    @property
    def statuses(self) -> tuple[int | str, ...]:
        return tuple(outcome.status for outcome in self.outcomes)


def explain(world: World, requests: Sequence[Request]) -> Iterator[Explanation]:
    """Every serial history of `requests` from `world`: any of them may not have run (a retryable answer), and
    those that ran did so one after the other, in any order."""
    indexes = range(len(requests))
    for count in range(len(requests), -1, -1):
        for ran in itertools.combinations(indexes, count):
            for order in itertools.permutations(ran):
                outcomes: dict[int, Outcome] = {}
                current = world
                for index in order:
                    outcomes[index] = requests[index].apply(current)
                    current = outcomes[index].world
                not_run = Outcome(RETRYABLE, current)
                yield Explanation(tuple(outcomes.get(index, not_run) for index in indexes), current)


@dataclass(frozen=True)
class Observed:
    """What a round of a race saw: each answer (status, or `RETRYABLE`), the order it shows, and the rows after."""

    statuses: tuple[int | str, ...]
    shows: tuple[Order | None, ...]
    world: World


def explained(world: World, requests: Sequence[Request], observed: Observed) -> bool:
    """Whether some serial history of `requests` gives exactly the answers and the rows observed."""
    return any(
        candidate.statuses == observed.statuses
        and candidate.world == observed.world
        and all(
            seen is None or seen == outcome.shows
            for seen, outcome in zip(observed.shows, candidate.outcomes, strict=True)
        )
        for candidate in explain(world, requests)
    )
