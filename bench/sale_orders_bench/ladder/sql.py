"""The product's statements as the text each driver receives, for the rungs that bypass SQLAlchemy.

Compiled from `sale_orders.db.queries` with each driver's dialect, so a raw rung sends exactly what the
product and the SQLAlchemy rungs send, not a hand-written look-alike. asyncpg takes positional `$n`
parameters, psycopg2 named `%(name)s` ones.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.dialects.postgresql import psycopg2 as psycopg2_dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from sale_orders.db.queries import catalog, orders

Driver = Literal["asyncpg", "psycopg2"]
DIALECTS = {
    "asyncpg": asyncpg_dialect.dialect(),  # type: ignore[no-untyped-call]  # SQLAlchemy's dialects are unannotated
    "psycopg2": psycopg2_dialect.dialect(),  # type: ignore[no-untyped-call]
}


@dataclass(frozen=True)
class Statement:
    """One statement's text for one driver, and how to bind it."""

    text: str
    names: tuple[str, ...]  # asyncpg's positional order; empty for psycopg2, which binds by name

    @classmethod
    def of(cls, statement: ClauseElement, driver: Driver, **kwargs: Any) -> "Statement":
        compiled = statement.compile(dialect=DIALECTS[driver], **kwargs)
        if not isinstance(compiled, SQLCompiler):  # a statement, not DDL: it has bound parameters
            raise TypeError(f"not a statement: {statement}")
        return cls(str(compiled), tuple(compiled.positiontup or ()))

    def bind(self, values: Mapping[str, Any]) -> Any:
        """The parameters to pass with `text`: a tuple for asyncpg, the mapping itself for psycopg2."""
        return tuple(values[name] for name in self.names) if self.names else values


@dataclass(frozen=True)
class Statements:
    """Every statement the ladder's raw rungs send, for one driver: the product's own."""

    insert_contact: Statement
    order_page: Statement
    create_order: Statement

    @classmethod
    def of(cls, driver: Driver) -> "Statements":
        return cls(
            insert_contact=Statement.of(catalog.CONTACTS.insert, driver, column_keys=["name", "email"]),
            order_page=Statement.of(orders.ORDER_PAGE, driver),
            create_order=Statement.of(orders.CREATE_ORDER, driver),
        )
