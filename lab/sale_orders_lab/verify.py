"""The clients' log checked in SQL: every acknowledged order is stored, and no key made two orders.

Each create has a name of its own (made of its Idempotency-Key), so the orders a create made are the orders
with its name: one when it was stored, none when it was not, two or more when a replay created again. For a
keyed create the `idempotency_key` table says which order the key stored; an acknowledged order must be that
one. Read on the primary, as the superuser, after the clients stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg2
import psycopg2.extras

if TYPE_CHECKING:
    from sale_orders_lab.clients import Op

_CHECK = """
SELECT s.i,
       count(o.id) AS orders,
       coalesce(bool_or(o.id = s.order_id), false) AS acknowledged_id_stored,
       k.key IS NOT NULL AS key_stored,
       (k.response->>'id')::bigint AS key_order_id
FROM sent s
LEFT JOIN sale_order o ON o.name = s.name
LEFT JOIN idempotency_key k ON k.scope = 'order' AND k.key = s.key AND s.key <> ''
GROUP BY s.i, k.key, k.response
"""


@dataclass(frozen=True)
class Stored:
    """What the database holds for one create of the log."""

    op: Op
    orders: int
    acknowledged_id_stored: bool
    key_stored: bool
    key_order_id: int | None

    @property
    def lost(self) -> bool:
        """Acknowledged (a 201 with an id), and that order is not there."""
        return self.op.acknowledged and not self.acknowledged_id_stored

    @property
    def duplicates(self) -> int:
        return max(0, self.orders - 1)

    @property
    def key_mismatch(self) -> bool:
        """A keyed create whose key is stored without its order, or names another order than the one stored."""
        if not self.op.key or not self.key_stored:
            return False
        return self.orders == 0 or (self.op.acknowledged and self.key_order_id != self.op.order_id)


def check(dsn: str, ops: list[Op]) -> tuple[list[Stored], int]:
    """Every create of the log with what is stored for it; and how many lab orders no create of the log made."""
    creates = [op for op in ops if op.kind.startswith("create")]
    connection = psycopg2.connect(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE sent (i int PRIMARY KEY, key text, name text, order_id bigint)")
            psycopg2.extras.execute_values(
                cursor,
                "INSERT INTO sent VALUES %s",
                [(i, op.key, op.name, op.order_id) for i, op in enumerate(creates)],
                page_size=1000,
            )
            cursor.execute(_CHECK)
            rows = cursor.fetchall()
            cursor.execute(
                "SELECT count(*) FROM sale_order o WHERE o.name LIKE 'lab %' AND NOT EXISTS"
                " (SELECT 1 FROM sent s WHERE s.name = o.name)"
            )
            unknown_row = cursor.fetchone()
        connection.rollback()
    finally:
        connection.close()
    stored = [Stored(creates[i], int(n), bool(ack), bool(key), key_id) for i, n, ack, key, key_id in rows]
    return stored, int(unknown_row[0]) if unknown_row else 0
