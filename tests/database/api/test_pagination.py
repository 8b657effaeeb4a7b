"""Lists are keyset pages: bounded, stable, and the same through both families."""

from typing import TYPE_CHECKING, Any

import pytest

from tests.support.api import Api

if TYPE_CHECKING:
    from collections.abc import Callable


@pytest.mark.parametrize("path", ["/contact", "/product", "/tag"])
def test_pages_walk_every_item_once_in_id_order(api: Api, path: str) -> None:
    bodies: dict[str, Callable[[int], dict[str, str]]] = {
        "/contact": lambda i: {"name": f"c{i}", "email": f"c{i}@example.com"},
        "/product": lambda i: {"name": f"p{i}"},
        "/tag": lambda i: {"name": f"t{i}"},
    }
    created = [api.create(path, bodies[path](i)) for i in range(7)]
    seen: list[dict[str, Any]] = []
    after: int | None = None
    while True:
        query = {"limit": 3} if after is None else {"limit": 3, "after": after}
        page = api.get(path, params=query).json()
        assert page == api.other.get(path, params=query).json()
        assert len(page) <= 3
        seen += page
        if len(page) < 3:
            break
        after = page[-1]["id"]
    assert seen == created


def test_default_page_size_is_20_and_maximum_is_100(api: Api) -> None:
    for i in range(101):
        api.create("/tag", {"name": f"t{i}"})
    assert len(api.get("/tag").json()) == 20
    assert len(api.get("/tag", params={"limit": 100}).json()) == 100
    assert api.get("/tag", params={"limit": 101}).status_code == 400


def test_order_pages_hold_lines_and_tags(api: Api) -> None:
    body = api.order_fixture()
    orders = [api.create("/order", {**body, "name": f"SO{i}"}) for i in range(5)]
    first = api.get("/order", params={"limit": 2}).json()
    rest = api.other.get("/order", params={"after": first[-1]["id"]}).json()
    assert first + rest == orders
    assert api.get("/order", params={"after": orders[-1]["id"]}).json() == []
    assert api.get("/order", params={"after": 0}).json() == api.get("/order").json() == orders
