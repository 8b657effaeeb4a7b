"""The sync family is exactly what unasyncd generates from the async one (family/_sync/ is never edited)."""

from sale_orders_tools.twin import stale_files
from tests.support import REPO_ROOT


def test_the_sync_family_is_generated_from_the_async_one() -> None:
    assert stale_files(REPO_ROOT) == [], "family/_sync/ is stale: run `just twin` and commit it"
