"""The async family, written by hand: `async def` handlers on the event loop, `AsyncSession` over asyncpg.

The sync family, `_sync.py`, is generated from this file by unasyncd (`just twin`); CI fails if it is stale.
Services run each operation in one transaction that they commit themselves and return response schemas,
so no session outlives its handler with work pending. Handlers only translate HTTP to service calls.
Lists are keyset pages: pass the last id you got as `after` to get the next page.
"""

import hashlib
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from litestar import Controller
from litestar.di import NamedDependency
from litestar.params import JSONBody
from pydantic import BaseModel
from sqlalchemy import Executable, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from sale_orders.db import queries
from sale_orders.db.models import OrderLineModel, OrderModel, TagModel
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

    async def remember(self, response: BaseModel) -> None:
        if self.key is not None:
            stored = response.model_dump(mode="json")
            await self.connection.execute(queries.remember_response(self.scope, self.key, stored))


class CatalogService(Generic[ReadT]):
    """Create, read, page, change and delete one kind of simple row: contacts, products, tags.

    One Core statement each, on the session's connection: no ORM objects to track or hydrate.
    """

    statements: ClassVar[queries.RowStatements]
    read_schema: type[ReadT]
    noun: ClassVar[str]

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def _response(self, row: Row[Any]) -> ReadT:
        # Rows were validated on their way in, so they are not validated again (e-mail checks cost 10%).
        return self.read_schema.model_construct(**row._mapping)  # noqa: SLF001 - public, underscored against column names

    async def _alone(self, statement: Executable, parameters: dict[str, Any]) -> Row[Any] | None:
        """Run one statement in a transaction of its own, returning its row if any."""
        async with self.engine.begin() as connection:
            return (await connection.execute(statement, parameters)).one_or_none()

    async def create(self, data: BaseModel, idempotency_key: str | None = None) -> ReadT:
        async with self.engine.begin() as connection:
            retry = IdempotentCreate(connection, self.noun, idempotency_key, data)
            if (earlier := await retry.earlier_response()) is not None:
                return self.read_schema.model_validate(earlier)
            try:
                row = (await connection.execute(self.statements.insert, data.model_dump())).one()
            except IntegrityError as exc:
                raise Conflict(f"a {self.noun} with these values already exists") from exc
            created = self._response(row)
            await retry.remember(created)
        return created

    async def get(self, item_id: int) -> ReadT:
        row = await self._alone(self.statements.by_id, {"item_id": item_id})
        if row is None:
            raise NotFound(f"no {self.noun} has id {item_id}")
        return self._response(row)

    async def page(self, after: int | None, limit: int) -> list[ReadT]:
        async with self.engine.begin() as connection:
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


class OrderReader:
    """Orders as JSON, read with three Core statements on the engine: the hot read path."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get(self, order_id: int) -> bytes:
        """The order, as the JSON of a `schemas.Order`."""
        async with self.engine.begin() as connection:
            order = (await connection.execute(queries.ORDER_BY_ID, {"order_id": order_id})).one_or_none()
            if order is None:
                raise NotFound(f"no order has id {order_id}")
            lines, tags = await self._lines_and_tags(connection, [order_id])
        return order_json.encode_order(order, lines, tags)

    async def page(self, after: int | None, limit: int) -> bytes:
        """A page of orders, as the JSON of a list of `schemas.Order`."""
        async with self.engine.begin() as connection:
            page = {"after": after or 0, "limit": limit}
            orders = (await connection.execute(queries.ORDER_PAGE, page)).all()
            lines, tags = await self._lines_and_tags(connection, [order_id for order_id, _, _ in orders])
        return order_json.encode_orders(orders, lines, tags)

    @staticmethod
    async def _lines_and_tags(
        connection: AsyncConnection, order_ids: list[int]
    ) -> tuple[Sequence[order_json.LineRow], Sequence[order_json.TagRow]]:
        """The lines and the tags of orders: rows, not ORM objects, through the Core connection (the hot path)."""
        if not order_ids:
            return [], []
        ids = {"order_ids": order_ids}
        lines = (await connection.execute(queries.LINES_OF_ORDERS, ids)).all()
        tags = (await connection.execute(queries.TAGS_OF_ORDERS, ids)).all()
        return lines, tags


class OrderService:
    """Writes of sale orders with their lines and tags; each is one transaction: all of it, or nothing."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, data: schemas.OrderCreate, idempotency_key: str | None = None) -> schemas.Order:
        async with self.session.begin():
            retry = IdempotentCreate(await self.session.connection(), "order", idempotency_key, data)
            if (earlier := await retry.earlier_response()) is not None:
                return schemas.Order.model_validate(earlier)
            tags = await self._existing(data.contact_id, data.order_lines, data.tag_ids)
            order = OrderModel(
                name=data.name,
                contact_id=data.contact_id,
                order_lines=[OrderLineModel(**line.model_dump()) for line in data.order_lines],
                tags=tags,
            )
            self.session.add(order)
            await self._flush()
            created = schemas.Order.of(order)
            await retry.remember(created)
        return created

    async def update(self, order_id: int, changes: schemas.OrderUpdate) -> schemas.Order:
        async with self.session.begin():
            statement = queries.order_by_id(order_id).with_for_update(of=OrderModel)
            order = (await self.session.scalars(statement)).one_or_none()
            if order is None:
                raise NotFound(f"no order has id {order_id}")
            given = changes.model_dump(exclude_unset=True)
            tags = await self._existing(
                given.get("contact_id"), changes.order_lines if "order_lines" in given else [], given.get("tag_ids", [])
            )
            if "name" in given:
                order.name = changes.name
            if "contact_id" in given:
                order.contact_id = changes.contact_id
            if "order_lines" in given:
                order.order_lines = [OrderLineModel(**line.model_dump()) for line in changes.order_lines]
            if "tag_ids" in given:
                order.tags = tags
            await self._flush()
        return schemas.Order.of(order)

    async def delete(self, order_id: int) -> None:
        async with self.session.begin():
            deleted = (await self.session.execute(queries.delete_by_id(OrderModel, order_id))).first()
        if deleted is None:
            raise NotFound(f"no order has id {order_id}")

    async def _existing(
        self, contact_id: int | None, lines: list[schemas.OrderLine], tag_ids: list[int]
    ) -> list[TagModel]:
        """Check that the contact, products and tags exist (naming any that do not); return the tags."""
        product_ids = [line.product_id for line in lines]
        found = []
        if contact_id is not None or product_ids:
            found = [
                (kind, item_id)
                for kind, item_id in await self.session.execute(queries.existing_references(contact_id, product_ids))
            ]
        tags = list((await self.session.scalars(queries.tags_by_id(tag_ids))).all()) if tag_ids else []
        found += [("tag", tag.id) for tag in tags]
        require_existing(contact_id=contact_id, product_ids=product_ids, tag_ids=tag_ids, found=found)
        return sorted(tags, key=lambda tag: tag.id)

    async def _flush(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError as exc:  # e.g. a referenced row deleted after the check; nothing is stored
            raise Conflict("the order conflicts with data changed meanwhile; nothing was stored, retry") from exc


_PAGE = limits.DEFAULT_PAGE_SIZE


class ContactController(Controller):
    path = "/contact"

    @ASYNC.post("/", summary="Create a contact", problems=[422])
    async def create_contact(
        self,
        data: JSONBody[schemas.ContactCreate],
        db_engine: NamedDependency[AsyncEngine],
        idempotency_key: IdempotencyKey = None,
    ) -> schemas.Contact:
        return await ContactService(db_engine).create(data, idempotency_key)

    @ASYNC.get("/", summary="List contacts, a page at a time")
    async def list_contacts(
        self, db_engine: NamedDependency[AsyncEngine], after: After = None, limit: Limit = _PAGE
    ) -> list[schemas.Contact]:
        return await ContactService(db_engine).page(after, limit)

    @ASYNC.get("/{item_id:int}", summary="Read a contact", problems=[404])
    async def get_contact(self, item_id: ItemId, db_engine: NamedDependency[AsyncEngine]) -> schemas.Contact:
        return await ContactService(db_engine).get(item_id)

    @ASYNC.patch("/{item_id:int}", summary="Change a contact", problems=[404])
    async def update_contact(
        self, item_id: ItemId, data: JSONBody[schemas.ContactUpdate], db_engine: NamedDependency[AsyncEngine]
    ) -> schemas.Contact:
        return await ContactService(db_engine).update(item_id, data)

    @ASYNC.delete("/{item_id:int}", summary="Delete a contact without orders", problems=[404, 409])
    async def delete_contact(self, item_id: ItemId, db_engine: NamedDependency[AsyncEngine]) -> None:
        await ContactService(db_engine).delete(item_id)


class ProductController(Controller):
    path = "/product"

    @ASYNC.post("/", summary="Create a product", problems=[422])
    async def create_product(
        self,
        data: JSONBody[schemas.ProductCreate],
        db_engine: NamedDependency[AsyncEngine],
        idempotency_key: IdempotencyKey = None,
    ) -> schemas.Product:
        return await ProductService(db_engine).create(data, idempotency_key)

    @ASYNC.get("/", summary="List products, a page at a time")
    async def list_products(
        self, db_engine: NamedDependency[AsyncEngine], after: After = None, limit: Limit = _PAGE
    ) -> list[schemas.Product]:
        return await ProductService(db_engine).page(after, limit)

    @ASYNC.get("/{item_id:int}", summary="Read a product", problems=[404])
    async def get_product(self, item_id: ItemId, db_engine: NamedDependency[AsyncEngine]) -> schemas.Product:
        return await ProductService(db_engine).get(item_id)

    @ASYNC.patch("/{item_id:int}", summary="Change a product", problems=[404])
    async def update_product(
        self, item_id: ItemId, data: JSONBody[schemas.ProductUpdate], db_engine: NamedDependency[AsyncEngine]
    ) -> schemas.Product:
        return await ProductService(db_engine).update(item_id, data)

    @ASYNC.delete("/{item_id:int}", summary="Delete a product no order uses", problems=[404, 409])
    async def delete_product(self, item_id: ItemId, db_engine: NamedDependency[AsyncEngine]) -> None:
        await ProductService(db_engine).delete(item_id)


class TagController(Controller):
    path = "/tag"

    @ASYNC.post("/", summary="Create a tag", problems=[409, 422])
    async def create_tag(
        self,
        data: JSONBody[schemas.TagCreate],
        db_engine: NamedDependency[AsyncEngine],
        idempotency_key: IdempotencyKey = None,
    ) -> schemas.Tag:
        return await TagService(db_engine).create(data, idempotency_key)

    @ASYNC.get("/", summary="List tags, a page at a time")
    async def list_tags(
        self, db_engine: NamedDependency[AsyncEngine], after: After = None, limit: Limit = _PAGE
    ) -> list[schemas.Tag]:
        return await TagService(db_engine).page(after, limit)

    @ASYNC.get("/{item_id:int}", summary="Read a tag", problems=[404])
    async def get_tag(self, item_id: ItemId, db_engine: NamedDependency[AsyncEngine]) -> schemas.Tag:
        return await TagService(db_engine).get(item_id)

    @ASYNC.patch("/{item_id:int}", summary="Rename a tag", problems=[404, 409])
    async def update_tag(
        self, item_id: ItemId, data: JSONBody[schemas.TagUpdate], db_engine: NamedDependency[AsyncEngine]
    ) -> schemas.Tag:
        return await TagService(db_engine).update(item_id, data)

    @ASYNC.delete("/{item_id:int}", summary="Delete a tag no order uses", problems=[404, 409])
    async def delete_tag(self, item_id: ItemId, db_engine: NamedDependency[AsyncEngine]) -> None:
        await TagService(db_engine).delete(item_id)


class OrderController(Controller):
    path = "/order"

    @ASYNC.post("/", summary="Create a sale order with its lines and tags", problems=[409, 422])
    async def create_order(
        self,
        data: JSONBody[schemas.OrderCreate],
        db_session: NamedDependency[AsyncSession],
        idempotency_key: IdempotencyKey = None,
    ) -> schemas.Order:
        return await OrderService(db_session).create(data, idempotency_key)

    @ASYNC.get("/", summary="List sale orders with lines and tags, a page at a time", encoded=list[schemas.Order])
    async def list_orders(
        self, db_engine: NamedDependency[AsyncEngine], after: After = None, limit: Limit = _PAGE
    ) -> bytes:
        return await OrderReader(db_engine).page(after, limit)

    @ASYNC.get("/{item_id:int}", summary="Read a sale order", problems=[404], encoded=schemas.Order)
    async def get_order(self, item_id: ItemId, db_engine: NamedDependency[AsyncEngine]) -> bytes:
        return await OrderReader(db_engine).get(item_id)

    @ASYNC.patch("/{item_id:int}", summary="Change a sale order; lines and tags are replaced", problems=[404, 409, 422])
    async def update_order(
        self, item_id: ItemId, data: JSONBody[schemas.OrderUpdate], db_session: NamedDependency[AsyncSession]
    ) -> schemas.Order:
        return await OrderService(db_session).update(item_id, data)

    @ASYNC.delete("/{item_id:int}", summary="Delete a sale order", problems=[404])
    async def delete_order(self, item_id: ItemId, db_session: NamedDependency[AsyncSession]) -> None:
        await OrderService(db_session).delete(item_id)


CONTROLLERS = [ContactController, ProductController, TagController, OrderController]
