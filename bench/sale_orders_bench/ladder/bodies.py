"""Request and response bodies of the ladder, one kind per validation layer.

- msgspec Structs: what the lowest rungs decode (types and unknown fields only, in one pass);
- plain pydantic models: the same fields as plain types (no e-mail check, no bounds, floats for money);
- the product's own schemas (`sale_orders.domain.schemas`): the thinnest path validates what the product does.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from pydantic import BaseModel, ConfigDict

from sale_orders.domain import schemas


class ContactStruct(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    email: str


class LineStruct(msgspec.Struct, forbid_unknown_fields=True):
    product_id: int
    quantity: int
    price: Decimal


class OrderStruct(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    contact_id: int
    order_lines: list[LineStruct] = []
    tag_ids: list[int] = []


_FORBID = ConfigDict(extra="forbid")


class ContactModel(BaseModel):
    model_config = _FORBID
    name: str
    email: str


class ContactOut(BaseModel):
    id: int
    name: str
    email: str


class LineModel(BaseModel):
    model_config = _FORBID
    product_id: int
    quantity: int
    price: float  # strict validation turns no JSON number into a Decimal: converted as the product does


class OrderModel(BaseModel):
    model_config = _FORBID
    name: str
    contact_id: int
    order_lines: list[LineModel] = []
    tag_ids: list[int] = []


@dataclass(frozen=True)
class Bodies:
    """The body types of one validation layer, and how a created contact is answered in it."""

    contact: Any
    order: Any
    contact_out: Any  # the return annotation of a contact create: Litestar serialises by it

    def answer_contact(self, row: dict[str, Any]) -> object:
        if isinstance(self.contact_out, type) and issubclass(self.contact_out, BaseModel):
            # As the product: a created row was validated on its way in, so the answer is not validated again.
            return self.contact_out.model_construct(**row)
        return row


MSGSPEC = Bodies(ContactStruct, OrderStruct, dict[str, Any])
PYDANTIC = Bodies(ContactModel, OrderModel, ContactOut)
PRODUCT_SCHEMAS = Bodies(schemas.ContactCreate, schemas.OrderCreate, schemas.Contact)
