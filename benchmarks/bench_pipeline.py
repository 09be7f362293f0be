"""Benchmark of the monthly run: ``sqc report --period 2026-10 --lang en,zh`` at several demo scales, for the code
before the data-engine work (a commit, checked out by this script into a temporary git worktree) and for the
current checkout, measured the same way in one script.

    python benchmarks/bench_pipeline.py                 # scales 1 10 100
    python benchmarks/bench_pipeline.py 1 --skip-old    # only the current checkout at scale 1

For every scale the demo data is generated once (``sqc demo-data --scale N``) into a cache folder outside the
repository (default ``~/.cache/sqc-bench``; scale 100 takes a few minutes and about 1 GB of disk) and reused by
later runs. Each run starts ``python -m sqc.cli report`` with ``PYTHONPATH`` pointing at the code under test (the
papermill kernel inherits it) and a fresh reports folder, and measures:

- wall time of the whole command;
- peak memory of the whole process tree (the CLI, the papermill kernel and anything they start), sampled from
  ``/proc`` every 0.2 s: PSS summed over the tree (each shared page counted once, split between the processes
  that share it; the report forks a child per extra language whose copy-on-write pages would be counted twice
  in a sum of RSS), and the RSS sum beside it; ``getrusage(RUSAGE_CHILDREN)`` of a small wrapper process gives
  the largest single process's peak as a cross-check;
- CPU time (user + system) of the whole tree, from the same ``getrusage`` call: on a busy machine it is the
  steadier of the two times;
- the size of each language's dashboard.

A run whose tree goes past ``--max-rss-gb`` or ``--timeout`` is stopped and reported as such. The results go to
stdout and, as a Markdown table, to ``--output``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OLD_COMMIT = "75b49ea"  # the code before issue 9 (data engine, compute once per run)
PERIOD = "2026-10"
LANGS = "en,zh"


def _pss_bytes(pid: int) -> int:
    """Proportional set size of one process (``/proc/PID/smaps_rollup``): its private pages plus its share of the
    pages it shares, so that a forked child's copy-on-write pages are counted once over the tree, not twice."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):  # the process ended while we looked: it holds nothing now
        return 0
    return 0  # a kernel without smaps_rollup (before Linux 4.14)


def _tree_memory_bytes(root_pid: int) -> tuple[int, int]:
    """Resident memory (RSS) and proportional memory (PSS) of ``root_pid`` and all its descendants (Linux
    ``/proc``), each summed over the tree."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read().decode("ascii", "replace")
            fields = stat[stat.rindex(")") + 2:].split()
            pid, ppid = int(entry.name), int(fields[1])
            rss[pid] = int(fields[21]) * page
            children.setdefault(ppid, []).append(pid)
        except (OSError, ValueError, IndexError):  # the process ended while we looked
            continue
    total_rss, total_pss, stack = 0, 0, [root_pid]
    while stack:
        pid = stack.pop()
        total_rss += rss.get(pid, 0)
        total_pss += _pss_bytes(pid)
        stack.extend(children.get(pid, []))
    return total_rss, total_pss


def _measure_child(argv: list[str]) -> int:
    """Wrapper mode: run ``argv``, then print the largest descendant's peak RSS and the CPU time of all of them
    (``RUSAGE_CHILDREN``: every process of the tree was waited for by its parent)."""
    import resource

    rc = subprocess.call(argv)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"rc": rc, "max_single_rss_bytes": usage.ru_maxrss * 1024,
                      "cpu_seconds": usage.ru_utime + usage.ru_stime}), file=sys.stderr)
    return rc


def run_once(code_dir: Path, data_dir: Path, reports_dir: Path, *, timeout: float, max_rss: float,
             extra_args: tuple[str, ...] = ()) -> dict:
    """One ``sqc report`` run of the code in ``code_dir``; wall time, peak tree RSS, dashboard sizes."""
    env = dict(os.environ, PYTHONPATH=str(code_dir), PYTHONHASHSEED="0", MPLBACKEND="Agg")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_measure", "--", sys.executable, "-m", "sqc.cli",
           "report", "--period", PERIOD, "--lang", LANGS, "--data", str(data_dir), "--reports", str(reports_dir),
           "--quiet", "--force", *extra_args]
    log = reports_dir.parent / f"{reports_dir.name}.log"
    started = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=code_dir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        peak, peak_pss, stopped = 0, 0, None
        while proc.poll() is None:
            rss, pss = _tree_memory_bytes(proc.pid)
            peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            if peak_pss > max_rss:
                stopped = f"stopped at {peak_pss / 1e9:.1f} GB"
            elif time.perf_counter() - started > timeout:
                stopped = f"stopped after {timeout:.0f} s"
            if stopped:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.2)
    seconds = time.perf_counter() - started
    text = log.read_text(encoding="utf-8", errors="replace")
    usage = {}
    for line in reversed(text.splitlines()):
        if line.startswith('{"rc"'):
            usage = json.loads(line)
            break
    result = {"seconds": seconds, "cpu_seconds": usage.get("cpu_seconds"), "peak_tree_rss_bytes": peak,
              "peak_tree_pss_bytes": peak_pss,
              "max_single_rss_bytes": usage.get("max_single_rss_bytes"),
              "returncode": proc.returncode, "stopped": stopped, "log": str(log), "dashboard_bytes": {}}
    for lang in LANGS.split(","):
        page = reports_dir / PERIOD / f"dashboard_{lang}.html"
        if page.exists():
            result["dashboard_bytes"][lang] = page.stat().st_size
    if proc.returncode != 0 and not stopped:
        result["stopped"] = f"failed (exit {proc.returncode}; see {log})"
    return result


def ensure_demo_data(scale: float, cache: Path) -> Path:
    """The demo data of ``scale`` in the cache, generated (by the current checkout) the first time."""
    target = cache / f"scale-{scale:g}"
    if target.exists():
        return target
    tmp = cache / f".scale-{scale:g}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"generating demo data at scale {scale:g} into {target} ...", flush=True)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-m", "sqc.cli", "demo-data", "--scale", f"{scale:g}", "--out", str(tmp)],
                   check=True, cwd=REPO, env=env)
    tmp.rename(target)  # only complete data sets land under the final name
    return target


def hotline_rows(data_dir: Path) -> int:
    import pyarrow.parquet as pq

    files = sorted((data_dir / "hotline").glob("*.parquet"))
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def _fmt_time(run: dict | None) -> str:
    if run is None:
        return "—"
    return run["stopped"] if run["stopped"] else f"{run['seconds']:.1f} s"


def _fmt_cpu(run: dict | None) -> str:
    return "—" if run is None or run["stopped"] or run["cpu_seconds"] is None else f"{run['cpu_seconds']:.1f} s"


def _fmt_bytes(n: float | None, unit: float = 1e9, suffix: str = "GB") -> str:
    return "—" if not n else f"{n / unit:.2f} {suffix}"


def markdown_table(rows: list[dict]) -> str:
    lines = ["| demo scale | hotline rows | old time | new: first run, with ingest | new time | speed-up | old CPU | "
             "new CPU | old peak memory | new peak memory (first run) | new peak memory | new peak RSS sum | "
             "dashboard per language (new) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        old, new, first = r.get("old"), r["new"], r.get("first")
        speed = (f"{old['seconds'] / new['seconds']:.1f}×" if old and not old["stopped"] and not new["stopped"]
                 else "—")
        pages = ", ".join(f"{lang} {_fmt_bytes(b, 1e6, 'MB')}" for lang, b in new["dashboard_bytes"].items()) or "—"
        lines.append(f"| {r['scale']:g} | {r['hotline_rows'] / 1e6:.1f} M | {_fmt_time(old)} | {_fmt_time(first)} | "
                     f"{_fmt_time(new)} | {speed} | {_fmt_cpu(old)} | {_fmt_cpu(new)} | "
                     f"{_fmt_bytes(old and old['peak_tree_pss_bytes'])} | "
                     f"{_fmt_bytes(first and first['peak_tree_pss_bytes'])} | "
                     f"{_fmt_bytes(new['peak_tree_pss_bytes'])} | {_fmt_bytes(new['peak_tree_rss_bytes'])} | "
                     f"{pages} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_measure"]:
        return _measure_child(argv[2:] if argv[1:2] == ["--"] else argv[1:])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scales", nargs="*", type=float, default=[1, 10, 100], help="demo scales (default 1 10 100)")
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "sqc-bench",
                   help="where the demo data of each scale is kept (default ~/.cache/sqc-bench)")
    p.add_argument("--old-commit", default=OLD_COMMIT, help=f"the baseline commit (default {OLD_COMMIT})")
    p.add_argument("--skip-old", action="store_true", help="measure only the current checkout")
    p.add_argument("--old-max-scale", type=float, default=float("inf"),
                   help="run the baseline only up to this scale (it runs out of memory at 100)")
    p.add_argument("--max-rss-gb", type=float, default=18.0, help="stop a run whose process tree's memory (PSS) "
                   "passes this")
    p.add_argument("--timeout", type=float, default=3600.0, help="stop a run after this many seconds")
    p.add_argument("--output", type=Path, default=REPO / "benchmarks" / "bench_pipeline_results.md",
                   help="Markdown file for the table (default benchmarks/bench_pipeline_results.md)")
    args = p.parse_args(argv)
    if not Path("/proc").is_dir():
        p.error("this benchmark samples memory from /proc (Linux)")
    args.cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="sqc-bench-"))
    old_dir = work / "old"
    rows: list[dict] = []
    try:
        if not args.skip_old:
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(old_dir),
                            args.old_commit], check=True)
        for scale in args.scales:
            data_dir = ensure_demo_data(scale, args.cache)
            row = {"scale": scale, "hotline_rows": hotline_rows(data_dir)}
            limits = dict(timeout=args.timeout, max_rss=args.max_rss_gb * 1e9)
            if not args.skip_old and scale <= args.old_max_scale:
                print(f"scale {scale:g}: old code ({args.old_commit}) ...", flush=True)
                row["old"] = run_once(old_dir, data_dir, work / f"reports-old-{scale:g}", **limits)
                print(f"  {json.dumps(row['old'])}", flush=True)
            # the current code reads the exports into a store first: a fresh store here, so the first run includes
            # the whole ingest; the second is the monthly run with the store up to date (nothing changed)
            store = ("--store", str(work / f"store-{scale:g}.duckdb"))
            print(f"scale {scale:g}: current checkout, first run (ingest into a new store) ...", flush=True)
            row["first"] = run_once(REPO, data_dir, work / f"reports-first-{scale:g}", extra_args=store, **limits)
            print(f"  {json.dumps(row['first'])}", flush=True)
            print(f"scale {scale:g}: current checkout, store up to date ...", flush=True)
            row["new"] = run_once(REPO, data_dir, work / f"reports-new-{scale:g}", extra_args=store, **limits)
            print(f"  {json.dumps(row['new'])}", flush=True)
            rows.append(row)
    finally:
        if old_dir.exists():
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(old_dir)], check=False)
        keep = [r for row in rows for r in (row.get("old"), row.get("first"), row["new"]) if r and r["stopped"]]
        if not keep:  # the logs of failed runs are kept for reading
            shutil.rmtree(work, ignore_errors=True)
    cores = os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    table = markdown_table(rows)
    text = (f"`sqc report --period {PERIOD} --lang {LANGS}` ({cores} cores, {mem:.0f} GiB; old = {args.old_commit}, "
            f"new = current checkout; peak memory = PSS summed over the process tree)\n\n{table}\n")
    print("\n" + text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
