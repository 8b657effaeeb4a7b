"""BENCHMARK ONLY, NOT PART OF THE API: the ceiling the Sale Orders API is measured against.

A raw ASGI app on an asyncpg pool, with no framework, no ORM and no validation beyond what it needs,
serving the same SQL as the API for two endpoints, with JSON of the same shape:

- `POST /contact`: one `INSERT ... RETURNING` (the API wraps the same INSERT in BEGIN/COMMIT);
- `GET /order?limit=50`: in one transaction, the page of orders, then their lines and their tags
  (the three statements the API's `selectinload` issues, with `= ANY($1)` where SQLAlchemy expands
  `IN ($1, ..., $50)`), assembled into orders with `amount_total`.

It runs under the same uvicorn as the API (`uvicorn ceiling:app --app-dir bench`), with as many workers,
so the difference between the two is what the framework, the ORM and the validation cost.
Configured by CEILING_DATABASE_URL (a libpq URL) and CEILING_POOL_SIZE.
"""

import os
from collections.abc import Awaitable, Callable, MutableMapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import asyncpg  # type: ignore[import-untyped]
import msgspec

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

INSERT_CONTACT = "INSERT INTO contact (name, email) VALUES ($1, $2) RETURNING id, name, email"
ORDERS = "SELECT id, name, contact_id FROM sale_order ORDER BY id LIMIT $1"
LINES = (
    "SELECT order_id, product_id, quantity, price FROM sale_order_line WHERE order_id = ANY($1::bigint[]) ORDER BY id"
)
TAGS = (
    "SELECT sale_order_tag.order_id, tag.id, tag.name FROM tag JOIN sale_order_tag ON tag.id = sale_order_tag.tag_id"
    " WHERE sale_order_tag.order_id = ANY($1::bigint[]) ORDER BY tag.id"
)
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


async def create_contact(pool: asyncpg.Pool, body: bytes) -> tuple[int, bytes]:
    data = _decode(body)
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(data.get("email"), str):
        return 400, b'{"detail":"name and email are required strings"}'
    row = await pool.fetchrow(INSERT_CONTACT, data["name"], data["email"])
    return 201, _encode(dict(row))


async def list_orders(pool: asyncpg.Pool, query_string: bytes) -> tuple[int, bytes]:
    values = parse_qs(query_string.decode()).get("limit", [str(DEFAULT_LIMIT)])
    if not values[0].isdigit() or not 1 <= int(values[0]) <= MAX_LIMIT:
        return 400, b'{"detail":"limit must be 1-100"}'
    async with pool.acquire() as connection, connection.transaction():
        orders = await connection.fetch(ORDERS, int(values[0]))
        ids = [order["id"] for order in orders]
        lines = await connection.fetch(LINES, ids)
        tags = await connection.fetch(TAGS, ids)
    lines_of: dict[int, list[Any]] = {order_id: [] for order_id in ids}
    for line in lines:
        lines_of[line["order_id"]].append(line)
    tags_of: dict[int, list[dict[str, Any]]] = {order_id: [] for order_id in ids}
    for tag in tags:
        tags_of[tag["order_id"]].append({"id": tag["id"], "name": tag["name"]})
    page = []
    for order in orders:
        order_lines = lines_of[order["id"]]
        total = sum((line["price"] * line["quantity"] for line in order_lines), Decimal(0))
        page.append(
            {
                "id": order["id"],
                "name": order["name"],
                "contact_id": order["contact_id"],
                "order_lines": [
                    {"product_id": line["product_id"], "quantity": line["quantity"], "price": float(line["price"])}
                    for line in order_lines
                ],
                "tags": tags_of[order["id"]],
                "amount_total": float(total),
            }
        )
    return 200, _encode(page)


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
    """The ASGI entry point: three routes, everything else 404."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    assert _pool is not None, "the lifespan opens the pool"
    route = (scope["method"], scope["path"].rstrip("/"))
    if route == ("POST", "/contact"):
        status, body = await create_contact(_pool, await _read_body(receive))
    elif route == ("GET", "/order"):
        status, body = await list_orders(_pool, scope["query_string"])
    elif route == ("GET", "/health"):
        status, body = await health(_pool)
    else:
        status, body = 404, b'{"detail":"not found"}'
    await _respond(send, status, body)
