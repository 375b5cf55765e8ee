"""An instance that has more requests in hand than it can work on refuses the next ones.

Past its capacity a service does not answer more a second by taking more in: every request
it takes waits behind the others, all of them get slower together, and callers that time
out send them again on top. So each instance holds at most `<P>MAX_REQUESTS_IN_FLIGHT`
requests at once and answers the next with 503 and `Retry-After` at once, having read
nothing of it: the caller (or the load balancer, to another instance) retries, and the
requests in hand keep their pace. The health probes and the metrics are never refused: an
instance busy at its limit is alive and ready, and its operators must see it is shedding
(`mla_http_requests_shed_total`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.metrics import REQUESTS_SHED
from shared.problems import problem_response

# Paths never refused for being busy: what the orchestrator and the monitoring ask.
NEVER_SHED = ("/health/", "/metrics")
# Seconds a refused caller is asked to wait: a request in flight takes milliseconds.
RETRY_AFTER_SECONDS = 1


class LoadSheddingMiddleware:
    """503 for a request that arrives while `most` others are in hand."""

    def __init__(self, app: ASGIApp, *, most: int) -> None:
        self.app = app
        self.most = most
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(NEVER_SHED):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.most:
            REQUESTS_SHED.inc()
            response = problem_response(
                503,
                "service-busy",
                "Service busy",
                f"This instance has {self.most} requests in hand, its limit; nothing of this "
                f"one was read or stored. Retry after {RETRY_AFTER_SECONDS} s.",
                Request(scope),
            )
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            await response(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
