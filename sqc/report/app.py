"""The dashboards as a live app (``sqc serve``): the same sections as the published HTML, with filters for the
period, the branches and the language, behind basic authentication (a credentials file, never a password on the
command line)."""
from __future__ import annotations

import json
import os
import secrets
import stat
from functools import lru_cache
from pathlib import Path

from ..errors import ParameterError
from .context import LANGS, ReportContext, translate


def check_credentials_file(path: str | os.PathLike) -> Path:
    """Validate a basic-auth credentials file: a JSON object ``{"user": "password", ...}`` readable only by its
    owner (mode 600). Raises ParameterError saying what to fix."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ParameterError(f"credentials file {path} not found; create it as a JSON object "
                             '{"username": "password"} with mode 600')
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ParameterError(f"credentials file {path} is readable by other users (mode {oct(mode & 0o777)}); "
                             f"run: chmod 600 {path}")
    try:
        creds = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ParameterError(f"credentials file {path} is not valid JSON ({exc})") from None
    if not isinstance(creds, dict) or not creds or not all(
            isinstance(k, str) and k and isinstance(v, str) and len(v) >= 8 for k, v in creds.items()):
        raise ParameterError(f"credentials file {path} must be a non-empty JSON object mapping user names to "
                             "passwords of at least 8 characters")
    return path


def create_app(data_dir=None):
    """Return a function that builds one session's page (what ``pn.serve`` expects)."""
    import panel as pn

    from ..io import load_network
    from ..pipeline import code_version
    from .dashboard import assemble, build_sections

    data = load_network(data_dir)
    periods = data.periods
    branch_ids = list(data.branches["branch"])
    version, fingerprint, load_summary = code_version(), data.fingerprint(), data.load_summary()

    @lru_cache(maxsize=32)
    def page_for(period: str, branches: tuple[str, ...], lang: str):
        ctx = ReportContext(data=data, period=period, branches=list(branches) or branch_ids, lang=lang)
        return assemble(ctx, build_sections(ctx), load_summary=load_summary, code_version=version,
                        fingerprint=fingerprint)

    def session():
        period = pn.widgets.Select(name="Period / 报告期", options=periods[::-1], value=periods[-1], width=160)
        branches = pn.widgets.MultiChoice(name="Branches / 营业厅 (empty = all)", options=branch_ids, value=[],
                                          width=420)
        lang = pn.widgets.RadioButtonGroup(name="Language", options=list(LANGS), value="en")
        view = pn.bind(lambda p, b, lg: page_for(p, tuple(sorted(b)), lg), period, branches, lang)
        user = pn.state.user or ""
        bar = pn.Row(period, branches, lang, pn.pane.HTML(f"<div style='margin-top:24px'>{user}</div>"))
        return pn.Column(bar, pn.panel(view, loading_indicator=True, defer_load=False), sizing_mode="stretch_width")

    return session


def serve(*, data_dir=None, credentials, port: int = 5006, address: str = "127.0.0.1",
          allow_origin: list[str] | None = None, show: bool = False, start: bool = True):
    """Serve the dashboards with basic authentication. ``SQC_COOKIE_SECRET`` sets the cookie secret (a random
    one per start otherwise, which logs users out when the server restarts)."""
    import panel as pn

    creds = check_credentials_file(credentials)
    if not (0 < int(port) < 65536):
        raise ParameterError(f"port must be between 1 and 65535, got {port}")
    app = create_app(data_dir)
    origins = allow_origin or [f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    secret = os.environ.get("SQC_COOKIE_SECRET") or secrets.token_hex(32)
    return pn.serve({"dashboard": app}, port=int(port), address=address, websocket_origin=origins, show=show,
                    start=start, basic_auth=str(creds), cookie_secret=secret,
                    login_template=str(Path(__file__).with_name("assets") / "login.html"),
                    title=translate("report.title", "en"))
