"""Every API test body runs against /sync and /async through the `api` fixture."""

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.support.api import Api


@pytest.fixture
def api(client: TestClient[Litestar], family: str) -> Api:
    return Api(client, family)
