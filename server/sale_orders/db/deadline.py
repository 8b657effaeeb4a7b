"""A deadline for psycopg2: a connection that hears nothing from PostgreSQL for too long is closed.

libpq has no client-side query timeout: a `def` handler whose connection's link is cut (no bytes, no RST) waits
in `recv()` as long as the cut lasts, and so does its thread. TCP keepalives and `tcp_user_timeout` notice a
dead peer only where nothing acknowledges the packets; a stalled peer that still acknowledges them (a frozen
server, a hung proxy or pooler) they never notice. psycopg2's own mechanism for waiting differently is its wait
callback (`psycopg2.extensions.set_wait_callback`, as coroutine libraries use): this one waits in `poll()` with
a deadline. When it raises, psycopg2 closes the connection, and SQLAlchemy, seeing it closed, invalidates it:
the pool never hands it out again.

The callback is process-wide: once set, every psycopg2 connection of the process runs non-blocking under it.
Connections of `DeadlineConnection` get the deadline, the others wait as `psycopg2.extras.wait_select` does.
COPY refuses to run in such a process (psycopg2 forbids it under a wait callback): the app never copies.
libpq's `connect_timeout` does not apply under it either; the deadline bounds connecting too.
"""

import select

import psycopg2
import psycopg2.extensions
import psycopg2.extras
from psycopg2.extensions import POLL_OK, POLL_READ, POLL_WRITE


class NoAnswerError(psycopg2.OperationalError):
    """PostgreSQL sent nothing for the whole deadline: the connection was closed."""


class DeadlineConnection(psycopg2.extensions.connection):
    """A psycopg2 connection that the wait callback gives up on after `deadline` seconds without progress."""

    deadline: float = 3.0


def wait_with_deadline(connection: psycopg2.extensions.connection) -> None:
    """The wait callback: poll the connection, giving up after its `deadline` seconds without an answer."""
    if not isinstance(connection, DeadlineConnection):
        psycopg2.extras.wait_select(connection)
        return
    timeout_ms = int(connection.deadline * 1000)
    poller = select.poll()  # not select.select(): no limit of 1024 file descriptors
    descriptor, registered = connection.fileno(), 0
    while True:
        state = connection.poll()
        if state == POLL_OK:
            return
        if state == POLL_READ:
            events = select.POLLIN
        elif state == POLL_WRITE:
            events = select.POLLOUT
        else:
            msg = f"unexpected state from poll(): {state}"
            raise psycopg2.OperationalError(msg)
        if events != registered:
            poller.register(descriptor, events)
            registered = events
        if not poller.poll(timeout_ms):
            msg = f"no answer from PostgreSQL for {connection.deadline:g} s: the connection was closed"
            raise NoAnswerError(msg)  # psycopg2 closes the connection as this propagates


def install() -> None:
    """Set the wait callback for this process (again is harmless)."""
    psycopg2.extensions.set_wait_callback(wait_with_deadline)
