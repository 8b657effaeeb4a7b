"""Request headers are bounded in size and time, bodies in time, on a real `serve` with each HTTP parser.

What web/transport.py promises, from a socket: 431 beyond MAX_REQUEST_HEADER_BYTES, 408 and a closed connection
when headers or a body stall past HEADER_TIMEOUT or BODY_TIMEOUT, nothing held afterwards (threads, pooled
connections, requests in progress), and a worker whose memory does not follow what a client sends in its headers.
The timeouts are short here; waits have a generous upper bound so that a server that never drops fails fast.
"""

import contextlib
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.engine import URL

from sale_orders.family.record import FAMILY_NAMES
from sale_orders.settings import Settings
from sale_orders_tools.harness import servers
from tests.support.database import query, scratch_database
from tests.support.metrics import parse, value
from tests.support.raw_http import answer, read_answer, request
from tests.support.servers import STOPPED_BY_SIGTERM, LiveServer, clean_env

LIMIT = Settings.model_fields["max_request_header_bytes"].default
TIMEOUT = 1.0
# Small pools, so that requests left holding a thread or a connection would starve the ones after them.
SETTINGS = {
    "HEADER_TIMEOUT": f"{TIMEOUT:g}",
    "BODY_TIMEOUT": f"{TIMEOUT:g}",
    "SYNC_THREADS": "2",
    "SYNC_POOL_SIZE": "2",
    "ASYNC_POOL_SIZE": "2",
}
DROPPED_WITHIN = TIMEOUT + 10  # seconds: fail fast when a server never drops, however busy the machine
PARSERS = ["httptools", "h11"]


@dataclass
class Served:
    server: LiveServer
    database: URL
    parser: str

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.server.base_url)
        assert parts.hostname is not None
        assert parts.port is not None
        return parts.hostname, parts.port

    def connect(self) -> socket.socket:
        connection = socket.create_connection(self.address, timeout=DROPPED_WITHIN)
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection


@pytest.fixture(scope="module", params=PARSERS)
def served(
    request: pytest.FixtureRequest, server_url: URL, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with scratch_database(server_url) as url:
        folder: Path = tmp_path_factory.mktemp(f"transport-{request.param}")
        env = clean_env(DATABASE_URL=url.render_as_string(hide_password=False), **SETTINGS)
        try:
            server = servers.start_serve(log_dir=folder, env=env, cwd=folder, options=["--http", request.param])
        except servers.ServerStartError as exc:
            pytest.fail(str(exc))
        yield Served(server, url, request.param)
        assert server.stop() in STOPPED_BY_SIGTERM, server.log.read_text()


def read_until_closed(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as closing)."""
    received = b""
    deadline = time.monotonic() + DROPPED_WITHIN
    while True:
        try:
            chunk = connection.recv(65536)
        except ConnectionResetError:
            return received
        except TimeoutError:
            chunk = b"..."
        if not chunk:
            return received
        received += chunk
        assert time.monotonic() < deadline, f"the server kept the connection open, after sending {received!r}"


def trickle(connection: socket.socket, piece: bytes) -> None:
    """Send `piece` every 0.1 s until the server answers or closes (or fail after DROPPED_WITHIN seconds)."""
    deadline = time.monotonic() + DROPPED_WITHIN
    while not select.select([connection], [], [], 0.1)[0]:
        assert time.monotonic() < deadline, "the server kept reading a stalled request"
        try:
            connection.sendall(piece)
        except OSError:  # closed meanwhile
            return


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def unread_by_server(server_port: int, client_ports: set[int]) -> int:
    """Bytes the kernel holds for the server, not yet read, on its connections from `client_ports`."""
    unread = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote, _, queues = line.split()[1:5]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) in client_ports:
            unread += int(queues.split(":")[1], 16)
    return unread


def test_headers_up_to_the_limit_are_served(served: Served) -> None:
    with served.connect() as connection:
        connection.sendall(request(LIMIT, headers=b"Connection: close\r\n"))
        assert answer(read_until_closed(connection)).status == 200


@pytest.mark.parametrize("shape", ["complete", "unfinished"])
def test_headers_over_the_limit_get_431_and_the_connection_is_closed(served: Served, shape: str) -> None:
    over = request(LIMIT + 1) if shape == "complete" else request(4 * LIMIT)[:-4]
    with served.connect() as connection:
        connection.sendall(over)
        problem = answer(read_until_closed(connection)).problem(431, "headers-too-large")
    assert str(LIMIT) in problem["detail"]


@pytest.mark.parametrize(
    "request_line", [b"BREW /sync/contact HTTP/1.1", b"GET /sync/contact HTTP/9", b"GET  HTTP/1.1", b"\x00\x01"]
)
def test_what_the_parser_cannot_read_is_a_problem(served: Served, request_line: bytes) -> None:
    with served.connect() as connection:
        connection.sendall(request_line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answered = answer(read_until_closed(connection))
    if answered.status == 405:  # h11 reads any token as a method: the app answers that it is not allowed
        assert served.parser == "h11"
        assert answered.headers["content-type"] == "application/problem+json"
    else:
        answered.problem(400, "malformed-request")


def test_headers_trickled_past_the_timeout_get_408_and_the_connection_is_closed(served: Served) -> None:
    with served.connect() as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        trickle(connection, b"X-Slow: 1\r\n")
        answer(read_until_closed(connection)).problem(408, "request-timeout")


def test_a_connection_that_sends_nothing_is_closed(served: Served) -> None:
    with served.connect() as connection:
        assert read_until_closed(connection) == b""


def test_an_idle_kept_alive_connection_is_left_to_uvicorns_keep_alive(served: Served) -> None:
    # uvicorn closes a kept-alive connection after 5 s idle; the header timeout must not cut it shorter.
    with served.connect() as connection:
        for _ in range(2):
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert read_answer(connection).status == 200
            time.sleep(TIMEOUT * 1.5)


def held(served: Served, family: str) -> dict[str, float]:
    """What requests of `family` hold in the worker and in PostgreSQL now."""
    samples = parse(httpx.get(f"{served.server.base_url}/metrics").text)
    gauges = {
        name: value(samples, f"sale_orders_{name}", family=family)
        for name in ("db_pool_in_use", "db_pool_waiting", "requests_in_progress")
    }
    gauges |= {name: value(samples, f"sale_orders_{name}") for name in ("thread_pool_busy", "thread_pool_queued")}
    sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state <> 'idle' AND pid <> pg_backend_pid()"
    ((busy,),) = query(served.database, sql, (served.database.database,))
    return {**gauges, "database_sessions_not_idle": float(busy)}


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_bodies_trickled_past_the_timeout_are_dropped_and_hold_nothing(served: Served, family: str) -> None:
    headers = (
        f"POST /{family}/contact HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 10000\r\n\r\n{"
    ).encode()
    connections = [served.connect() for _ in range(4)]  # more than the threads and the pooled connections
    answers: list[bytes] = []

    def upload(connection: socket.socket) -> None:
        connection.sendall(headers)
        trickle(connection, b" ")
        answers.append(read_until_closed(connection))

    uploads = [threading.Thread(target=upload, args=(connection,)) for connection in connections]
    for thread in uploads:
        thread.start()
    for thread in uploads:
        thread.join()
    for connection in connections:
        connection.close()
    assert len(answers) == len(connections)
    for data in answers:
        answer(data).problem(408, "request-timeout")

    deadline = time.monotonic() + DROPPED_WITHIN
    while (now := held(served, family)) != dict.fromkeys(now, 0):
        assert time.monotonic() < deadline, now
        time.sleep(0.2)
    created = httpx.post(f"{served.server.base_url}/{family}/contact", json={"name": "After", "email": "a@example.com"})
    assert created.status_code == 201, created.text


def test_connections_holding_big_unfinished_headers_do_not_grow_the_worker(served: Served) -> None:
    attempt = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * (4 * 1024 * 1024)
    (worker,) = served.server.worker_pids()
    connections = [served.connect() for _ in range(20)]

    def send(connection: socket.socket) -> None:
        with contextlib.suppress(OSError):  # refused on the way: what this test expects
            connection.sendall(attempt)

    try:
        send(connections[0])  # warm the path once before measuring
        before = rss_bytes(worker)
        senders = [threading.Thread(target=send, args=(connection,)) for connection in connections[1:]]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        # Measured once the worker has read (or refused) all it was sent, not while it is still reading.
        client_ports = {connection.getsockname()[1] for connection in connections}
        deadline = time.monotonic() + DROPPED_WITHIN
        while unread_by_server(served.address[1], client_ports):
            assert time.monotonic() < deadline, "the worker stopped reading"
            time.sleep(0.1)
        growth = 0
        for _ in range(5):
            growth = max(growth, rss_bytes(worker) - before)
            time.sleep(0.1)
    finally:
        for connection in connections:
            connection.close()
    assert growth < 50 * 1024 * 1024, f"the worker grew by {growth / 2**20:.0f} MiB"
    assert httpx.get(f"{served.server.base_url}/health").status_code == 200
