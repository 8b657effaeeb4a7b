"""What every rung does alike, whatever its driver: the order to create, the rule on references, the JSON."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sale_orders.db.queries import orders
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

    def parameters(self) -> dict[str, Any]:
        """The parameters of the product's `CREATE_ORDER` statement."""
        return {
            "name": self.name,
            "contact_id": self.contact_id,
            "product_ids": [product_id for product_id, _, _ in self.lines],
            "quantities": [quantity for _, quantity, _ in self.lines],
            "prices": [price for _, _, price in self.lines],
            "tag_ids": self.tag_ids,
        }

    def created(self, outcome: Sequence[Sequence[Any]]) -> bytes:
        """The JSON the product answers for the rows of `CREATE_ORDER` (a 422 when a reference is missing)."""
        creation = orders.order_creation(tuple(row) for row in outcome)
        require_none_missing(creation.missing)
        if creation.order is None:  # nothing missing and nothing created: this statement takes no key
            msg = "CREATE_ORDER created nothing"
            raise RuntimeError(msg)
        return order_json.encode_order(creation.order, creation.lines, creation.tags)


def exact(price: Decimal | float) -> Decimal:
    """A price as the product reads it: a JSON number is the decimal written (its float's shortest repr)."""
    return Decimal(repr(price)) if isinstance(price, float) else price


def page(rows: Sequence[Any]) -> bytes:
    """A page of orders as the product answers it, from the rows of `ORDER_PAGE` of any driver."""
    return order_json.encode_orders(*orders.split_order_rows(rows))
