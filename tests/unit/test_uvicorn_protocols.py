"""What web/uvicorn_protocols.py relies on in uvicorn is still there: fails when an upgrade changes it.

On a failure, read the upstream protocol's new code for the state the hook stood for, adapt
web/uvicorn_protocols.py, run tests/unit/test_request_bounds.py and tests/live/test_transport_limits.py, and
update CHECKED_WITH and the module's docstring.
"""

import asyncio
import importlib.metadata
import inspect

import pytest
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from sale_orders.web.transport import RequestBounds
from sale_orders.web.uvicorn_protocols import (
    CHECKED_WITH,
    UPSTREAM,
    UPSTREAM_ATTRIBUTES,
    UPSTREAM_CYCLE_ATTRIBUTES,
    BoundedH11Protocol,
    BoundedHttpToolsProtocol,
)
from tests.support.raw_http import App, Connection, Protocol

BOUNDED: dict[type, Protocol] = {HttpToolsProtocol: BoundedHttpToolsProtocol, H11Protocol: BoundedH11Protocol}


def test_the_installed_versions_are_the_ones_checked() -> None:
    installed = {name: importlib.metadata.version(name) for name in CHECKED_WITH}
    assert installed == CHECKED_WITH, "re-check web/uvicorn_protocols.py against these versions (see this module)"


@pytest.mark.parametrize("upstream", UPSTREAM, ids=lambda cls: cls.__name__)
def test_each_method_used_has_the_signature_it_was_checked_with(upstream: type) -> None:
    for name, parameters in UPSTREAM[upstream].items():
        method = getattr(upstream, name, None)
        assert callable(method), f"{upstream.__name__}.{name} is gone"
        assert tuple(inspect.signature(method).parameters)[1:] == parameters, f"{upstream.__name__}.{name}"


@pytest.mark.parametrize("upstream", UPSTREAM, ids=lambda cls: cls.__name__)
def test_every_override_is_listed(upstream: type) -> None:
    bounded = BOUNDED[upstream]
    overridden = {
        name
        for cls in bounded.__mro__[: bounded.__mro__.index(upstream)]
        for name, member in vars(cls).items()
        if callable(member) and name in vars(upstream)
    }
    assert overridden <= set(UPSTREAM[upstream]), "an override of uvicorn's not listed in UPSTREAM"
    assert issubclass(bounded, RequestBounds)
    assert bounded.__mro__.index(RequestBounds) < bounded.__mro__.index(upstream)


@pytest.mark.parametrize("upstream", UPSTREAM, ids=lambda cls: cls.__name__)
def test_the_state_read_is_there_during_a_request(upstream: type) -> None:
    async def scenario() -> None:
        connection = Connection(BOUNDED[upstream], App(), header_bytes=16 * 1024)
        for name in UPSTREAM_ATTRIBUTES[upstream]:
            assert hasattr(connection.protocol, name), name
        assert isinstance(connection.protocol.server_state.default_headers, list)
        await connection.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab")
        cycle = connection.protocol.cycle
        for name in UPSTREAM_CYCLE_ATTRIBUTES:
            assert hasattr(cycle, name), name
        assert isinstance(cycle.message_event, asyncio.Event)
        assert (cycle.response_started, cycle.response_complete, cycle.disconnected) == (False, False, False)

    asyncio.run(scenario())
