"""Benchmark: per-branch per-day and per-month hotline aggregates - the pandas path vs DuckDB vs Spark local mode.

Workloads, on a demo data folder (``sqc demo-data --scale N --out DIR``):

* ``sums``  - the per-(branch, day) sufficient statistics alone (the raw-row work; everything else is statistics
  on those few thousand rows);
* ``day``   - ``sqc.kpi.hotline_kpis(hotline, freq="day", total=True)``: the KPIs of every branch and day;
* ``month`` - ``sqc.kpi.hotline_kpis(hotline, freq="month", total=True, quantiles=True)``: every branch and month,
  with the exact median/P80/P90 waiting time and median handle time.

Methods:

* ``pandas`` - today's path: ``sqc.io.load_network(tables=["hotline"])`` reads and validates every row into pandas,
  then the numpy aggregation (``load`` is timed separately);
* ``duckdb`` - the same functions given an Ibis table over the Parquet files (``sqc.engine``): DuckDB aggregates
  them in place and returns per-(branch, day) sums;
* ``spark``  - the same Ibis expressions on Spark in local mode (``local[2]``, 1 GB driver); JVM start-up is
  timed separately.

Each method runs in its own fresh Python process, so its peak resident memory (``ru_maxrss``) is its own. For Spark
the JVM's peak (VmHWM of the driver JVM) is reported beside the Python process's. Each workload is timed on its
first run (no cache, every query issued) and the results are checked equal across methods (1e-9 relative).

Usage:  python benchmarks/bench_engine.py DIR [DIR ...] [--methods pandas,duckdb,spark]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(method: str, data_dir: str, out: str) -> None:
    import resource

    import pandas as pd

    from sqc.kpi import hotline_kpis

    rec = {"method": method}
    jvm_pid = None
    t0 = time.perf_counter()
    if method == "pandas":
        from sqc.io import load_network

        hotline = load_network(data_dir, tables=["hotline"]).hotline
        rec["load_s"] = time.perf_counter() - t0
        rec["rows"] = len(hotline)
    else:
        from sqc.engine import connect, tables_from_folder

        backend = connect(method)
        rec["start_s"] = time.perf_counter() - t0
        hotline = tables_from_folder(backend, data_dir, ["hotline"]).table("hotline")
        if method == "spark":
            jvm_pid = backend._session.sparkContext._gateway.proc.pid
    t = time.perf_counter()
    if method == "pandas":
        from sqc.kpi import _hotline_sums

        _hotline_sums(hotline, "day", 20.0, 5.0, 4)
    else:
        from sqc.engine import HotlineAggregates

        HotlineAggregates(hotline).daily_sums()
    rec["sums_s"] = time.perf_counter() - t
    results = {}
    for name, kw in (("day", dict(freq="day", total=True)), ("month", dict(freq="month", total=True,
                                                                           quantiles=True))):
        t = time.perf_counter()
        results[name] = hotline_kpis(hotline, **kw)
        rec[f"{name}_s"] = time.perf_counter() - t
        rec[f"{name}_rows_out"] = len(results[name])
    rec["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if jvm_pid is not None:
        for line in Path(f"/proc/{jvm_pid}/status").read_text().splitlines():
            if line.startswith("VmHWM"):
                rec["jvm_peak_rss_mb"] = int(line.split()[1]) / 1024
    for name, frame in results.items():
        frame.to_parquet(f"{out}.{name}.parquet")
    Path(out).write_text(json.dumps(rec))
    if method == "spark":
        backend.disconnect()


def _run(method: str, data_dir: str, tmp: Path) -> dict:
    out = tmp / f"{method}-{abs(hash(data_dir))}.json"
    subprocess.run([sys.executable, __file__, "--child", method, data_dir, str(out)], check=True, cwd=ROOT)
    return json.loads(out.read_text()) | {"out": str(out)}


def _check_equal(records: list[dict]) -> str:
    import pandas as pd

    ref = records[0]
    for rec in records[1:]:
        for name in ("day", "month"):
            pd.testing.assert_frame_equal(pd.read_parquet(f"{ref['out']}.{name}.parquet"),
                                          pd.read_parquet(f"{rec['out']}.{name}.parquet"), rtol=1e-9, atol=0)
    return "equal (1e-9 relative)"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dirs", nargs="*")
    p.add_argument("--methods", default="pandas,duckdb,spark")
    p.add_argument("--child", nargs=3, metavar=("METHOD", "DIR", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="sqc-bench-engine-"))
    print("| data | rows | method | start/load s | day sums s | day KPIs s | month KPIs+quantiles s "
          "| peak RSS MB (python) | JVM peak MB | result |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for d in args.dirs:
        recs = [_run(m, d, tmp) for m in args.methods.split(",")]
        verdict = _check_equal(recs) if len(recs) > 1 else ""
        rows = next((f"{r['rows']:,}" for r in recs if "rows" in r), "")
        for r in recs:
            start = r.get("load_s", r.get("start_s", float("nan")))
            print(f"| {Path(d).name} | {rows} | {r['method']} | {start:.2f} | {r['sums_s']:.2f} | {r['day_s']:.2f} "
                  f"| {r['month_s']:.2f} | {r['peak_rss_mb']:.0f} | {r.get('jvm_peak_rss_mb', float('nan')):.0f} "
                  f"| {verdict} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
