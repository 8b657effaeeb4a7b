"""idempotency key expiry index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:15:52.829548
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # CONCURRENTLY (outside the migration's transaction): the keys stored so far may be many, and a plain
    # CREATE INDEX would block every create with an Idempotency-Key while it builds.
    with op.get_context().autocommit_block():
        op.create_index(
            op.f("ix_idempotency_key_created_at"),
            "idempotency_key",
            ["created_at"],
            unique=False,
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            op.f("ix_idempotency_key_created_at"),
            table_name="idempotency_key",
            postgresql_concurrently=True,
            if_exists=True,
        )
