"""The operators' dashboard in a real browser, against the four running services: sign in
with a token, read the overview, watch a request submitted through the API appear without
a reload, filter the list, open the request, switch the language. Each step leaves a
screenshot in artifacts/dashboard/."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Route, expect

from tests.support.api import Client, a_request
from tests.support.auth import bearer, token
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e

# A laptop's screen.
VIEWPORT = {"width": 1366, "height": 768}
PAST = "2026-01-05T09:00:00+00:00"


async def test_an_operator_follows_a_new_request_live_and_in_both_languages(
    stack: RunningStack, browser: Browser, screenshots: Path
) -> None:
    base = stack.url("tracking")
    context = await browser.new_context(viewport=VIEWPORT, locale="en-GB")
    page = await context.new_page()
    problems = _watch_for_problems(page, base)

    await page.goto(f"{base}/dashboard")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.get_by_role("link", name="Requests")).to_be_hidden()  # nothing before
    await page.screenshot(path=screenshots / "01-sign-in.png", full_page=True)
    await page.keyboard.press("Tab")  # the first stop is the link past the header
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    # An executing office's token is refused with a reason, and nothing opens.
    await _sign_in(page, token("office"))
    await expect(page.get_by_role("alert")).to_contain_text("operators, auditors")
    await expect(page.get_by_role("heading", name="Overview")).to_be_hidden()

    # By keyboard: from the token field, the button is next.
    await page.get_by_label("Access token").fill(token("operator"))
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    await expect(page.get_by_text("Signed in as operator")).to_be_visible()
    await expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_focused()
    await expect(page.get_by_role("link", name=re.compile("Waiting for routing"))).to_be_visible()
    await expect(page.get_by_role("heading", name="Audit chain")).to_be_visible()
    await expect(page.locator("#live-state")).to_contain_text("Live")
    await page.screenshot(path=screenshots / "02-overview.png", full_page=True)

    await page.get_by_role("link", name="Requests", exact=True).click()
    await expect(page.get_by_role("heading", name="Requests", exact=True)).to_be_visible()
    await page.evaluate("window.loadedOnce = true")  # gone if the page reloads

    async with httpx.AsyncClient(timeout=15, headers=bearer("operator")) as http:
        client = Client(stack, http)
        body = a_request()
        response = await client.submit(body)
        assert response.status_code == 201, response.text
        created = response.json()
        reference = created["domestic_reference"]

        row = page.locator("#requests-body tr", has_text=reference)
        await expect(row).to_be_visible(timeout=20_000)
        assert await page.evaluate("window.loadedOnce") is True
        await client.until_tracked(created["id"], "routed")
    await expect(row).to_contain_text("In execution", timeout=20_000)
    await page.screenshot(path=screenshots / "03-appeared-live.png", full_page=True)

    foreign = body["requesting_authority"]["reference"]
    await page.get_by_label("Search references or authority").fill(foreign)
    await page.get_by_role("checkbox", name="In execution").check()
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page).to_have_url(re.compile(r"#/requests\?.*status=routed"))
    await expect(page.locator("#requests-body tr")).to_have_count(1)
    await expect(page.locator("#requests-body tr").first).to_contain_text(reference)
    await page.screenshot(path=screenshots / "04-filtered.png", full_page=True)

    # An overdue request turns visibly urgent. No deadline passes within a test, so the
    # overview's answer names this request overdue, as it will once one of its deadlines has.
    async def overdue(route: Route) -> None:
        response = await route.fetch()
        overview = await response.json()
        overview["overdue"] += 1
        overview["overdue_requests"].insert(
            0, {"request_id": created["id"], "domestic_reference": reference, "due": PAST}
        )
        await route.fulfill(response=response, json=overview)

    await page.route("**/v1/overview", overdue)
    await page.get_by_role("link", name="Overview", exact=True).click()
    await expect(page.locator("#overdue-list li", has_text=reference)).to_contain_text("Overdue")
    await expect(page.locator(".card.urgent")).to_contain_text("1")
    await page.screenshot(path=screenshots / "05-overdue-overview.png", full_page=True)
    await page.go_back()
    await expect(page.locator("#requests-body tr.urgent-row")).to_contain_text("Overdue")
    await page.screenshot(path=screenshots / "06-overdue-row.png", full_page=True)
    # The dashboard refreshes its overview on its own: one may be on its way through the
    # handler now, and it need not finish once the handler is gone.
    await page.unroute_all(behavior="ignoreErrors")

    await page.get_by_role("link", name=reference).click()
    await expect(page.get_by_role("heading", name=f"Request {reference}")).to_be_visible()
    detail = page.locator("#detail-body")
    await expect(detail.get_by_role("heading", name="Parties")).to_be_visible()
    await expect(detail).to_contain_text(body["requesting_authority"]["name"])
    await expect(detail).to_contain_text("Subotica")  # a measure's place
    await expect(detail).to_contain_text("vjt-subotica")  # an assignment's office
    await expect(detail).to_contain_text("vjt-novi-sad")
    await expect(detail.get_by_role("heading", name="Deadlines")).to_be_visible()
    await expect(detail.locator("table", has_text="Basis")).to_be_visible()
    timeline = detail.locator("ol.timeline li")
    await expect(timeline.first).to_contain_text("Received")
    await expect(timeline).to_have_count(2)
    await page.screenshot(path=screenshots / "07-detail.png", full_page=True)

    await page.get_by_label("Language").select_option("sr")
    await expect(page.get_by_role("heading", name=f"Zamolnica {reference}")).to_be_visible()
    await expect(page.get_by_role("link", name="Pregled")).to_be_visible()
    await expect(detail.get_by_role("heading", name="Rokovi")).to_be_visible()
    await page.screenshot(path=screenshots / "08-serbian.png", full_page=True)

    # The choice is remembered, and so is the sign-in, for as long as the tab lives.
    await page.reload()
    await expect(page.get_by_role("heading", name=f"Zamolnica {reference}")).to_be_visible()
    await page.get_by_role("link", name="Pregled").click()
    await expect(page.get_by_role("heading", name="Pregled", exact=True)).to_be_visible()
    await page.screenshot(path=screenshots / "09-pregled.png", full_page=True)

    await page.get_by_role("button", name="Odjavi se").click()
    await expect(page.get_by_role("heading", name="Prijava")).to_be_visible()
    await context.close()
    assert problems == [], problems


async def _sign_in(page: Page, bearer_token: str) -> None:
    field = page.get_by_label(re.compile("Access token|Pristupni token"))
    await field.fill(bearer_token)
    await page.get_by_role("button", name=re.compile("^(Sign in|Prijavi se)$")).click()


def _watch_for_problems(page: Page, base: str) -> list[str]:
    """Script errors, console errors (a CSP violation is one), failed loads, and any
    request to another origin: the dashboard must work with nothing but its service."""
    found: list[str] = []

    def console(message: ConsoleMessage) -> None:
        # The refusals the test provokes on purpose answer 401/403: not a problem.
        if message.type == "error" and not re.search(r"status of 40[13]", message.text):
            found.append(f"console: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith(base)
            else found.append(f"request to another origin: {request.url}")
        ),
    )
    return found
