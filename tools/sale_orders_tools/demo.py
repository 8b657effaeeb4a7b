"""Realistic demo data, loaded fast with COPY (a million orders in about a minute), for demos and benchmarks.

COPY goes through asyncpg: psycopg2 refuses COPY in a process whose app set its wait callback (db/deadline.py),
as a test process that runs the app in process has.
"""

import asyncio
import io
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import URL

from sale_orders.db.drivers import libpq_dsn

FIRST_NAMES = ["Ann", "Bob", "Chen", "Dana", "Eve", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kemal", "Lea"]
PRODUCT_WORDS = ["apple", "bread", "coffee", "dates", "eggs", "flour", "grapes", "honey", "ice cream", "jam"]
TAG_NAMES = ["shopping", "food", "urgent", "gift", "wholesale", "online", "store", "repeat", "vip", "sample"]
CHUNK = 10_000


@dataclass(frozen=True)
class DemoSize:
    orders: int
    contacts: int
    products: int
    tags: int

    @classmethod
    def for_orders(cls, orders: int) -> "DemoSize":
        return cls(orders=orders, contacts=max(1, orders // 10), products=max(1, min(1000, orders)), tags=20)


async def _copy(connection: asyncpg.Connection, table: str, columns: str, rows: Iterator[str]) -> None:
    data = io.BytesIO("".join(rows).encode())
    await connection.copy_to_table(table, source=data, columns=[c.strip() for c in columns.split(",")], format="text")


async def _next_id(connection: asyncpg.Connection, table: str) -> int:
    return int(await connection.fetchval(f"SELECT coalesce(max(id), 0) + 1 FROM {table}"))  # noqa: S608 - fixed names


def load_demo_data(
    url: URL, size: DemoSize, *, seed: int = 1, progress: Callable[[int], None] = lambda _: None
) -> None:
    """Append `size` worth of contacts, products, tags and orders (1-5 lines, 0-3 tags) to the database.

    `progress` is called with the number of orders written after each chunk. Ids continue after existing
    rows, and the identity sequences are moved past the new ones, so the API keeps working afterwards.
    """
    asyncio.run(_load(url, size, seed, progress))


async def _load(url: URL, size: DemoSize, seed: int, progress: Callable[[int], None]) -> None:
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    connection = await asyncpg.connect(libpq_dsn(url))
    try:
        async with connection.transaction():
            first = {table: await _next_id(connection, table) for table in ("contact", "product", "tag", "sale_order")}
            contacts = range(first["contact"], first["contact"] + size.contacts)
            products = range(first["product"], first["product"] + size.products)
            tags = range(first["tag"], first["tag"] + size.tags)
            await _copy(
                connection,
                "contact",
                "id, name, email",
                (f"{i}\t{rng.choice(FIRST_NAMES)} {i}\tc{i}@example.com\n" for i in contacts),
            )
            await _copy(
                connection, "product", "id, name", (f"{i}\t{rng.choice(PRODUCT_WORDS)} {i}\n" for i in products)
            )
            await _copy(connection, "tag", "id, name", (f"{i}\t{TAG_NAMES[i % len(TAG_NAMES)]}-{i}\n" for i in tags))
            written = 0
            while written < size.orders:
                count = min(CHUNK, size.orders - written)
                order_ids = range(first["sale_order"] + written, first["sale_order"] + written + count)
                orders, lines, links = [], [], []
                for order_id in order_ids:
                    orders.append(f"{order_id}\tSO{order_id:07d}\t{rng.choice(contacts)}\n")
                    for _ in range(rng.randint(1, 5)):
                        price = Decimal(rng.randint(1, 100_000)) / 100
                        lines.append(f"{order_id}\t{rng.choice(products)}\t{rng.randint(1, 10)}\t{price}\n")
                    picked = rng.sample(tags, k=min(len(tags), rng.randint(0, 3)))
                    links += [f"{order_id}\t{tag}\n" for tag in picked]
                await _copy(connection, "sale_order", "id, name, contact_id", iter(orders))
                await _copy(connection, "sale_order_line", "order_id, product_id, quantity, price", iter(lines))
                await _copy(connection, "sale_order_tag", "order_id, tag_id", iter(links))
                written += count
                progress(written)
            for table in ("contact", "product", "tag", "sale_order", "sale_order_line"):
                last = f"(SELECT coalesce(max(id), 1) FROM {table})"  # noqa: S608 - fixed table names
                await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
