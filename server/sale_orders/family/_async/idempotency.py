"""Creating exactly once: the Idempotency-Key protocol of a create request.

A create without a key is one statement, atomic on its own, so it runs without a transaction around it.
A create with a key runs in a transaction that first claims the key by inserting it (a concurrent claim of
the same key waits for the first to commit), then creates, then stores the response with the key: a retry
with the same key and body is answered the same way and creates nothing, the same key with another body
is refused, and a create that fails rolls its claim back. A key expires after the window set on the engine
(`queries.IDEMPOTENCY_WINDOW_OPTION`, from the `IDEMPOTENCY_WINDOW_HOURS` setting): a retry after that is
a new request.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from sale_orders.db import queries
from sale_orders.domain.errors import KeyReusedError
from sale_orders.family._async import sessions as async_sessions
from sale_orders.family._util import fingerprint

Document = dict[str, Any]


async def create_once(
    session: AsyncSession,
    insert: Callable[[AsyncConnection], Awaitable[Document]],
    *,
    scope: str,
    key: str | None,
    request: BaseModel,
) -> Document:
    """The JSON document of what `insert` (one statement) created, or the one answered before for `key`.

    A key used before with the same `request` is answered with the document stored then, and nothing is
    inserted.

    Raises:
        KeyReusedError: the key was used before for another request of this `scope` ("order", "tag", ...).
    """
    if key is None:
        async with async_sessions.one_statement(session) as connection:
            return await insert(connection)
    async with async_sessions.transaction(session) as connection:
        request_fingerprint = fingerprint(request)
        window = connection.engine.get_execution_options()[queries.IDEMPOTENCY_WINDOW_OPTION]
        claim = queries.claim_idempotency_key(scope, key, request_fingerprint, window)
        if (await connection.execute(claim)).first() is None:
            claimed = queries.claimed_idempotency_key(scope, key)
            stored_fingerprint, response = (await connection.execute(claimed)).one()
            if stored_fingerprint != request_fingerprint or response is None:
                raise KeyReusedError(f"Idempotency-Key {key!r} was already used for a different {scope}")
            return dict(response)
        created = await insert(connection)
        await connection.execute(queries.remember_response(scope, key, created))
    return created
