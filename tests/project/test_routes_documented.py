"""Every route the app serves is listed in docs/security.md, which says who may call it and what it gives."""

import re

from sqlalchemy.engine import make_url

from sale_orders.app import create_app
from tests.support import REPO_ROOT

SECURITY = (REPO_ROOT / "docs" / "security.md").read_text()


def documented(path: str) -> str:
    """A route as docs/security.md writes it: `<family>` for the prefix, no converters (`{item_id}`)."""
    path = re.sub(r"^/(sync|async)/", "/<family>/", path)
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def test_every_route_is_in_the_security_page() -> None:
    app = create_app(make_url("postgresql://nobody@127.0.0.1:1/none"))  # built, never started: no connection
    routes = {documented(route.path) for route in app.routes}
    assert len(routes) > 10
    missing = sorted(route for route in routes if f"`{route}`" not in SECURITY)
    assert not missing, f"routes the app serves that docs/security.md does not list: {missing}"
