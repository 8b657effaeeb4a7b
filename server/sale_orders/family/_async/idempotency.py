"""The Idempotency-Key protocol of a create request, run inside the transaction that creates.

A key is claimed by inserting it (a concurrent claim of the same key waits for the first to commit); the
response is stored with it, so a retry with the same key and body is answered the same way and creates
nothing, and the same key with another body is refused. A create that fails rolls its claim back.
"""

from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from sale_orders.db import queries
from sale_orders.domain.errors import KeyReusedError
from sale_orders.family._util import fingerprint


class IdempotentCreate:
    """The Idempotency-Key protocol of one create request of kind `scope` ("order", "tag", ...)."""

    def __init__(self, connection: AsyncConnection, scope: str, key: str | None, request: BaseModel) -> None:
        self.connection = connection
        self.scope = scope
        self.key = key
        self.request = request

    async def earlier_response(self) -> dict[str, Any] | None:
        """Claim the key, or return the response given to the request that claimed it first."""
        if self.key is None:
            return None
        request_fingerprint = fingerprint(self.request)
        claim = queries.claim_idempotency_key(self.scope, self.key, request_fingerprint)
        if (await self.connection.execute(claim)).first() is not None:
            return None
        claimed = queries.claimed_idempotency_key(self.scope, self.key)
        stored_fingerprint, response = (await self.connection.execute(claimed)).one()
        if stored_fingerprint != request_fingerprint or response is None:
            raise KeyReusedError(f"Idempotency-Key {self.key!r} was already used for a different {self.scope}")
        return dict(response)

    async def remember(self, response: dict[str, Any]) -> None:
        """Store the JSON document answered, to answer a retry with the same key the same way."""
        if self.key is not None:
            await self.connection.execute(queries.remember_response(self.scope, self.key, response))
