"""Benchmark: the served app on loopback - login to visible dashboard, and period change - with 1 and 10 sessions
at once.

Set-up: `sqc serve` (a separate process, as in production) on a reports folder with two published months
(2026-09 and 2026-10 of the demo data, published first by a real run unless --reports points at a folder that has
them). Each session is a real HTTP client with its own cookies.

- login -> visible: GET /login (CSRF token), POST /login (argon2 verification), GET /dashboard (the page with the
  filters), GET /view (the whole published dashboard document, read to the last byte). With --browser, also the time
  until headless Chromium shows the dashboard's title in the frame (this adds the browser's own rendering).
- period change: GET /dashboard?period=2026-09 then GET /view?period=2026-09 (read to the last byte).

N sessions start together (a barrier); each number is the time one session took; we print the median and the
slowest over all sessions and rounds. Loops are bounded (--rounds, default 3).

Usage:  python benchmarks/bench_serve.py [--reports DIR] [--rounds 3] [--sessions 1,10] [--browser]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from serve_support import Client  # noqa: E402

PASSWORD = "violet-anchor-quarry-31"
MONTHS = ("2026-09", "2026-10")


def publish(reports: Path) -> None:
    from sqc.pipeline import run_report

    for period in MONTHS:
        r = run_report(period, reports_dir=reports, languages="en", progress=False)
        print(f"  {period}: {r.status} ({r.seconds:.0f} s)", flush=True)


def start_server(reports: Path, tmp: Path) -> tuple[subprocess.Popen, int]:
    creds = tmp / "users.json"
    subprocess.run([sys.executable, "-m", "sqc.cli", "users", "add", "bench", "--credentials", str(creds),
                    "--password-stdin"], input=PASSWORD, text=True, check=True, cwd=ROOT, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "sqc.cli", "serve", "--credentials", str(creds), "--reports",
                             str(reports), "--port", str(port), "--audit-log", str(tmp / "audit.jsonl")],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.perf_counter()
    for _ in range(360):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                break
        except OSError:
            time.sleep(0.5)
    print(f"server answering after {time.perf_counter() - started:.2f} s", flush=True)
    return proc, port


def login_to_visible(port: int) -> tuple[float, Client]:
    c = Client(port)
    t0 = time.perf_counter()
    status, _, body = c.get("/login")
    token = re.search(r'name="_xsrf" value="([^"]+)"', body).group(1)
    status, headers, _ = c.post("/login", {"_xsrf": token, "username": "bench", "password": PASSWORD})
    assert status == 302 and headers["Location"] == "/dashboard", (status, headers)
    status, _, shell = c.get("/dashboard")
    view = re.search(r'src="(/view\?[^"]+)"', shell).group(1).replace("&amp;", "&")
    status, _, doc = c.get(view)
    assert status == 200 and "Service quality" in doc
    return time.perf_counter() - t0, c


def period_change(c: Client) -> float:
    t0 = time.perf_counter()
    q = urlencode({"period": MONTHS[0], "lang": "en"})
    assert c.get(f"/dashboard?{q}")[0] == 200
    status, _, doc = c.get(f"/view?{q}")
    assert status == 200 and len(doc) > 10_000
    return time.perf_counter() - t0


def run_sessions(port: int, n: int) -> tuple[list[float], list[float]]:
    barrier = threading.Barrier(n)
    logins, changes, errors = [], [], []

    def session():
        try:
            barrier.wait()
            t, c = login_to_visible(port)
            logins.append(t)
            barrier.wait()
            changes.append(period_change(c))
        except Exception as exc:  # reported, not hidden
            errors.append(repr(exc))
            barrier.abort()

    threads = [threading.Thread(target=session) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    if errors:
        raise RuntimeError(errors[:3])
    return logins, changes


def browser_login(port: int, n: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless=new", "--no-sandbox"])
        pages = [b.new_context().new_page() for _ in range(n)]
        for p in pages:
            p.set_default_timeout(600_000)
        t0 = time.perf_counter()
        for p in pages:  # Playwright's sync API is one thread: fill all forms, then wait for all pages
            p.goto(f"http://127.0.0.1:{port}/login")
            p.fill("input[name=username]", "bench")
            p.fill("input[name=password]", PASSWORD)
            p.click("button[type=submit]", no_wait_after=True)
        for p in pages:
            p.frame_locator("#dashboard").locator("text=Service quality — monthly report").first.wait_for()
            times.append(time.perf_counter() - t0)
        b.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=Path, help="reports folder with 2026-09 and 2026-10 published")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sessions", default="1,10")
    ap.add_argument("--browser", action="store_true", help="also time login->visible in headless Chromium")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    reports = args.reports or tmp / "reports"
    if not all((reports / m / "manifest.json").exists() for m in MONTHS):
        print(f"publishing {', '.join(MONTHS)} into {reports} ...", flush=True)
        publish(reports)
    size = (reports / MONTHS[1] / "dashboard_en.html").stat().st_size
    print(f"published dashboard: {size / 2**20:.1f} MB; {os.cpu_count()} cores", flush=True)
    proc, port = start_server(reports, tmp)
    results = {}
    try:
        login_to_visible(port)  # warm-up (first argon2 verification, page cache)
        for n in (int(x) for x in args.sessions.split(",")):
            logins, changes = [], []
            for _ in range(args.rounds):
                a, b = run_sessions(port, n)
                logins += a
                changes += b
            results[n] = {"login_median_s": statistics.median(logins), "login_max_s": max(logins),
                          "period_change_median_s": statistics.median(changes), "period_change_max_s": max(changes)}
            if args.browser:
                bt = browser_login(port, n)
                results[n] |= {"browser_login_median_s": statistics.median(bt), "browser_login_max_s": max(bt)}
            print(f"{n:>3} session(s): " + ", ".join(f"{k} {v:.3f}" for k, v in results[n].items()), flush=True)
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)  # the users file, audit log and (unless --reports) the reports
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
