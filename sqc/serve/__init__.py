"""``sqc serve``: the published dashboards behind a login, with live pages for branch subsets and months not yet
published. See docs in ``handlers`` (routes), ``users`` (credentials), ``auth`` (sessions, throttling, audit log)
and ``live`` (page builds off the event loop)."""
from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from ..errors import ParameterError


def build_app(*, reports_dir, credentials, data_dir=None, audit_log=None, cache_dir=None,
              trusted_proxies=(), cookie_secure=None, live_workers: int = 1, areas=None, live=None):
    """Return ``(tornado Application, ServeConfig)``; nothing listens yet."""
    from .auth import AuditLog
    from .handlers import ServeConfig, make_app
    from .live import LiveBuilder
    from .users import CredentialStore

    store = CredentialStore(credentials)
    reports_dir = Path(reports_dir).expanduser().resolve()
    if not reports_dir.is_dir():
        raise ParameterError(f"reports folder {reports_dir} does not exist; publish a month first (sqc report) or "
                             "pass --reports DIR")
    if data_dir is not None and not Path(data_dir).is_dir():
        raise ParameterError(f"data directory {data_dir} does not exist; pass --data DIR with the exports")
    audit_path = Path(audit_log) if audit_log else store.path.with_name("sqc_audit.jsonl")
    try:
        audit = AuditLog(audit_path)
    except OSError as exc:
        raise ParameterError(f"audit log {audit_path} cannot be written ({exc.strerror}); pass --audit-log FILE") \
            from None
    if live is None:
        if cache_dir is None:
            cache_dir = tempfile.mkdtemp(prefix="sqc-serve-cache-")
            atexit.register(shutil.rmtree, cache_dir, ignore_errors=True)
        live = LiveBuilder(data_dir, cache_dir, workers=live_workers, areas=areas)
    cfg = ServeConfig(reports_dir=reports_dir, credentials=store, audit=audit, live=live,
                      trusted_proxies=frozenset(trusted_proxies or ()), cookie_secure=cookie_secure)
    return make_app(cfg), cfg


def serve(*, reports_dir, credentials, data_dir=None, port: int = 5006, address: str = "127.0.0.1",
          audit_log=None, cache_dir=None, trusted_proxies=(), cookie_secure=None, live_workers: int = 1,
          certfile=None, keyfile=None) -> None:
    """Listen and serve until interrupted."""
    import asyncio
    import logging

    # the access log (tornado.access) and errors on stderr; logins and refusals go to the audit log
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not (0 < int(port) < 65536):
        raise ParameterError(f"port must be between 1 and 65535, got {port}")
    if bool(certfile) != bool(keyfile):
        raise ParameterError("give both --certfile and --keyfile for HTTPS, or neither")
    app, cfg = build_app(reports_dir=reports_dir, credentials=credentials, data_dir=data_dir, audit_log=audit_log,
                         cache_dir=cache_dir, trusted_proxies=trusted_proxies, cookie_secure=cookie_secure,
                         live_workers=live_workers)
    ssl_options = None
    if certfile:
        import ssl

        ssl_options = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_options.minimum_version = ssl.TLSVersion.TLSv1_2
        ssl_options.load_cert_chain(certfile, keyfile)

    async def main():
        # forms are small: a large body is refused before it is read
        app.listen(int(port), address=address, ssl_options=ssl_options, xheaders=False, max_body_size=64 * 1024)
        cfg.live.catalogue()  # load the data for live pages in the background
        await asyncio.Event().wait()

    try:
        asyncio.run(main())
    finally:
        cfg.live.close()
        cfg.audit.close()
