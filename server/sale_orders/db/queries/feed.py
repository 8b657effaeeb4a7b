"""Pages that never skip a row: ids drawn in an order that readers can follow, and the rows a page may show.

An id is drawn from a sequence when a statement runs, and its row becomes visible when the transaction commits,
so ids do not become visible in order: a client that pages with `?after=<last id>` while others create could
read id 11 before id 10 commits, then ask for ids after 11, and never see 10.

So every row the API creates draws its id with `draw_id` (migration 0005), which notes in the row's
`xid_horizon` the newest transaction id of any transaction that drew an id up to this one. A page shows a row
only when every transaction up to its horizon has ended (`settled`): no lower id can appear after it. Rows
without a horizon (0: written before migration 0005, or by a bulk load) are shown at once.

The cost: a create takes a lock for microseconds around `nextval`; a page waits for nothing, but the newest rows
appear in it only once the oldest transaction still running when they were drawn has ended (any transaction of
the PostgreSQL server, so a long one delays the feed: `statement_timeout` bounds the API's own statements, and
`idle_in_transaction_session_timeout` its transactions left open by a cut link, `db/drivers.py`).
"""

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, FromClause, String, Table, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import REGCLASS

HORIZON = "xid_horizon"


def draw(table: Table, name: str = "drawn") -> FromClause:
    """`draw_id` for `table`: one row, its new `id` and `xid_horizon`, to insert with the row."""
    # Constants written into the SQL, not parameters: the statement stays one text for every table's caller.
    sequence = cast(func.pg_get_serial_sequence(literal_column(f"'{table.name}'"), literal_column("'id'")), REGCLASS)
    drawn = func.draw_id(sequence).table_valued("id", HORIZON).render_derived(name=name)
    return select(cast(drawn.c.id, BigInteger).label("id"), cast(drawn.c[HORIZON], BigInteger).label(HORIZON)).cte(name)


# The oldest transaction still running when the statement's snapshot was taken; evaluated once per statement.
_OLDEST_RUNNING = select(
    cast(cast(func.pg_snapshot_xmin(func.pg_current_snapshot()), String), BigInteger)
).scalar_subquery()


def settled(table: Table) -> ColumnElement[bool]:
    """A row no lower id can appear before: every transaction up to its horizon has ended."""
    return table.c[HORIZON] < _OLDEST_RUNNING


def api_columns(table: Table) -> list[Any]:
    """The columns a client reads, id first (as in every response; SQLModel puts inherited columns before it)."""
    return [table.c.id, *(column for column in table.c if column.name not in {"id", HORIZON})]
