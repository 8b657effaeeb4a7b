"""/metrics counts server errors by family and route: a database outage shows there as 503s."""

import httpx
import pytest

from sale_orders.family.record import FAMILY_NAMES
from tests.support.faults import Database, status, wait_until
from tests.support.metrics import moved, parse
from tests.support.servers import LiveServer


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_503s_are_counted_as_errors_of_their_family_and_route(
    database: Database, server: LiveServer, family: str
) -> None:
    base = server.base_url
    before = parse(httpx.get(f"{base}/metrics").text)
    database.stop()
    try:
        codes = [httpx.get(f"{base}/{family}/tag/{n}", timeout=30).status_code for n in (1, 2, 3)]
    finally:
        database.start()
    assert codes == [503, 503, 503]
    after = parse(httpx.get(f"{base}/metrics").text)
    route = {"family": family, "path": f"/{family}/tag/{{item_id}}", "status_code": "503"}
    assert moved(before, after, "sale_orders_requests_error_total", **route) == 3
    assert moved(before, after, "sale_orders_requests_total", **route) == 3
    other = "async" if family == "sync" else "sync"
    assert moved(before, after, "sale_orders_requests_error_total", family=other) == 0
    wait_until(lambda: status(base, f"/{family}/tag") == 200, seconds=15)
