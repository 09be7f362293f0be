"""Helpers for the served-app tests: a server in a thread, a cookie-keeping HTTP client, a stand-in live builder."""
from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlencode

PASSWORD = "correct-horse-battery-staple"


def make_credentials(path: Path, users: dict[str, tuple[str, list | None]]) -> Path:
    """Write a credentials file through the public API (argon2 hashes, mode 600)."""
    from sqc.serve.users import add_user

    for name, (password, branches) in users.items():
        add_user(path, name, password, branches)
    return path


def fake_published(reports: Path, period: str = "2026-10") -> Path:
    """A published month as `sqc report` lays it out (symlinked version folder)."""
    from sqc.pipeline import rebuild_index

    version = reports / ".versions" / f"{period}.20261101T000000000000-1"
    version.mkdir(parents=True)
    for lang in ("en", "zh"):
        (version / f"dashboard_{lang}.html").write_text(f"<html><body>published {period} {lang} all</body></html>")
    (version / "summary.json").write_text(json.dumps({"period": period}))
    (version / "report.ipynb").write_text(json.dumps({"cells": [], "nbformat": 4, "nbformat_minor": 5,
                                                      "metadata": {}}))
    (version / "manifest.json").write_text(json.dumps({"period": period, "files": [
        "dashboard_en.html", "dashboard_zh.html", "report.ipynb", "summary.json"]}))
    os.symlink(f".versions/{version.name}", reports / period)
    rebuild_index(reports)
    return reports / period


class FakeLive:
    """Stands in for LiveBuilder: the same interface, pages written at once (or held until ``release`` is set)."""

    def __init__(self, cache: Path, periods=("2026-09", "2026-10", "2026-11"), branches=("B01", "B02", "B03")):
        self.cache, self.periods, self.branches = cache, list(periods), list(branches)
        self.builds: list[tuple] = []
        self.release: asyncio.Event | None = None

    def catalogue(self):
        fut = asyncio.get_running_loop().create_future()
        fut.set_result((self.periods, self.branches))
        return fut

    def known_catalogue(self):
        return self.periods, self.branches

    async def page(self, period, branches, lang):
        self.builds.append((period, branches, lang))
        if self.release is not None:
            await self.release.wait()
        path = self.cache / f"{period}_{'-'.join(branches or ['all'])}_{lang}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<html><body>live {period} {','.join(branches or ['all'])} {lang}</body></html>")
        return path

    def close(self):
        pass


class ServerThread:
    """Run a Tornado application on an ephemeral loopback port in a background thread."""

    def __init__(self, app):
        self.app = app
        self.ready = threading.Event()
        self.loop = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self.thread.start()
        if not self.ready.wait(60):
            raise RuntimeError("test server did not start")

    async def _main(self):
        from tornado.httpserver import HTTPServer
        from tornado.netutil import bind_sockets

        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        sockets = bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        server = HTTPServer(self.app)
        server.add_sockets(sockets)
        self.ready.set()
        await self._stop.wait()
        server.stop()

    def call(self, fn):
        """Run ``fn()`` on the server's loop (for objects that belong to it)."""
        done = threading.Event()
        out = {}

        def run():
            out["v"] = fn()
            done.set()
        self.loop.call_soon_threadsafe(run)
        done.wait(30)
        return out.get("v")

    def stop(self):
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(30)


class Client:
    """A minimal browser: keeps cookies, never follows redirects, sends raw paths as given."""

    def __init__(self, port: int, headers: dict | None = None):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.headers = headers or {}
        self.set_cookie_headers: list[str] = []

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        h = dict(self.headers, **(headers or {}))
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        for raw in resp.headers.get_all("Set-Cookie") or []:
            self.set_cookie_headers.append(raw)
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            if value in ('""', "") or "expires=Thu, 01 Jan 1970" in raw or "Max-Age=0" in raw:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        conn.close()
        return resp.status, resp.headers, data.decode("utf-8", "replace")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def xsrf(self) -> str:
        status, _, body = self.get("/login")
        assert status == 200, status
        return re.search(r'name="_xsrf" value="([^"]+)"', body).group(1)

    def post(self, path, form: dict, **kw):
        return self.request("POST", path, body=urlencode(form), **kw)

    def login(self, user: str, password: str = PASSWORD, next_: str | None = None, **kw):
        form = {"_xsrf": self.xsrf(), "username": user, "password": password}
        if next_ is not None:
            form["next"] = next_
        return self.post("/login", form, **kw)
