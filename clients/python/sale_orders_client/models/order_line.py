from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import decimal_from_json, decimal_to_json

T = TypeVar("T", bound="OrderLine")


@_attrs_define
class OrderLine:
    """
    Attributes:
        price (Decimal): unit price; a JSON number with at most 2 decimals (a third is a 400)
        product_id (int):
        quantity (int):
    """

    price: Decimal
    product_id: int
    quantity: int

    def to_dict(self) -> dict[str, Any]:
        price = decimal_to_json(self.price)

        product_id = self.product_id

        quantity = self.quantity

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "price": price,
                "product_id": product_id,
                "quantity": quantity,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        price = decimal_from_json(d.pop("price"))

        product_id = d.pop("product_id")

        quantity = d.pop("quantity")

        order_line = cls(
            price=price,
            product_id=product_id,
            quantity=quantity,
        )

        return order_line
