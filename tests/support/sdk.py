"""The generated SDK by family and mode: `sync_create_tag` or `async_create_tag`, blocking or asyncio.

Every operation is a module with `sync_detailed` (blocking) and `asyncio_detailed` functions; a test body
written once names the operation ("create_tag") and runs through the family and mode it is parametrised with.
Either client works: `Client`, or `AuthenticatedClient` for a server with API keys.
"""

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sale_orders_client import AuthenticatedClient, Client
from sale_orders_client.types import Response

MODES = ("blocking", "asyncio")


def operation(family: str, name: str) -> ModuleType:
    """The SDK module of operation `name` ("create_order") of `family`, e.g. `api.async_.async_create_order`."""
    package = "async_" if family == "async" else family
    return importlib.import_module(f"sale_orders_client.api.{package}.{family}_{name}")


@dataclass
class Sdk:
    """One family's operations through one SDK client, called blocking or with asyncio."""

    family: str
    client: Client | AuthenticatedClient
    use_asyncio: bool

    async def call(self, name: str, **kwargs: Any) -> Response[Any]:
        module = operation(self.family, name)
        if self.use_asyncio:
            response: Response[Any] = await module.asyncio_detailed(client=self.client, **kwargs)
        else:
            response = module.sync_detailed(client=self.client, **kwargs)
        return response

    async def expect(self, status: int, name: str, **kwargs: Any) -> Any:
        """The parsed body of operation `name`, which must answer `status`."""
        response = await self.call(name, **kwargs)
        assert response.status_code == status, (name, response.status_code, response.content[:500])
        return response.parsed
