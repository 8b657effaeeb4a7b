"""Through PgBouncer in transaction pooling mode: both families work with `PGBOUNCER=true`, and not without it.

The test starts PgBouncer (Debian's `pgbouncer`, 1.18 here: no protocol-level prepared statements) in front
of the tests' PostgreSQL with only POOL_SIZE server connections, so the transactions of the app's many
client connections interleave on a few shared server connections, and a live `sale-orders serve` behind it.
"""

import asyncio
import os
import pwd
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import psycopg2
import pytest
from sqlalchemy.engine import URL

from sale_orders.db.drivers import server_settings
from sale_orders.family.record import FAMILY_NAMES as FAMILIES
from sale_orders.settings import Settings
from tests.support.database import dsn, scratch_database
from tests.support.servers import STOPPED_BY_SIGTERM, LiveServer, clean_env, free_port, start_server
from tests.support.tools import require_tool

# What the app sends at connect when it does not know it is behind PgBouncer (psycopg2 inside `options`).
STARTUP_PARAMETERS = list(server_settings(Settings(_env_file=None)))
POOL_SIZE = 3  # server connections per database: far fewer than the app's client connections
# 16 client connections share 3 server connections: a query waits in PgBouncer's queue, silent, for longer than
# the default DB_RESPONSE_TIMEOUT would allow (docs/deployment.md: behind a pooler it covers that wait too).
APP_ENV = {
    "SYNC_THREADS": "16",
    "SYNC_POOL_SIZE": "8",
    "ASYNC_POOL_SIZE": "8",
    "POOL_TIMEOUT": "10",
    "DB_RESPONSE_TIMEOUT": "30",
}
STATEMENT_TIMEOUT = "1s"  # set on the database, as the deployment notes say, since the app cannot send it


def pgbouncer_binary() -> str:
    return require_tool(
        "pgbouncer", install="apt-get install -y pgbouncer", paths=("/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer")
    )


@dataclass
class Bouncer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def url(self, database: str) -> URL:
        """What a client of PgBouncer connects to; PgBouncer logs in upstream as its configured user."""
        return URL.create("postgresql", username="postgres", host="127.0.0.1", port=self.port, database=database)

    def admin(self, command: str) -> list[dict[str, Any]]:
        """A command of PgBouncer's admin console (SHOW POOLS, SHOW STATS ...), as rows of dicts."""
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, dbname="pgbouncer", user="pgbouncer")
        connection.autocommit = True  # the console knows no transactions
        try:
            with connection.cursor() as cursor:
                cursor.execute(command)
                assert cursor.description is not None
                names = [column[0] for column in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            connection.close()


def _run_as(socket_dir: str | None) -> list[str]:
    """PgBouncer refuses to run as root: run it as the owner of PostgreSQL's socket directory, or nobody."""
    if os.geteuid() != 0:
        return []
    owner = Path(socket_dir).stat().st_uid if socket_dir else 0
    return ["-u", pwd.getpwuid(owner).pw_name if owner else "nobody"]


@contextmanager
def pgbouncer(upstream: URL, workdir: Path, *, ignore_startup_parameters: str = "") -> Iterator[Bouncer]:
    """PgBouncer in transaction pooling mode on a free port, for every database of the `upstream` server."""
    binary = pgbouncer_binary()
    host = upstream.query.get("host") or upstream.host or "localhost"
    host = host if isinstance(host, str) else host[0]
    socket_dir = host if host.startswith("/") else None
    login = f"user={upstream.username or 'postgres'}"
    if upstream.password:
        login += " password='{}'".format(upstream.password.replace("'", "''"))
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "pgbouncer.ini"
    # Read by PgBouncer as root before it switches user; its log goes to stderr, not to a file that user needs.
    config.write_text(
        f"""[databases]
* = host={host} port={upstream.port or 5432} {login}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_client_conn = 200
ignore_startup_parameters = {ignore_startup_parameters}
""",
        encoding="utf-8",
    )
    log = workdir / "pgbouncer.log"
    with log.open("wb") as output:
        process = subprocess.Popen([binary, *_run_as(socket_dir), str(config)], stdout=output, stderr=subprocess.STDOUT)
    bouncer = Bouncer(process, port, log)
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                pytest.fail(f"pgbouncer exited with {process.returncode}:\n{log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"pgbouncer does not listen on {port}:\n{log.read_text()}")
                time.sleep(0.05)
        yield bouncer
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def served(bouncer: Bouncer, database: URL, workdir: Path, *, pgbouncer_setting: bool) -> Iterator[LiveServer]:
    """`sale-orders serve` (migrations included) with DATABASE_URL pointing at PgBouncer; stopped by PID."""
    workdir.mkdir(parents=True, exist_ok=True)
    url = bouncer.url(str(database.database)).render_as_string(hide_password=False)
    env = clean_env(DATABASE_URL=url, PGBOUNCER=str(pgbouncer_setting).lower(), **APP_ENV)
    live = start_server(env, workdir)
    try:
        yield live
    finally:
        assert live.stop() in STOPPED_BY_SIGTERM, live.log.read_text()


@pytest.fixture(scope="module")
def bouncer(server_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bouncer]:
    with pgbouncer(server_url, tmp_path_factory.mktemp("pgbouncer")) as running:
        yield running


@pytest.fixture(scope="module")
def pooled_database(server_url: URL) -> Iterator[URL]:
    """A database whose statement_timeout comes from the database itself, as it must behind PgBouncer."""
    with scratch_database(server_url) as url:
        with psycopg2.connect(dsn(server_url)) as admin, admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{url.database}" SET statement_timeout = %s', (STATEMENT_TIMEOUT,))
        admin.close()
        yield url


@pytest.fixture(scope="module")
def pooled(bouncer: Bouncer, pooled_database: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The API with PGBOUNCER=true behind PgBouncer."""
    with served(bouncer, pooled_database, tmp_path_factory.mktemp("pooled"), pgbouncer_setting=True) as live:
        yield live


# --- helpers ------------------------------------------------------------------------------------------------------


def call(server: LiveServer, method: str, path: str, body: object = None) -> httpx.Response:
    """One request on a connection of its own (a keep-alive client shared by threads races on closed sockets)."""
    return httpx.request(method, f"{server.base_url}{path}", json=body, timeout=30)


Request = tuple[str, str, object]  # method, path, JSON body (None for none)


def in_parallel(server: LiveServer, requests: list[Request], threads: int = 48) -> list[httpx.Response]:
    """All `requests` at once (`threads` at a time), each on a connection of its own."""
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda request: call(server, *request), requests))


def expect(responses: list[httpx.Response], status: int) -> None:
    wrong = [
        (r.request.method, str(r.request.url), r.status_code, r.text[:200])
        for r in responses
        if r.status_code != status
    ]
    assert not wrong, f"{len(wrong)} of {len(responses)} not {status}: {wrong[:5]}"


def total(lines: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(repr(line["price"])) * line["quantity"] for line in lines), Decimal(0))


KINDS: dict[str, Callable[[int], dict[str, Any]]] = {
    "contact": lambda i: {"name": f"c{i}", "email": f"c{i}@example.com"},
    "product": lambda i: {"name": f"p{i}"},
    "tag": lambda i: {"name": f"t{i}"},
}
Ids = dict[str, dict[str, list[int]]]  # family -> kind -> ids of the rows that family created


def create_rows(server: LiveServer, per_family: int) -> Ids:
    """Contacts, products and tags, `per_family` of each kind through each family, all at once."""
    jobs = [
        (family, kind, n * per_family + i)
        for n, family in enumerate(FAMILIES)
        for kind in KINDS
        for i in range(per_family)
    ]
    created = in_parallel(server, [("POST", f"/{family}/{kind}", KINDS[kind](i)) for family, kind, i in jobs])
    expect(created, 201)
    ids: Ids = {family: {kind: [] for kind in KINDS} for family in FAMILIES}
    for (family, kind, i), response in zip(jobs, created, strict=True):
        assert response.json() == {"id": response.json()["id"], **KINDS[kind](i)}
        ids[family][kind].append(response.json()["id"])
    return ids


def create_orders(server: LiveServer, ids: Ids, per_family: int) -> list[dict[str, Any]]:
    """`per_family` orders through each family, all at once, each made of the rows the other family created."""

    def body(family: str, n: int) -> dict[str, Any]:
        rows = ids[FAMILIES[1 - FAMILIES.index(family)]]
        products, tags, contacts = rows["product"], rows["tag"], rows["contact"]
        lines = [
            {"product_id": products[(n + k) % len(products)], "quantity": 1 + (n + k) % 5, "price": 0.25 * (k + 1)}
            for k in range(1 + n % 4)
        ]
        tag_ids = [tags[n % len(tags)], tags[(n + 3) % len(tags)]]
        contact_id = contacts[n % len(contacts)]
        return {"name": f"{family} order {n}", "contact_id": contact_id, "order_lines": lines, "tag_ids": tag_ids}

    jobs = [(family, body(family, n)) for n in range(per_family) for family in FAMILIES]
    responses = in_parallel(server, [("POST", f"/{family}/order", sent) for family, sent in jobs])
    expect(responses, 201)
    orders = [response.json() for response in responses]
    for (_, sent), order in zip(jobs, orders, strict=True):
        assert (order["name"], order["contact_id"]) == (sent["name"], sent["contact_id"])
        assert sorted(tag["id"] for tag in order["tags"]) == sorted(sent["tag_ids"])
        assert Decimal(repr(order["amount_total"])) == total(sent["order_lines"])
    return orders


def patch_read_and_list(server: LiveServer, ids: Ids, orders: list[dict[str, Any]]) -> None:
    """100 requests at once: half the orders patched, the other half read and everything listed, both families."""
    half = len(orders) // 2
    new_lines = [{"product_id": ids["sync"]["product"][0], "quantity": 7, "price": 1.5}]
    mixed: list[tuple[str, Request]] = []  # (what it checks, the request)
    for order in orders[:half]:
        patch = {"name": f"patched {order['id']}", "order_lines": new_lines}
        mixed.append(("patch", ("PATCH", f"/{FAMILIES[order['id'] % 2]}/order/{order['id']}", patch)))
    mixed += [
        ("read", ("GET", f"/{family}/order/{order['id']}", None)) for order in orders[half:] for family in FAMILIES
    ]
    mixed += [
        (kind, ("GET", f"/{family}/{kind}?limit=100", None)) for family in FAMILIES for kind in (*KINDS, "order")
    ] * 3
    mixed += [("health", ("GET", "/health", None))] * (100 - len(mixed))
    answered = in_parallel(server, [request for _, request in mixed], threads=len(mixed))
    expect(answered, 200)
    results: dict[str, list[Any]] = {}
    for (label, _), response in zip(mixed, answered, strict=True):
        results.setdefault(label, []).append(response.json())

    assert [body["name"] for body in results["patch"]] == [f"patched {order['id']}" for order in orders[:half]]
    for body in results["patch"]:
        assert [(line["quantity"], line["price"]) for line in body["order_lines"]] == [(7, 1.5)]
        assert body["amount_total"] == 10.5
    assert results["read"] == [order for order in orders[half:] for _ in FAMILIES]
    for kind in KINDS:
        mine = sorted(ids["sync"][kind] + ids["async"][kind])
        assert all(sorted({row["id"] for row in body} & set(mine)) == mine for body in results[kind]), kind
    assert all(sorted(row["id"] for row in body) == sorted(o["id"] for o in orders) for body in results["order"])


def delete_half(server: LiveServer, orders: list[dict[str, Any]]) -> None:
    """Delete the patched half of the orders at once, then find only the other half, through both families."""
    half = len(orders) // 2
    doomed = [f"/{FAMILIES[1 - order['id'] % 2]}/order/{order['id']}" for order in orders[:half]]
    expect(in_parallel(server, [("DELETE", path, None) for path in doomed]), 204)
    ghosts = [f"/{family}/order/{order['id']}" for order in orders[:half] for family in FAMILIES]
    expect(in_parallel(server, [("GET", path, None) for path in ghosts]), 404)
    for family in FAMILIES:
        left = call(server, "GET", f"/{family}/order?limit=100").json()
        assert left == sorted(orders[half:], key=lambda order: order["id"])


def prepared_statements_per_server(bouncer: Bouncer, database: str) -> dict[int, int]:
    """How many prepared statements each server connection of the pool holds (backend pid -> count).

    POOL_SIZE clients, each inside a transaction at the same time, are given all POOL_SIZE server connections.
    """
    clients = [psycopg2.connect(dsn(bouncer.url(database))) for _ in range(POOL_SIZE)]
    try:
        counts: dict[int, int] = {}
        for client in clients:
            with client.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid(), count(*) FROM pg_prepared_statements")
                pid, count = cursor.fetchone() or (0, 0)
                counts[pid] = count
        return counts
    finally:
        for client in clients:
            client.close()


# --- with PGBOUNCER=true ------------------------------------------------------------------------------------------


def test_both_families_work_with_transactions_interleaved_on_three_server_connections(
    bouncer: Bouncer, pooled: LiveServer, pooled_database: URL
) -> None:
    """Create, read, list, patch and delete, 40-100 requests at a time, each family using the other's rows."""
    ids = create_rows(pooled, per_family=10)
    orders = create_orders(pooled, ids, per_family=20)
    patch_read_and_list(pooled, ids, orders)
    delete_half(pooled, orders)

    # The app's client connections outnumbered the server connections they took turns on.
    name = str(pooled_database.database)
    (pool,) = [row for row in bouncer.admin("SHOW POOLS") if row["database"] == name]
    servers = sum(pool[state] for state in ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"))
    assert pool["cl_active"] + pool["cl_waiting"] > POOL_SIZE >= servers, pool
    (stats,) = [row for row in bouncer.admin("SHOW STATS") if row["database"] == name]
    # Each of the test's ~270 requests is at least one transaction (no pre-ping transactions: POOL_PRE_PING=false).
    assert stats["total_xact_count"] > 250, stats
    # And no prepared statement was left behind on them (named ones would pile up until server_lifetime).
    left_behind = prepared_statements_per_server(bouncer, name)
    assert len(left_behind) == POOL_SIZE, left_behind  # one client per server connection, so all were seen
    assert set(left_behind.values()) == {0}, left_behind


@pytest.mark.parametrize("family", FAMILIES)
def test_the_databases_statement_timeout_applies_through_pgbouncer(
    pooled: LiveServer, pooled_database: URL, family: str
) -> None:
    """The app sends no statement_timeout behind PgBouncer: the one set on the database cancels the query."""
    contact = call(pooled, "POST", f"/{family}/contact", {"name": "L", "email": "l@example.com"}).json()
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with psycopg2.connect(dsn(pooled_database)) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM contact WHERE id = %s FOR UPDATE", (contact["id"],))
            locked.set()
            release.wait(30)
        connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        response = call(pooled, "PATCH", f"/{family}/contact/{contact['id']}", {"name": "waits for the lock"})
        elapsed = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    assert response.status_code == 503, response.text
    assert 0.9 < elapsed < 5, elapsed  # statement_timeout = 1s on the database
    assert call(pooled, "GET", f"/{family}/contact/{contact['id']}").json()["name"] == "L"


# --- without it -----------------------------------------------------------------------------------------------------


def test_pgbouncer_refuses_the_startup_parameters_sent_without_the_setting(bouncer: Bouncer) -> None:
    url = bouncer.url("postgres")
    with pytest.raises(psycopg2.OperationalError, match="unsupported startup parameter: options"):
        psycopg2.connect(dsn(url), options="-c statement_timeout=1000")

    async def connect() -> None:
        await asyncpg.connect(dsn(url), server_settings={"statement_timeout": "1000"})

    with pytest.raises(asyncpg.ProtocolViolationError, match="unsupported startup parameter: statement_timeout"):
        asyncio.run(connect())


def test_without_the_setting_asyncpg_prepared_statements_break(
    server_url: URL, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Even with PgBouncer ignoring those parameters, asyncpg's cached prepared statements do not survive."""
    workdir = tmp_path_factory.mktemp("unset")
    with (
        pgbouncer(
            server_url, workdir / "pgbouncer", ignore_startup_parameters=", ".join(["options", *STARTUP_PARAMETERS])
        ) as lax,
        scratch_database(server_url) as database,
        served(lax, database, workdir / "server", pgbouncer_setting=False) as server,
    ):
        call(server, "POST", "/sync/product", {"name": "p"})
        reads: list[Request] = [("GET", f"/{family}/product", None) for _ in range(40) for family in FAMILIES]
        for _ in range(3):
            responses = in_parallel(server, reads, threads=len(reads))
            by_family = {
                f: [r.status_code for r in responses if r.request.url.path.startswith(f"/{f}/")] for f in FAMILIES
            }
            if any(code != 200 for code in by_family["async"]):
                break
        log = server.log.read_text()
    assert set(by_family["sync"]) == {200}, by_family["sync"]  # psycopg2 prepares nothing: unaffected
    failed = [code for code in by_family["async"] if code != 200]
    assert failed, "the async family worked through PgBouncer without PGBOUNCER=true"
    assert all(code >= 500 for code in failed), failed  # 500: asyncpg's InvalidSQLStatementNameError
    assert "prepared statement" in log, log[-3000:]
