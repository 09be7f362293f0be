"""Benchmark: sqc.spc vs the Python SPC peers on the same data, in one process.

Workloads (issue 3): X̄–R on 1,000,000 observations in 200,000 subgroups of 5, and I–MR on 1,000,000 individual
values, each with all eight Nelson rules where the library offers them; then sqc alone at 10,000,000
observations to check linear growth.

Time: wall clock (time.perf_counter) of one call that computes the chart *and* its rule flags (no plotting).
Peak memory: tracemalloc peak during a second, traced call (numpy and pandas buffers are traced), reported also as
a ratio to the raw input (the bytes of the input DataFrame / array). Timed calls run untraced.

Peers that take too long at 1,000,000 are run on a smaller n (100,000 or 10,000) under a time guard and
extrapolated linearly (marked "extrap." - their cost is at least linear, so this flatters them). What each peer
can do is printed beside its row (e.g. which rules it supports).

Usage:  python benchmarks/bench_spc.py [--quick] [--no-growth]
"""
from __future__ import annotations

import argparse
import gc
import signal
import time
import tracemalloc
from contextlib import contextmanager

import numpy as np
import pandas as pd

import sqc.spc as spc

GUARD_S = 90  # per peer call


class Timeout(Exception):
    pass


@contextmanager
def time_guard(seconds):
    def handler(signum, frame):
        raise Timeout()
    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(int(seconds))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


TRACE = {"on": False}


def measure(fn, *args, **kw):
    """Time one call; with TRACE on, also its tracemalloc peak. Timing runs are made with tracing off because
    tracemalloc slows allocation-heavy (pure Python) code by a large factor, which would penalise the peers."""
    gc.collect()
    if TRACE["on"]:
        tracemalloc.start()
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    dt = time.perf_counter() - t0
    peak = None
    if TRACE["on"]:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return dt, peak, out


def make_data(n_obs, seed=20261122):
    rng = np.random.default_rng(seed)
    # a stable process with a few level shifts so that rules fire (like real waiting times)
    level = np.repeat(rng.normal(0, 0.3, n_obs // 1000 + 1), 1000)[:n_obs]
    x = 60 + 10 * (rng.standard_normal(n_obs) + level)
    return x


# ----------------------------------------------------------------------------------------- runners
def sqc_xbar_r(x):
    df = pd.DataFrame({"value": x, "subgroup": np.arange(x.size) // 5})
    raw = df.memory_usage(index=False).sum()
    dt, peak, res = measure(lambda: spc.xbar_r(df, "value", "subgroup", rules="nelson"))
    return dt, peak, raw, int(res.xbar.signal.sum())


def sqc_imr(x):
    df = pd.DataFrame({"value": x})
    raw = df.memory_usage(index=False).sum()
    dt, peak, res = measure(lambda: spc.imr(df, "value", rules="nelson"))
    return dt, peak, raw, int(res.i.signal.sum())


def pccpy_xbar_r(x):
    import pccpy
    raw = x.nbytes
    dt, peak, res = measure(lambda: pccpy.xbar_r_chart(x, subgroup_size=5, tests=(1, 2, 3, 4, 5, 6, 7, 8)))
    return dt, peak, raw, None


def pccpy_imr(x):
    import pccpy
    raw = x.nbytes
    dt, peak, res = measure(lambda: pccpy.imr_chart(x, tests=(1, 2, 3, 4, 5, 6, 7, 8)))
    return dt, peak, raw, None


def shewhart_xbar_r(x):
    import shewhart as sw
    df = pd.DataFrame({"value": x, "subgroup": np.arange(x.size) // 5})
    raw = df.memory_usage(index=False).sum()
    dt, peak, res = measure(lambda: sw.xbar_r(df, value="value", subgroup="subgroup", rules="nelson"))
    return dt, peak, raw, None


def shewhart_imr(x):
    import shewhart as sw
    df = pd.DataFrame({"value": x})
    raw = df.memory_usage(index=False).sum()
    dt, peak, res = measure(lambda: sw.imr(df, value="value", rules="nelson"))
    return dt, peak, raw, None


def pycontrolcharts_xbar_r(x):
    import pycontrolcharts as pcc
    s = pd.Series(x)
    raw = x.nbytes
    dt, peak, res = measure(lambda: pcc.calc_xbar_r(s, subgroup_size=5, run_tests=True))
    return dt, peak, raw, None


def pycontrolcharts_imr(x):
    import pycontrolcharts as pcc
    s = pd.Series(x)
    raw = x.nbytes
    dt, peak, res = measure(lambda: pcc.calc_xmr(s, run_tests=True))
    return dt, peak, raw, None


class _NoAx:
    """pyspc marks violations by drawing on a matplotlib Axes; a no-op stand-in keeps plotting out of the time."""

    def plot(self, *a, **k):
        return None


def pyspc_xbar_r(x):
    from pyspc import rules
    from pyspc.ccharts.xbar_rbar import rbar, xbar_rbar
    data = x.reshape(-1, 5).tolist()
    raw = x.nbytes

    def run():
        vals, c, lcl, ucl, _ = xbar_rbar().plot(data, 5)
        rvals, rc, rl, ru, _ = rbar().plot(data, 5)
        rr = rules()
        pts = rr.RULE_1_BEYOND_3SIGMA(_NoAx(), vals, c, lcl, ucl) + rr.RULE_7_ON_ONE_SIDE(_NoAx(), vals, c, lcl, ucl)
        return pts
    dt, peak, res = measure(run)
    return dt, peak, raw, None


PEERS = {
    "xbar_r": [
        ("pccpy", pccpy_xbar_r, "tests 1-8 (Minitab)"),
        ("shewhart", shewhart_xbar_r, "rules='nelson'"),
        ("pycontrolcharts", pycontrolcharts_xbar_r, "tests 1,2,3,5,6 only (no 4,7,8)"),
        ("pyspc", pyspc_xbar_r, "beyond limits + 7-on-one-side only"),
    ],
    "imr": [
        ("pccpy", pccpy_imr, "tests 1-8 (Minitab)"),
        ("shewhart", shewhart_imr, "rules='nelson'"),
        ("pycontrolcharts", pycontrolcharts_imr, "tests 1,2,3,5,6 only (no 4,7,8)"),
        ("pyspc", None, "no plain individuals chart (I_MR_X needs [id, value] pairs): not run"),
    ],
}


def run_peer(fn, x_full, sizes):
    """Time at the full size under a guard; on timeout fall back to a smaller n and extrapolate linearly.
    Peak memory is then measured (tracing on) at a tenth of the timed n and scaled linearly."""
    n_full = x_full.size
    for n in sizes:
        try:
            with time_guard(GUARD_S):
                dt, _, raw, _ = fn(x_full[:n])
        except Timeout:
            continue
        except Exception as exc:  # a peer's own failure is reported, not fatal
            return None, None, None, f"failed: {type(exc).__name__}: {str(exc)[:80]}"
        scale = n_full / n
        how = "" if n == n_full else f"time extrap. from n={n:,}"
        m = max(n // 10, 1000)
        TRACE["on"] = True
        try:
            with time_guard(GUARD_S):
                _, peak, mraw, _ = fn(x_full[:m])
            peak = peak * n_full / m
            how = (how + "; " if how else "") + f"memory scaled from n={m:,}"
        except Timeout:
            peak = None
        finally:
            TRACE["on"] = False
        return dt * scale, peak, raw * scale, how
    return None, None, None, f"> {GUARD_S} s even at n={sizes[-1]:,}"


def run_sqc(fn, x):
    dt, _, raw, nsig = fn(x)
    TRACE["on"] = True
    try:
        _, peak, _, _ = fn(x)
    finally:
        TRACE["on"] = False
    return dt, peak, raw, nsig


def fmt_mb(b):
    return "—" if b is None else f"{b / 1e6:8.1f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="100,000 observations instead of 1,000,000")
    ap.add_argument("--no-growth", action="store_true", help="skip the 10,000,000 growth check")
    args = ap.parse_args()
    n = 100_000 if args.quick else 1_000_000
    x = make_data(n)
    rows = []
    for chart, sqc_fn in (("xbar_r", sqc_xbar_r), ("imr", sqc_imr)):
        sqc_fn(x[:10_000])  # warm-up (constants cache, imports)
        dt, peak, raw, nsig = run_sqc(sqc_fn, x)
        rows.append((chart, "sqc", dt, peak, raw, f"nelson_1-8; {nsig:,} points flagged"))
        for name, fn, note in PEERS[chart]:
            if fn is None:
                rows.append((chart, name, None, None, None, note))
                continue
            pdt, ppeak, praw, how = run_peer(fn, x, [n, n // 10, n // 100])
            rows.append((chart, name, pdt, ppeak, praw, f"{note}{'; ' + how if how else ''}"))
    print(f"\nSPC benchmark: {n:,} observations (X̄–R: {n // 5:,} subgroups of 5; I–MR: {n:,} individuals)")
    print(f"{'chart':7} {'library':16} {'time s':>9} {'peak MB':>9} {'peak/raw':>9} {'sqc speed-up':>13}  notes")
    for chart in ("xbar_r", "imr"):
        sq = next(r for r in rows if r[0] == chart and r[1] == "sqc")
        for c, lib, dt, peak, raw, note in (r for r in rows if r[0] == chart):
            ratio = "—" if peak is None else f"{peak / raw:9.2f}"
            speed = "—" if dt is None or lib == "sqc" else f"{dt / sq[2]:12.1f}x"
            tm = "—" if dt is None else f"{dt:9.3f}"
            print(f"{c:7} {lib:16} {tm:>9} {fmt_mb(peak):>9} {ratio:>9} {speed:>13}  {note}")
        peers = [r for r in rows if r[0] == chart and r[1] != "sqc" and r[2] is not None]
        if peers:
            best = min(peers, key=lambda r: r[2])
            print(f"        fastest peer: {best[1]} ({best[2]:.3f} s) → sqc is {best[2] / sq[2]:.1f}x faster")
    if not args.no_growth:
        print("\nsqc growth (time and peak memory should grow linearly):")
        print(f"{'chart':7} {'n':>12} {'time s':>9} {'s per 1M':>9} {'peak MB':>9} {'peak/raw':>9}")
        for big in (1_000_000, 3_000_000, 10_000_000):
            xb = make_data(big, seed=7)
            for chart, fn in (("xbar_r", sqc_xbar_r), ("imr", sqc_imr)):
                dt, peak, raw, _ = run_sqc(fn, xb)
                print(f"{chart:7} {big:12,} {dt:9.3f} {dt / big * 1e6:9.3f} {peak / 1e6:9.1f} {peak / raw:9.2f}")
            del xb
            gc.collect()


if __name__ == "__main__":
    main()
