"""This family's services: every operation of the API, answered as the JSON of its response schema.

Reads and creates, the hot paths, are single constant Core statements built from the SQLModel tables
(`db/queries/`), run on the session's connection without a transaction around them; their rows are
encoded to JSON once (`domain/order_json.py`), without building response models. Changing an order is
plain SQLModel code: load the order with its lines and tags (explicitly: relationships are
`lazy="raise"`), change the objects, and let the session flush them in one transaction.

A read may be answered by a standby (`db/queries/standby.py`), which refuses it unless it has the client's
writes; every write answers its consistency token.
"""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import Executable, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from sale_orders.db.queries import catalog, orders
from sale_orders.db.tables import OrderLineTable
from sale_orders.domain import order_json, schemas
from sale_orders.domain.errors import ConflictError, KeyInProgressError, NotFoundError
from sale_orders.domain.references import require_none_missing
from sale_orders.family.conflicts import conflict_if_changed_meanwhile
from sale_orders.family.fingerprints import idempotency_key_for
from sale_orders.family.order_answers import loaded_order_rows, replayed_order
from sale_orders.family.reads import StandbyReads, falls_back_to_primary
from sale_orders.web.encoded import Created, Written

from . import idempotency, sessions

encode = order_json.encode


class Service:
    """An operation's database session, how long an Idempotency-Key is remembered, and where reads may go.

    All three are injected (`family/providers.py`).
    """

    def __init__(self, db_session: AsyncSession, idempotency_window: timedelta, reads: StandbyReads) -> None:
        self.session = db_session
        self.idempotency_window = idempotency_window
        self.reads = reads

    async def _read(
        self, statement: Executable, on_standby: Executable, parameters: dict[str, Any], token: str | None
    ) -> Sequence[Row[Any]]:
        """The rows of a read: from a standby that is fresh enough for `token` (digits), else from the primary."""
        if self.reads.bind is not None:
            on_standby_parameters = {**parameters, **self.reads.parameters(int(token) if token else None)}
            try:
                async with sessions.one_statement(self.session, self.reads.bind) as connection:
                    rows = (await connection.execute(on_standby, on_standby_parameters)).all()
            except Exception as exc:  # a driver's error may reach here unwrapped (asyncpg: OSError on connect)
                if not falls_back_to_primary(exc):
                    raise
            else:
                self.reads.served("standby")
                return rows
        async with sessions.one_statement(self.session) as connection:
            rows = (await connection.execute(statement, parameters)).all()
        self.reads.served("primary")
        return rows


class CatalogService(Service):
    """Create, read, page, change and delete one kind of simple row: contacts, products, tags."""

    statements: ClassVar[catalog.RowStatements]
    noun: ClassVar[str]

    async def _one(self, statement: Executable, parameters: dict[str, Any]) -> Row[Any] | None:
        async with sessions.one_statement(self.session) as connection:
            return (await connection.execute(statement, parameters)).one_or_none()

    async def create(self, data: BaseModel, idempotency_key: str | None = None) -> Created:
        values = data.model_dump()
        async with sessions.one_statement(self.session) as connection:
            if idempotency_key is None:
                created = await self._insert(connection, self.statements.insert, values)
            else:
                key = idempotency_key_for(self.noun, idempotency_key, data, self.idempotency_window)
                created = await self._insert(connection, self.statements.insert_once, {**values, **key.parameters()})
                if created is None:  # the key was used before: answered from what was stored with it
                    stored = await idempotency.stored_answer(connection, key, claim_refused=True)
                    created = None if stored is None else (stored.answer, stored.token)
            if created is None:  # the key's row is gone (purged) since the claim found it: a retry is new
                raise KeyInProgressError(f"a {self.noun} with this Idempotency-Key is being created; retry")
            row, token = created
            return Created(encode(row), token, row["id"])

    async def _insert(
        self, connection: AsyncConnection, statement: Executable, parameters: dict[str, Any]
    ) -> tuple[dict[str, Any], int] | None:
        try:
            row = (await connection.execute(statement, parameters)).one_or_none()
        except IntegrityError as exc:
            raise ConflictError(f"a {self.noun} with these values already exists") from exc
        return None if row is None else (catalog.row_dict(row) or {}, catalog.token_of(row))

    async def get(self, item_id: int, token: str | None = None) -> bytes:
        statements, parameters = self.statements, {"item_id": item_id}
        rows = await self._read(statements.by_id, statements.by_id_on_standby, parameters, token)
        if not rows:
            raise NotFoundError(f"no {self.noun} has id {item_id}")
        return encode(catalog.row_dict(rows[0]))

    async def page(self, after: int, limit: int, token: str | None = None) -> bytes:
        statements, parameters = self.statements, {"after": after, "limit": limit}
        rows = await self._read(statements.page, statements.page_on_standby, parameters, token)
        return encode([catalog.row_dict(row) for row in rows])

    async def update(self, item_id: int, changes: BaseModel) -> Written:
        values = changes.model_dump(exclude_unset=True)
        # Nothing to change is still a write of nothing: its token covers what has ended so far.
        statement = self.statements.update if values else self.statements.current
        try:
            row = await self._one(statement, {**values, "item_id": item_id})
        except IntegrityError as exc:
            raise ConflictError(f"a {self.noun} with these values already exists") from exc
        if row is None:
            raise NotFoundError(f"no {self.noun} has id {item_id}")
        return Written(encode(catalog.row_dict(row)), catalog.token_of(row))

    async def delete(self, item_id: int) -> Written:
        try:
            deleted = await self._one(self.statements.delete, {"item_id": item_id})
        except IntegrityError as exc:
            raise ConflictError(
                f"{self.noun} {item_id} is still used by an order; delete or change those first"
            ) from exc
        if deleted is None:
            raise NotFoundError(f"no {self.noun} has id {item_id}")
        return Written(None, catalog.token_of(deleted))


class ContactService(CatalogService):
    statements, noun = catalog.CONTACTS, "contact"


class ProductService(CatalogService):
    statements, noun = catalog.PRODUCTS, "product"


class TagService(CatalogService):
    statements, noun = catalog.TAGS, "tag"


class OrderService(Service):
    """Sale orders with their lines and tags; every write is all of it, or nothing."""

    async def get(self, order_id: int, token: str | None = None) -> bytes:
        parameters = {"order_id": order_id}
        rows = await self._read(orders.ORDER_BY_ID, orders.ORDER_BY_ID_ON_STANDBY, parameters, token)
        heads, lines, tags = orders.split_order_rows(rows)
        if not heads:
            raise NotFoundError(f"no order has id {order_id}")
        return order_json.encode_order(heads[0], lines, tags)

    async def page(self, after: int, limit: int, token: str | None = None) -> bytes:
        parameters = {"after": after, "limit": limit}
        rows = await self._read(orders.ORDER_PAGE, orders.ORDER_PAGE_ON_STANDBY, parameters, token)
        return order_json.encode_orders(*orders.split_order_rows(rows))

    async def create(self, data: schemas.OrderCreate, idempotency_key: str | None = None) -> Created:
        parameters = orders.creation_parameters(data)
        key = (
            None
            if idempotency_key is None
            else idempotency_key_for("order", idempotency_key, data, self.idempotency_window)
        )
        async with sessions.one_statement(self.session) as connection:
            with conflict_if_changed_meanwhile():
                if key is None:
                    rows = await connection.execute(orders.CREATE_ORDER, parameters)
                else:
                    rows = await connection.execute(orders.CREATE_ORDER_ONCE, {**parameters, **key.parameters()})
                creation = orders.order_creation(rows.all())
            if creation.order is not None and creation.token is not None:
                # Answered from what was stored, as a read of the order is.
                body = order_json.encode_order(creation.order, creation.lines, creation.tags)
                return Created(body, creation.token, creation.order[0])
            # With missing references the statement claims nothing, and the key may be an old one, replayed
            # only within its window; with nothing missing, the claim found the key used.
            claim_refused = creation.key_was_used
            if key and (stored := await idempotency.stored_answer(connection, key, claim_refused=claim_refused)):
                replayed = replayed_order(stored.answer, data)
                return Created(encode(replayed), stored.token, replayed["id"])
        require_none_missing(creation.missing)
        raise KeyInProgressError("an order with this Idempotency-Key is being created; retry")

    async def update(self, order_id: int, changes: schemas.OrderUpdate) -> Written:
        given = changes.model_fields_set
        lines = changes.order_lines if "order_lines" in given else []
        tag_ids = changes.tag_ids if "tag_ids" in given else []
        references = orders.reference_parameters(changes.contact_id, lines, tag_ids)
        async with self.session.begin():
            # References first, locked until the commit: none can be deleted before the order names it.
            checked = (await (await self.session.connection()).execute(orders.CHANGE_REFERENCES, references)).all()
            order = (await self.session.exec(orders.order_for_update(order_id))).one_or_none()
            if order is None:
                raise NotFoundError(f"no order has id {order_id}")
            token, missing = orders.change_check(checked)
            require_none_missing(missing)
            with conflict_if_changed_meanwhile():
                order.sqlmodel_update(changes.model_dump(include={"name", "contact_id"}, exclude_unset=True))
                if "order_lines" in given:
                    order.order_lines = [
                        OrderLineTable.model_validate(line, update={"order_id": order_id}) for line in lines
                    ]
                if "tag_ids" in given:
                    order.tags = list((await self.session.exec(orders.tags_by_id(tag_ids))).all()) if tag_ids else []
                await self.session.flush()
            return Written(order_json.encode_order(*loaded_order_rows(order_id, order)), token)

    async def delete(self, order_id: int) -> Written:
        async with sessions.one_statement(self.session) as connection:
            deleted = (await connection.execute(orders.DELETE_ORDER, {"order_id": order_id})).first()
        if deleted is None:
            raise NotFoundError(f"no order has id {order_id}")
        return Written(None, catalog.token_of(deleted))
