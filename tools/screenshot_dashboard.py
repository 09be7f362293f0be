#!/usr/bin/env python3
"""Screenshots of a published dashboard, as a manager sees it: the top of the page and every tab, in each language.

    python tools/screenshot_dashboard.py reports/2026-10 --out /tmp/shots          # 1440x900, en and zh

Drives Debian's Chromium (``/usr/bin/chromium``) headless through Playwright with every request that is not
``file:``, ``data:`` or ``blob:`` blocked, as an offline reader would open the page. Writes
``<lang>_00_top.png`` and ``<lang>_<nn>_<tab>.png`` per tab, and prints any blocked request or console error.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "_", text, flags=re.UNICODE).strip("_")[:40] or "tab"


def shoot(period_dir: Path, out: Path, langs: list[str], width: int, height: int, chromium: str) -> int:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    problems = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        for lang in langs:
            page_path = period_dir / f"dashboard_{lang}.html"
            if not page_path.exists():
                print(f"{page_path}: not found", file=sys.stderr)
                problems += 1
                continue
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.set_default_timeout(180_000)  # a slow machine: wait for readiness, not a fixed time
            blocked, errors = [], []
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
                ("file:", "data:", "blob:")) else (blocked.append(route.request.url), route.abort()))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(page_path.as_uri(), wait_until="load")
            tabs = page.locator(".bk-tab")
            tabs.first.wait_for()
            page.wait_for_timeout(1000)
            page.screenshot(path=str(out / f"{lang}_00_top.png"))
            for i in range(tabs.count()):
                tab = tabs.nth(i)
                name = tab.inner_text()
                tab.click()
                page.wait_for_function("(el) => el.classList.contains('bk-active')", arg=tab.element_handle())
                page.wait_for_timeout(800)
                tab.scroll_into_view_if_needed()
                page.screenshot(path=str(out / f"{lang}_{i + 1:02d}_{_slug(name)}.png"), full_page=True)
            for url in blocked:
                print(f"{lang}: blocked request {url}", file=sys.stderr)
            for text in errors:
                print(f"{lang}: console error {text}", file=sys.stderr)
            problems += len(blocked) + len(errors)
            context.close()
        browser.close()
    print(f"screenshots in {out}")
    return 1 if problems else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("period_dir", type=Path, help="a published month, e.g. reports/2026-10")
    p.add_argument("--out", type=Path, default=Path("screenshots"))
    p.add_argument("--lang", default="en,zh")
    p.add_argument("--width", type=int, default=1440)
    p.add_argument("--height", type=int, default=900)
    p.add_argument("--chromium", default="/usr/bin/chromium")
    a = p.parse_args(argv)
    return shoot(a.period_dir.resolve(), a.out, a.lang.split(","), a.width, a.height, a.chromium)


if __name__ == "__main__":
    sys.exit(main())
