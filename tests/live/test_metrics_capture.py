"""`MetricsCapture` (bench --metrics) against a live server: requests and pool peaks per family."""

import httpx

from sale_orders_tools.harness.gauges import MetricsCapture
from tests.support.servers import LiveServer


def test_a_capture_counts_the_requests_of_its_block_by_family(live_server: LiveServer) -> None:
    with MetricsCapture(live_server.base_url, interval=0.1) as capture:
        for _ in range(3):
            assert httpx.get(f"{live_server.base_url}/sync/tag").status_code == 200
        assert httpx.get(f"{live_server.base_url}/async/tag/999999").status_code == 404
    summary = capture.summary()
    assert summary["sync"]["requests"] == 3
    assert summary["async"]["requests"] == 1
    assert summary["sync"]["errors_5xx"] == summary["async"]["errors_5xx"] == 0
    assert set(summary["async"]) >= {"max_db_pool_in_use", "max_db_pool_waiting", "max_thread_pool_queued"}
