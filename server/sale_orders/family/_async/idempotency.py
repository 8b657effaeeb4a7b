"""Creating exactly once: what a create whose key was used before is answered with.

A create with a key is still one statement (`catalog.RowStatements.insert_once`, `orders.CREATE_ORDER_ONCE`): it
claims the key, creates, and stores with the key what the answer is made of, or does none of it
(`db.queries.idempotency`). When the statement creates nothing because the key was used before, the stored
answer is read: a retry with the same key and body is answered the same way and creates nothing; the same key
with another body is refused. A create that fails stores no key. A key expires after `IDEMPOTENCY_WINDOW_HOURS`
(given to the services by the app): a retry after that is a new request.
"""

from sqlalchemy.ext.asyncio import AsyncConnection

from sale_orders.db.queries.idempotency import STORED_FOR_KEY, IdempotencyKey, StoredForKey, stored_for_key
from sale_orders.domain.errors import KeyReusedError


async def stored_answer(
    connection: AsyncConnection, key: IdempotencyKey, *, claim_refused: bool
) -> StoredForKey | None:
    """What was stored with `key` when it was claimed (and a consistency token covering it), or None if unclaimed.

    Args:
        connection: where the create ran.
        key: the request's key.
        claim_refused: the create's own claim found the key claimed within the window, so its answer is replayed
            even if the window has ended since (a moment ago). Otherwise an expired key counts as unclaimed.

    Raises:
        KeyReusedError: the key was claimed for another request of the same scope.
    """
    row = (await connection.execute(STORED_FOR_KEY, key.parameters())).first()
    stored = stored_for_key(row)
    if stored is None or not (claim_refused or stored.live):
        return None
    if stored.fingerprint != key.fingerprint:
        raise KeyReusedError(f"Idempotency-Key {key.key!r} was already used for a different {key.scope}")
    return stored
