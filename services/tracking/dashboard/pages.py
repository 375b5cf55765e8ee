"""Serves the dashboard: the page at `/dashboard`, its assets under `/dashboard/static/`.

The page and its assets are open, like `/docs`: they are the same for everyone and carry
no data (every figure comes from the API, with the signed-in operator's token). They are
plain Starlette routes rather than API routes, so that the access rule every API route must
declare (shared/auth) stays a rule about data.

The page's Content-Security-Policy allows scripts, styles, fonts and images from this
origin only, and requests to this origin only: no inline script or style, no CDN, no form
that posts anywhere (the sign-in form is handled by script and never submitted).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
PAGE = "/dashboard"
ASSETS = "/dashboard/static"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


class _Assets(StaticFiles):
    """Static files that the browser revalidates (ETag) instead of keeping stale copies
    after an upgrade, or none at all (the default of every other answer is `no-store`)."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


@cache
def _page() -> str:
    return (STATIC / "index.html").read_text(encoding="utf-8")


async def page(request: Request) -> Response:
    return HTMLResponse(
        _page(),
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"},
    )


async def to_page(request: Request) -> Response:
    return RedirectResponse(PAGE, status_code=308)


def install(app: FastAPI) -> None:
    """Serve the dashboard on `app`."""
    app.add_route(PAGE, page, methods=["GET"], include_in_schema=False)
    app.add_route(f"{PAGE}/", to_page, methods=["GET"], include_in_schema=False)
    app.mount(ASSETS, _Assets(directory=STATIC), name="dashboard-assets")
