"""A deadline for psycopg2: a connection that waits for PostgreSQL too long is cut, from a watchdog thread.

libpq has no client-side query timeout: a `def` handler whose connection's link is cut (no bytes, no RST) waits
in `recv()` as long as the cut lasts, and so does its thread. TCP keepalives and `tcp_user_timeout` notice a
dead peer only where nothing acknowledges the packets; a stalled peer that still acknowledges them (a frozen
server, a hung proxy or pooler) they never notice. PostgreSQL's `statement_timeout` ends a query that is only
slow, and always before this deadline (the settings require it), so a call still waiting after `deadline`
seconds has lost its server.

Only a stuck connection needs cutting, so each call pays a timestamp, not a Python wait loop: `DeadlineConnection`
notes when a call that waits for the server (`execute`, `executemany`, `commit`, `rollback`) starts and ends, and
one daemon thread per process (`Watchdog`) looks at the connections every quarter of the shortest deadline; a
call older than its deadline has its socket shut down, which makes libpq's `recv()` return at once. psycopg2 then
raises `OperationalError` ("server closed the connection unexpectedly"), re-raised as `NoAnswerError`; the
connection is closed, and SQLAlchemy invalidates it: the pool never hands it out again. (A psycopg2 wait
callback would give the same deadline in the waiting thread itself, but runs Python on every round trip:
measured by `sale-orders bench ladder`, docs/benchmarks.md.) Connecting is bounded by libpq's `connect_timeout`.
"""

import contextlib
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar, cast

import psycopg2
import psycopg2.extensions

T = TypeVar("T")


class NoAnswerError(psycopg2.OperationalError):
    """PostgreSQL sent nothing for the whole deadline: the connection was cut."""


def _timed(connection: "DeadlineConnection", call: Callable[..., T], *args: Any) -> T:
    """`call(*args)`, a call that waits for the server, timed for the watchdog."""
    connection.waiting_since = started = time.monotonic()
    try:
        return call(*args)
    except psycopg2.OperationalError as error:
        connection.raise_if_cut(started, error)
        raise
    finally:
        connection.waiting_since = None


class DeadlineCursor(psycopg2.extensions.cursor):
    """A cursor whose calls that wait for the server are timed by its connection's deadline."""

    def execute(self, query: Any, vars: Any = None) -> None:  # noqa: A002 - psycopg2's own name
        _timed(cast("DeadlineConnection", self.connection), super().execute, query, vars)

    def executemany(self, query: Any, vars_list: Any) -> None:
        _timed(cast("DeadlineConnection", self.connection), super().executemany, query, vars_list)


class DeadlineConnection(psycopg2.extensions.connection):
    """A psycopg2 connection cut by the watchdog when a call waits more than `deadline` seconds for the server."""

    deadline: float = 3.0

    def __init__(self, dsn: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(dsn, *args, **kwargs)
        self.cursor_factory = DeadlineCursor
        self.waiting_since: float | None = None  # when the call waiting for the server now started
        self.cut_call: float | None = None  # the start of the call the watchdog cut
        WATCHDOG.watch(self)

    def commit(self) -> None:
        _timed(self, super().commit)

    def rollback(self) -> None:
        _timed(self, super().rollback)

    def raise_if_cut(self, started: float, error: psycopg2.OperationalError) -> None:
        """Raise `NoAnswerError` in place of `error` if the watchdog cut the call that started at `started`."""
        if self.cut_call == started:
            msg = f"no answer from PostgreSQL for {self.deadline:g} s: the connection was closed"
            raise NoAnswerError(msg) from error


class Watchdog:
    """One daemon thread that cuts the socket of every `DeadlineConnection` whose call outlived its deadline."""

    def __init__(self) -> None:
        self._connections: weakref.WeakSet[DeadlineConnection] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._tick = 1.0
        self._thread: threading.Thread | None = None

    def watch(self, connection: DeadlineConnection) -> None:
        with self._lock:
            self._connections.add(connection)
            self._tick = min(self._tick, connection.deadline / 4)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="psycopg2-deadline", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self._tick)
            self.cut_overdue(time.monotonic())

    def cut_overdue(self, now: float) -> None:
        """Cut every connection whose current call started more than its deadline before `now`."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            started = connection.waiting_since
            if started is not None and now - started > connection.deadline:
                _cut(connection, started)


def _cut(connection: DeadlineConnection, started: float) -> None:
    # The call may end between the check and the cut: then the next call on this connection fails at once with
    # a 503 that was due anyway (its link had been silent for the whole deadline), and the connection is renewed.
    if connection.waiting_since != started or connection.closed:
        return
    connection.cut_call = started
    with contextlib.suppress(OSError, psycopg2.InterfaceError):
        descriptor = os.dup(connection.fileno())
        with socket.socket(fileno=descriptor) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)  # the original descriptor's recv() returns now


WATCHDOG = Watchdog()
