"""Real-browser checks in headless Chromium (Debian's, driven by Playwright): the published dashboard opens from
disk with every network request blocked and no console error; the served app requires a login and shows the
same dashboard."""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[1]
# All text on the page, including what Panel/Bokeh render inside (nested) shadow roots.
PAGE_TEXT = """() => { const out = [document.body.innerText];
  const walk = (root) => root.querySelectorAll('*').forEach(e => {
    if (e.shadowRoot) { out.push(e.shadowRoot.textContent); walk(e.shadowRoot); } });
  walk(document); return out.join(' '); }"""
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=ARGS)
        yield b
        b.close()


def open_page(browser, allow):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    problems = {"console": [], "blocked": [], "pageerror": []}
    page.on("console", lambda m: problems["console"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems["pageerror"].append(str(e)))

    def route(r):
        if allow(r.request.url):
            r.continue_()
        else:
            problems["blocked"].append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return context, page, problems


@pytest.mark.parametrize("lang, title, period", [("en", "Service quality — monthly report", "Oct 2026"),
                                                 ("zh", "服务质量月度报告", "2026年10月")])
def test_published_dashboard_offline(browser, published_reports, tmp_path, lang, title, period):
    reports, _ = published_reports
    path = reports / "2026-10" / f"dashboard_{lang}.html"
    summary = json.loads((reports / "2026-10" / "summary.json").read_text(encoding="utf-8"))
    context, page, problems = open_page(browser, lambda url: url.startswith(("file:", "data:", "blob:")))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_selector(f"text={title}", timeout=60_000)
    body = page.locator("body")
    page.wait_for_timeout(1500)
    text = page.evaluate(PAGE_TEXT)
    assert period in text
    if lang == "en":
        for section in summary["sections"].values():
            assert section["title"] in text, f"tab {section['title']!r} not shown"
    page.screenshot(path=str(tmp_path / f"dashboard_{lang}.png"), full_page=False)
    assert problems["blocked"] == [], f"the offline dashboard tried the network: {problems['blocked'][:5]}"
    assert problems["pageerror"] == [] and problems["console"] == [], problems
    assert body.is_visible()
    context.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    creds = tmp / "credentials.json"
    creds.write_text(json.dumps({"manager": "correct-horse-battery"}))
    os.chmod(creds, 0o600)
    port = free_port()
    log = open(tmp / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "sqc.cli", "serve", "--credentials", str(creds), "--port",
                             str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sqc serve exited: {(tmp / 'serve.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    else:
        pytest.fail("sqc serve did not start listening within 180 s")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_served_app_requires_login_and_shows_dashboard(browser, served_app, tmp_path):
    local = lambda url: url.startswith((served_app, "data:", "blob:"))  # noqa: E731
    context, page, problems = open_page(browser, local)
    page.goto(f"{served_app}/dashboard", wait_until="load")
    assert "login" in page.url, "the app must not be reachable without logging in"
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("load")
    assert "login" in page.url and "error" in page.url
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_selector("text=Service quality — monthly report · Oct 2026", timeout=240_000)
    # the period filter rebuilds the page for another month
    page.locator("select").first.select_option("2026-09")
    page.wait_for_selector("text=Service quality — monthly report · Sep 2026", timeout=240_000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(tmp_path / "served.png"))
    assert problems["pageerror"] == [], problems
    errors = [c for c in problems["console"] if "net::ERR_FAILED" not in c]
    assert errors == [], problems
    context.close()
