"""ids drawn in an order a page can follow

Keyset pages (`?after=<last id>`) skipped rows: an id is drawn when a statement starts and becomes visible when
its transaction commits, so a lower id can appear after a higher one was already returned. Every row created by
the API now draws its id with `draw_id`, which also records in `xid_horizon` the newest transaction that may
still hold a lower id; a page shows a row only once every transaction up to that one has ended
(`sale_orders.db.queries.feed`). Rows written before this revision, or without `draw_id`, are shown at once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("contact", "product", "tag", "sale_order")
DRAW_LOCK_KEY = 0x5A1E_F1D0

# One drawer at a time: a session lock held only around nextval (microseconds), released in every case.
# The transaction takes its own id (xid) first, so while it may still insert a row, its id is among the running
# transactions that any page's snapshot sees. `id_draw_horizon` keeps the newest such xid of any drawer so far:
# a row's `xid_horizon` is at least the xid of every transaction that drew a lower id.
DRAW_ID = f"""
CREATE FUNCTION draw_id(sequence regclass, OUT id bigint, OUT xid_horizon bigint)
LANGUAGE plpgsql AS $$
DECLARE
    own bigint := pg_current_xact_id()::text::bigint;
BEGIN
    BEGIN
        PERFORM pg_advisory_lock({DRAW_LOCK_KEY});
        id := nextval(sequence);
        xid_horizon := greatest(own, coalesce(pg_sequence_last_value('id_draw_horizon'), 0));
        PERFORM setval('id_draw_horizon', xid_horizon);
        PERFORM pg_advisory_unlock({DRAW_LOCK_KEY});
    EXCEPTION WHEN OTHERS OR QUERY_CANCELED THEN
        PERFORM pg_advisory_unlock_all();  -- a session lock outlives an error: never keep it
        RAISE;
    END;
END $$
"""


def upgrade() -> None:
    # Unlogged: after a crash or a promotion it starts empty, when no transaction of before is running any more.
    op.execute("CREATE UNLOGGED SEQUENCE id_draw_horizon")
    op.execute(DRAW_ID)
    for table in TABLES:
        # A constant default: PostgreSQL adds the column without rewriting the table.
        op.add_column(table, sa.Column("xid_horizon", sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "xid_horizon")
    op.execute("DROP FUNCTION draw_id(regclass)")
    op.execute("DROP SEQUENCE id_draw_horizon")
