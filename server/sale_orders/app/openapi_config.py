"""The OpenAPI document's settings: title, tags, security schemes, and an operationId per family."""

from typing import Any

from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, Tag
from litestar.types import Method

from sale_orders.app.openapi_document import ServedJsonRenderPlugin
from sale_orders.family.record import FAMILIES, FAMILY_NAMES
from sale_orders.web.auth import SECURITY_SCHEMES

TITLE = "Sale Orders API"
VERSION = "1.0.0"
DESCRIPTION = (
    "The same Sale Orders API twice: `/sync/...` runs plain `def` handlers in a thread pool over psycopg2, "
    "`/async/...` runs `async def` handlers on the event loop over asyncpg. Both families have the same "
    "schemas and return the same results. Errors are RFC 9457 problem details."
)


def operation_id(route_handler: Any, _method: Method, path_components: list[Any]) -> str:
    """`sync_create_order`, `async_create_order`, ...: the family, then the handler's name."""
    family = str(path_components[0]) if path_components else ""
    prefix = f"{family}_" if family in FAMILY_NAMES else ""
    return f"{prefix}{route_handler.handler_name}"


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        operation_id_creator=operation_id,
        use_handler_docstrings=False,
        # The docs UI is /docs (served offline); Litestar's own UIs under /schema would load from a CDN.
        render_plugins=[ServedJsonRenderPlugin()],
        create_examples=False,
        components=Components(security_schemes=SECURITY_SCHEMES),
        tags=[
            *(Tag(name=family.name, description=family.description) for family in FAMILIES),
            Tag(name="health", description="liveness and readiness"),
        ],
    )
