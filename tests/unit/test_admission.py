"""The admission bound (web/admission.py) in process, around a tiny app: which requests take a family's places.

tests/live/test_admission.py holds the same promises against a real server.
"""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from litestar.types import Receive, Scope, Send
from litestar.utils import normalize_path

from sale_orders.family.record import FAMILY_NAMES
from sale_orders.web.admission import AdmissionBound
from sale_orders.web.edge import family_of
from tests.support.asgi import call, http_scope


class HeldApp:
    """Answers 200 once it has read the body of a POST or PATCH; a path ending in `/held` waits for `release`."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].endswith("/held"):
            await self.release.wait()
        if scope.get("method") in {"POST", "PATCH"}:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                if not message.get("more_body", False):
                    break
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


async def until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until `condition` holds (they need no time, only turns of the loop)."""
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(condition)


@pytest.mark.parametrize(
    "path", ["/{family}/order/1", "//{family}/order/1", "///{family}//order//1/", "/{family}", "//{family}/"]
)
def test_a_path_belongs_to_the_family_litestar_routes_it_to(family: str, path: str) -> None:
    path = path.format(family=family)
    assert family_of(path, FAMILY_NAMES) == family
    assert family_of(normalize_path(path), FAMILY_NAMES) == family


@pytest.mark.parametrize("path", ["/health", "//health", "/", "", "/metrics", "/{family}x/order", "/x/{family}/order"])
def test_other_paths_belong_to_no_family(family: str, path: str) -> None:
    assert family_of(path.format(family=family), FAMILY_NAMES) == "other"


@pytest.mark.parametrize("path", ["//{family}/order/1", "///{family}//order/1"])
def test_a_path_with_extra_slashes_is_bounded_as_its_family(family: str, path: str) -> None:
    async def scenario() -> None:
        app = HeldApp()
        bound = AdmissionBound(app, FAMILY_NAMES, limit=1)
        held = asyncio.create_task(call(bound, http_scope("GET", f"/{family}/held")))
        await until(lambda: bound.in_flight[family] == 1)
        (await call(bound, http_scope("GET", path.format(family=family)))).problem(503, "busy")
        app.release.set()
        assert (await held).status == 200

    run(scenario)
