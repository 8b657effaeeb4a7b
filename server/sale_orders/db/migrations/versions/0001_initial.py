"""sale orders: contacts, products, tags, orders

Revision ID: 0001
Revises:
Create Date: 2026-11-27 14:04:18.365291
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
    )
    op.create_table(
        "product",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
    )
    op.create_table(
        "tag",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag")),
        sa.UniqueConstraint("name", name=op.f("uq_tag_name")),
    )
    op.create_table(
        "sale_order",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_sale_order_contact_id_contact"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_order")),
    )
    op.create_index(op.f("ix_sale_order_contact_id"), "sale_order", ["contact_id"], unique=False)
    op.create_table(
        "sale_order_line",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_sale_order_line_price_not_negative")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_sale_order_line_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sale_order.id"], name=op.f("fk_sale_order_line_order_id_sale_order"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_sale_order_line_product_id_product"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_order_line")),
    )
    op.create_index(op.f("ix_sale_order_line_order_id"), "sale_order_line", ["order_id"], unique=False)
    op.create_index(op.f("ix_sale_order_line_product_id"), "sale_order_line", ["product_id"], unique=False)
    op.create_table(
        "sale_order_tag",
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("tag_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sale_order.id"], name=op.f("fk_sale_order_tag_order_id_sale_order"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["tag_id"], ["tag.id"], name=op.f("fk_sale_order_tag_tag_id_tag"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("order_id", "tag_id", name=op.f("pk_sale_order_tag")),
    )
    op.create_index(op.f("ix_sale_order_tag_tag_id"), "sale_order_tag", ["tag_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sale_order_tag_tag_id"), table_name="sale_order_tag")
    op.drop_table("sale_order_tag")
    op.drop_index(op.f("ix_sale_order_line_product_id"), table_name="sale_order_line")
    op.drop_index(op.f("ix_sale_order_line_order_id"), table_name="sale_order_line")
    op.drop_table("sale_order_line")
    op.drop_index(op.f("ix_sale_order_contact_id"), table_name="sale_order")
    op.drop_table("sale_order")
    op.drop_table("tag")
    op.drop_table("product")
    op.drop_table("contact")
