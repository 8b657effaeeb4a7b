"""BENCHMARK ONLY, NOT PART OF THE API: the ceiling the Sale Orders API is measured against.

A raw ASGI app on an asyncpg pool, with no framework, no ORM and no validation beyond what it needs,
serving three endpoints with the API's own SQL (compiled from `sale_orders.db.queries` for asyncpg) and
JSON of the same shape (`sale_orders.domain.order_json`):

- `POST /contact`: one `INSERT ... RETURNING`;
- `GET /order?limit=50`: one statement for the orders, their lines and their tags;
- `POST /order`: one statement that checks the references and inserts the order, its lines and its tags.

Like the API, it runs each in autocommit. It runs under the same uvicorn as the API (`uvicorn
sale_orders_bench.ceiling:app`), with as many workers, so the difference between the two is what the framework, the
SQLAlchemy and SQLModel layers, the validation and the API's own code cost.
Configured by CEILING_DATABASE_URL (a libpq URL) and CEILING_POOL_SIZE.
"""

import os
from collections.abc import Awaitable, Callable, MutableMapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import asyncpg  # type: ignore[import-untyped]
import msgspec
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from sale_orders.db.queries import catalog, orders
from sale_orders.domain import order_json

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _asyncpg(statement: ClauseElement, **kwargs: Any) -> tuple[str, tuple[str, ...]]:
    """The statement's text for asyncpg (`$1`, `$2`, ...), and the names of its parameters in that order."""
    dialect = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's dialects are unannotated
    compiled = statement.compile(dialect=dialect, **kwargs)
    if not isinstance(compiled, SQLCompiler):  # a statement, not DDL: it has bound parameters
        raise TypeError(f"not a statement: {statement}")
    return str(compiled), tuple(compiled.positiontup or ())


INSERT_CONTACT = _asyncpg(catalog.CONTACTS.insert, column_keys=["name", "email"])
ORDER_PAGE = _asyncpg(orders.ORDER_PAGE)
CREATE_ORDER = _asyncpg(orders.CREATE_ORDER)
DEFAULT_LIMIT, MAX_LIMIT = 20, 100

_pool: asyncpg.Pool | None = None
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


async def _respond(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _arguments(statement: tuple[str, tuple[str, ...]], values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(values[name] for name in statement[1])


async def create_contact(pool: asyncpg.Pool, body: bytes) -> tuple[int, bytes]:
    data = _decode(body)
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(data.get("email"), str):
        return 400, b'{"detail":"name and email are required strings"}'
    row = await pool.fetchrow(INSERT_CONTACT[0], *_arguments(INSERT_CONTACT, data))
    return 201, _encode(catalog.resource(dict(row)))


async def list_orders(pool: asyncpg.Pool, query_string: bytes) -> tuple[int, bytes]:
    values = parse_qs(query_string.decode()).get("limit", [str(DEFAULT_LIMIT)])
    if not values[0].isdigit() or not 1 <= int(values[0]) <= MAX_LIMIT:
        return 400, b'{"detail":"limit must be 1-100"}'
    rows = await pool.fetch(ORDER_PAGE[0], *_arguments(ORDER_PAGE, {"after": 0, "limit": int(values[0])}))
    return 200, order_json.encode_orders(*orders.split_order_rows(rows))


async def create_order(pool: asyncpg.Pool, body: bytes) -> tuple[int, bytes]:
    data = _decode(body)
    lines = data.get("order_lines", []) if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(lines, list):
        return 400, b'{"detail":"name, contact_id, order_lines and tag_ids are required"}'
    prices = [Decimal(repr(line["price"])) for line in lines]
    values = {
        "name": data["name"],
        "contact_id": data["contact_id"],
        "product_ids": [line["product_id"] for line in lines],
        "quantities": [line["quantity"] for line in lines],
        "prices": prices,
        "tag_ids": data.get("tag_ids", []),
    }
    creation = orders.order_creation(
        tuple(row) for row in await pool.fetch(CREATE_ORDER[0], *_arguments(CREATE_ORDER, values))
    )
    if creation.order is None:
        return 422, b'{"detail":"a reference does not exist"}'
    return 201, order_json.encode_order(creation.order, creation.lines, creation.tags)


async def health(pool: asyncpg.Pool) -> tuple[int, bytes]:
    await pool.fetchval("SELECT 1")
    return 200, b'{"status":"ok"}'


async def _lifespan(receive: Receive, send: Send) -> None:
    global _pool  # noqa: PLW0603 - one pool per worker process, opened and closed by the lifespan
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            size = int(os.environ.get("CEILING_POOL_SIZE", "16"))
            _pool = await asyncpg.create_pool(os.environ["CEILING_DATABASE_URL"], min_size=size, max_size=size)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _pool is not None:
                await _pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI entry point: four routes, everything else 404."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if _pool is None:
        raise RuntimeError("the lifespan opens the pool")
    route = (scope["method"], scope["path"].rstrip("/"))
    if route == ("POST", "/contact"):
        status, body = await create_contact(_pool, await _read_body(receive))
    elif route == ("GET", "/order"):
        status, body = await list_orders(_pool, scope["query_string"])
    elif route == ("POST", "/order"):
        status, body = await create_order(_pool, await _read_body(receive))
    elif route == ("GET", "/health"):
        status, body = await health(_pool)
    else:
        status, body = 404, b'{"detail":"not found"}'
    await _respond(send, status, body)
