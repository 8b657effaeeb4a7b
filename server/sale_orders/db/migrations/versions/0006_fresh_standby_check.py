"""a check that a standby may answer a read

`require_fresh_standby(token, max_staleness_ms)` is true on a primary, and on a standby that has replayed every
transaction up to `token` (a client's consistency token: read-your-writes), or, without a token, whose last
replayed transaction committed at most `max_staleness_ms` ago. Otherwise it raises SQLSTATE SOS01, and the app
runs the read on the primary (`sale_orders.db.queries.standby`). A read statement calls it in its WHERE clause
as a constant: PostgreSQL evaluates it once, before reading any row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REQUIRE_FRESH_STANDBY = """
CREATE FUNCTION require_fresh_standby(token bigint, max_staleness_ms integer) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT pg_is_in_recovery() THEN
        RETURN true;
    END IF;
    IF token IS NOT NULL THEN
        -- Every transaction up to the token has ended in this standby's snapshot: the client's writes are here.
        IF pg_snapshot_xmin(pg_current_snapshot())::text::bigint > token THEN
            RETURN true;
        END IF;
        RAISE EXCEPTION 'this standby has not replayed transaction % yet', token USING ERRCODE = 'SOS01';
    END IF;
    IF now() - pg_last_xact_replay_timestamp() <= make_interval(secs => max_staleness_ms / 1000.0) THEN
        RETURN true;
    END IF;
    RAISE EXCEPTION 'this standby is more than % ms behind', max_staleness_ms USING ERRCODE = 'SOS01';
END $$
"""


def upgrade() -> None:
    op.execute(REQUIRE_FRESH_STANDBY)


def downgrade() -> None:
    op.execute("DROP FUNCTION require_fresh_standby(bigint, integer)")
