"""/metrics: requests counted by family and route template, pool gauges, and no place in the contract."""

from litestar import Litestar
from litestar.testing import TestClient

from sale_orders.family.record import FAMILY_NAMES
from sale_orders.settings import Settings
from sale_orders_tools.contract import openapi_document
from tests.support.api import Api
from tests.support.metrics import Samples, moved, parse, value

REQUESTS = "sale_orders_requests_total"


def scrape(client: TestClient[Litestar]) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text)


def test_requests_are_counted_by_family_and_route_template(api: Api, client: TestClient[Litestar]) -> None:
    before = scrape(client)
    ids = [api.create("/contact", {"name": f"c{i}", "email": f"c{i}@example.com"})["id"] for i in range(3)]
    assert api.get(f"/contact/{ids[0]}").status_code == 200
    assert api.get("/contact/999999").status_code == 404
    assert api.get("/contact/999998").status_code == 404
    after = scrape(client)

    family, other = api.family, api.other.family
    one = f"/{family}/contact/{{item_id}}"
    assert (
        moved(before, after, REQUESTS, family=family, method="POST", path=f"/{family}/contact", status_code="201") == 3
    )
    assert moved(before, after, REQUESTS, family=family, method="GET", path=one, status_code="200") == 1
    assert moved(before, after, REQUESTS, family=family, method="GET", path=one, status_code="404") == 2
    assert moved(before, after, "sale_orders_request_duration_seconds_count", family=family) == 6
    assert moved(before, after, "sale_orders_requests_error_total", family=family) == 0
    assert moved(before, after, REQUESTS, family=other) == 0
    # One series per route, never one per id.
    paths = {dict(labels).get("path") for _, labels in after}
    assert not any(path and path.endswith((f"/contact/{ids[0]}", "/999999")) for path in paths), paths


def test_pool_gauges_describe_each_family(client: TestClient[Litestar]) -> None:
    settings = Settings()
    samples = scrape(client)
    assert value(samples, "sale_orders_db_pool_size", family="sync") == settings.sync_pool_size
    assert value(samples, "sale_orders_db_pool_size", family="async") == settings.async_pool_size
    assert value(samples, "sale_orders_thread_pool_size", family="sync") == settings.sync_threads
    for gauge in ("db_pool_in_use", "db_pool_waiting"):
        for family in FAMILY_NAMES:
            assert value(samples, f"sale_orders_{gauge}", family=family) == 0, (gauge, family)
    assert value(samples, "sale_orders_thread_pool_queued", family="sync") == 0


def test_metrics_stay_out_of_the_contract(app: Litestar) -> None:
    document = openapi_document(app)
    assert not [path for path in document["paths"] if "metrics" in path]
