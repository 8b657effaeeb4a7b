"""The Sale Orders API: one Litestar app serving a sync and an async family of the same routes."""
