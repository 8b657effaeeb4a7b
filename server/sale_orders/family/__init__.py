"""The two route families, and the one place where they differ.

`_async/` is written by hand: `async def` handlers, services on an `AsyncSession` over asyncpg. `_sync/` is
generated from it by unasyncd (`just twin`; CI fails when it is stale): the same code without `async` and
`await`, on a `Session` over psycopg2, with routes that Litestar runs in its thread pool. Each has the same
four parts: `idempotency.py` (reading what an Idempotency-Key stored), `sessions.py` (an operation of one
statement), `services.py` (the operations, each one transaction) and `controllers.py` (routes that hand the
request to a service).

`record.py` holds everything else in which the families differ, one `Family` value each, and `runtime/` the pieces
it names (the thread pool of `def` handlers, the async family's fair pool, each family's session plumbing): with
`diff -r _async _sync`, that is every difference (docs/def-or-async-def.md). The rest of this folder exists once
for both:

- `routes.py`: the route decorators (`@routes.post(ASYNC, ...)`): `sync_to_thread`, problem responses, bodies;
- `providers.py`: the services Litestar injects into a family's controllers;
- `params.py`, `descriptions.py`: the path, query and header parameters; what each operation does;
- `fingerprints.py`, `conflicts.py`, `order_answers.py`: no-I/O helpers of the services (an Idempotency-Key's
  fingerprint, the 409 of a row changed meanwhile, an order's answer without reading it back);
- `reads.py`: where a family's reads may go (a standby); `databases.py`: each family's engine and sessions.
"""
