"""The served app (`sqc serve`): published pages behind a hardened login, branch scopes enforced by the server,
live pages off the event loop, security headers, audit log. A real Tornado server on loopback; the live builder is
a stand-in here (the real one is exercised in test_serve_live.py and the browser test)."""
import asyncio
import json
import os
import sys
from urllib.parse import quote

import pytest

from serve_support import PASSWORD, Client, FakeLive, ServerThread, fake_published, make_credentials
from sqc.serve import build_app
from sqc.serve.auth import LoginThrottle, ThrottleRule

HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture()
def site(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    fake_published(reports)
    creds = make_credentials(tmp_path / "users.json", {"lead": (PASSWORD, None), "anna": (PASSWORD, ["B01"]),
                                                       "ben": (PASSWORD, ["B02", "B03"])})
    live = FakeLive(tmp_path / "cache")
    app, cfg = build_app(reports_dir=reports, credentials=creds, audit_log=tmp_path / "audit.jsonl", live=live,
                         trusted_proxies=["127.0.0.1"])
    clock = Clock()
    cfg.throttle = LoginThrottle(per_user_address=ThrottleRule(5, 1.0, 300.0),
                                 per_address=ThrottleRule(20, 1.0, 300.0), clock=clock)
    server = ServerThread(app)
    yield type("Site", (), dict(port=server.port, cfg=cfg, live=live, reports=reports, creds=creds, server=server,
                                audit=tmp_path / "audit.jsonl", clock=clock))
    server.stop()


def audit_events(site):
    return [json.loads(line) for line in site.audit.read_text().splitlines()]


def test_login_then_published_dashboard_and_artefacts(site):
    c = Client(site.port)
    status, headers, _ = c.get("/dashboard")
    assert status == 302 and headers["Location"].startswith("/login?next=%2Fdashboard")
    status, headers, _ = c.login("lead")
    assert status == 302 and headers["Location"] == "/dashboard"
    status, _, body = c.get("/dashboard")
    assert status == 200 and 'src="/view?period=2026-10&amp;lang=en"' in body, "newest published month first"
    assert '<option value="2026-11">' in body, "a month in the data but not yet published is offered (live)"
    status, _, body = c.get("/view?period=2026-10&lang=zh")
    assert status == 200 and body == "<html><body>published 2026-10 zh all</body></html>"
    assert site.live.builds == [], "a published page is served from the published file, not rebuilt"
    for path in ("/reports/", "/reports/2026-10/summary.json", "/reports/2026-10/report.ipynb",
                 "/reports/2026-10/dashboard_en.html"):
        assert c.get(path)[0] == 200, path
    assert c.get("/reports/2026-10/../../users.json")[0] == 404
    assert c.get("/reports/2026-10/secret.txt")[0] == 404


def test_period_not_yet_published_is_built_live(site):
    c = Client(site.port)
    c.login("lead")
    status, _, body = c.get("/view?period=2026-11&lang=en")
    assert status == 200 and "live 2026-11 all en" in body
    assert site.live.builds == [("2026-11", None, "en")]
    assert c.get("/view?period=2031-01")[0] == 404
    assert c.get("/view?period=2026-10&lang=fr")[0] == 400


def test_sessions_do_not_wait_on_a_live_build(site):
    """While one session's live page is being built, another session still gets the published page."""
    site.live.release = site.server.call(asyncio.Event)
    import threading

    slow = Client(site.port)
    slow.login("lead")
    result = {}
    t = threading.Thread(target=lambda: result.update(r=slow.get("/view?period=2026-11")))
    t.start()
    other = Client(site.port)
    other.login("lead")
    status, _, body = other.get("/view?period=2026-10")
    assert status == 200 and "published 2026-10" in body and "r" not in result
    site.server.call(site.live.release.set)
    t.join(60)
    assert result["r"][0] == 200


@pytest.mark.parametrize("target", ["//evil.example", "///evil.example", "/\\evil.example", "https://x",
                                    "%2F%2Fevil.example", "/%2F%2Fevil.example", "/%2fevil.example",
                                    "http:/evil.example", "javascript:alert(1)", "/\tevil"])
def test_next_after_login_stays_on_this_site(site, target):
    c = Client(site.port)
    status, headers, _ = c.login("lead", next_=target)
    assert status == 302 and headers["Location"] == "/dashboard"
    status, _, body = Client(site.port).get("/login?next=" + quote(target, safe=""))
    assert 'name="next" value="/dashboard"' in body


def test_next_same_site_path_is_kept_and_escaped(site):
    c = Client(site.port)
    assert c.login("lead", next_="/dashboard?period=2026-10&lang=zh")[1]["Location"] == \
        "/dashboard?period=2026-10&lang=zh"
    _, _, body = Client(site.port).get("/login?next=" + quote('/x"><script>alert(1)</script>'))
    assert "<script>alert(1)" not in body and "&lt;script&gt;" in body


def test_wrong_passwords_are_throttled_without_locking_the_real_user_out(site):
    attacker = Client(site.port, headers={"X-Forwarded-For": "10.0.0.66"})
    for _ in range(5):
        status, headers, _ = attacker.login("lead", "wrong-password-123")
        assert status == 302 and "error=1" in headers["Location"]
    status, headers, _ = attacker.login("lead", PASSWORD)
    assert status == 429 and int(headers["Retry-After"]) >= 1, "throttled even with the right password"
    # the real user, from their own address, is not affected
    assert Client(site.port, headers={"X-Forwarded-For": "10.0.0.7"}).login("lead")[0] == 302
    real = Client(site.port, headers={"X-Forwarded-For": "10.0.0.7"})
    assert real.login("lead")[1]["Location"] == "/dashboard"
    # the delay grows with further failures, is capped, and is forgotten: never a permanent lock-out
    site.clock.now += 2
    attacker.login("lead", "wrong-password-123")
    assert attacker.login("lead", "wrong-password-123")[0] == 429
    site.clock.now += 4 + 1
    assert attacker.login("lead", "wrong-password-123")[0] == 302  # allowed again, and failed
    site.clock.now += 901
    assert attacker.login("lead")[1]["Location"] == "/dashboard"


def test_audit_log_records_logins_logouts_refusals_without_passwords(site):
    c = Client(site.port)
    c.login("lead", "wrong-password-xyz")
    c.login('evil"\n{"event": "login_ok"}\x1b[31m', "another-wrong-one")
    for _ in range(5):
        c.login("lead", "wrong-password-xyz")
    c.login("lead", "wrong-password-xyz")  # the 7th failure for lead from this address: throttled
    c2 = Client(site.port)
    c2.login("anna")
    c2.get("/reports/2026-10/dashboard_en.html")  # forbidden for a scoped user
    c2.post("/logout", {"_xsrf": c2.xsrf()})
    text = site.audit.read_text()
    for secret in (PASSWORD, "wrong-password-xyz", "another-wrong-one"):
        assert secret not in text
    lines = text.splitlines()
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all("\x1b" not in line and line.isascii() for line in lines)
    kinds = [e["event"] for e in events]
    for kind in ("login_failed", "login_throttled", "login_ok", "forbidden", "logout"):
        assert kind in kinds, kinds
    forged = [e for e in events if e.get("user", "").startswith("evil")]
    assert len(forged) == 1 and forged[0]["event"] == "login_failed"
    assert all({"ts", "event", "address", "path"} <= set(e) for e in events)
    assert oct(os.stat(site.audit).st_mode & 0o777) == "0o600"


def test_logout_revokes_the_session_on_the_server(site):
    c = Client(site.port)
    c.login("lead")
    copied = dict(c.cookies)
    assert c.get("/dashboard")[0] == 200
    status, headers, _ = c.post("/logout", {"_xsrf": c.xsrf()})
    assert status == 302 and headers["Location"].startswith("/login")
    thief = Client(site.port)
    thief.cookies = copied
    status, headers, _ = thief.get("/dashboard")
    assert status == 302 and headers["Location"].startswith("/login"), "a copied cookie still works after logout"
    assert thief.get("/view?period=2026-10")[0] == 302


def test_logout_and_login_need_the_csrf_token(site):
    c = Client(site.port)
    c.xsrf()
    assert c.post("/login", {"username": "lead", "password": PASSWORD})[0] == 403
    assert c.post("/login", {"_xsrf": "2|00|00|00", "username": "lead", "password": PASSWORD})[0] == 403
    c.login("lead")
    assert c.post("/logout", {})[0] == 403
    assert "csrf_refused" in [e["event"] for e in audit_events(site)]


def test_cookie_flags(site):
    c = Client(site.port)
    c.login("lead")
    session = [h for h in c.set_cookie_headers if h.startswith("sqc_session=")][-1]
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Secure" not in session
    xsrf = [h for h in c.set_cookie_headers if h.startswith("_xsrf=")][-1]
    assert "HttpOnly" in xsrf and "SameSite=Strict" in xsrf
    proxied = Client(site.port, headers={"X-Forwarded-Proto": "https"})  # 127.0.0.1 is the trusted proxy here
    proxied.login("lead")
    session = [h for h in proxied.set_cookie_headers if h.startswith("sqc_session=")][-1]
    assert "Secure" in session
    site.cfg.trusted_proxies = frozenset()  # the same header from an untrusted peer is ignored
    spoof = Client(site.port, headers={"X-Forwarded-Proto": "https"})
    spoof.login("lead")
    assert "Secure" not in [h for h in spoof.set_cookie_headers if h.startswith("sqc_session=")][-1]


def test_security_headers_on_every_response(site):
    c = Client(site.port)
    responses = [c.get("/login"), c.get("/dashboard"), c.get("/nope"), c.get("/static/serve.css"),
                 c.get("/healthz")]
    c.login("lead")
    responses += [c.get("/dashboard"), c.get("/view?period=2026-10"), c.get("/reports/2026-10/summary.json"),
                  c.get("/view?period=1999-01"), c.post("/logout", {})]
    for status, headers, _ in responses:
        for h in HEADERS:
            assert headers.get(h), (status, h)
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors" in headers["Content-Security-Policy"]
        assert "Server" not in headers or "Tornado" not in headers["Server"]
    _, headers, _ = c.get("/login")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]


def test_user_strings_are_escaped(site, tmp_path):
    """A user name written into the credentials file by hand, with markup in it, is shown as text."""
    doc = json.loads(site.creds.read_text())
    doc["users"]["<img src=x onerror=alert(1)>"] = doc["users"]["lead"]
    site.creds.write_text(json.dumps(doc))
    c = Client(site.port)
    c.login("<img src=x onerror=alert(1)>")
    status, _, body = c.get("/dashboard")
    assert status == 200 and "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


@pytest.mark.parametrize("path", ["/components/this/x/y/z", "/components/..%2f..%2fetc/passwd",
                                  "/components/sqc/x/y/z", "/static/../users.json", "/static/extensions/x",
                                  "/panel-preview/render/x", "/ws"])
def test_no_url_imports_a_module_or_leaks_a_file(site, path):
    before = set(sys.modules)
    c = Client(site.port)
    c.login("lead")
    status, _, body = c.get(path)
    assert status == 404 and "Traceback" not in body and "root:" not in body
    assert "this" not in set(sys.modules) - before


def test_health_probe_reports_live_readiness(site):
    c = Client(site.port)
    assert c.get("/healthz")[:3:2] == (200, "ok")
    assert c.get("/healthz?live=1")[0] == 200
    site.live.known_catalogue = lambda: None
    assert c.get("/healthz?live=1")[0] == 503
    assert c.get("/healthz")[0] == 200


def test_branch_scope_is_enforced_by_the_server(site):
    anna = Client(site.port)
    anna.login("anna")
    status, _, body = anna.get("/view?period=2026-10&lang=en")
    assert status == 200 and "live 2026-10 B01 en" in body, "a scoped user gets a page of their branches"
    assert "published" not in body
    for path in ("/view?period=2026-10&branches=B02", "/view?period=2026-10&branches=B01,B02",
                 "/reports/2026-10/dashboard_en.html", "/reports/2026-10/summary.json", "/reports/"):
        assert anna.get(path)[0] == 403, path
    status, _, body = anna.get("/dashboard")
    assert status == 200 and ">B02<" not in body and "anna (B01)" in body
    ben = Client(site.port)
    ben.login("ben")
    assert "live 2026-10 B03 en" in ben.get("/view?period=2026-10&branches=B03")[2]
    assert "live 2026-10 B02,B03 en" in ben.get("/view?period=2026-10")[2]
    assert ("2026-10", ("B02", "B03"), "en") in site.live.builds
    lead = Client(site.port)
    lead.login("lead")
    assert "live 2026-10 B02 en" in lead.get("/view?period=2026-10&branches=B02")[2]
    forbidden = [e for e in audit_events(site) if e["event"] == "forbidden"]
    assert len(forbidden) == 5 and all(e["user"] == "anna" and e["scope"] == "B01" for e in forbidden)


def test_credentials_file_mode_is_rechecked_at_every_read(site):
    c = Client(site.port)
    c.login("lead")
    os.chmod(site.creds, 0o644)
    assert c.get("/dashboard")[0] == 302, "a session must stop when the credentials file is exposed"
    assert Client(site.port).login("lead")[0] == 503
    os.chmod(site.creds, 0o600)
    assert Client(site.port).login("lead")[1]["Location"] == "/dashboard"


def test_removed_user_loses_access_at_once(site):
    from sqc.serve.users import remove_user

    c = Client(site.port)
    c.login("ben")
    assert c.get("/dashboard")[0] == 200
    remove_user(site.creds, "ben")
    assert c.get("/dashboard")[0] == 302
