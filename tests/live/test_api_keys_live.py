"""API keys through a real `sale-orders serve`: enforced per key and scope, and never written to its log."""

import httpx

from sale_orders.family.record import FAMILY_NAMES
from tests.support.auth import READ_KEY, WRITE_KEY, bearer
from tests.support.servers import LiveServer


def test_keys_are_enforced_and_never_logged(secured_live_server: LiveServer) -> None:
    base = secured_live_server.base_url
    wrong_key = WRITE_KEY[::-1]
    for family in FAMILY_NAMES:
        assert httpx.get(f"{base}/{family}/tag").status_code == 401
        assert httpx.get(f"{base}/{family}/tag", headers=bearer(wrong_key)).status_code == 401
        assert httpx.post(f"{base}/{family}/tag", json={"name": family}, headers=bearer(READ_KEY)).status_code == 403
        assert httpx.post(f"{base}/{family}/tag", json={"name": family}, headers=bearer(WRITE_KEY)).status_code == 201
        assert httpx.get(f"{base}/{family}/tag", headers=bearer(READ_KEY)).status_code == 200
    assert httpx.get(f"{base}/health").status_code == 200

    log = secured_live_server.log.read_text()
    assert "POST /sync/tag" in log  # the access log is on, and saw the requests
    for key in (WRITE_KEY, READ_KEY, wrong_key):
        assert key not in log
