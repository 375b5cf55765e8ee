"""The dashboard's assets: both languages complete, every text the page and its scripts
name translated, nothing loaded from another origin, nothing inline that a strict
Content-Security-Policy would block, and the page served under that policy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from services.tracking.dashboard.pages import STATIC
from tests.support.routes import service_app

LANGUAGES = ("en", "sr")
SCRIPTS = sorted((STATIC / "js").glob("*.js"))
PAGE = STATIC / "index.html"


def dictionary(language: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((STATIC / "i18n" / f"{language}.json").read_text())
    return loaded


def test_every_key_is_translated_in_both_languages() -> None:
    english, serbian = dictionary("en"), dictionary("sr")
    assert sorted(english) == sorted(serbian)
    assert [k for k, text in {**english, **serbian}.items() if not text.strip()] == []


def test_every_text_the_page_and_its_scripts_name_has_a_translation() -> None:
    keys = dictionary("en").keys()
    groups = {key.split(".")[0] for key in keys}
    named = set(re.findall(r'data-i18n(?:-[a-z-]+)?="([^"]+)"', PAGE.read_text()))
    for script in SCRIPTS:
        literals = re.findall(r'"([a-z_]+(?:\.[a-z0-9_]+)+)"', script.read_text())
        named |= {literal for literal in literals if literal.split(".")[0] in groups}
    assert len(named) > 100
    assert sorted(named - keys) == []


@pytest.mark.parametrize("asset", [PAGE, STATIC / "css" / "dashboard.css", *SCRIPTS], ids=str)
def test_nothing_is_loaded_from_another_origin(asset: Path) -> None:
    text = asset.read_text()
    # The SVG namespace is a name, not a request.
    assert (
        re.findall(
            r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text.replace("http://www.w3.org/2000/svg", "")
        )
        == []
    )


def test_the_page_has_no_inline_script_or_style() -> None:
    page = PAGE.read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert "<style" not in page
    assert re.findall(r"\sstyle=", page) == []
    assert re.findall(r"\son[a-z]+=", page) == []


async def dashboard(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=service_app("tracking"))
    async with httpx.AsyncClient(transport=transport, base_url="http://tracking") as http:
        return await http.get(path)


async def test_the_page_is_served_under_a_policy_that_allows_only_its_own_origin() -> None:
    response = await dashboard("/dashboard")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/dashboard/static/js/main.js", "text/javascript"),
        ("/dashboard/static/css/dashboard.css", "text/css"),
        ("/dashboard/static/i18n/sr.json", "application/json"),
    ],
)
async def test_the_assets_are_served_without_a_token(path: str, content_type: str) -> None:
    response = await dashboard(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    assert response.headers["cache-control"] == "no-cache"  # revalidated, never stale


async def test_the_data_is_not_served_without_a_token() -> None:
    for path in ("/v1/overview", "/v1/events/stream"):
        assert (await dashboard(path)).status_code == 401
