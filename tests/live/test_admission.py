"""Beyond MAX_IN_FLIGHT requests at once, a family answers 503 `busy` at once instead of queueing the next one.

Four requests of one family are held (each PATCHes an order the test keeps locked); the next requests of that
family, a GET and a POST, are answered 503 with Retry-After straight away, while the other family, /health and
/health/live still answer. Once the rows are free the held requests complete, and /metrics counts the two refused.
A client that sends its next request on the same connection at once, whatever Retry-After says, is not read from
until SHED_PAUSE has passed, and a shutdown meanwhile answers that request before it closes the connection.
And four requests whose bodies have not arrived hold no place: a GET of their family is served meanwhile.
"""

import contextlib
import json
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg2
import pytest
from sqlalchemy.engine import URL

from tests.support.api import assert_problem
from tests.support.database import dsn, scratch_database, waiting_for_locks
from tests.support.metrics import parse, value
from tests.support.raw_http import read_answer
from tests.support.servers import STOPPED_BY_SIGTERM, LiveServer, clean_env, start_server

LIMIT = 4
SHED_PAUSE = 2


@pytest.fixture(scope="module")
def bounded(server_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, URL]]:
    with scratch_database(server_url) as url:
        env = clean_env(
            DATABASE_URL=url.render_as_string(hide_password=False),
            MAX_IN_FLIGHT=str(LIMIT),
            SHED_PAUSE=str(SHED_PAUSE),
            LOCK_TIMEOUT_MS="0",  # held requests wait for their rows as long as the test holds them
            STATEMENT_TIMEOUT_MS="60000",
            DB_RESPONSE_TIMEOUT="120",
        )
        server = start_server(env, tmp_path_factory.mktemp("admission"))
        yield server, url
        assert server.stop() in STOPPED_BY_SIGTERM, server.log.read_text()


@contextlib.contextmanager
def holding(base: str, url: URL, family: str) -> Iterator[tuple[int, Callable[[], list[int]]]]:
    """`LIMIT` PATCHes of `family` held on rows this test locks: yields a contact and `release`.

    `release` frees the rows and returns the held requests' statuses; leaving the block releases them too.
    """
    contact = httpx.post(f"{base}/{family}/contact", json={"name": "B", "email": "b@example.com"}).json()["id"]
    orders = [
        httpx.post(f"{base}/{family}/order", json={"name": "held", "contact_id": contact}).json()["id"]
        for _ in range(LIMIT)
    ]
    statuses: list[int] = []
    held = [
        threading.Thread(
            target=lambda order=order: statuses.append(
                httpx.patch(f"{base}/{family}/order/{order}", json={"name": "done"}, timeout=60).status_code
            )
        )
        for order in orders
    ]
    with psycopg2.connect(dsn(url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sale_order WHERE id = ANY(%s) FOR UPDATE", (orders,))

        def release() -> list[int]:
            connection.commit()
            for request in held:
                request.join(timeout=60)
            return statuses

        for request in held:
            request.start()
        try:
            deadline = time.monotonic() + 30
            while waiting_for_locks(url) < LIMIT:
                assert time.monotonic() < deadline, "the held requests never reached their rows"
                time.sleep(0.05)
            yield contact, release
        finally:
            release()


@pytest.mark.parametrize("family", ["sync", "async"])
def test_a_family_at_its_bound_answers_busy_at_once(bounded: tuple[LiveServer, URL], family: str) -> None:
    server, url = bounded
    other = "async" if family == "sync" else "sync"
    base = server.base_url
    shed_before = value(parse(httpx.get(f"{base}/metrics").text), "sale_orders_requests_shed_total", family=family)
    with holding(base, url, family) as (contact, release):
        refused = httpx.get(f"{base}/{family}/contact/{contact}", timeout=10)
        assert_problem(refused, 503, "busy")
        assert refused.headers["retry-after"] == str(SHED_PAUSE)  # what a refused connection waits
        # Refused once its body has arrived, by the app itself: a 503 `busy` too, counted as shed.
        refused = httpx.post(f"{base}/{family}/contact", json={"name": "C", "email": "c@example.com"}, timeout=10)
        assert_problem(refused, 503, "busy")
        assert refused.headers["retry-after"] == str(SHED_PAUSE)
        assert httpx.get(f"{base}/{other}/contact/{contact}", timeout=10).status_code == 200
        assert httpx.get(f"{base}/health", timeout=10).status_code == 200
        assert httpx.get(f"{base}/health/live", timeout=10).status_code == 200
        assert release() == [200] * LIMIT
    assert httpx.get(f"{base}/{family}/contact/{contact}", timeout=10).status_code == 200
    shed_after = value(parse(httpx.get(f"{base}/metrics").text), "sale_orders_requests_shed_total", family=family)
    assert shed_after == shed_before + 2


@pytest.mark.parametrize("family", ["sync", "async"])
def test_a_client_retrying_at_once_on_its_connection_waits_its_retry_after(
    bounded: tuple[LiveServer, URL], family: str
) -> None:
    """Its next request stays unread for SHED_PAUSE, although places are free again right after the refusal."""
    server, url = bounded
    address = urlsplit(server.base_url)
    with holding(server.base_url, url, family) as (contact, release):
        read = f"GET /{family}/contact/{contact} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
            connection.sendall(read)
            assert read_answer(connection).status == 503
            refused_at = time.monotonic()
            connection.sendall(read)  # at once, as wrk and many scripts do
            assert release() == [200] * LIMIT
            retried = read_answer(connection)
            waited = time.monotonic() - refused_at
    assert retried.status == 200, retried
    # A lower bound only, with room for a client slow to read its 503: without the pause it is milliseconds.
    assert waited >= SHED_PAUSE / 2, waited


@pytest.mark.parametrize("family", ["sync", "async"])
def test_a_shutdown_answers_the_request_a_refused_connection_sent_during_its_pause(
    server_url: URL, tmp_path: Path, family: str
) -> None:
    """uvicorn closes an idle connection on SIGTERM: the create waiting unread in the socket would get a reset."""
    with scratch_database(server_url) as url:
        env = clean_env(
            DATABASE_URL=url.render_as_string(hide_password=False),
            MAX_IN_FLIGHT=str(LIMIT),
            SHED_PAUSE="4",
            LOCK_TIMEOUT_MS="0",
            STATEMENT_TIMEOUT_MS="60000",
            DB_RESPONSE_TIMEOUT="120",
        )
        server = start_server(env, tmp_path)
        try:
            address = urlsplit(server.base_url)
            create = json.dumps({"name": "sent in the pause", "email": "p@example.com"}).encode()
            with (
                holding(server.base_url, url, family) as (_, release),
                socket.create_connection((address.hostname, address.port), timeout=30) as connection,
            ):
                connection.sendall(f"GET /{family}/contact HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                assert read_answer(connection).status == 503
                assert release() == [200] * LIMIT
                connection.sendall(
                    f"POST /{family}/contact HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(create)}\r\n\r\n".encode()
                    + create
                )
                time.sleep(0.3)  # in the socket, unread: the pause has more than 3 s to go
                server.process.send_signal(signal.SIGTERM)
                created = read_answer(connection)
            assert created.status == 201, created
            assert server.stop() in STOPPED_BY_SIGTERM, server.log.read_text()
        finally:
            server.stop()
        with psycopg2.connect(dsn(url)) as database, database.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM contact WHERE name = 'sent in the pause'")
            assert cursor.fetchone() == (1,)


@pytest.mark.parametrize("family", ["sync", "async"])
def test_requests_whose_bodies_have_not_arrived_hold_no_place(bounded: tuple[LiveServer, URL], family: str) -> None:
    server, _ = bounded
    base = server.base_url
    contact = httpx.post(f"{base}/{family}/contact", json={"name": "S", "email": "s@example.com"}).json()["id"]
    address = urlsplit(base)
    with contextlib.ExitStack() as stack:
        for number in range(LIMIT):  # PATCHes and POSTs, each promising 100 bytes and sending 4
            method, path = ("PATCH", f"/{family}/contact/{contact}") if number % 2 else ("POST", f"/{family}/contact")
            connection = stack.enter_context(socket.create_connection((address.hostname, address.port)))
            connection.sendall(
                f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                'Content-Length: 100\r\n\r\n{"na'.encode()
            )
        deadline = time.monotonic() + 30
        while in_progress(base, family) < LIMIT:
            assert time.monotonic() < deadline, "the stalled requests never reached the app"
            time.sleep(0.05)
        assert httpx.get(f"{base}/{family}/contact/{contact}", timeout=10).status_code == 200


def in_progress(base: str, family: str) -> float:
    """The requests of `family` the app is serving now, by its own gauge."""
    samples = parse(httpx.get(f"{base}/metrics", timeout=10).text)
    return value(samples, "sale_orders_requests_in_progress", family=family)
