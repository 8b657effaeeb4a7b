"""The admission bound (web/admission.py) in process, around a tiny app: which requests take a family's places.

tests/live/test_admission.py holds the same promises against a real server.
"""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from litestar.types import HTTPScope, Receive, Scope, Send
from litestar.utils import normalize_path
from prometheus_client import REGISTRY

from sale_orders.family.record import FAMILY_NAMES
from sale_orders.web.admission import AdmissionBound
from sale_orders.web.edge import family_of
from tests.support.asgi import StalledBody, call, http_scope


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


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_request_whose_body_has_not_arrived_holds_no_place(family: str, method: str) -> None:
    async def scenario() -> None:
        bound = AdmissionBound(HeldApp(), FAMILY_NAMES, limit=2)
        bodies = [StalledBody() for _ in range(2)]
        stalled = [asyncio.create_task(call(bound, body_scope(method, family), body)) for body in bodies]
        await until(lambda: all(body.awaited for body in bodies))
        assert (await call(bound, http_scope("GET", f"/{family}/order/1"))).status == 200
        for body in bodies:
            body.finish(b'me": "x"}')
        assert [(await answer).status for answer in stalled] == [200, 200]
        assert bound.in_flight[family] == 0

    run(scenario)


def test_a_body_that_arrives_when_its_family_is_full_is_answered_busy(family: str) -> None:
    async def scenario() -> None:
        app = HeldApp()
        bound = AdmissionBound(app, FAMILY_NAMES, limit=1)
        held = asyncio.create_task(call(bound, http_scope("GET", f"/{family}/held")))
        body = StalledBody()
        late = asyncio.create_task(call(bound, body_scope("POST", family), body))
        await until(lambda: bound.in_flight[family] == 1 and body.awaited)
        shed_before = shed(family)
        body.finish(b'me": "x"}')
        answer = await late
        answer.problem(503, "busy")
        assert answer.headers["retry-after"] == "1"
        assert shed(family) == shed_before + 1
        app.release.set()
        assert (await held).status == 200
        assert bound.in_flight[family] == 0

    run(scenario)


class CountingApp(HeldApp):
    """Counts the requests that reached it."""

    calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        await super().__call__(scope, receive, send)


def test_a_whole_body_refused_never_reaches_the_app(family: str) -> None:
    async def scenario() -> None:
        app = CountingApp()
        bound = AdmissionBound(app, FAMILY_NAMES, limit=1)
        held = asyncio.create_task(call(bound, http_scope("GET", f"/{family}/held")))
        await until(lambda: bound.in_flight[family] == 1)
        whole = StalledBody(parts=())
        whole.finish(b'{"name": "x"}')
        (await call(bound, body_scope("POST", family), whole)).problem(503, "busy")
        assert app.calls == 1, "only the held request reached the app"
        app.release.set()
        assert (await held).status == 200
        again = StalledBody(parts=())
        again.finish(b'{"name": "x"}')
        assert (await call(bound, body_scope("POST", family), again)).status == 200
        assert bound.in_flight[family] == 0

    run(scenario)


class FailingApp(HeldApp):
    """Fails a PATCH once it has read its whole body."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "PATCH":
            await super().__call__(scope, receive, send)
            return
        while (await receive()).get("more_body", False):
            pass
        msg = "the handler failed"
        raise RuntimeError(msg)


@pytest.mark.parametrize("ending", ["disconnect", "exception", "answered"])
def test_every_place_taken_is_given_back(family: str, ending: str) -> None:
    async def scenario() -> None:
        bound = AdmissionBound(FailingApp() if ending == "exception" else HeldApp(), FAMILY_NAMES, limit=1)
        body = StalledBody()
        request = asyncio.create_task(call(bound, body_scope("PATCH", family), body))
        await until(lambda: body.awaited)
        if ending == "disconnect":
            body.disconnect()
        else:
            body.finish(b'me": "x"}')
        if ending == "exception":
            with pytest.raises(RuntimeError):
                await request
        else:
            await request
        assert bound.in_flight[family] == 0
        assert (await call(bound, http_scope("GET", f"/{family}/order/1"))).status == 200

    run(scenario)


def body_scope(method: str, family: str) -> HTTPScope:
    """A POST or PATCH of `family` announcing a 100-byte JSON body."""
    path = f"/{family}/contact" if method == "POST" else f"/{family}/contact/1"
    return http_scope(method, path, [("content-type", "application/json"), ("content-length", "100")])


def shed(family: str) -> float:
    return REGISTRY.get_sample_value("sale_orders_requests_shed_total", {"family": family}) or 0.0
