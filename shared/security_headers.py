"""The headers every response carries so that a browser treats it as data, not as a page.

The API answers JSON to programs; none of it should ever be sniffed into HTML, framed by
another site, leak its URL in a `Referer`, or be kept by a shared cache (the answers carry
case data). The only HTML is the API documentation, which sets its own Content-Security-Policy
(see `api_docs.py`); this middleware leaves a policy a response already has in place.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Nothing may be loaded by, or frame, a JSON answer (OWASP REST Security Cheat Sheet).
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def secure(headers: MutableHeaders) -> None:
    """Add the security headers to a response's headers, keeping those it set itself."""
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value
    headers.setdefault("Content-Security-Policy", API_CONTENT_SECURITY_POLICY)
    headers.setdefault("Cache-Control", "no-store")


class SecurityHeadersMiddleware:
    """Add `SECURITY_HEADERS`, a CSP and `Cache-Control: no-store` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                secure(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_secured)
