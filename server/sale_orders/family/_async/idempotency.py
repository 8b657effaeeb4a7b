"""Creating exactly once: the Idempotency-Key protocol of a create request.

A create with a key is still one statement (`queries.CONTACTS.insert_once`, `queries.CREATE_ORDER_ONCE`, ...):
it claims the key, creates, and stores with the key what the answer is made of, or does none of it. A
concurrent claim of the same key waits for the first to commit. When the statement creates nothing because
the key was used before, the stored answer is read: a retry with the same key and body is answered the same
way and creates nothing; the same key with another body is refused. A create that fails stores no key. A key
expires after the window set on the engine (`queries.IDEMPOTENCY_WINDOW_OPTION`, from the
`IDEMPOTENCY_WINDOW_HOURS` setting): a retry after that is a new request.
"""

from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from sale_orders.db import queries
from sale_orders.domain.errors import KeyReusedError
from sale_orders.family._util import fingerprint


def key_parameters(connection: AsyncConnection, scope: str, key: str, request: BaseModel) -> dict[str, Any]:
    """The statement parameters of `key` for `request`, a create of `scope` ("order", "tag", ...)."""
    window = connection.engine.get_execution_options()[queries.IDEMPOTENCY_WINDOW_OPTION]
    return queries.key_parameters(scope, key, fingerprint(request), window)


async def stored_for_key(connection: AsyncConnection, key: dict[str, Any], *, claim_refused: bool) -> Any | None:
    """What was stored with a key (`key_parameters`) when it was claimed, or None if it is not claimed.

    Args:
        connection: where the create ran.
        key: the key's parameters.
        claim_refused: the create's own claim found the key claimed within the window, so its answer is replayed
            even if the window has ended since (a moment ago). Otherwise an expired key counts as unclaimed.

    Raises:
        KeyReusedError: the key was claimed for another request of the same scope.
    """
    stored = (await connection.execute(queries.STORED_FOR_KEY, key)).first()
    if stored is None or not (claim_refused or stored.live):
        return None
    claimed_for, answer, _ = stored
    if claimed_for != key["key_fingerprint"]:
        raise KeyReusedError(f"Idempotency-Key {key['key']!r} was already used for a different {key['key_scope']}")
    return answer
