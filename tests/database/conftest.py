"""Tests of the app in process on the tests' database: each starts from empty tables, ids counting from 1."""

import pytest
from sqlalchemy.engine import URL

from tests.support.database import truncate


@pytest.fixture(autouse=True)
def empty_tables(database_url: URL) -> None:
    truncate(database_url)
