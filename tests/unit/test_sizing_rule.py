"""sale_orders_bench.sizing: Little's law per family, floored at the defaults, capped by max_connections."""

from sale_orders_bench.endpoints import LIST_ORDERS, PATCH_ORDER, POST_CONTACT
from sale_orders_bench.sizing import default_sizing, plan, workloads


def test_near_the_database_the_defaults_already_cover_one_workers_rate() -> None:
    loads = workloads({("sync", LIST_ORDERS): 400, ("async", LIST_ORDERS): 400})
    assert plan(0.0, loads, rtt_ms=0.1).env == {name: str(value) for name, value in default_sizing().items()}


def test_the_admission_bound_holds_the_pool_and_a_queue_that_drains_within_the_target() -> None:
    # 16 connections (the default) and a queue of 1000/s x 0.1 s: 116, above the default 64.
    loads = workloads({("sync", POST_CONTACT): 1000, ("async", POST_CONTACT): 1400})
    assert plan(0.0, loads, rtt_ms=0.1).env["MAX_IN_FLIGHT"] == "116"
    # A page at 400/s: 16 + 40 = 56, below the default: the default stays.
    assert plan(0.0, workloads({("async", LIST_ORDERS): 400}), rtt_ms=0.1).env["MAX_IN_FLIGHT"] == "64"


def test_a_sync_request_holds_its_thread_for_its_cpu_time_too_an_async_one_its_connection_only_while_waiting() -> None:
    # 1000/s for 1 round trip of 10 ms: 10 in flight async; sync adds its 1 ms of CPU: 11. Headroom 2.
    loads = workloads({("sync", POST_CONTACT): 1000, ("async", POST_CONTACT): 1000})
    env = plan(5.0, loads, rtt_ms=10.0, max_connections=200).env
    assert env["ASYNC_POOL_SIZE"] == "20"
    assert env["SYNC_THREADS"] == env["SYNC_POOL_SIZE"] == "22"


def test_each_family_is_sized_for_its_endpoint_that_holds_the_most() -> None:
    loads = workloads({("async", LIST_ORDERS): 500, ("async", PATCH_ORDER): 160})
    result = plan(5.0, loads, rtt_ms=10.0, max_connections=200)
    assert [(need.family, need.endpoint) for need in result.needs] == [("async", PATCH_ORDER)]
    assert result.env["ASYNC_POOL_SIZE"] == str(2 * 160 * 11 * 10 // 1000 + 1)  # 35.2 -> 36


def test_both_pools_of_every_worker_stay_within_max_connections() -> None:
    loads = workloads({("sync", POST_CONTACT): 1000, ("async", POST_CONTACT): 1000})
    result = plan(15.0, loads, rtt_ms=30.0, max_connections=100, workers=2)
    assert result.capped
    assert int(result.env["SYNC_POOL_SIZE"]) + int(result.env["ASYNC_POOL_SIZE"]) <= (100 - 10) // 2


def test_the_pool_timeout_covers_the_queue_of_the_slowest_endpoint_at_the_concurrency_given() -> None:
    loads = workloads({("sync", PATCH_ORDER): 120, ("sync", POST_CONTACT): 1000})
    assert plan(5.0, loads, rtt_ms=10.0, max_connections=200).env["POOL_TIMEOUT"] == "2"
    # 256 requests queued on 120/s: the last waits about 2.1 s; with headroom 2, 5 s.
    assert plan(5.0, loads, rtt_ms=10.0, max_connections=200, concurrency=256).env["POOL_TIMEOUT"] == "5"
