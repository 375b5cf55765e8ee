"""A developer of a court's system reads a service's API documentation in a browser on a
network closed to the internet: every request to another origin is cut off, and both pages
still show the API, with nothing refused by their policies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Route, expect

from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e


async def test_the_api_documentation_works_without_the_internet(
    stack: RunningStack, browser: Browser, screenshots: Path
) -> None:
    base = stack.url("intake")
    page = await browser.new_page(viewport={"width": 1366, "height": 900})
    outside, problems = await _offline(page, base)

    await page.goto(f"{base}/docs")
    await expect(page.get_by_role("heading", name=re.compile("MLA intake"))).to_be_visible()
    await expect(page.get_by_text("/v1/requests/{request_id}/closure")).to_be_visible()
    submit = page.locator("#operations-requests-submit_v1_requests_post")
    await submit.get_by_role("button").first.click()  # opens the operation
    await expect(submit.get_by_text("Submit an assistance request.")).to_be_visible()
    await expect(submit.get_by_text("idempotency-key").first).to_be_visible()
    await page.screenshot(path=screenshots / "api-docs-swagger.png")

    await page.goto(f"{base}/redoc")
    await expect(page.get_by_role("heading", name=re.compile("MLA intake"))).to_be_visible()
    await expect(page.get_by_text("Submit an assistance request").first).to_be_visible()
    await page.screenshot(path=screenshots / "api-docs-redoc.png")

    assert outside == []
    assert problems == []


async def _offline(page: Page, base: str) -> tuple[list[str], list[str]]:
    """Cut off every request that leaves the service (recorded), and record script errors
    and console errors (a Content-Security-Policy refusal is one)."""
    outside: list[str] = []
    problems: list[str] = []

    async def cut_off(route: Route) -> None:
        outside.append(route.request.url)
        await route.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    await page.route(lambda url: not url.startswith(base) and not url.startswith("blob:"), cut_off)
    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return outside, problems
