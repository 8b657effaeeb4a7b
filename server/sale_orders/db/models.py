"""Tables, and only tables: requests and responses use the pydantic models in `sale_orders.domain.schemas`.

Every relationship is `lazy="raise"`: a query that forgets to load one fails loudly in both families,
instead of issuing one query per row (sync) or raising MissingGreenlet (async) somewhere later.
"""

from decimal import Decimal

from advanced_alchemy.base import IdentityBase
from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Integer, Numeric, String, Table, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sale_orders.domain import limits

order_tag = Table(
    "sale_order_tag",
    IdentityBase.metadata,
    Column("order_id", ForeignKey("sale_order.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


# Idempotency-Key of a create request: who claimed it (fingerprint of the request), and the response to
# replay. Claimed in the transaction that creates, so a key and its object are stored together or not at all.
idempotency_key = Table(
    "idempotency_key",
    IdentityBase.metadata,
    Column("scope", String(20), primary_key=True),
    Column("key", String(limits.IDEMPOTENCY_KEY_LENGTH), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("response", JSONB, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


class ContactModel(IdentityBase):
    """A customer that orders are placed for."""

    __tablename__ = "contact"
    name: Mapped[str] = mapped_column(String(limits.NAME_LENGTH))
    email: Mapped[str] = mapped_column(String(limits.EMAIL_LENGTH))


class ProductModel(IdentityBase):
    """Something that can be sold on an order line."""

    __tablename__ = "product"
    name: Mapped[str] = mapped_column(String(limits.NAME_LENGTH))


class TagModel(IdentityBase):
    """A label for orders; names are unique."""

    __tablename__ = "tag"
    name: Mapped[str] = mapped_column(String(limits.TAG_LENGTH), unique=True)


class OrderModel(IdentityBase):
    """A sale order; its total is computed from its lines, never stored."""

    __tablename__ = "sale_order"
    name: Mapped[str] = mapped_column(String(limits.NAME_LENGTH))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="RESTRICT"), index=True)
    order_lines: Mapped[list["OrderLineModel"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="OrderLineModel.id", passive_deletes=True
    )
    tags: Mapped[list[TagModel]] = relationship(secondary=order_tag, lazy="raise", order_by=TagModel.id)


class OrderLineModel(IdentityBase):
    """A product sold on an order, at a quantity and a unit price."""

    __tablename__ = "sale_order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("price >= 0", name="price_not_negative"),
    )
    order_id: Mapped[int] = mapped_column(ForeignKey("sale_order.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Numeric(limits.PRICE_DIGITS, limits.PRICE_SCALE))
