"""The browser harness: Debian's Chromium driven by Playwright, and axe-core from npm.

Pages follow this pattern (tests/web/e2e): take ``page`` (a fresh context per test) and
``live_server``; sign in with :func:`sign_in`; call :func:`assert_accessible` on each page
they show. axe-core is evaluated through the DevTools protocol, so the app's CSP (no inline
script) stays exactly as in production.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def _require(path: Path, how: str) -> None:
    if path.exists():
        return
    message = f"{path} is missing ({how})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require(CHROMIUM, "apt-get install chromium; .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A new browser context (no cookies) at 1024 x 768, the clinic's tablet."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page."""
    _require(AXE, "run `npm ci`; the Makefile does")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def wider_than_the_window(page: Any) -> list[str]:
    """The elements that stick out past the window's right edge (a page wider than the
    tablet scrolls sideways: a column of a table slides out of sight). Content inside a
    scrolling region (``overflow-x: auto``) stays within the window and is not counted."""
    return list(
        page.evaluate(
            """() => {
            const width = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= width) return [];
            const out = [];
            for (const el of document.body.querySelectorAll('*')) {
                const r = el.getBoundingClientRect();
                if (r.right > width + 1 && !(el.parentElement && out.includes(el.parentElement)))
                    out.push(el);
            }
            return out.slice(0, 5).map(el => el.tagName.toLowerCase()
                + (el.className ? '.' + el.className : '') + ' '
                + Math.round(el.getBoundingClientRect().right) + ' px');
        }"""
        )
    )


def assert_accessible(page: Any) -> None:
    """axe-core finds no serious or critical violation, and the page fits the window's
    width (every page in these tests is shown at the tablet's 1024 px)."""
    found = axe_violations(page)
    summary = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in found]
    assert not found, f"axe-core on {page.url}: {summary}"
    wide = wider_than_the_window(page)
    assert not wide, f"{page.url} is wider than the window ({page.viewport_size}): {wide}"
