"""The SDK keeps the newest Consistency-Token its writes were answered with and sends it with its reads."""

import asyncio
from collections.abc import Callable

import httpx
import pytest
from attrs import evolve

from sale_orders_client import AuthenticatedClient
from sale_orders_client.api.async_ import async_get_contact, async_update_contact
from sale_orders_client.api.sync import sync_get_contact, sync_update_contact
from sale_orders_client.models import ContactUpdate

CONTACT = {"id": 1, "name": "Ann", "email": "ann@example.com"}
KEY = "an-api-key"


class Server:
    """Answers every PATCH with the next token of `tokens`, and records the token each GET carries."""

    def __init__(self, tokens: list[int]) -> None:
        self.tokens = list(tokens)
        self.sent: list[str | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.sent.append(request.headers.get("Consistency-Token"))
            return httpx.Response(200, json=CONTACT)
        return httpx.Response(200, json=CONTACT, headers={"Consistency-Token": str(self.tokens.pop(0))})


def sdk(server: Server, *, consistency: bool) -> AuthenticatedClient:
    client = AuthenticatedClient("http://api", token=KEY, httpx_args={"transport": httpx.MockTransport(server)})
    return client if consistency else evolve(client, consistency=None)


def blocking(server: Server, consistency: bool) -> None:
    writes = len(server.tokens)
    with sdk(server, consistency=consistency) as client:
        sync_get_contact.sync(1, client=client)
        for _ in range(writes):
            sync_update_contact.sync(1, client=client, body=ContactUpdate(name="Ann"))
            sync_get_contact.sync(1, client=client)


def asynchronous(server: Server, consistency: bool) -> None:
    writes = len(server.tokens)

    async def flow() -> None:
        async with sdk(server, consistency=consistency) as client:
            await async_get_contact.asyncio(1, client=client)
            for _ in range(writes):
                await async_update_contact.asyncio(1, client=client, body=ContactUpdate(name="Ann"))
                await async_get_contact.asyncio(1, client=client)

    asyncio.run(flow())


FLOWS: dict[str, Callable[[Server, bool], None]] = {"blocking": blocking, "asyncio": asynchronous}


@pytest.mark.parametrize("flow", FLOWS)
def test_reads_carry_the_newest_token_of_the_clients_writes(flow: str) -> None:
    server = Server([42, 40, 50])
    FLOWS[flow](server, True)
    # Nothing before the first write; then the newest token seen: an older one (40) does not replace 42.
    assert server.sent == [None, "42", "42", "50"]


@pytest.mark.parametrize("flow", FLOWS)
def test_without_consistency_reads_carry_no_token(flow: str) -> None:
    server = Server([42])
    FLOWS[flow](server, False)
    assert server.sent == [None, None]


def test_a_token_the_caller_gives_is_kept() -> None:
    server = Server([42])
    with sdk(server, consistency=True) as client:
        sync_update_contact.sync(1, client=client, body=ContactUpdate(name="Ann"))
        client.get_httpx_client().get("/sync/contact/1", headers={"Consistency-Token": "7"})
    assert server.sent == ["7"]
