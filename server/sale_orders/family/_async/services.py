"""This family's services: every operation of the API, each in one transaction of the request's session.

Services commit their own transaction, so no session outlives its handler with work pending. Creating and
reading, the hot paths, run constant Core statements built from the SQLModel tables (`db/queries.py`) on
the session's connection; changing an order is plain SQLModel code: load the order with its lines and tags
(explicitly: relationships are `lazy="raise"`), change the objects, and let the session flush. Answers that
are orders are JSON encoded once (`domain/order_json.py`).
"""

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Executable, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from sale_orders.db import queries
from sale_orders.db.tables import OrderLineTable, OrderTable, TagTable
from sale_orders.domain import order_json, schemas
from sale_orders.domain.errors import ConflictError, NotFoundError
from sale_orders.domain.references import require_existing
from sale_orders.family._async import idempotency as async_idempotency
from sale_orders.family._util import conflict_if_changed_meanwhile

ReadT = TypeVar("ReadT", bound=BaseModel)


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[AsyncConnection]:
    """A transaction of the request's session, and its connection to run Core statements on."""
    async with session.begin():
        yield await session.connection()


class CatalogService(Generic[ReadT]):
    """Create, read, page, change and delete one kind of simple row: contacts, products, tags."""

    statements: ClassVar[queries.RowStatements]
    read_schema: type[ReadT]
    noun: ClassVar[str]

    def __init__(self, db_session: AsyncSession) -> None:
        self.session = db_session

    def _response(self, row: Row[Any]) -> ReadT:
        # Rows were validated on their way in; validating them again would check every e-mail once more.
        return self.read_schema.model_construct(**row._mapping)  # noqa: SLF001 - public, underscored against column names

    async def _alone(self, statement: Executable, parameters: dict[str, Any]) -> Row[Any] | None:
        """Run one statement in a transaction of its own, returning its row if any."""
        async with transaction(self.session) as connection:
            return (await connection.execute(statement, parameters)).one_or_none()

    async def create(self, data: BaseModel, idempotency_key: str | None = None) -> ReadT:
        async with transaction(self.session) as connection:
            retry = async_idempotency.IdempotentCreate(connection, self.noun, idempotency_key, data)
            if (earlier := await retry.earlier_response()) is not None:
                return self.read_schema.model_validate(earlier)
            try:
                row = (await connection.execute(self.statements.insert, data.model_dump())).one()
            except IntegrityError as exc:
                raise ConflictError(f"a {self.noun} with these values already exists") from exc
            created = self._response(row)
            await retry.remember(created.model_dump(mode="json"))
        return created

    async def get(self, item_id: int) -> ReadT:
        row = await self._alone(self.statements.by_id, {"item_id": item_id})
        if row is None:
            raise NotFoundError(f"no {self.noun} has id {item_id}")
        return self._response(row)

    async def page(self, after: int | None, limit: int) -> list[ReadT]:
        async with transaction(self.session) as connection:
            rows = (await connection.execute(self.statements.page, {"after": after or 0, "limit": limit})).all()
        return [self._response(row) for row in rows]

    async def update(self, item_id: int, changes: BaseModel) -> ReadT:
        values = changes.model_dump(exclude_unset=True)
        if not values:
            return await self.get(item_id)
        try:
            row = await self._alone(self.statements.update, {**values, "item_id": item_id})
        except IntegrityError as exc:
            raise ConflictError(f"a {self.noun} with these values already exists") from exc
        if row is None:
            raise NotFoundError(f"no {self.noun} has id {item_id}")
        return self._response(row)

    async def delete(self, item_id: int) -> None:
        try:
            deleted = await self._alone(self.statements.delete, {"item_id": item_id})
        except IntegrityError as exc:
            raise ConflictError(
                f"{self.noun} {item_id} is still used by an order; delete or change those first"
            ) from exc
        if deleted is None:
            raise NotFoundError(f"no {self.noun} has id {item_id}")


class ContactService(CatalogService[schemas.Contact]):
    statements, read_schema, noun = queries.CONTACTS, schemas.Contact, "contact"


class ProductService(CatalogService[schemas.Product]):
    statements, read_schema, noun = queries.PRODUCTS, schemas.Product, "product"


class TagService(CatalogService[schemas.Tag]):
    statements, read_schema, noun = queries.TAGS, schemas.Tag, "tag"


async def lines_and_tags(
    connection: AsyncConnection, order_ids: list[int]
) -> tuple[Sequence[order_json.LineRow], Sequence[order_json.TagRow]]:
    """The lines and the tags of orders, as rows: two statements, whatever the number of orders."""
    if not order_ids:
        return [], []
    ids = {"order_ids": order_ids}
    lines = (await connection.execute(queries.LINES_OF_ORDERS, ids)).all()
    tags = (await connection.execute(queries.TAGS_OF_ORDERS, ids)).all()
    return lines, tags


class OrderService:
    """Sale orders with their lines and tags; every write is one transaction: all of it, or nothing."""

    def __init__(self, db_session: AsyncSession) -> None:
        self.session = db_session

    async def get(self, order_id: int) -> bytes:
        """The order, as the JSON of a `schemas.Order`."""
        async with transaction(self.session) as connection:
            order = (await connection.execute(queries.ORDER_BY_ID, {"order_id": order_id})).one_or_none()
            if order is None:
                raise NotFoundError(f"no order has id {order_id}")
            lines, tags = await lines_and_tags(connection, [order_id])
        return order_json.encode_order(order, lines, tags)

    async def page(self, after: int | None, limit: int) -> bytes:
        """A page of orders, as the JSON of a list of `schemas.Order`."""
        async with transaction(self.session) as connection:
            orders = (await connection.execute(queries.ORDER_PAGE, {"after": after or 0, "limit": limit})).all()
            lines, tags = await lines_and_tags(connection, [order_id for order_id, _, _ in orders])
        return order_json.encode_orders(orders, lines, tags)

    async def create(self, data: schemas.OrderCreate, idempotency_key: str | None = None) -> bytes:
        async with transaction(self.session) as connection:
            retry = async_idempotency.IdempotentCreate(connection, "order", idempotency_key, data)
            if (earlier := await retry.earlier_response()) is not None:
                return order_json.encode(earlier)
            tags = await self._existing(data.contact_id, data.order_lines, data.tag_ids)
            with conflict_if_changed_meanwhile():
                head = {"name": data.name, "contact_id": data.contact_id}
                order_id = (await connection.execute(queries.INSERT_ORDER, head)).scalar_one()
                lines = [(order_id, line.product_id, line.quantity, line.price) for line in data.order_lines]
                if lines:
                    await connection.execute(
                        queries.INSERT_LINES, [dict(zip(_LINE, row, strict=True)) for row in lines]
                    )
                if tags:
                    links = [{"order_id": order_id, "tag_id": tag.id} for tag in tags]
                    await connection.execute(queries.INSERT_ORDER_TAGS, links)
            created = order_json.order_document(
                (order_id, data.name, data.contact_id), lines, _tag_rows(order_id, tags)
            )
            await retry.remember(created)
        return order_json.encode(created)

    async def update(self, order_id: int, changes: schemas.OrderUpdate) -> bytes:
        given = changes.model_fields_set
        async with self.session.begin():
            order = (await self.session.exec(queries.order_for_update(order_id))).one_or_none()
            if order is None:
                raise NotFoundError(f"no order has id {order_id}")
            lines = changes.order_lines if "order_lines" in given else []
            tags = await self._existing(changes.contact_id, lines, changes.tag_ids if "tag_ids" in given else [])
            with conflict_if_changed_meanwhile():
                order.sqlmodel_update(changes.model_dump(include={"name", "contact_id"}, exclude_unset=True))
                if "order_lines" in given:
                    order.order_lines = [
                        OrderLineTable.model_validate(line, update={"order_id": order_id}) for line in lines
                    ]
                if "tag_ids" in given:
                    order.tags = list(tags)
                await self.session.flush()
            return order_json.encode_order(*_rows(order_id, order))

    async def delete(self, order_id: int) -> None:
        async with transaction(self.session) as connection:
            deleted = (await connection.execute(queries.DELETE_ORDER, {"order_id": order_id})).first()
        if deleted is None:
            raise NotFoundError(f"no order has id {order_id}")

    async def _existing(
        self, contact_id: int | None, lines: list[schemas.OrderLine], tag_ids: list[int]
    ) -> Sequence[TagTable]:
        """Check that the contact, products and tags exist (naming any that do not); return the tags by id."""
        product_ids = [line.product_id for line in lines]
        found: list[tuple[str, int]] = []
        if contact_id is not None or product_ids:
            connection = await self.session.connection()
            references = queries.existing_references(contact_id, product_ids)
            found += [(kind, item_id) for kind, item_id in await connection.execute(references)]
        tags = (await self.session.exec(queries.tags_by_id(tag_ids))).all() if tag_ids else []
        found += [("tag", tag.id) for tag in tags if tag.id is not None]
        require_existing(contact_id=contact_id, product_ids=product_ids, tag_ids=tag_ids, found=found)
        return tags


_LINE = ("order_id", "product_id", "quantity", "price")


def _rows(
    order_id: int, order: OrderTable
) -> tuple[order_json.OrderRow, list[order_json.LineRow], list[order_json.TagRow]]:
    """An order loaded with its lines and tags, as the rows `order_json` encodes."""
    lines = [(order_id, line.product_id, line.quantity, line.price) for line in order.order_lines]
    return (order_id, order.name, order.contact_id), lines, _tag_rows(order_id, order.tags)


def _tag_rows(order_id: int, tags: Iterable[TagTable]) -> list[order_json.TagRow]:
    return [(order_id, tag.id, tag.name) for tag in tags if tag.id is not None]
