"""Playwright (sync API) driving Debian's chromium against pytest-django's live server.

Never `playwright install`: the browser is the system package at /usr/bin/chromium. Every browser test runs with
`transactional_db` (the live server answers from another thread, so it must see committed rows) and can save
one screenshot per journey step into test-artifacts/<test name>/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
VIEWPORT = {"width": 1280, "height": 900}

expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def live_url(live_server, transactional_db, settings) -> str:  # type: ignore[no-untyped-def]
    """The live server's base URL; absolute links the app builds (invitations) point at it too."""
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def new_context(browser: Browser, live_url: str) -> Iterator[Callable[..., BrowserContext]]:
    """new_context(**options) -> a fresh browser context (own cookies: another person), closed after the test."""
    contexts: list[BrowserContext] = []

    def _new_context(**options: object) -> BrowserContext:
        options = {"base_url": live_url, "viewport": VIEWPORT, "locale": "en-US", **options}
        context = browser.new_context(**options)  # type: ignore[arg-type]
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield _new_context
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context().new_page()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """screenshot(page, "step name") saves test-artifacts/<test>/<NN>-<step-name>.png (numbered in order)."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    if folder.exists():
        for old in folder.glob("*.png"):
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def _screenshot(page: Page, step: str) -> Path:
        path = folder / f"{next(counter):02d}-{re.sub(r'[^a-z0-9]+', '-', step.lower()).strip('-')}.png"
        # caret="initial": hiding the caret (Playwright's default) leaves an empty style="" on every input, which
        # htmx copies onto swapped-in inputs: a CSP violation in the console that the app never caused.
        page.screenshot(path=str(path), full_page=True, caret="initial")
        return path

    return _screenshot
