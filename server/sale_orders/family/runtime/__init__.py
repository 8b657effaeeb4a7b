"""What differs between the families at run time, beside their code: each piece is named by `family.record`.

- `threads.py`: the thread pool that runs the sync family's `def` handlers, and the bound on its queue;
- `pools.py`: the async family's connection pool, which serves its waiters first come, first served;
- `session_configs.py`: each family's session plumbing (closing sync sessions on the event loop; SQLModel's
  `Session` under every `AsyncSession`).

What each driver needs (the psycopg2 deadline, asyncpg's timeouts, keepalives, PgBouncer) is per driver, not per
family, and lives in `db/drivers.py` and `db/deadline.py`: docs/def-or-async-def.md goes through all of them.
"""
