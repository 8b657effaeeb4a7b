"""order keys store id and tags

An Idempotency-Key of an order used to store the whole answer; it now stores what the answer is made of
besides the request, `{"id": ..., "tags": [[id, name], ...]}`, written by the statement that creates the
order. Keys stored before this revision are converted, so their retries are still answered.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 14:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE idempotency_key SET response = jsonb_build_object(
            'id', response -> 'id',
            'tags', (SELECT coalesce(jsonb_agg(jsonb_build_array(tag -> 'id', tag -> 'name') ORDER BY position), '[]')
                     FROM jsonb_array_elements(response -> 'tags') WITH ORDINALITY AS listed(tag, position)))
        WHERE scope = 'order' AND response ? 'order_lines'
        """
    )


def downgrade() -> None:
    # The old answer also held the request's lines and total, which are not stored: forget those keys.
    op.execute("DELETE FROM idempotency_key WHERE scope = 'order' AND NOT response ? 'order_lines'")
