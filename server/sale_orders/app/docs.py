"""Swagger UI 5 at /docs, fully offline: its assets come from the installed `openapi_ui_bundles`, not a CDN.

Routes (none of them in the OpenAPI document):
    /docs                           the Swagger UI page
    /docs/swagger-initializer.js    starts Swagger UI on /openapi.json
    /docs/assets/...                the vendored Swagger UI files
    /openapi.json                   the OpenAPI document (the same as Litestar's /schema/openapi.json)
"""

from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Router, get
from litestar.datastructures import ResponseHeader
from litestar.enums import MediaType, OpenAPIMediaType
from litestar.static_files import create_static_files_router
from openapi_ui_bundles.swagger_ui import static_path as swagger_ui_path

from sale_orders.app.openapi_document import served_document

ASSETS_PATH = "/docs/assets"
SPEC_PATH = "/openapi.json"

# Swagger UI sets inline style attributes and uses data: images in its CSS; everything else is same-origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    ResponseHeader(name="Content-Security-Policy", value=CONTENT_SECURITY_POLICY),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Referrer-Policy", value="no-referrer"),
]

# No top bar (it loads any URL typed into it) and no validator badge (it calls validator.swagger.io).
INITIALIZER = f"""window.ui = SwaggerUIBundle({{
  url: "{SPEC_PATH}",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  displayOperationId: true,
  validatorUrl: null,
}});
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-initializer.js"></script>
</body>
</html>
"""


@get("/docs", media_type=MediaType.HTML, sync_to_thread=False)
def docs_page(request: Request[Any, Any, Any]) -> str:
    """The Swagger UI page, titled after the API."""
    return PAGE.format(title=escape(request.app.openapi_schema.info.title), assets=ASSETS_PATH)


@get("/docs/swagger-initializer.js", media_type="text/javascript", sync_to_thread=False)
def docs_initializer() -> str:
    return INITIALIZER


@get(SPEC_PATH, media_type=OpenAPIMediaType.OPENAPI_JSON, sync_to_thread=False)
def openapi_json(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The app's OpenAPI document, where Swagger UI and clients expect it."""
    return served_document(request.app)


docs = Router(
    path="/",
    route_handlers=[
        docs_page,
        docs_initializer,
        openapi_json,
        create_static_files_router(path=ASSETS_PATH, directories=[Path(swagger_ui_path)], name="docs-assets"),
    ],
    include_in_schema=False,
    response_headers=SECURITY_HEADERS,
)
