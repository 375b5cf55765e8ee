"""The API documentation pages (`/docs`, `/redoc`), served whole by the service itself, each
with a Content-Security-Policy that allows exactly what the page loads.

The prosecution's networks are often closed to the internet, so nothing of either page comes
from elsewhere: Swagger UI's and ReDoc's scripts, style and icon are the files of the
`openapi-ui-bundles` package, served under `/docs/assets/` (FastAPI's own pages load them
from the jsDelivr CDN, their fonts from Google and their icon from fastapi.tiangolo.com, and
stay blank where those are out of reach). The policy allows only this origin, the page's one
inline script by its hash rather than 'unsafe-inline', and fetches of nothing but this
service's own OpenAPI document.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from pathlib import Path

import openapi_ui_bundles
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

ASSETS = "/docs/assets"
# What each page loads, by the name it is served under: (file, media type).
_FILES = {
    "swagger-ui-bundle.js": (openapi_ui_bundles.swagger_ui.static_path, "text/javascript"),
    "swagger-ui.css": (openapi_ui_bundles.swagger_ui.static_path, "text/css"),
    "favicon-32x32.png": (openapi_ui_bundles.swagger_ui.static_path, "image/png"),
    "redoc.standalone.js": (openapi_ui_bundles.redoc.static_path, "text/javascript"),
    "logo-mini.svg": (openapi_ui_bundles.redoc.static_path, "image/svg+xml"),
}
# ReDoc shows its maker's logo from their CDN, whatever its options: the package's copy is
# shown instead (a path relative to the page, `/redoc`, so that a proxy's prefix is kept).
_LOCAL_INSTEAD = {
    "redoc.standalone.js": (
        b"https://cdn.redoc.ly/redoc/logo-mini.svg",
        b"docs/assets/logo-mini.svg",
    )
}
# The files change only with the package: a browser may keep them for a day.
_ASSET_CACHE = "public, max-age=86400"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

_COMMON = {
    "default-src": "'none'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'none'",
}
# Both UIs set style attributes from script; blocking those would break the layout, and a
# style cannot run code.
SWAGGER_POLICY = _COMMON | {"script-src": "'self'", "style-src": "'self' 'unsafe-inline'"}
REDOC_POLICY = _COMMON | {
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "worker-src": "blob:",  # ReDoc searches in a web worker made from a blob
}


def content_security_policy(page: str, policy: dict[str, str]) -> str:
    """`policy` as a header value, its `script-src` extended by the hashes of `page`'s inline
    scripts."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    ]
    directives = policy | {"script-src": " ".join([policy["script-src"], *hashes])}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _page(response: HTMLResponse, policy: dict[str, str]) -> HTMLResponse:
    html = bytes(response.body).decode()
    response.headers["Content-Security-Policy"] = content_security_policy(html, policy)
    return response


@functools.cache
def _asset(name: str) -> tuple[bytes, str]:
    folder, media_type = _FILES[name]
    content = (Path(folder) / name).read_bytes()
    if name in _LOCAL_INSTEAD:
        remote, local = _LOCAL_INSTEAD[name]
        content = content.replace(remote, local)
    return content, media_type


def install_api_docs(app: FastAPI) -> None:
    """Serve `/docs` (Swagger UI), `/redoc` and what they load, with their own policies. The
    app must be made with `docs_url=None, redoc_url=None` so that FastAPI does not serve its
    own."""
    openapi_path = app.openapi_url or "/openapi.json"

    def rooted(request: Request, path: str) -> str:
        # Behind a proxy that serves the service under a prefix, the page's links carry it.
        root: str = request.scope.get("root_path", "")
        return root.rstrip("/") + path

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=rooted(request, openapi_path),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=rooted(request, f"{ASSETS}/swagger-ui-bundle.js"),
            swagger_css_url=rooted(request, f"{ASSETS}/swagger-ui.css"),
            swagger_favicon_url=rooted(request, f"{ASSETS}/favicon-32x32.png"),
        )
        return _page(page, SWAGGER_POLICY)

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=rooted(request, openapi_path),
            title=f"{app.title} - ReDoc",
            redoc_js_url=rooted(request, f"{ASSETS}/redoc.standalone.js"),
            redoc_favicon_url=rooted(request, f"{ASSETS}/favicon-32x32.png"),
            with_google_fonts=False,
        )
        return _page(page, REDOC_POLICY)

    @app.get(ASSETS + "/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name not in _FILES:
            raise HTTPException(404, f"no documentation asset {name!r}")
        content, media_type = _asset(name)
        return Response(content, media_type=media_type, headers={"Cache-Control": _ASSET_CACHE})
