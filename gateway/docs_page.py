"""``/docs``: Swagger UI over ``/openapi.json``, from the ``swagger-ui-bundle`` package.

The package ships Swagger UI's built files; the gateway serves the few the page needs under
``/docs/`` (``ASSETS``), so the page needs no CDN and works on a machine without internet.
Swagger UI renders every operation with its description, parameters, schemas and example
request body (from the proto comments), and *Try it out* sends the request to the gateway
itself (the document's ``servers``); *Authorize* takes an API key for the ``Authorization:
Bearer`` header. Every URL in the page is relative, so it works behind a path prefix too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

#: The static files the page loads, served at ``/docs/<name>``.
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png")
ASSET_DIR = Path(str(swagger_ui_path))

#: Swagger UI's settings: deep links (``/docs#/MatchService/MatchService_Match`` opens that
#: operation), request durations shown, and the API key kept only for the page's lifetime.
DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>volunteer-matcher HTTP/JSON API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
<link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="docs/favicon-16x16.png" sizes="16x16">
<style>body { margin: 0; }</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  displayRequestDuration: true,
  persistAuthorization: false,
  defaultModelsExpandDepth: 0,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
});
</script>
</body>
</html>
"""


async def docs_page(_: Request) -> Response:
    """The page."""
    return HTMLResponse(DOCS_HTML)


def asset_routes() -> list[Route]:
    """One GET route per file of ``ASSETS``, at ``/docs/<name>``."""

    def endpoint(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def asset(_: Request) -> Response:
            return FileResponse(ASSET_DIR / name)

        return asset

    return [Route(f"/docs/{name}", endpoint(name), methods=["GET"]) for name in ASSETS]
