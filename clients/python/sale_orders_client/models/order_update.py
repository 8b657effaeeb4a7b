from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order_line import OrderLine


T = TypeVar("T", bound="OrderUpdate")


@_attrs_define
class OrderUpdate:
    """
    Attributes:
        contact_id (int | Unset):
        name (str | Unset):
        order_lines (list[OrderLine] | Unset):
        tag_ids (list[int] | Unset):
    """

    contact_id: int | Unset = UNSET
    name: str | Unset = UNSET
    order_lines: list[OrderLine] | Unset = UNSET
    tag_ids: list[int] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        contact_id = self.contact_id

        name = self.name

        order_lines: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.order_lines, Unset):
            order_lines = []
            for order_lines_item_data in self.order_lines:
                order_lines_item = order_lines_item_data.to_dict()
                order_lines.append(order_lines_item)

        tag_ids: list[int] | Unset = UNSET
        if not isinstance(self.tag_ids, Unset):
            tag_ids = self.tag_ids

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if contact_id is not UNSET:
            field_dict["contact_id"] = contact_id
        if name is not UNSET:
            field_dict["name"] = name
        if order_lines is not UNSET:
            field_dict["order_lines"] = order_lines
        if tag_ids is not UNSET:
            field_dict["tag_ids"] = tag_ids

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.order_line import OrderLine  # noqa: PLC0415

        d = dict(src_dict)
        contact_id = d.pop("contact_id", UNSET)

        name = d.pop("name", UNSET)

        _order_lines = d.pop("order_lines", UNSET)
        order_lines: list[OrderLine] | Unset = UNSET
        if _order_lines is not UNSET:
            order_lines = []
            for order_lines_item_data in _order_lines:
                order_lines_item = OrderLine.from_dict(order_lines_item_data)

                order_lines.append(order_lines_item)

        tag_ids = cast(list[int], d.pop("tag_ids", UNSET))

        order_update = cls(
            contact_id=contact_id,
            name=name,
            order_lines=order_lines,
            tag_ids=tag_ids,
        )

        return order_update
