"""FEATURES (the benchmark ladder's toggles): every feature on by default, each one really left out when asked."""

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from sqlalchemy.engine import make_url

from sale_orders.app import create_app
from sale_orders.features import ALL, ORDER, Feature, parse_features
from sale_orders.settings import Settings
from sale_orders.web.edge import RequestContext

URL = make_url("postgresql://user@127.0.0.1:9/never")  # the app connects only when it starts


def test_every_feature_is_on_by_default() -> None:
    assert Settings().enabled == ALL == frozenset(ORDER)


@pytest.mark.parametrize(
    ("text", "features"),
    [
        ("all", ALL),
        ("none", frozenset()),
        (" metrics , deadlines ", {Feature.METRICS, Feature.DEADLINES}),
    ],
)
def test_features_are_parsed(text: str, features: frozenset[Feature]) -> None:
    assert parse_features(text) == features


def test_an_unknown_feature_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown FEATURES speed"):
        parse_features("metrics,speed")


@pytest.mark.parametrize("text", ["", " ", ","])
def test_an_empty_value_is_an_error_not_every_feature_off(text: str) -> None:
    with pytest.raises(ValueError, match="FEATURES is empty"):
        parse_features(text)


def paths(settings: Settings) -> set[str]:
    return {route.path for route in create_app(URL, settings).routes}


def test_the_product_without_features_has_no_metrics_no_edge_and_no_ambiguity_check() -> None:
    bare, full = create_app(URL, Settings(features="none")), create_app(URL, Settings())
    assert "/metrics" in paths(Settings())
    assert "/metrics" not in paths(Settings(features="none"))
    assert isinstance(full.asgi_handler, RequestContext)
    assert not isinstance(bare.asgi_handler, RequestContext)
    bare_handlers, full_handlers = order_handlers(bare), order_handlers(full)
    assert bare_handlers
    assert all(handler.resolve_before_request() is None for handler in bare_handlers)
    assert all(handler.resolve_before_request() is not None for handler in full_handlers)


def order_handlers(app: Litestar) -> list[HTTPRouteHandler]:
    """The handlers of the sync family's order routes."""
    routes = [route for route in app.routes if isinstance(route, HTTPRoute) and route.path.startswith("/sync/order")]
    return [handler for route in routes for handler in route.route_handlers]
