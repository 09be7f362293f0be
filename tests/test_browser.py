"""Real-browser checks in headless Chromium (Debian's, driven by Playwright): the published dashboard opens from
disk with every network request blocked and no console error; the served app requires a login and shows the
same dashboard."""
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[1]
PAGE_LIMIT_BYTES = 2_500_000  # each published dashboard page (e-mailed)
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
    # every tab switches (the tab strip is Bokeh's, inside Panel's shadow roots; Playwright's CSS pierces them)
    tabs = page.locator(".bk-tab")
    assert tabs.count() == len(summary["sections"]) + 1  # + data quality
    for i in reversed(range(tabs.count())):
        tabs.nth(i).click()
        page.wait_for_function("(el) => el.classList.contains('bk-active')", arg=tabs.nth(i).element_handle(),
                               timeout=10_000)
    # the "did our fixes work?" section renders in both languages: its tab shows every intervention and a verdict
    from sqc.report.context import translate

    fixes = page.locator(".bk-tab", has_text=translate("interventions.title", lang))
    fixes.click()
    verdict = translate("interventions.verdict_effective", lang)
    deadline = time.time() + 120
    while time.time() < deadline:
        shown = page.evaluate(PAGE_TEXT)
        if all(i in shown for i in ("INT-01", "INT-02", "INT-03")) and verdict in shown:
            break
        page.wait_for_timeout(500)
    else:
        pytest.fail(f"the interventions tab did not render in {lang}")
    # "Print to PDF" for e-mail: the print stylesheet is there and Chromium prints the page
    pdf = page.pdf(path=str(tmp_path / f"dashboard_{lang}.pdf"))
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    assert problems["blocked"] == [], f"the offline dashboard tried the network: {problems['blocked'][:5]}"
    assert problems["pageerror"] == [] and problems["console"] == [], problems
    assert body.is_visible()
    assert path.stat().st_size <= PAGE_LIMIT_BYTES, f"{path.name} is {path.stat().st_size / 1e6:.2f} MB"
    context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_summary_fits_the_first_screen_and_details_open(browser, published_reports, lang):
    """Issue 10: the network rows of the summary and the "needs action" list are in the first 900 px at 1440 px
    width; the details toggle opens on every finding."""
    reports, _ = published_reports
    path = reports / "2026-10" / f"dashboard_{lang}.html"
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:"))
                  else r.abort())
    page = context.new_page()
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_selector(".sqc-summary-table tr.network", timeout=60_000)
    network = page.locator(".sqc-summary-table tr.network")
    assert network.count() == 7
    for i in range(network.count()):
        box = network.nth(i).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 900, (i, box)
    actions = page.locator(".sqc-action-list li")
    assert 1 <= actions.count() <= 7
    box = actions.nth(0).bounding_box()
    assert box["y"] + box["height"] <= 900
    shown = " ".join(actions.all_inner_texts())
    for name in ("Holm", "Welch", "χ²", "CFI", "RMSEA", "p =", "…"):
        assert name not in shown, name
    details = page.locator(".sqc-details")
    first_detail = details.locator("li").first
    assert not first_detail.is_visible()
    details.locator("summary").click()
    page.wait_for_function("(el) => el.open", arg=details.element_handle(), timeout=10_000)
    assert first_detail.is_visible()
    assert details.locator("li").count() > actions.count()
    context.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PASSWORD = "violet-anchor-quarry-31"
READY = 180_000  # ms: generous limits for a slow, shared machine; each wait ends as soon as the signal appears
LIVE_BUILD = 900_000  # a month not yet published is built on first use (the whole report, in a worker process)


def sqc(*args, **kw):
    return subprocess.run([sys.executable, "-m", "sqc.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, **kw)


@pytest.fixture(scope="module")
def served_app(tmp_path_factory, published_reports):
    """`sqc serve` on the reports published once for this test session."""
    import urllib.request

    reports, _ = published_reports
    tmp = tmp_path_factory.mktemp("serve")
    creds = tmp / "users.json"
    for name, branches in (("manager", []), ("anna", ["--branches", "B01"])):
        p = sqc("users", "add", name, "--credentials", creds, "--password-stdin", *branches, input=PASSWORD + "\n")
        assert p.returncode == 0, p.stderr
    port = free_port()
    log = open(tmp / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "sqc.cli", "serve", "--credentials", str(creds), "--reports",
                             str(reports), "--port", str(port), "--audit-log", str(tmp / "audit.jsonl")],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    # ready when the data for live pages are loaded too (the months not yet published are then offered)
    deadline = time.time() + 600
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sqc serve exited: {(tmp / 'serve.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?live=1", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        pytest.fail("sqc serve did not report ready (/healthz?live=1) within 600 s")
    yield f"http://127.0.0.1:{port}", tmp
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    assert PASSWORD not in (tmp / "serve.log").read_text() + (tmp / "audit.jsonl").read_text()


def sign_in(page, base, user, password):
    page.goto(f"{base}/dashboard", wait_until="load")
    assert "/login" in page.url, "the app must not be reachable without logging in"
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")


def test_served_app_login_dashboard_period_and_logout(browser, served_app, tmp_path):
    base, tmp = served_app
    local = lambda url: url.startswith((base, "data:", "blob:"))  # noqa: E731
    context, page, problems = open_page(browser, local)
    page.set_default_timeout(READY)
    sign_in(page, base, "manager", "wrong-password-123")
    assert "/login" in page.url and "error=1" in page.url
    page.wait_for_selector("text=Wrong user name or password")
    sign_in(page, base, "manager", PASSWORD)
    assert page.url.endswith("/dashboard"), page.url
    page.wait_for_selector("body[data-ready='1']")
    frame = page.frame_locator("#dashboard")
    frame.locator("text=Service quality — monthly report · Oct 2026").first.wait_for()
    assert page.locator("#source").inner_text().startswith("published")
    assert page.locator("#user").inner_text() == "manager"
    page.screenshot(path=str(tmp_path / "served.png"))
    # another month (not published here): built live for this session, then shown
    with page.expect_navigation():
        page.select_option("#period", "2026-09")
    page.wait_for_selector("body[data-ready='1']", timeout=LIVE_BUILD)
    frame.locator("text=Service quality — monthly report · Sep 2026").first.wait_for(timeout=READY)
    assert page.locator("#source").inner_text().startswith("live")
    # sign out: the session is revoked on the server, so a copy of the cookie no longer opens the dashboard
    cookies = context.cookies()
    with page.expect_navigation():
        page.click("#logout")
    assert "/login" in page.url
    thief = browser.new_context()
    thief.add_cookies(cookies)
    stolen = thief.new_page()
    stolen.goto(f"{base}/dashboard", wait_until="load")
    assert "/login" in stolen.url
    thief.close()
    assert problems["pageerror"] == [], problems
    errors = [c for c in problems["console"] if "net::ERR_FAILED" not in c]
    assert errors == [], problems
    context.close()
    events = [json.loads(line)["event"] for line in (tmp / "audit.jsonl").read_text().splitlines()]
    assert events[:2] == ["login_failed", "login_ok"] and "logout" in events


def test_served_app_scoped_user_sees_only_their_branches(browser, served_app):
    base, _ = served_app
    context, page, problems = open_page(browser, lambda url: url.startswith((base, "data:", "blob:")))
    page.set_default_timeout(READY)
    sign_in(page, base, "anna", PASSWORD)
    page.wait_for_selector("body[data-ready='1']", timeout=LIVE_BUILD)
    page.frame_locator("#dashboard").locator("text=B01").first.wait_for()
    assert page.locator("#user").inner_text() == "anna (B01)"
    response = page.goto(f"{base}/reports/2026-10/dashboard_en.html")
    assert response.status == 403
    context.close()


def test_two_sessions_do_not_share_a_view(browser, served_app):
    """Clicking a tab in one manager's browser leaves another manager's view alone (each session has its own page)."""
    base, _ = served_app
    pages = []
    for _ in range(2):
        context, page, _ = open_page(browser, lambda url: url.startswith((base, "data:", "blob:")))
        page.set_default_timeout(READY)
        sign_in(page, base, "manager", PASSWORD)
        page.wait_for_selector("body[data-ready='1']")
        page.frame_locator("#dashboard").locator(".bk-tab").first.wait_for()
        pages.append((context, page))
    first, second = (p.frame_locator("#dashboard") for _, p in pages)
    before = second.locator(".bk-tab.bk-active").first.inner_text()
    target = first.locator(".bk-tab").nth(2)
    name = target.inner_text()
    assert name != before
    target.click()
    first.locator(".bk-tab.bk-active", has_text=name).first.wait_for()
    pages[1][1].wait_for_timeout(1000)
    assert second.locator(".bk-tab.bk-active").first.inner_text() == before
    for context, _ in pages:
        context.close()
