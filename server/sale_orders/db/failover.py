"""When the primary changes under the app: what its pools must do (found by `sale-orders lab`).

After a failover, a pooled connection may be open on a server that is no longer the primary: a standby, or
an old primary demoted without a restart. Every write there fails with SQLSTATE 25006
("read_only_sql_transaction"), while `pool_pre_ping`'s `SELECT 1` succeeds, so the pool would keep handing the
connection out, and the app would keep failing writes, for as long as the connection lives. SQLAlchemy's
`handle_error` event may declare an error a disconnect: the connection is then invalidated (and with it every
connection the pool opened before it), the request gets the 503 of a lost connection, and the next
connection goes through `target_session_attrs=read-write` to the new primary.

And reaching the new primary at all: libpq stops at the first host of a multi-host URL that accepts a TCP
connection and then closes it, as a proxy in front of a dead database host does (`connect_one_host_at_a_time`).
"""

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

READ_ONLY_SQL_TRANSACTION = "25006"
T = TypeVar("T")


def is_read_only_error(error: BaseException | None) -> bool:
    """Whether a driver's error says the server refused a write because it is read-only (SQLSTATE 25006).

    psycopg2 puts the SQLSTATE in `pgcode`; asyncpg in `sqlstate`, and SQLAlchemy's asyncpg adapter in both.
    """
    if error is None:
        return False
    code = getattr(error, "pgcode", None) or getattr(error, "sqlstate", None)
    return isinstance(code, str) and code == READ_ONLY_SQL_TRANSACTION


def mark_read_only_as_disconnect(context: ExceptionContext) -> None:
    """A `handle_error` listener: a read-only server is treated like a lost connection."""
    if is_read_only_error(context.original_exception):
        context.is_disconnect = True


def treat_read_only_as_disconnect(engine: Engine | AsyncEngine) -> None:
    """Make `engine` throw away a connection whose server refused a write as read-only (see the module)."""
    target = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    if not event.contains(target, "handle_error", mark_read_only_as_disconnect):
        event.listen(target, "handle_error", mark_read_only_as_disconnect)


def hosts_one_by_one(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Split libpq's multi-host connect parameters into one set per host, in order (one host stays as it is).

    `host="a,b"` with `port="1,2"` (or one port for all) becomes `[{host: a, port: 1}, {host: b, port: 2}]`,
    every other parameter (`target_session_attrs` included) kept in each.
    """
    host, port = params.get("host"), params.get("port")
    if not isinstance(host, str) or "," not in host:
        return [dict(params)]
    hosts = host.split(",")
    ports = str(port).split(",") if port not in {None, ""} else [""]
    if len(ports) == 1:
        ports *= len(hosts)
    if len(ports) != len(hosts):
        return [dict(params)]  # libpq itself will say what is wrong
    candidates = []
    for one_host, one_port in zip(hosts, ports, strict=True):
        candidate = {**params, "host": one_host}
        candidate.pop("port", None)
        if one_port:
            candidate["port"] = one_port
        candidates.append(candidate)
    return candidates


def connect_first(
    connect: Callable[..., T], candidates: list[dict[str, Any]], failures: tuple[type[BaseException], ...]
) -> T:
    """The first connection `connect(**params)` makes, trying `candidates` in order; the last failure otherwise."""
    last: BaseException | None = None
    for params in candidates:
        try:
            return connect(**params)
        except failures as exc:
            last = exc
    if last is None:
        raise ValueError("no host to connect to")
    raise last


def connect_one_host_at_a_time(engine: Engine | AsyncEngine) -> None:
    """Make a psycopg2 engine try each host of a multi-host URL on its own, in order, until one accepts.

    libpq gives up on the whole list when a host accepts the TCP connection and then closes it before answering
    ("server closed the connection unexpectedly"), which is what a proxy in front of a dead database host does
    (a sidecar, a TCP load balancer, the lab's fault proxies): it tries the next host only when connecting
    fails outright. asyncpg goes on to the next host either way. With this, a connection whose host refuses
    (or is read-only, under `target_session_attrs=read-write`) is followed by one to the next host.
    """
    target = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    if target.dialect.driver != "psycopg2" or event.contains(target, "do_connect", _connect_one_by_one):
        return
    event.listen(target, "do_connect", _connect_one_by_one)


def _connect_one_by_one(dialect: Any, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]) -> Any:
    candidates = hosts_one_by_one(cparams)
    if len(candidates) == 1:
        return None  # SQLAlchemy connects as usual
    dbapi = dialect.loaded_dbapi
    return connect_first(lambda **params: dbapi.connect(*cargs, **params), candidates, (dbapi.OperationalError,))
