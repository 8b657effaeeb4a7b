from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import decimal_from_json, decimal_to_json

if TYPE_CHECKING:
    from ..models.order_line import OrderLine
    from ..models.tag import Tag


T = TypeVar("T", bound="Order")


@_attrs_define
class Order:
    """
    Attributes:
        amount_total (Decimal): sum of quantity x price over the lines, computed exactly; at most 2 decimals
        contact_id (int):
        id (int):
        name (str):
        order_lines (list[OrderLine]):
        tags (list[Tag]):
    """

    amount_total: Decimal
    contact_id: int
    id: int
    name: str
    order_lines: list[OrderLine]
    tags: list[Tag]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        amount_total = decimal_to_json(self.amount_total)

        contact_id = self.contact_id

        id = self.id

        name = self.name

        order_lines = []
        for order_lines_item_data in self.order_lines:
            order_lines_item = order_lines_item_data.to_dict()
            order_lines.append(order_lines_item)

        tags = []
        for tags_item_data in self.tags:
            tags_item = tags_item_data.to_dict()
            tags.append(tags_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount_total": amount_total,
                "contact_id": contact_id,
                "id": id,
                "name": name,
                "order_lines": order_lines,
                "tags": tags,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.order_line import OrderLine  # noqa: PLC0415
        from ..models.tag import Tag  # noqa: PLC0415

        d = dict(src_dict)
        amount_total = decimal_from_json(d.pop("amount_total"))

        contact_id = d.pop("contact_id")

        id = d.pop("id")

        name = d.pop("name")

        order_lines = []
        _order_lines = d.pop("order_lines")
        for order_lines_item_data in _order_lines:
            order_lines_item = OrderLine.from_dict(order_lines_item_data)

            order_lines.append(order_lines_item)

        tags = []
        _tags = d.pop("tags")
        for tags_item_data in _tags:
            tags_item = Tag.from_dict(tags_item_data)

            tags.append(tags_item)

        order = cls(
            amount_total=amount_total,
            contact_id=contact_id,
            id=id,
            name=name,
            order_lines=order_lines,
            tags=tags,
        )

        order.additional_properties = d
        return order

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
