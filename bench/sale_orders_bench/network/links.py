"""Where PostgreSQL is for a point of the sweep: directly, or through the proxy; and its round trip from here."""

import statistics
import time
from dataclasses import dataclass

import psycopg2
from sqlalchemy.engine import URL

from sale_orders.db.drivers import libpq_dsn
from sale_orders_bench.errors import HarnessError
from sale_orders_faultproxy.stats import Address, Target, parse_address

DIRECT = "direct"
RTT_SAMPLES = 50


@dataclass(frozen=True)
class Point:
    """Where PostgreSQL is: `delay_ms` None is direct (no proxy), otherwise through the proxy."""

    delay_ms: float | None

    @property
    def label(self) -> str:
        return DIRECT if self.delay_ms is None else f"{self.delay_ms:g} ms"


def proxy_target(url: URL) -> Target:
    """What the proxy forwards to: the server's unix socket, or its loopback TCP address."""
    port = url.port or 5432
    socket_dir = url.query.get("host")
    if isinstance(socket_dir, tuple):
        socket_dir = socket_dir[0]
    if socket_dir and str(socket_dir).startswith("/"):
        return f"{socket_dir}/.s.PGSQL.{port}"
    host = url.host or "127.0.0.1"
    try:
        return parse_address(f"{host}:{port}")
    except ValueError as exc:
        msg = f"`bench network` puts a proxy in front of PostgreSQL on this machine; DATABASE_URL names {host}"
        raise HarnessError(msg) from exc


def through(url: URL, listen: Address) -> URL:
    """`url` with the proxy's address instead of the server's."""
    query = {key: value for key, value in url.query.items() if key != "host"}
    return url.set(host=listen[0], port=listen[1], query=query)


def measure_rtt(url: URL, samples: int) -> dict[str, float]:
    """Round trips of `SELECT 1` on one connection: median and p90, in milliseconds."""
    connection = psycopg2.connect(libpq_dsn(url))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            times = []
            for _ in range(samples):
                started = time.perf_counter()
                cursor.execute("SELECT 1")
                cursor.fetchone()
                times.append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()
    times.sort()
    return {"median_ms": round(statistics.median(times), 3), "p90_ms": round(times[int(0.9 * (len(times) - 1))], 3)}
