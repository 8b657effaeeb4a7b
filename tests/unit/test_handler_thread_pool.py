"""The sync family's thread pool refuses a call that waited too long for a thread, as a pool refuses a checkout."""

import threading

import pytest

from sale_orders.app.startup import HandlerThreadPool
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
