"""The ladder's statements as the text each driver receives, for the rungs that bypass SQLAlchemy.

Compiled from `ladder.statements` (and the product's contact INSERT) with each driver's dialect, so a raw
rung sends what the SQLAlchemy rungs send, not a hand-written look-alike. asyncpg takes positional `$n`
parameters, psycopg2 named `%(name)s` ones. The two statements with an `IN` list compile to a different text
per list length; each length is compiled once, with sentinel values that show which parameter carries which id.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.dialects.postgresql import psycopg2 as psycopg2_dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import Compiled

from ladder import statements
from sale_orders.db import queries

Driver = Literal["asyncpg", "psycopg2"]
DIALECTS = {"asyncpg": asyncpg_dialect.dialect(), "psycopg2": psycopg2_dialect.dialect()}
_SENTINEL = 10**15  # far above any id in the database, so sentinel ids never meet real ones


@dataclass(frozen=True)
class Statement:
    """One statement's text for one driver, and how to bind it."""

    text: str
    names: tuple[str, ...]  # asyncpg's positional order; empty for psycopg2, which binds by name

    def bind(self, values: Mapping[str, Any]) -> Any:
        """The parameters to pass with `text`: a tuple for asyncpg, the mapping itself for psycopg2."""
        return tuple(values[name] for name in self.names) if self.names else values

    def values_form(self) -> tuple[str, str]:
        """psycopg2's `execute_values` form of a one-row INSERT: `INSERT ... VALUES %s`, and one row's template.

        It sends all rows in one statement, as SQLAlchemy's "insertmanyvalues" does for psycopg2.
        """
        head, row = self.text.split(" VALUES ", 1)
        return f"{head} VALUES %s", row


def _compiled(statement: ClauseElement, driver: Driver, **kwargs: Any) -> Compiled:
    return statement.compile(dialect=DIALECTS[driver], **kwargs)


def _statement(compiled: Compiled) -> Statement:
    return Statement(str(compiled), tuple(compiled.positiontup or ()))


@dataclass(frozen=True)
class Statements:
    """Every statement the ladder's raw rungs send, for one driver."""

    driver: Driver
    insert_contact: Statement
    order_page: Statement
    lines_of_orders: Statement
    tags_of_orders: Statement
    insert_order: Statement
    insert_lines: Statement
    insert_order_tags: Statement

    @classmethod
    def of(cls, driver: Driver) -> "Statements":
        many: dict[str, Any] = {"for_executemany": True}
        return cls(
            driver=driver,
            insert_contact=_statement(_compiled(queries.CONTACTS.insert, driver, column_keys=["name", "email"])),
            order_page=_statement(_compiled(statements.ORDER_PAGE, driver)),
            lines_of_orders=_statement(_compiled(statements.LINES_OF_ORDERS, driver)),
            tags_of_orders=_statement(_compiled(statements.TAGS_OF_ORDERS, driver)),
            insert_order=_statement(_compiled(statements.INSERT_ORDER, driver, column_keys=["name", "contact_id"])),
            insert_lines=_statement(_compiled(statements.INSERT_LINES, driver, column_keys=list(LINE_COLUMNS), **many)),
            insert_order_tags=_statement(
                _compiled(statements.INSERT_ORDER_TAGS, driver, column_keys=["order_id", "tag_id"], **many)
            ),
        )

    def references(self, contact_id: int, product_ids: Sequence[int]) -> tuple[str, Any]:
        """`statements.existing_references`: its text for this many products, and its parameters."""
        return _with_ids(_references(self.driver, len(product_ids)), [contact_id, *product_ids])

    def tags_by_id(self, tag_ids: Sequence[int]) -> tuple[str, Any]:
        """`queries.tags_by_id`: its text for this many tags, and its parameters."""
        return _with_ids(_tags_by_id(self.driver, len(tag_ids)), tag_ids)


LINE_COLUMNS = ("order_id", "product_id", "quantity", "price")


@dataclass(frozen=True)
class _IdListStatement:
    """A statement compiled with sentinel ids: each parameter is a constant or the n-th id given."""

    text: str
    parameters: tuple[tuple[str, int | None, Any], ...]  # name, index of the id it carries or None, constant
    positional: bool


def _with_ids(statement: _IdListStatement, ids: Sequence[int]) -> tuple[str, Any]:
    values = [constant if index is None else ids[index] for _, index, constant in statement.parameters]
    if statement.positional:
        return statement.text, tuple(values)
    return statement.text, {name: value for (name, _, _), value in zip(statement.parameters, values, strict=True)}


def _sentinel_compiled(statement: ClauseElement, driver: Driver) -> _IdListStatement:
    compiled = _compiled(statement, driver, compile_kwargs={"render_postcompile": True})
    names = compiled.positiontup or list(compiled.params)
    parameters = []
    for name in names:
        value = compiled.params[name]
        is_id = isinstance(value, int) and value >= _SENTINEL
        parameters.append((name, value - _SENTINEL if is_id else None, None if is_id else value))
    return _IdListStatement(str(compiled), tuple(parameters), positional=bool(compiled.positiontup))


@lru_cache
def _references(driver: Driver, products: int) -> _IdListStatement:
    contact, product_ids = _SENTINEL, [_SENTINEL + 1 + index for index in range(products)]
    return _sentinel_compiled(statements.existing_references(contact, product_ids), driver)


@lru_cache
def _tags_by_id(driver: Driver, tags: int) -> _IdListStatement:
    return _sentinel_compiled(queries.tags_by_id([_SENTINEL + index for index in range(tags)]), driver)
