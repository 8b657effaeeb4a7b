"""Every statement on the simple tables (contacts, products, tags): rows in, rows out, whole."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Row,
    Select,
    String,
    Table,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.dml import ReturningDelete, ReturningInsert, ReturningUpdate

from sale_orders.db.queries.feed import HORIZON, api_columns, draw, settled
from sale_orders.db.queries.idempotency import claim_key
from sale_orders.db.queries.standby import WRITTEN, ended_so_far, on_standby, written
from sale_orders.db.tables import CONTACT, PRODUCT, TAG


def _unbounded(column_type: Any) -> Any:
    return String() if isinstance(column_type, String) else column_type


def _insert(table: Table, columns: Sequence[ColumnElement[Any]]) -> ReturningInsert[Any]:
    """Insert a row (its columns as parameters, its id drawn by `feed.draw`): returns the row."""
    drawn = draw(table)
    values: list[ColumnElement[Any]] = [bindparam(column.name) for column in columns[1:]]
    return (
        insert(table)
        .from_select(["id", HORIZON, *(column.name for column in columns[1:])], select(drawn, *values))
        .returning(*columns, written())
    )


def _insert_once(table: Table, columns: Sequence[ColumnElement[Any]]) -> Select[Any]:
    """Insert a row (its columns as parameters) unless the Idempotency-Key was used: returns the row, or nothing.

    The row is drawn first, id included, so that it is stored with the key as the JSON a retry is answered with.
    """
    drawn = draw(table)
    # Unbounded strings: a CAST to VARCHAR(n) would cut a longer value, where the INSERT refuses it.
    given = (cast(bindparam(column.name), _unbounded(column.type)).label(column.name) for column in columns[1:])
    row = select(drawn.c.id, *given).cte("new_row")
    claim = claim_key(func.to_jsonb(row.table_valued(), type_=JSONB), row)
    created = (
        insert(table)
        .from_select(
            [*row.c.keys(), HORIZON],
            select(row, drawn.c[HORIZON]).join_from(row, drawn, true()).where(exists(claim.select())),
        )
        .returning(*columns)
        .cte("created")
    )
    return select(created, written())


@dataclass(frozen=True)
class RowStatements:
    """Every statement on one simple table; rows come back whole, the id first (read them with `row_dict`).

    Parameters: `item_id`; `after` (an id, 0 for the first page) and `limit`; the columns to insert or
    set, by name; and for `insert_once`, the Idempotency-Key's (`IdempotencyKey.parameters`). A page shows only
    rows that no lower id can appear before (`feed.settled`). Writes also return their consistency token
    (`standby.WRITTEN`); the reads `..._on_standby` are refused by a standby not fresh enough (`standby.on_standby`).
    """

    by_id: Select[Any]
    page: Select[Any]
    by_id_on_standby: Select[Any]
    page_on_standby: Select[Any]
    current: Select[Any]
    """`by_id` on the primary with a token covering every transaction ended so far: a change of nothing."""
    insert: ReturningInsert[Any]
    insert_once: Select[Any]
    """`insert`, unless the Idempotency-Key was used: then no row."""
    update: ReturningUpdate[Any]
    delete: ReturningDelete[Any]
    """Returns the id if there was such a row."""

    @classmethod
    def of(cls, table: Table) -> "RowStatements":
        item_id = bindparam("item_id", type_=BigInteger)
        columns = api_columns(table)
        by_id = select(*columns).where(table.c.id == item_id)
        page = (
            select(*columns)
            .where(table.c.id > bindparam("after"), settled(table))
            .order_by(table.c.id)
            .limit(bindparam("limit"))
        )
        return cls(
            by_id=by_id,
            page=page,
            by_id_on_standby=on_standby(by_id),
            page_on_standby=on_standby(page),
            current=by_id.add_columns(ended_so_far()),
            insert=_insert(table, columns),
            insert_once=_insert_once(table, columns),
            update=update(table).where(table.c.id == item_id).returning(*columns, written()),
            delete=delete(table).where(table.c.id == item_id).returning(table.c.id, written()),
        )


def row_dict(row: Row[Any] | None) -> dict[str, Any] | None:
    """A row of these statements as the JSON object of its resource (without a write's token), or None."""
    return None if row is None else resource(row._asdict())


def resource(values: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of a row of these statements that are its resource's JSON object: all but a write's token."""
    return {name: value for name, value in values.items() if name != WRITTEN}


def token_of(row: Row[Any]) -> int:
    """The consistency token a write statement returned with its row (`standby.WRITTEN`)."""
    token: int = getattr(row, WRITTEN)
    return token


CONTACTS: Final = RowStatements.of(CONTACT)
PRODUCTS: Final = RowStatements.of(PRODUCT)
TAGS: Final = RowStatements.of(TAG)
