"""The async family, written by hand: `async def` handlers on the event loop, `AsyncSession` over asyncpg.

The sync family, `_sync.py`, is generated from this file by unasyncd (`just twin`); CI fails if it is stale.
Services run each operation in one transaction of the request's session that they commit themselves, so no
session outlives its handler with work pending. They execute Core statements (`db/queries.py`, built once)
on the session's connection: on these paths the ORM's unit of work and hydration cost more than the SQL
(profiles in docs/benchmarks). Orders are answered as JSON encoded once (`domain/order_json.py`).
Handlers only translate HTTP to service calls.
Lists are keyset pages: pass the last id you got as `after` to get the next page.
"""

import hashlib
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, ClassVar, Generic, TypeVar

from litestar import Controller
from litestar.di import NamedDependency
from litestar.params import JSONBody
from pydantic import BaseModel
from sqlalchemy import Executable, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from sale_orders.db import queries
from sale_orders.domain import limits, order_json, schemas
from sale_orders.domain.errors import Conflict, KeyReused, NotFound
from sale_orders.domain.references import require_existing
from sale_orders.family.params import After, IdempotencyKey, ItemId, Limit
from sale_orders.family.routing import ASYNC

ReadT = TypeVar("ReadT", bound=BaseModel)


class IdempotentCreate:
    """The Idempotency-Key protocol of one create request, run inside the request's transaction."""

    def __init__(self, connection: AsyncConnection, scope: str, key: str | None, request: BaseModel) -> None:
        self.connection = connection
        self.scope = scope
        self.key = key
        self.request = request

    async def earlier_response(self) -> dict[str, Any] | None:
        """Claim the key, or return the response given to the request that claimed it first."""
        if self.key is None:
            return None
        request_fingerprint = hashlib.sha256(self.request.model_dump_json().encode()).hexdigest()
        claim = queries.claim_idempotency_key(self.scope, self.key, request_fingerprint)
        if (await self.connection.execute(claim)).first() is not None:
            return None
        fingerprint, response = (
            await self.connection.execute(queries.claimed_idempotency_key(self.scope, self.key))
        ).one()
        if fingerprint != request_fingerprint or response is None:
            raise KeyReused(f"Idempotency-Key {self.key!r} was already used for a different {self.scope}")
        return dict(response)

    async def remember(self, response: dict[str, Any]) -> None:
        """Store the JSON document answered, to answer a retry with the same key the same way."""
        if self.key is not None:
            await self.connection.execute(queries.remember_response(self.scope, self.key, response))


class CatalogService(Generic[ReadT]):
    """Create, read, page, change and delete one kind of simple row: contacts, products, tags.

    One Core statement each, on the session's connection: no ORM objects to track or hydrate.
    """

    statements: ClassVar[queries.RowStatements]
    read_schema: type[ReadT]
    noun: ClassVar[str]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _response(self, row: Row[Any]) -> ReadT:
        # Rows were validated on their way in, so they are not validated again (e-mail checks cost 10%).
        return self.read_schema.model_construct(**row._mapping)  # noqa: SLF001 - public, underscored against column names

    async def _alone(self, statement: Executable, parameters: dict[str, Any]) -> Row[Any] | None:
        """Run one statement in a transaction of its own, returning its row if any."""
        async with transaction(self.session) as connection:
            return (await connection.execute(statement, parameters)).one_or_none()

    async def create(self, data: BaseModel, idempotency_key: str | None = None) -> ReadT:
        async with transaction(self.session) as connection:
            retry = IdempotentCreate(connection, self.noun, idempotency_key, data)
            if (earlier := await retry.earlier_response()) is not None:
                return self.read_schema.model_validate(earlier)
            try:
                row = (await connection.execute(self.statements.insert, data.model_dump())).one()
            except IntegrityError as exc:
                raise Conflict(f"a {self.noun} with these values already exists") from exc
            created = self._response(row)
            await retry.remember(created.model_dump(mode="json"))
        return created

    async def get(self, item_id: int) -> ReadT:
        row = await self._alone(self.statements.by_id, {"item_id": item_id})
        if row is None:
            raise NotFound(f"no {self.noun} has id {item_id}")
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
            raise Conflict(f"a {self.noun} with these values already exists") from exc
        if row is None:
            raise NotFound(f"no {self.noun} has id {item_id}")
        return self._response(row)

    async def delete(self, item_id: int) -> None:
        try:
            deleted = await self._alone(self.statements.delete, {"item_id": item_id})
        except IntegrityError as exc:
            raise Conflict(f"{self.noun} {item_id} is still used by an order; delete or change those first") from exc
        if deleted is None:
            raise NotFound(f"no {self.noun} has id {item_id}")


class ContactService(CatalogService[schemas.Contact]):
    statements, read_schema, noun = queries.CONTACTS, schemas.Contact, "contact"


class ProductService(CatalogService[schemas.Product]):
    statements, read_schema, noun = queries.PRODUCTS, schemas.Product, "product"


class TagService(CatalogService[schemas.Tag]):
    statements, read_schema, noun = queries.TAGS, schemas.Tag, "tag"


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[AsyncConnection]:
    """A transaction of the request's session, and its connection to run Core statements on."""
    async with session.begin():
        yield await session.connection()


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


class OrderReader:
    """Orders as JSON, read with three Core statements: the hot read path."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, order_id: int) -> bytes:
        """The order, as the JSON of a `schemas.Order`."""
        async with transaction(self.session) as connection:
            order = (await connection.execute(queries.ORDER_BY_ID, {"order_id": order_id})).one_or_none()
            if order is None:
                raise NotFound(f"no order has id {order_id}")
            lines, tags = await lines_and_tags(connection, [order_id])
        return order_json.encode_order(order, lines, tags)

    async def page(self, after: int | None, limit: int) -> bytes:
        """A page of orders, as the JSON of a list of `schemas.Order`."""
        async with transaction(self.session) as connection:
            page = {"after": after or 0, "limit": limit}
            orders = (await connection.execute(queries.ORDER_PAGE, page)).all()
            lines, tags = await lines_and_tags(connection, [order_id for order_id, _, _ in orders])
        return order_json.encode_orders(orders, lines, tags)


class OrderService:
    """Writes of sale orders with their lines and tags; each is one transaction: all of it, or nothing.

    Core statements, lines and tags inserted as one statement each: the ORM's unit of work was a third of
    creating an order. Answers are the order's JSON (`schemas.Order`), like the reads'.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, data: schemas.OrderCreate, idempotency_key: str | None = None) -> bytes:
        async with transaction(self.session) as connection:
            retry = IdempotentCreate(connection, "order", idempotency_key, data)
            if (earlier := await retry.earlier_response()) is not None:
                return order_json.encode(earlier)
            tags = await self._existing_tags(connection, data.contact_id, data.order_lines, data.tag_ids)
            with _conflict_if_changed_meanwhile():
                head = {"name": data.name, "contact_id": data.contact_id}
                order_id = (await connection.execute(queries.INSERT_ORDER, head)).scalar_one()
                lines = await self._store_lines(connection, order_id, data.order_lines)
                await self._store_tags(connection, order_id, [tag_id for tag_id, _ in tags])
            created = order_json.order_document(
                (order_id, data.name, data.contact_id), lines, [(order_id, *tag) for tag in tags]
            )
            await retry.remember(created)
        return order_json.encode(created)

    async def update(self, order_id: int, changes: schemas.OrderUpdate) -> bytes:
        given = changes.model_dump(exclude_unset=True)
        async with transaction(self.session) as connection:
            order = (await connection.execute(queries.LOCK_ORDER, {"order_id": order_id})).one_or_none()
            if order is None:
                raise NotFound(f"no order has id {order_id}")
            lines = changes.order_lines if "order_lines" in given else []
            tags = await self._existing_tags(connection, given.get("contact_id"), lines, given.get("tag_ids", []))
            with _conflict_if_changed_meanwhile():
                own_columns = {name: given[name] for name in _OWN_COLUMNS if name in given}
                if own_columns:
                    own_columns["order_id"] = order_id
                    order = (await connection.execute(queries.UPDATE_ORDER, own_columns)).one()
                if "order_lines" in given:
                    await connection.execute(queries.DELETE_LINES, {"order_id": order_id})
                    await self._store_lines(connection, order_id, changes.order_lines)
                if "tag_ids" in given:
                    await connection.execute(queries.DELETE_ORDER_TAGS, {"order_id": order_id})
                    await self._store_tags(connection, order_id, [tag_id for tag_id, _ in tags])
            stored_lines, stored_tags = await lines_and_tags(connection, [order_id])
        return order_json.encode_order(order, stored_lines, stored_tags)

    async def delete(self, order_id: int) -> None:
        async with transaction(self.session) as connection:
            deleted = (await connection.execute(queries.DELETE_ORDER, {"order_id": order_id})).first()
        if deleted is None:
            raise NotFound(f"no order has id {order_id}")

    @staticmethod
    async def _existing_tags(
        connection: AsyncConnection, contact_id: int | None, lines: list[schemas.OrderLine], tag_ids: list[int]
    ) -> list[tuple[int, str]]:
        """Check that the contact, products and tags exist (naming any that do not); return the tags by id."""
        product_ids = [line.product_id for line in lines]
        found = []
        if contact_id is not None or product_ids:
            references = queries.existing_references(contact_id, product_ids)
            found = [(kind, item_id) for kind, item_id in await connection.execute(references)]
        tags = (
            [(tag_id, name) for tag_id, name in await connection.execute(queries.tags_by_id(tag_ids))]
            if tag_ids
            else []
        )
        found += [("tag", tag_id) for tag_id, _ in tags]
        require_existing(contact_id=contact_id, product_ids=product_ids, tag_ids=tag_ids, found=found)
        return tags

    @staticmethod
    async def _store_lines(
        connection: AsyncConnection, order_id: int, lines: list[schemas.OrderLine]
    ) -> list[order_json.LineRow]:
        """Insert the order's lines (one statement); return them as rows."""
        rows = [(order_id, line.product_id, line.quantity, line.price) for line in lines]
        if rows:
            columns = ("order_id", "product_id", "quantity", "price")
            await connection.execute(queries.INSERT_LINES, [dict(zip(columns, row, strict=True)) for row in rows])
        return rows

    @staticmethod
    async def _store_tags(connection: AsyncConnection, order_id: int, tag_ids: list[int]) -> None:
        if tag_ids:
            await connection.execute(
                queries.INSERT_ORDER_TAGS, [{"order_id": order_id, "tag_id": tag_id} for tag_id in tag_ids]
            )


_OWN_COLUMNS: tuple[str, ...] = ("name", "contact_id")


@contextmanager
def _conflict_if_changed_meanwhile() -> Iterator[None]:
    """A referenced row deleted after the check fails the write: 409, and nothing is stored."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict("the order conflicts with data changed meanwhile; nothing was stored, retry") from exc


_PAGE = limits.DEFAULT_PAGE_SIZE


class ContactController(Controller):
    path = "/contact"

    @ASYNC.post("/", summary="Create a contact", problems=[422])
    async def create_contact(
        self,
        data: JSONBody[schemas.ContactCreate],
        db_session: NamedDependency[AsyncSession],
        idempotency_key: IdempotencyKey = None,
    ) -> schemas.Contact:
        return await ContactService(db_session).create(data, idempotency_key)

    @ASYNC.get("/", summary="List contacts, a page at a time")
    async def list_contacts(
        self, db_session: NamedDependency[AsyncSession], after: After = None, limit: Limit = _PAGE
    ) -> list[schemas.Contact]:
        return await ContactService(db_session).page(after, limit)

    @ASYNC.get("/{item_id:int}", summary="Read a contact", problems=[404])
    async def get_contact(self, item_id: ItemId, db_session: NamedDependency[AsyncSession]) -> schemas.Contact:
        return await ContactService(db_session).get(item_id)

    @ASYNC.patch("/{item_id:int}", summary="Change a contact", problems=[404])
    async def update_contact(
        self, item_id: ItemId, data: JSONBody[schemas.ContactUpdate], db_session: NamedDependency[AsyncSession]
    ) -> schemas.Contact:
        return await ContactService(db_session).update(item_id, data)

    @ASYNC.delete("/{item_id:int}", summary="Delete a contact without orders", problems=[404, 409])
    async def delete_contact(self, item_id: ItemId, db_session: NamedDependency[AsyncSession]) -> None:
        await ContactService(db_session).delete(item_id)


class ProductController(Controller):
    path = "/product"

    @ASYNC.post("/", summary="Create a product", problems=[422])
    async def create_product(
        self,
        data: JSONBody[schemas.ProductCreate],
        db_session: NamedDependency[AsyncSession],
        idempotency_key: IdempotencyKey = None,
    ) -> schemas.Product:
        return await ProductService(db_session).create(data, idempotency_key)

    @ASYNC.get("/", summary="List products, a page at a time")
    async def list_products(
        self, db_session: NamedDependency[AsyncSession], after: After = None, limit: Limit = _PAGE
    ) -> list[schemas.Product]:
        return await ProductService(db_session).page(after, limit)

    @ASYNC.get("/{item_id:int}", summary="Read a product", problems=[404])
    async def get_product(self, item_id: ItemId, db_session: NamedDependency[AsyncSession]) -> schemas.Product:
        return await ProductService(db_session).get(item_id)

    @ASYNC.patch("/{item_id:int}", summary="Change a product", problems=[404])
    async def update_product(
        self, item_id: ItemId, data: JSONBody[schemas.ProductUpdate], db_session: NamedDependency[AsyncSession]
    ) -> schemas.Product:
        return await ProductService(db_session).update(item_id, data)

    @ASYNC.delete("/{item_id:int}", summary="Delete a product no order uses", problems=[404, 409])
    async def delete_product(self, item_id: ItemId, db_session: NamedDependency[AsyncSession]) -> None:
        await ProductService(db_session).delete(item_id)


class TagController(Controller):
    path = "/tag"

    @ASYNC.post("/", summary="Create a tag", problems=[409, 422])
    async def create_tag(
        self,
        data: JSONBody[schemas.TagCreate],
        db_session: NamedDependency[AsyncSession],
        idempotency_key: IdempotencyKey = None,
    ) -> schemas.Tag:
        return await TagService(db_session).create(data, idempotency_key)

    @ASYNC.get("/", summary="List tags, a page at a time")
    async def list_tags(
        self, db_session: NamedDependency[AsyncSession], after: After = None, limit: Limit = _PAGE
    ) -> list[schemas.Tag]:
        return await TagService(db_session).page(after, limit)

    @ASYNC.get("/{item_id:int}", summary="Read a tag", problems=[404])
    async def get_tag(self, item_id: ItemId, db_session: NamedDependency[AsyncSession]) -> schemas.Tag:
        return await TagService(db_session).get(item_id)

    @ASYNC.patch("/{item_id:int}", summary="Rename a tag", problems=[404, 409])
    async def update_tag(
        self, item_id: ItemId, data: JSONBody[schemas.TagUpdate], db_session: NamedDependency[AsyncSession]
    ) -> schemas.Tag:
        return await TagService(db_session).update(item_id, data)

    @ASYNC.delete("/{item_id:int}", summary="Delete a tag no order uses", problems=[404, 409])
    async def delete_tag(self, item_id: ItemId, db_session: NamedDependency[AsyncSession]) -> None:
        await TagService(db_session).delete(item_id)


class OrderController(Controller):
    path = "/order"

    @ASYNC.post("/", summary="Create a sale order with its lines and tags", problems=[409, 422], encoded=schemas.Order)
    async def create_order(
        self,
        data: JSONBody[schemas.OrderCreate],
        db_session: NamedDependency[AsyncSession],
        idempotency_key: IdempotencyKey = None,
    ) -> bytes:
        return await OrderService(db_session).create(data, idempotency_key)

    @ASYNC.get("/", summary="List sale orders with lines and tags, a page at a time", encoded=list[schemas.Order])
    async def list_orders(
        self, db_session: NamedDependency[AsyncSession], after: After = None, limit: Limit = _PAGE
    ) -> bytes:
        return await OrderReader(db_session).page(after, limit)

    @ASYNC.get("/{item_id:int}", summary="Read a sale order", problems=[404], encoded=schemas.Order)
    async def get_order(self, item_id: ItemId, db_session: NamedDependency[AsyncSession]) -> bytes:
        return await OrderReader(db_session).get(item_id)

    @ASYNC.patch(
        "/{item_id:int}",
        summary="Change a sale order; lines and tags are replaced",
        problems=[404, 409, 422],
        encoded=schemas.Order,
    )
    async def update_order(
        self, item_id: ItemId, data: JSONBody[schemas.OrderUpdate], db_session: NamedDependency[AsyncSession]
    ) -> bytes:
        return await OrderService(db_session).update(item_id, data)

    @ASYNC.delete("/{item_id:int}", summary="Delete a sale order", problems=[404])
    async def delete_order(self, item_id: ItemId, db_session: NamedDependency[AsyncSession]) -> None:
        await OrderService(db_session).delete(item_id)


CONTROLLERS = [ContactController, ProductController, TagController, OrderController]
