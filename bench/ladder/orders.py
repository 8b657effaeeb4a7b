"""What every rung does alike, whatever its driver: the order to create, the rule on references, the JSON."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sale_orders.domain import order_json
from sale_orders.domain.references import require_none_missing

Line = tuple[int, int, Decimal]
"""product_id, quantity, price."""


@dataclass(frozen=True)
class NewOrder:
    """An order to create, from whichever body type a rung decoded."""

    name: str
    contact_id: int
    lines: list[Line]
    tag_ids: list[int]

    @classmethod
    def of(cls, body: Any) -> "NewOrder":
        """From a msgspec Struct, a plain pydantic model or the product's `OrderCreate`: they share field names."""
        lines = [(line.product_id, line.quantity, exact(line.price)) for line in body.order_lines]
        return cls(body.name, body.contact_id, lines, list(body.tag_ids))

    @property
    def product_ids(self) -> list[int]:
        return list(dict.fromkeys(product_id for product_id, _, _ in self.lines))

    def check(self, found: Sequence[tuple[str, int]]) -> None:
        """The product's rule: every contact, product and tag referred to exists (422 otherwise)."""
        wanted = [("contact", self.contact_id), *(("product", product_id) for product_id, _, _ in self.lines)]
        wanted += [("tag", tag_id) for tag_id in self.tag_ids]
        existing = set(found)
        require_none_missing(reference for reference in wanted if reference not in existing)

    def line_rows(self, order_id: int) -> list[order_json.LineRow]:
        return [(order_id, product_id, quantity, price) for product_id, quantity, price in self.lines]

    def created(self, order_id: int, tags: Sequence[tuple[int, str]]) -> bytes:
        """The JSON the product answers: `schemas.Order`, tags by id."""
        tag_rows = [(order_id, tag_id, name) for tag_id, name in tags]
        head = (order_id, self.name, self.contact_id)
        return order_json.encode(order_json.order_document(head, self.line_rows(order_id), tag_rows))


def exact(price: Decimal | float) -> Decimal:
    """A price as the product reads it: a JSON number is the decimal written (its float's shortest repr)."""
    return Decimal(repr(price)) if isinstance(price, float) else price


def page(orders: Sequence[Any], lines: Sequence[Any], tags: Sequence[Any]) -> bytes:
    """A page of orders as the product answers it, from rows of any driver (they unpack as tuples)."""
    return order_json.encode_orders(orders, lines, tags)
