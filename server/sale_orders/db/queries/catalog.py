"""Every statement on the simple tables (contacts, products, tags): rows in, rows out, whole."""

from collections.abc import Sequence
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
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.dml import ReturningDelete, ReturningInsert, ReturningUpdate

from sale_orders.db.queries.idempotency import claim_key, next_id
from sale_orders.db.tables import CONTACT, PRODUCT, TAG


def _unbounded(column_type: Any) -> Any:
    return String() if isinstance(column_type, String) else column_type


def _insert_once(table: Table, columns: Sequence[ColumnElement[Any]]) -> Select[Any]:
    """Insert a row (its columns as parameters) unless the Idempotency-Key was used: returns the row, or nothing.

    The row is drawn first, id included, so that it is stored with the key as the JSON a retry is answered with.
    """
    values = [column for column in table.c if column.name != "id"]
    # Unbounded strings: a CAST to VARCHAR(n) would cut a longer value, where the INSERT refuses it.
    given = (cast(bindparam(column.name), _unbounded(column.type)).label(column.name) for column in values)
    row = select(next_id(table).label("id"), *given).cte("new_row")
    claim = claim_key(func.to_jsonb(row.table_valued(), type_=JSONB), row)
    created = (
        insert(table)
        .from_select(list(row.c.keys()), select(row).where(exists(claim.select())))
        .returning(*columns)
        .cte("created")
    )
    return select(created)


@dataclass(frozen=True)
class RowStatements:
    """Every statement on one simple table; rows come back whole, the id first (read them with `row_dict`).

    Parameters: `item_id`; `after` (an id, 0 for the first page) and `limit`; the columns to insert or
    set, by name; and for `insert_once`, the Idempotency-Key's (`IdempotencyKey.parameters`).
    """

    by_id: Select[Any]
    page: Select[Any]
    insert: ReturningInsert[Any]
    insert_once: Select[Any]
    """`insert`, unless the Idempotency-Key was used: then no row."""
    update: ReturningUpdate[Any]
    delete: ReturningDelete[Any]
    """Returns the id if there was such a row."""

    @classmethod
    def of(cls, table: Table) -> "RowStatements":
        item_id = bindparam("item_id", type_=BigInteger)
        # The id first, as in every response of the API (SQLModel puts inherited columns before it).
        columns = [table.c.id, *(column for column in table.c if column.name != "id")]
        return cls(
            by_id=select(*columns).where(table.c.id == item_id),
            page=select(*columns).where(table.c.id > bindparam("after")).order_by(table.c.id).limit(bindparam("limit")),
            insert=insert(table).returning(*columns),
            insert_once=_insert_once(table, columns),
            update=update(table).where(table.c.id == item_id).returning(*columns),
            delete=delete(table).where(table.c.id == item_id).returning(table.c.id),
        )


def row_dict(row: Row[Any] | None) -> dict[str, Any] | None:
    """A row of these statements as the JSON object of its resource, or None."""
    return None if row is None else row._asdict()


CONTACTS: Final = RowStatements.of(CONTACT)
PRODUCTS: Final = RowStatements.of(PRODUCT)
TAGS: Final = RowStatements.of(TAG)
