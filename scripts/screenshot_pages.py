"""Screenshot every page a person can reach, as each demo role, in English and 中文 (issue 12).

Run against a server with the demo data (`make demo`, or `manage.py rundemo --port 8765` on a private database):

    .venv/bin/python scripts/screenshot_pages.py --base-url http://127.0.0.1:8765 --tenant acme \
        --out /tmp/shots [--roles rep,manager,ops,cs,admin] [--langs en,zh-hans] [--width 1366 --height 768]

For each role it logs in as <role>@<tenant>.test (the published demo password), switches the language with the
top bar's switcher, then opens every entry of the sidebar, the first record linked from each list (a lead, an
account, a contact, a deal, a campaign, a subscription, an import), the search page, and a missing page (404);
each page is saved full-height as <out>/<role>/<lang>/<NN>-<page>.png. It writes <out>/report.json with, per
page: the HTTP status, the console errors, whether the page is wider than the window (a clipped table or an
unbroken name pushing the layout) and the tables that scroll sideways. Pages are cut at MAX_HEIGHT pixels.
To see long names wrap, give a lead, an account and a deal of the demo a 120-character name without a space
(LONG_NAME) before running it.

Uses Playwright with the system Chromium (/usr/bin/chromium); never `playwright install`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "demo-pass-1234"  # noqa: S105 -- the demo's published password (README, DESIGN.md)
MAX_HEIGHT = 1600  # a long list is cut there: the top shows the layout, and the files stay readable
LONG_NAME = "Ünbroken" + "X" * 104 + "名称结束ABCD"  # 120 characters, no space

# List pages whose first record link is opened too: (list path, CSS selector of a record link in it, name).
RECORD_LINKS = [
    ("leads/", 'a[href*="/leads/"][href$="/"]:not([href$="/leads/"])', "lead"),
    ("accounts/", 'a[href*="/accounts/"][href$="/"]:not([href$="/accounts/"])', "account"),
    ("contacts/", 'a[href*="/contacts/"][href$="/"]:not([href$="/contacts/"])', "contact"),
    ("deals/", 'a[href*="/deals/"][href$="/"]:not([href$="/deals/"])', "deal"),
    ("campaigns/", 'a[href*="/campaigns/"][href$="/"]:not([href$="/campaigns/"])', "campaign"),
    (
        "subscriptions/",
        'a[href*="/subscriptions/"][href$="/"]:not([href$="/subscriptions/"])',
        "subscription",
    ),
    ("imports/", 'a[href*="/imports/"][href$="/"]:not([href$="/imports/"])', "import"),
]
OVERFLOW_JS = """() => {
  const wide = document.documentElement.scrollWidth > window.innerWidth + 1;
  const tables = [...document.querySelectorAll('.table-responsive')]
    .filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => (el.querySelector('table') || el).getAttribute('data-testid') || el.id || 'table');
  return {wide, scrollWidth: document.documentElement.scrollWidth, tables};
}"""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "page"


def _log_in(page: Page, base: str, tenant: str, role: str) -> None:
    page.goto(f"{base}/login/?next=/t/{tenant}/")
    page.fill('input[name="username"]', f"{role}@{tenant}.test")
    page.fill('input[name="password"]', PASSWORD)
    page.click('form:has(input[name="password"]) button[type="submit"]')
    page.wait_for_selector('[data-testid="user-menu"]')


def _set_language(page: Page, lang: str) -> None:
    button = page.locator(f'[data-testid="language-switcher"] button[value="{lang}"]')
    if button.count():
        button.first.click()
        page.wait_for_load_state("networkidle")


def _shoot(page: Page, url: str, path: Path, errors: list[str]) -> dict[str, Any]:
    errors.clear()
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    path.parent.mkdir(parents=True, exist_ok=True)
    height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
    width = page.viewport_size["width"] if page.viewport_size else 1366
    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
    overflow = page.evaluate(OVERFLOW_JS)
    return {
        "url": url,
        "file": str(path),
        "status": response.status if response else None,
        "console_errors": list(errors),
        **overflow,
    }


def _pages_for(page: Page, base: str, tenant: str) -> list[tuple[str, str]]:
    """(name, URL) of every sidebar entry, then one record of each list the role can open."""
    page.goto(f"{base}/t/{tenant}/")
    links = page.eval_on_selector_all(
        "aside.app-sidebar a.nav-link", "els => els.map(a => [a.textContent.trim(), a.getAttribute('href')])"
    )
    pages = [(f"nav-{_slug(href)}", href) for _label, href in links]
    seen = {href for _name, href in pages}
    for list_path, selector, name in RECORD_LINKS:
        list_url = f"/t/{tenant}/{list_path}"
        if list_url not in seen:
            continue
        page.goto(f"{base}{list_url}")
        hrefs = page.eval_on_selector_all(f"main {selector}", "els => els.map(a => a.getAttribute('href'))")
        record = next((h for h in hrefs if re.search(r"/\d+/$", h or "")), None)
        if record:
            pages.append((f"record-{name}", record))
    pages.append(("search", f"/t/{tenant}/search/?q=a"))
    pages.append(("settings-tokens", f"/t/{tenant}/api-tokens/"))
    pages.append(("error-404", f"/t/{tenant}/no-such-page/"))
    return pages


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    report: list[dict[str, Any]] = []
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        for role in args.roles.split(","):
            for lang in args.langs.split(","):
                context = browser.new_context(
                    viewport={"width": args.width, "height": args.height},
                    locale="zh-CN" if lang.startswith("zh") else "en-GB",
                )
                page = context.new_page()
                errors: list[str] = []
                page.on(
                    "console",
                    lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None,
                )
                page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
                _log_in(page, args.base_url, args.tenant, role)
                _set_language(page, lang)
                for index, (name, href) in enumerate(_pages_for(page, args.base_url, args.tenant), start=1):
                    path = out / role / lang / f"{index:02d}-{name}.png"
                    entry = _shoot(page, f"{args.base_url}{href}", path, errors)
                    entry.update(role=role, lang=lang, page=name)
                    report.append(entry)
                    flags = []
                    if entry["status"] != 200 and name != "error-404":
                        flags.append(f"status {entry['status']}")
                    if entry["wide"]:
                        flags.append(f"page {entry['scrollWidth']}px wide")
                    if entry["tables"]:
                        flags.append(f"tables scroll: {entry['tables']}")
                    if entry["console_errors"]:
                        flags.append(f"console: {entry['console_errors'][:2]}")
                    sys.stdout.write(
                        f"{role}/{lang}/{path.name}{'  ! ' + '; '.join(flags) if flags else ''}\n"
                    )
                context.close()
        browser.close()
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--tenant", default="acme")
    parser.add_argument("--out", required=True)
    parser.add_argument("--roles", default="rep,manager,ops,cs,admin")
    parser.add_argument("--langs", default="en,zh-hans")
    parser.add_argument("--width", type=int, default=1366)
    parser.add_argument("--height", type=int, default=768)
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
