"""The sync family's thread pool refuses a call that waited too long for a thread, as a pool refuses a checkout."""

import threading

import pytest

from sale_orders.family.runtime.threads import HandlerThreadPool
from sale_orders.web.problems import BusyError


def test_a_call_that_waited_longer_than_the_queue_timeout_is_refused_unrun() -> None:
    release = threading.Event()
    ran: list[str] = []
    with HandlerThreadPool(1, queue_timeout=0.2) as pool:
        first = pool.submit(release.wait, 5)
        queued = pool.submit(ran.append, "queued")
        threading.Timer(0.5, release.set).start()  # the only thread is busy for longer than the timeout
        assert first.result(timeout=10) is True
        with pytest.raises(BusyError, match="no thread came free"):
            queued.result(timeout=10)
    assert ran == []


def test_a_call_that_found_a_thread_in_time_runs() -> None:
    with HandlerThreadPool(2, queue_timeout=5) as pool:
        assert pool.submit(sum, [1, 2, 3]).result(timeout=10) == 6


def test_the_running_count_is_the_threads_running_a_job_even_with_a_backlog() -> None:
    # A plain executor's idle semaphore is released after every job, so after a backlog it reads "idle" for
    # threads that are busy: the count the busy gauge reads must not drift that way.
    gates = [threading.Event() for _ in range(6)]
    started = threading.Semaphore(0)

    def job(gate: threading.Event) -> None:
        started.release()
        gate.wait(10)

    with HandlerThreadPool(2, queue_timeout=30) as pool:
        futures = [pool.submit(job, gate) for gate in gates]
        assert started.acquire(timeout=10)
        assert started.acquire(timeout=10)
        for index in range(4):  # the backlog goes through the two threads one job at a time
            assert pool.running == 2
            gates[index].set()
            futures[index].result(timeout=10)
            assert started.acquire(timeout=10)
        assert pool.running == 2
        gates[4].set()
        gates[5].set()
        for future in futures:
            future.result(timeout=10)
        assert pool.running == 0
