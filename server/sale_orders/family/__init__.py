"""The two route families, and the one place where they differ.

`_async/` is written by hand: `async def` handlers, services on an `AsyncSession` over asyncpg. `_sync/` is
generated from it by unasyncd (`just twin`; CI fails when it is stale): the same code without `async` and
`await`, on a `Session` over psycopg2, with routes that Litestar runs in its thread pool. Each has the same
three parts: `idempotency.py` (the Idempotency-Key protocol), `services.py` (the operations, each one
transaction) and `controllers.py` (routes that hand the request to a service). Everything else, from the
schemas to the SQL, exists once, outside this folder or in `routing.py`, `params.py` and `_util.py`.
"""
