"""Failover in the pools: a read-only server is a lost connection; a multi-host URL is tried one host at a time."""

from types import SimpleNamespace
from typing import Any

import psycopg2.errors
import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.ext.asyncio import create_async_engine

from sale_orders.db.failover import (
    _connect_one_by_one,
    connect_first,
    connect_one_host_at_a_time,
    hosts_one_by_one,
    is_read_only_error,
    mark_read_only_as_disconnect,
    treat_read_only_as_disconnect,
)


class Psycopg2LikeError(Exception):
    pgcode = "25006"


class AsyncpgLikeError(Exception):
    sqlstate = "25006"


class OtherError(Exception):
    pgcode = "23505"  # unique_violation: a real error of the request, not of the server's role


@pytest.mark.parametrize("error", [Psycopg2LikeError(), AsyncpgLikeError()])
def test_read_only_errors_of_either_driver_are_recognised(error: BaseException) -> None:
    assert is_read_only_error(error)


@pytest.mark.parametrize("error", [OtherError(), ValueError("25006"), None])
def test_other_errors_are_not(error: BaseException | None) -> None:
    assert not is_read_only_error(error)


def test_psycopg2s_own_read_only_error_is_recognised() -> None:
    # psycopg2 sets pgcode from the server's answer; its class for 25006 says the same.
    assert psycopg2.errors.lookup("25006") is psycopg2.errors.ReadOnlySqlTransaction


def context(error: BaseException) -> Any:
    return SimpleNamespace(original_exception=error, is_disconnect=False)


def test_the_listener_marks_a_read_only_error_as_a_disconnect() -> None:
    read_only, other = context(AsyncpgLikeError()), context(OtherError())
    mark_read_only_as_disconnect(read_only)
    mark_read_only_as_disconnect(other)
    assert read_only.is_disconnect
    assert not other.is_disconnect


def test_it_is_registered_on_a_sync_engine_and_again_is_harmless() -> None:
    engine = create_engine("postgresql+psycopg2://user@127.0.0.1:1/db")
    assert not event.contains(engine, "handle_error", mark_read_only_as_disconnect)
    treat_read_only_as_disconnect(engine)
    treat_read_only_as_disconnect(engine)
    assert event.contains(engine, "handle_error", mark_read_only_as_disconnect)


def test_it_is_registered_on_the_sync_engine_of_an_async_engine() -> None:
    engine = create_async_engine("postgresql+asyncpg://user@127.0.0.1:1/db")
    treat_read_only_as_disconnect(engine)
    assert event.contains(engine.sync_engine, "handle_error", mark_read_only_as_disconnect)


def test_multi_host_parameters_are_split_one_host_each_keeping_the_rest() -> None:
    params = {"host": "a,b", "port": "1,2", "dbname": "d", "target_session_attrs": "read-write"}
    assert hosts_one_by_one(params) == [
        {"host": "a", "port": "1", "dbname": "d", "target_session_attrs": "read-write"},
        {"host": "b", "port": "2", "dbname": "d", "target_session_attrs": "read-write"},
    ]


def test_one_port_serves_every_host_and_no_port_stays_none() -> None:
    assert [p["port"] for p in hosts_one_by_one({"host": "a,b", "port": 5432})] == ["5432", "5432"]
    assert hosts_one_by_one({"host": "a,b"}) == [{"host": "a"}, {"host": "b"}]


@pytest.mark.parametrize("params", [{"host": "a", "port": 1}, {"dbname": "d"}, {"host": "a,b", "port": "1,2,3"}])
def test_a_single_host_or_a_mismatch_is_left_to_libpq(params: dict[str, Any]) -> None:
    assert hosts_one_by_one(params) == [params]


def test_connect_first_tries_hosts_in_order_and_raises_the_last_failure() -> None:
    tried: list[str] = []

    def connect(host: str) -> str:
        tried.append(host)
        if host != "b":
            raise ConnectionError(host)
        return f"connected to {host}"

    assert connect_first(connect, [{"host": "a"}, {"host": "b"}, {"host": "c"}], (ConnectionError,)) == "connected to b"
    assert tried == ["a", "b"]
    with pytest.raises(ConnectionError, match="c"):
        connect_first(connect, [{"host": "a"}, {"host": "c"}], (ConnectionError,))


def test_other_failures_are_not_swallowed() -> None:
    def connect(host: str) -> str:
        raise ValueError(host)

    with pytest.raises(ValueError, match="a"):
        connect_first(connect, [{"host": "a"}, {"host": "b"}], (ConnectionError,))


def test_one_host_at_a_time_is_for_psycopg2_engines_only() -> None:
    sync_engine = create_engine("postgresql+psycopg2://user@127.0.0.1:1/db")
    async_engine = create_async_engine("postgresql+asyncpg://user@127.0.0.1:1/db")
    connect_one_host_at_a_time(sync_engine)
    connect_one_host_at_a_time(async_engine)
    assert event.contains(sync_engine, "do_connect", _connect_one_by_one)
    assert not event.contains(async_engine.sync_engine, "do_connect", _connect_one_by_one)
