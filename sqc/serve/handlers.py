"""The served app: Tornado handlers for the login, the dashboard shell, published files and live pages.

Routes (everything except ``/login`` and ``/healthz`` needs a session)::

    /login                     sign-in form (GET) and sign-in (POST, CSRF-checked, throttled)
    /logout                    sign out (POST, CSRF-checked): the session is revoked on the server
    /dashboard                 the dashboard with period / language / branch filters (?period=&lang=&branches=)
    /view                      the dashboard document itself (shown in the frame of /dashboard)
    /reports/                  the published index, and /reports/<period>/<file> the published artefacts
                               (users scoped to some branches get 403: those files cover every branch)
    /static/<file>             the app's stylesheet and script
    /healthz                   "ok" when the server answers (for probes; says nothing else); /healthz?live=1
                               answers 503 until the data for live pages are loaded

No other URL exists: in particular there is no Panel/Bokeh component-resource route that could import a module.
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import tornado.httputil
import tornado.web
from tornado.template import Loader

from ..report.context import LANGS
from .auth import DEFAULT_NEXT, AuditLog, LoginThrottle, SessionStore, safe_next
from .users import CredentialStore, User, dummy_verify, verify_password

log = logging.getLogger("sqc.serve")
ASSETS = Path(__file__).resolve().parents[1] / "report" / "assets"
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
BRANCH_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
SESSION_COOKIE = "sqc_session"
PUBLISHED_FILES = {"dashboard_en.html": "text/html; charset=utf-8", "dashboard_zh.html": "text/html; charset=utf-8",
                   "summary.json": "application/json", "manifest.json": "application/json",
                   "report.ipynb": "application/x-ipynb+json"}
STATIC_FILES = {"serve.css": "text/css; charset=utf-8", "shell.js": "text/javascript; charset=utf-8"}
# The app's own pages: no inline script or style at all.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# Published dashboards are standalone Bokeh documents with inline scripts and styles (written by sqc, never by
# users); they may be framed by the app itself only, and may not submit forms or fetch from elsewhere.
DOCUMENT_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; "
                "style-src 'self' 'unsafe-inline' data:; img-src 'self' data: blob:; font-src 'self' data:; "
                "connect-src 'self' data: blob:; worker-src 'self' blob:; form-action 'none'; base-uri 'none'; "
                "frame-ancestors 'self'")


@dataclass
class ServeConfig:
    reports_dir: Path
    credentials: CredentialStore
    audit: AuditLog
    live: object  # LiveBuilder (or a stand-in with the same methods in tests)
    trusted_proxies: frozenset[str] = frozenset()
    sessions: SessionStore = field(default_factory=SessionStore)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    cookie_secure: bool | None = None  # None: Secure when the request came over HTTPS


class Base(tornado.web.RequestHandler):
    csp = PAGE_CSP

    @property
    def cfg(self) -> ServeConfig:
        return self.application.settings["sqc"]

    def set_default_headers(self) -> None:
        self.clear_header("Server")
        self.set_header("Content-Security-Policy", self.csp)
        self.set_header("X-Frame-Options", "SAMEORIGIN" if self.csp is DOCUMENT_CSP else "DENY")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header("Cross-Origin-Opener-Policy", "same-origin")
        self.set_header("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        self.set_header("Cache-Control", "no-store")

    # -- client facts (trusting forwarded headers only from the configured proxies) --
    def client_address(self) -> str:
        peer = self.request.remote_ip or ""
        if peer in self.cfg.trusted_proxies:
            hops = [h.strip() for h in self.request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
            for hop in reversed(hops):
                if hop not in self.cfg.trusted_proxies:
                    return hop[:64]
        return peer

    def is_https(self) -> bool:
        if self.request.protocol == "https":
            return True
        return (self.request.remote_ip in self.cfg.trusted_proxies
                and self.request.headers.get("X-Forwarded-Proto", "").lower() == "https")

    def prepare(self) -> None:
        if self.is_https():
            self.set_header("Strict-Transport-Security", "max-age=31536000")

    def cookie_flags(self) -> dict:
        secure = self.cfg.cookie_secure if self.cfg.cookie_secure is not None else self.is_https()
        return {"httponly": True, "samesite": "Lax", "secure": secure, "path": "/"}

    def get_current_user(self) -> User | None:
        token = self.get_cookie(SESSION_COOKIE)
        session = self.cfg.sessions.get(token)
        if session is None:
            return None
        try:
            user = self.cfg.credentials.lookup(session.user)
        except Exception as exc:  # credentials file unreadable or made public: fail closed
            log.error("credentials file refused: %s", exc)
            return None
        if user is None:  # removed by `sqc users remove`
            self.cfg.sessions.revoke(token)
        return user

    def audit(self, event: str, **fields) -> None:
        self.cfg.audit.write(event, address=self.client_address(), path=self.request.path, **fields)

    def render_page(self, template: str, **kw) -> None:
        loader = self.application.settings["sqc_templates"]
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(loader.load(template).generate(xsrf_form_html=self.xsrf_form_html, **kw))

    def write_error(self, status_code: int, **kwargs) -> None:
        # never a traceback; a short page in the app's style
        reason = {403: "You do not have access to this page.", 404: "There is no such page.",
                  429: "Too many attempts; wait a moment and try again."}.get(status_code, "The request failed.")
        self.render_page("message.html", title=f"{status_code}", message=reason)

    def check_xsrf_cookie(self) -> None:
        try:
            super().check_xsrf_cookie()
        except tornado.web.HTTPError:
            self.audit("csrf_refused")
            raise


class Authenticated(Base):
    def prepare(self) -> None:
        super().prepare()
        if self.current_user is None:
            if self.request.method in ("GET", "HEAD"):
                self.redirect("/login?" + tornado.httputil.urlencode({"next": self.request.uri}))
            else:
                raise tornado.web.HTTPError(403)

    def forbid(self, reason: str) -> None:
        self.audit("forbidden", user=self.current_user.name, reason=reason, scope=self.current_user.scope_label)
        raise tornado.web.HTTPError(403)


class LoginHandler(Base):
    def get(self) -> None:
        error = self.get_query_argument("error", "")
        messages = {"1": "Wrong user name or password. / 用户名或密码错误。",
                    "throttled": "Too many failed attempts; wait a minute. / 尝试次数过多，请稍候。",
                    "out": "You are signed out. / 已退出。"}
        self.render_page("login.html", next=safe_next(self.get_query_argument("next", None)),
                         error=messages.get(error, ""))

    async def post(self) -> None:
        name = self.get_body_argument("username", "")[:200]
        password = self.get_body_argument("password", "")
        target = safe_next(self.get_body_argument("next", None))
        address = self.client_address()
        wait = self.cfg.throttle.retry_after(name, address)
        if wait > 0:
            self.audit("login_throttled", user=name, reason=f"retry after {wait:.0f} s")
            self.set_header("Retry-After", str(int(wait) + 1))
            self.set_status(429)
            self.render_page("message.html", title="429",
                             message="Too many failed attempts; wait a minute and try again. / 尝试次数过多，请稍候再试。")
            return
        try:
            user = self.cfg.credentials.lookup(name)
        except Exception as exc:  # mode or owner of the credentials file changed: refuse every login
            log.error("credentials file refused: %s", exc)
            self.audit("login_failed", user=name, reason="credentials file refused")
            raise tornado.web.HTTPError(503) from None
        loop = asyncio.get_running_loop()
        if user is None:
            await loop.run_in_executor(None, dummy_verify, password)
            ok = False
        else:
            ok = await loop.run_in_executor(None, verify_password, user.password_hash, password)
        if not ok:
            self.cfg.throttle.failed(name, address)
            self.audit("login_failed", user=name, reason="unknown user" if user is None else "wrong password")
            self.redirect("/login?" + tornado.httputil.urlencode({"error": "1", "next": target}))
            return
        self.cfg.throttle.succeeded(name, address)
        self.clear_cookie(SESSION_COOKIE, path="/")
        self.set_cookie(SESSION_COOKIE, self.cfg.sessions.new(user.name), **self.cookie_flags())
        self.audit("login_ok", user=user.name, scope=user.scope_label)
        self.redirect(target)


class LogoutHandler(Base):
    def post(self) -> None:
        token = self.get_cookie(SESSION_COOKIE)
        session = self.cfg.sessions.revoke(token)
        self.clear_cookie(SESSION_COOKIE, **{k: v for k, v in self.cookie_flags().items() if k == "path"})
        self.audit("logout", user=session.user if session else None)
        self.redirect("/login?error=out")


def _published(reports_dir: Path) -> list[str]:
    return sorted((p.name for p in reports_dir.iterdir() if PERIOD_RE.match(p.name)
                   and (p / "manifest.json").exists()), reverse=True) if reports_dir.is_dir() else []


class ViewParams:
    """The filters of one request, validated against the data and the user's scope."""

    def __init__(self, handler: Authenticated, periods: list[str], default_period: str):
        user = handler.current_user
        period = handler.get_query_argument("period", "") or default_period
        lang = handler.get_query_argument("lang", "en")
        raw = handler.get_query_argument("branches", "")
        branches = tuple(sorted({b.strip() for b in raw.split(",") if b.strip()}))
        if lang not in LANGS:
            raise tornado.web.HTTPError(400, reason="unknown language")
        if period not in periods:
            raise tornado.web.HTTPError(404, reason="no such period")
        if any(not BRANCH_RE.match(b) for b in branches):
            raise tornado.web.HTTPError(400, reason="bad branch id")
        if user.branches is not None:
            outside = [b for b in branches if b not in user.branches]
            if outside:
                handler.forbid(f"branches outside scope: {','.join(outside)}")
            branches = branches or user.branches
        self.period, self.lang, self.branches = period, lang, branches or None
        self.scoped = user.branches is not None

    def query(self) -> str:
        q = {"period": self.period, "lang": self.lang}
        if self.branches:
            q["branches"] = ",".join(self.branches)
        return tornado.httputil.urlencode(q)


async def _periods(handler: Authenticated) -> tuple[list[str], list[str], str]:
    """(periods on offer, published periods, default period): the newest published month by default; the data's
    months are awaited only when a month that is not published is asked for (or nothing is published)."""
    published = _published(handler.cfg.reports_dir)
    asked = handler.get_query_argument("period", "")
    catalogue = handler.cfg.live.known_catalogue()
    if catalogue is None and ((asked and asked not in published) or not published):
        catalogue = await handler.cfg.live.catalogue()
    periods = sorted(set(published) | set(catalogue[0] if catalogue else []), reverse=True)
    return periods, published, (published or periods or [""])[0]


class DashboardHandler(Authenticated):
    async def get(self) -> None:
        periods, published, default = await _periods(self)
        params = ViewParams(self, periods, default)
        user = self.current_user
        catalogue = self.cfg.live.known_catalogue()
        choices = list(user.branches) if user.branches is not None else (catalogue[1] if catalogue else [])
        self.render_page("shell.html", user=user, periods=periods, params=params, langs=LANGS,
                         branch_choices=choices, published=params.period in published,
                         view_url="/view?" + params.query())


async def _read(path: Path) -> bytes:
    return await asyncio.get_running_loop().run_in_executor(None, path.read_bytes)


class ViewHandler(Authenticated):
    csp = DOCUMENT_CSP

    async def get(self) -> None:
        periods, published, default = await _periods(self)
        params = ViewParams(self, periods, default)
        body = None
        if params.branches is None and params.period in published:
            # read through the month's link; a publication swapping it meanwhile is retried once
            path = self.cfg.reports_dir / params.period / f"dashboard_{params.lang}.html"
            for _ in range(2):
                try:
                    body = await _read(path)
                    break
                except (FileNotFoundError, NotADirectoryError):
                    continue
        if body is None:
            try:
                body = await _read(await self.cfg.live.page(params.period, params.branches, params.lang))
            except Exception as exc:
                log.error("live page %s failed: %s: %s", params.query(), type(exc).__name__, exc)
                raise tornado.web.HTTPError(500) from None
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "private, no-cache")
        self.finish(body)


class PublishedHandler(Authenticated):
    csp = DOCUMENT_CSP

    async def get(self, period: str | None = None, name: str | None = None) -> None:
        user = self.current_user
        if user.branches is not None:
            self.forbid("published files cover every branch")
        if period is None:
            path, ctype = self.cfg.reports_dir / "index.html", "text/html; charset=utf-8"
        else:
            if not PERIOD_RE.match(period) or name not in PUBLISHED_FILES:
                raise tornado.web.HTTPError(404)
            path, ctype = self.cfg.reports_dir / period / name, PUBLISHED_FILES[name]
            if name == "report.ipynb":
                self.set_header("Content-Disposition", f'attachment; filename="report_{period}.ipynb"')
        try:
            body = await _read(path)
        except (FileNotFoundError, NotADirectoryError):
            raise tornado.web.HTTPError(404) from None
        self.set_header("Content-Type", ctype)
        self.set_header("Cache-Control", "private, no-cache")
        self.finish(body)


class StaticHandler(Base):
    def get(self, name: str) -> None:
        if name not in STATIC_FILES:
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Type", STATIC_FILES[name])
        self.set_header("Cache-Control", "private, max-age=3600")
        self.finish((ASSETS / name).read_bytes())


class HealthHandler(Base):
    """``ok`` when the server answers; with ``?live=1``, 503 until the data for live pages are loaded."""

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        if self.get_query_argument("live", "") and self.cfg.live.known_catalogue() is None:
            self.set_status(503)
            self.finish("loading data")
            return
        self.finish("ok")


class RootHandler(Base):
    def get(self) -> None:
        self.redirect(DEFAULT_NEXT)


class NotFound(Base):
    def prepare(self) -> None:
        raise tornado.web.HTTPError(404)


def make_app(cfg: ServeConfig) -> tornado.web.Application:
    """The application. Sessions are server-side random tokens and the CSRF token is Tornado's double-submit
    cookie, so no cookie is signed and no cookie secret is needed."""
    routes = [
        (r"/", RootHandler), (r"/login", LoginHandler), (r"/logout", LogoutHandler),
        (r"/dashboard", DashboardHandler), (r"/view", ViewHandler),
        (r"/reports/?", PublishedHandler), (r"/reports/(\d{4}-\d{2})/([A-Za-z0-9_.]+)", PublishedHandler),
        (r"/static/([a-z.]+)", StaticHandler), (r"/healthz", HealthHandler),
    ]
    return tornado.web.Application(
        routes, sqc=cfg, sqc_templates=Loader(str(ASSETS), autoescape="xhtml_escape"),
        xsrf_cookies=True,
        xsrf_cookie_kwargs={"httponly": True, "samesite": "Strict", "path": "/"},
        default_handler_class=NotFound, debug=False, serve_traceback=False, compress_response=False)

