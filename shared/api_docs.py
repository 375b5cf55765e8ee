"""The API documentation pages (`/docs`, `/redoc`), each with a Content-Security-Policy that
allows exactly what the page loads.

FastAPI's pages load Swagger UI and ReDoc from the jsDelivr CDN (no installed package ships
their assets), start them with one inline script, and show a favicon from fastapi.tiangolo.com.
The policy names those origins, allows the inline script by its hash rather than
'unsafe-inline', and lets the page fetch nothing but this service's own OpenAPI document.
Where the CDN is out of reach (an isolated network), the pages stay blank; the OpenAPI
document itself (`/openapi.json`) is what client systems use.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

CDN = "https://cdn.jsdelivr.net"
FAVICON = "https://fastapi.tiangolo.com"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

_COMMON = {
    "default-src": "'none'",
    "img-src": f"'self' data: {FAVICON}",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'none'",
}
# Both UIs set style attributes from script; blocking those would break the layout, and a
# style cannot run code.
SWAGGER_POLICY = _COMMON | {"script-src": CDN, "style-src": f"{CDN} 'unsafe-inline'"}
REDOC_POLICY = _COMMON | {
    "script-src": CDN,
    "style-src": "https://fonts.googleapis.com 'unsafe-inline'",
    "font-src": "https://fonts.gstatic.com",
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


def install_api_docs(app: FastAPI) -> None:
    """Serve `/docs` (Swagger UI) and `/redoc` with their own policies. The app must be made
    with `docs_url=None, redoc_url=None` so that FastAPI does not serve its own."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url=openapi_url, title=f"{app.title} - Swagger UI")
        return _page(page, SWAGGER_POLICY)

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(openapi_url=openapi_url, title=f"{app.title} - ReDoc")
        return _page(page, REDOC_POLICY)
