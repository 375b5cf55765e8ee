"""A real browser for the dashboard's tests: Debian's headless Chromium driven by
Playwright (`make browser` installs it; Playwright's own browser download is not used).

A browser that cannot start fails the test rather than skipping it: a dashboard nobody
could open is not a dashboard that passed.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.conftest import ARTIFACTS

CHROMIUM = Path(os.environ.get("MLA_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ARTIFACTS / "dashboard"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser` (or set MLA_TEST_CHROMIUM)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            # Chromium's sandbox refuses to start as root (CI runs as root).
            args=["--no-sandbox"] if os.geteuid() == 0 else [],
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
