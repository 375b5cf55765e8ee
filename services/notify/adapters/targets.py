"""Resolving a webhook target and checking every address it resolves to, now."""

from __future__ import annotations

import asyncio
import socket

from services.notify.domain.errors import TargetRefusedError
from services.notify.domain.targets import Target, check_addresses, parse_target


class TargetGuard:
    """Refuses targets outside the public internet unless `allow_private`."""

    def __init__(self, *, allow_private: bool, timeout: float = 5.0) -> None:
        self._allow_private = allow_private
        self._timeout = timeout

    async def check(self, url: str) -> tuple[Target, list[str]]:
        """The target of `url` and the checked addresses to connect to."""
        target = parse_target(url)
        addresses = await self._resolve(target)
        return target, check_addresses(target, addresses, allow_private=self._allow_private)

    async def _resolve(self, target: Target) -> list[str]:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM),
                self._timeout,
            )
        except (OSError, TimeoutError) as exc:
            raise TargetRefusedError(f"{target.host} does not resolve: {exc}") from exc
        return list(dict.fromkeys(str(info[4][0]) for info in infos))
