"""Browser tests: Chromium, Playwright, axe-core, and the live server."""

from browser_helpers import browser, page  # noqa: F401 - fixtures
