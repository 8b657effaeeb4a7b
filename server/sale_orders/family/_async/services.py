"""This family's services: every operation of the API, answered as the JSON of its response schema.

Reads and creates, the hot paths, are single constant Core statements built from the SQLModel tables
(`db/queries.py`), run on the session's connection without a transaction around them; their rows are
encoded to JSON once (`domain/order_json.py`), without building response models. Changing an order is
plain SQLModel code: load the order with its lines and tags (explicitly: relationships are
`lazy="raise"`), change the objects, and let the session flush them in one transaction.
"""

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import Executable, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from sale_orders.db import queries
from sale_orders.db.tables import OrderLineTable, OrderTable
from sale_orders.domain import order_json, schemas
from sale_orders.domain.errors import ConflictError, NotFoundError
from sale_orders.domain.references import require_none_missing
from sale_orders.family._async import idempotency as async_idempotency
from sale_orders.family._async import sessions as async_sessions
from sale_orders.family._util import conflict_if_changed_meanwhile

encode = order_json.encode


class CatalogService:
    """Create, read, page, change and delete one kind of simple row: contacts, products, tags."""

    statements: ClassVar[queries.RowStatements]
    noun: ClassVar[str]

    def __init__(self, db_session: AsyncSession) -> None:
        self.session = db_session

    async def _one(self, statement: Executable, parameters: dict[str, Any]) -> Row[Any] | None:
        async with async_sessions.one_statement(self.session) as connection:
            return (await connection.execute(statement, parameters)).one_or_none()

    async def create(self, data: BaseModel, idempotency_key: str | None = None) -> bytes:
        values = data.model_dump()
        async with async_sessions.one_statement(self.session) as connection:
            if idempotency_key is None:
                return encode(await self._insert(connection, self.statements.insert, values))
            key = async_idempotency.key_parameters(connection, self.noun, idempotency_key, data)
            created = await self._insert(connection, self.statements.insert_once, {**values, **key})
            if created is None:  # the key was used before: answered from what was stored with it
                created = await async_idempotency.stored_for_key(connection, key, claim_refused=True)
            if created is None:  # the key's row is gone (purged) since the claim found it: a retry is new
                raise ConflictError(f"a {self.noun} with this Idempotency-Key is being created; retry")
            return encode(created)

    async def _insert(
        self, connection: AsyncConnection, statement: Executable, parameters: dict[str, Any]
    ) -> dict[str, Any] | None:
        try:
            row = (await connection.execute(statement, parameters)).one_or_none()
        except IntegrityError as exc:
            raise ConflictError(f"a {self.noun} with these values already exists") from exc
        return None if row is None else dict(row._mapping)  # noqa: SLF001 - public, underscored against column names

    async def get(self, item_id: int) -> bytes:
        row = await self._one(self.statements.by_id, {"item_id": item_id})
        if row is None:
            raise NotFoundError(f"no {self.noun} has id {item_id}")
        return encode(row._asdict())

    async def page(self, after: int, limit: int) -> bytes:
        async with async_sessions.one_statement(self.session) as connection:
            result = await connection.execute(self.statements.page, {"after": after, "limit": limit})
            names = tuple(result.keys())
            return encode([dict(zip(names, row, strict=True)) for row in result])

    async def update(self, item_id: int, changes: BaseModel) -> bytes:
        values = changes.model_dump(exclude_unset=True)
        if not values:
            return await self.get(item_id)
        try:
            row = await self._one(self.statements.update, {**values, "item_id": item_id})
        except IntegrityError as exc:
            raise ConflictError(f"a {self.noun} with these values already exists") from exc
        if row is None:
            raise NotFoundError(f"no {self.noun} has id {item_id}")
        return encode(row._asdict())

    async def delete(self, item_id: int) -> None:
        try:
            deleted = await self._one(self.statements.delete, {"item_id": item_id})
        except IntegrityError as exc:
            raise ConflictError(
                f"{self.noun} {item_id} is still used by an order; delete or change those first"
            ) from exc
        if deleted is None:
            raise NotFoundError(f"no {self.noun} has id {item_id}")


class ContactService(CatalogService):
    statements, noun = queries.CONTACTS, "contact"


class ProductService(CatalogService):
    statements, noun = queries.PRODUCTS, "product"


class TagService(CatalogService):
    statements, noun = queries.TAGS, "tag"


class OrderService:
    """Sale orders with their lines and tags; every write is all of it, or nothing."""

    def __init__(self, db_session: AsyncSession) -> None:
        self.session = db_session

    async def get(self, order_id: int) -> bytes:
        async with async_sessions.one_statement(self.session) as connection:
            rows = await connection.execute(queries.ORDER_BY_ID, {"order_id": order_id})
            orders, lines, tags = queries.split_order_rows(rows)
        if not orders:
            raise NotFoundError(f"no order has id {order_id}")
        return order_json.encode_order(orders[0], lines, tags)

    async def page(self, after: int, limit: int) -> bytes:
        async with async_sessions.one_statement(self.session) as connection:
            rows = await connection.execute(queries.ORDER_PAGE, {"after": after, "limit": limit})
            orders, lines, tags = queries.split_order_rows(rows)
        return order_json.encode_orders(orders, lines, tags)

    async def create(self, data: schemas.OrderCreate, idempotency_key: str | None = None) -> bytes:
        parameters = {
            "name": data.name,
            "contact_id": data.contact_id,
            "product_ids": [line.product_id for line in data.order_lines],
            "quantities": [line.quantity for line in data.order_lines],
            "prices": [line.price for line in data.order_lines],
            "tag_ids": data.tag_ids,
        }
        async with async_sessions.one_statement(self.session) as connection:
            if idempotency_key is None:
                statement, key = queries.CREATE_ORDER, {}
            else:
                statement = queries.CREATE_ORDER_ONCE
                key = async_idempotency.key_parameters(connection, "order", idempotency_key, data)
            with conflict_if_changed_meanwhile():
                outcome = (await connection.execute(statement, {**parameters, **key})).all()
            created = next((item_id for status, _, item_id, _ in outcome if status == "created"), None)
            if created is not None:
                tags = [(item_id, name) for status, _, item_id, name in outcome if status == "found"]
                return encode(_order_document(created, data, tags))
            missing = [(kind, item_id) for status, kind, item_id, _ in outcome if status == "missing"]
            # Nothing missing and nothing created: the claim found the key used (with missing references the
            # statement claims nothing, and the key may be an old one, replayed only within its window).
            if key and (stored := await async_idempotency.stored_for_key(connection, key, claim_refused=not missing)):
                return encode(_stored_order(stored, data))
        require_none_missing(missing)
        raise ConflictError("an order with this Idempotency-Key is being created; retry")

    async def update(self, order_id: int, changes: schemas.OrderUpdate) -> bytes:
        given = changes.model_fields_set
        async with self.session.begin():
            order = (await self.session.exec(queries.order_for_update(order_id))).one_or_none()
            if order is None:
                raise NotFoundError(f"no order has id {order_id}")
            lines = changes.order_lines if "order_lines" in given else []
            tag_ids = changes.tag_ids if "tag_ids" in given else []
            references = {
                "contact_id": changes.contact_id,
                "product_ids": [line.product_id for line in lines],
                "tag_ids": tag_ids,
            }
            missing = (await (await self.session.connection()).execute(queries.MISSING_REFERENCES, references)).all()
            require_none_missing((kind, item_id) for kind, item_id in missing)
            with conflict_if_changed_meanwhile():
                order.sqlmodel_update(changes.model_dump(include={"name", "contact_id"}, exclude_unset=True))
                if "order_lines" in given:
                    order.order_lines = [
                        OrderLineTable.model_validate(line, update={"order_id": order_id}) for line in lines
                    ]
                if "tag_ids" in given:
                    order.tags = list((await self.session.exec(queries.tags_by_id(tag_ids))).all()) if tag_ids else []
                await self.session.flush()
            return order_json.encode_order(*_rows(order_id, order))

    async def delete(self, order_id: int) -> None:
        async with async_sessions.one_statement(self.session) as connection:
            deleted = (await connection.execute(queries.DELETE_ORDER, {"order_id": order_id})).first()
        if deleted is None:
            raise NotFoundError(f"no order has id {order_id}")


def _order_document(order_id: int, data: schemas.OrderCreate, tags: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """The answer to a created order: the request, with the order's id and its tags' (id, name) pairs."""
    lines = [(order_id, line.product_id, line.quantity, line.price) for line in data.order_lines]
    return order_json.order_document(
        (order_id, data.name, data.contact_id), lines, [(order_id, tag_id, name) for tag_id, name in tags]
    )


def _stored_order(stored: dict[str, Any], data: schemas.OrderCreate) -> dict[str, Any]:
    """The answer to a retried order, from what its key stores: the order's id and tags.

    Or the whole answer: stored before migration 0004, or by an older version still serving beside this one
    during a rolling deploy.
    """
    if "order_lines" in stored:
        return stored
    return _order_document(stored["id"], data, stored["tags"])


def _rows(
    order_id: int, order: OrderTable
) -> tuple[order_json.OrderRow, list[order_json.LineRow], list[order_json.TagRow]]:
    """An order loaded with its lines and tags, as the rows `order_json` encodes."""
    lines = [(order_id, line.product_id, line.quantity, line.price) for line in order.order_lines]
    tags = [(order_id, tag.id, tag.name) for tag in order.tags if tag.id is not None]
    return (order_id, order.name, order.contact_id), lines, tags
