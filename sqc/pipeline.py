"""The monthly reporting run: execute the report notebook for a period and publish it atomically.

Layout of the reports directory::

    reports/
      index.html                 every published period (regenerated after each run)
      2026-10/                   one published period (appears whole or not at all)
        dashboard_en.html        standalone, offline dashboard (one per language)
        summary.json             headline numbers, warnings, notes (machine-readable)
        report.ipynb             the executed notebook: the run log
        manifest.json            parameters, code version, package versions, input fingerprint, timings
      _failed/2026-10_20261101T020000/report.ipynb   kept for diagnosis when a run fails
      .staging/                  work in progress (ignored; stale entries are cleared on the next run)

A run writes everything into ``.staging/`` and publishes with directory renames, so a failed or killed run never
leaves a half-written period and never damages a published one. Re-running a published period does nothing unless
``force=True``.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import html
import json
import os
import platform
import re
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ParameterError, PipelineError

PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
LANGS = ("en", "zh")
REPORT_NOTEBOOK = "monthly_report.ipynb"
REPO_ROOT = Path(__file__).resolve().parents[1]
RECORDED_PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "matplotlib", "panel", "bokeh", "papermill", "pyarrow")


def validate_period(period: str) -> str:
    """Check a ``YYYY-MM`` period string and return it."""
    if not isinstance(period, str) or not PERIOD_RE.match(period.strip()):
        raise ParameterError(f"period must be a month written YYYY-MM (e.g. 2026-10), got {period!r}")
    return period.strip()


def period_range(start: str, end: str) -> list[str]:
    """All months from ``start`` to ``end`` inclusive."""
    import pandas as pd

    start, end = validate_period(start), validate_period(end)
    if start > end:
        raise ParameterError(f"backfill range is empty: {start} is after {end}; give --from before --to")
    return [str(p) for p in pd.period_range(start, end, freq="M")]


def validate_languages(langs) -> list[str]:
    if isinstance(langs, str):
        langs = [x.strip() for x in langs.split(",") if x.strip()]
    langs = list(dict.fromkeys(langs))
    bad = [x for x in langs if x not in LANGS]
    if not langs or bad:
        raise ParameterError(f"language must be 'en', 'zh' or 'en,zh', got {','.join(map(str, langs)) or 'nothing'}")
    return langs


def validate_branches(branches) -> list[str] | None:
    if branches is None or branches == "" or branches == []:
        return None
    if isinstance(branches, str):
        branches = [b.strip() for b in branches.split(",") if b.strip()]
    bad = [b for b in branches if not re.fullmatch(r"[A-Za-z0-9_-]+", str(b))]
    if bad:
        raise ParameterError(f"branch ids must be letters, digits, '_' or '-', got {bad}")
    return list(branches)


@dataclass
class RunResult:
    period: str
    status: str  # "published", "skipped", "failed"
    path: Path
    seconds: float = 0.0
    message: str = ""
    dashboards: list[Path] = field(default_factory=list)


def code_version() -> str:
    """``git describe`` of the checkout when available, else the package version."""
    from . import __version__

    try:
        out = subprocess.run(["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty", "--tags"],
                             capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return f"{__version__}+{out.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass  # not a git checkout, or git is not installed: the package version is what we can record
    return __version__


def package_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@contextmanager
def _run_lock(reports_dir: Path):
    """One run at a time per reports directory (a second scheduled run waits rather than racing)."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    with open(reports_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _clear_stale_staging(staging_root: Path) -> None:
    if staging_root.exists():
        for entry in staging_root.iterdir():
            shutil.rmtree(entry, ignore_errors=True)


def _publish(staging: Path, target: Path) -> None:
    """Swap ``staging`` in as ``target`` with renames; an existing target is restored if the swap fails."""
    backup = None
    if target.exists():
        backup = target.with_name(f".old-{target.name}-{os.getpid()}")
        os.rename(target, backup)
    try:
        os.rename(staging, target)
    except OSError:
        if backup is not None:
            os.rename(backup, target)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def run_report(period: str, *, data_dir: str | os.PathLike | None = None,
               reports_dir: str | os.PathLike = "reports", branches=None, languages="en", force: bool = False,
               progress: bool = True, timeout: int = 1800, notebook: str | os.PathLike | None = None,
               regenerate_index: bool = True) -> RunResult:
    """Execute the monthly report notebook for ``period`` and publish ``reports_dir/<period>/``.

    Returns a :class:`RunResult`; raises :class:`PipelineError` (after keeping the failed notebook under
    ``reports_dir/_failed/``) when the notebook fails, and :class:`ParameterError` for bad parameters.
    """
    import papermill as pm

    period = validate_period(period)
    languages = validate_languages(languages)
    branches = validate_branches(branches)
    reports_dir = Path(reports_dir).expanduser().resolve()
    notebook = Path(notebook) if notebook else REPO_ROOT / "notebooks" / REPORT_NOTEBOOK
    if not notebook.exists():
        raise PipelineError(f"report notebook not found: {notebook}")
    if data_dir is not None:
        data_dir = Path(data_dir).expanduser().resolve()
        if not data_dir.is_dir():
            raise ParameterError(f"data directory {data_dir} does not exist; pass --data DIR with the exports")
    target = reports_dir / period
    with _run_lock(reports_dir):
        if (target / "manifest.json").exists() and not force:
            return RunResult(period, "skipped", target, message="already published; use --force to rebuild")
        staging_root = reports_dir / ".staging"
        _clear_stale_staging(staging_root)
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        staging = staging_root / f"{period}_{stamp}"
        staging.mkdir(parents=True)
        started = time.time()
        parameters = {"period": period, "data_dir": str(data_dir) if data_dir else None,
                      "branches": branches, "languages": languages, "output_dir": str(staging)}
        executed = staging / "report.ipynb"
        try:
            pm.execute_notebook(str(notebook), str(executed), parameters=parameters, progress_bar=progress,
                                kernel_name="python3", cwd=str(notebook.parent), execution_timeout=timeout,
                                log_output=False, report_mode=False,
                                # keep cron mail clean: the kernel's own start-up/shutdown chatter (TCP transport
                                # notice, KeyboardInterrupt at shutdown) is not a report problem; cell errors still
                                # fail the run and stay in the executed notebook.
                                extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
        except BaseException as exc:  # includes KeyboardInterrupt: keep the run log, never publish
            failed_root = reports_dir / "_failed"
            failed_root.mkdir(exist_ok=True)
            failed = failed_root / f"{period}_{stamp}"
            if staging.exists():
                os.rename(staging, failed)
            reason = _failure_reason(exc)
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise PipelineError(f"report for {period} failed: {reason}. Nothing was published; the executed "
                                f"notebook is kept at {failed / 'report.ipynb'}") from None
        missing = [f for f in [*(f"dashboard_{lang}.html" for lang in languages), "summary.json"]
                   if not (staging / f).exists()]
        if missing:
            shutil.rmtree(staging, ignore_errors=True)
            raise PipelineError(f"report notebook for {period} ran but did not write {missing}")
        manifest = {
            "period": period, "parameters": {k: v for k, v in parameters.items() if k != "output_dir"},
            "code_version": code_version(), "packages": package_versions(),
            "input_fingerprint": _read_fingerprint(staging), "started": dt.datetime.fromtimestamp(started).isoformat(
                timespec="seconds"), "seconds": round(time.time() - started, 2),
            "files": sorted(p.name for p in staging.iterdir()),
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        _publish(staging, target)
        if regenerate_index:
            write_index(reports_dir)
    return RunResult(period, "published", target, seconds=manifest["seconds"],
                     dashboards=[target / f"dashboard_{lang}.html" for lang in languages])


def _failure_reason(exc: BaseException) -> str:
    name = getattr(exc, "ename", None)
    value = getattr(exc, "evalue", None)
    if name:
        return f"{name}: {value}"
    return f"{type(exc).__name__}: {exc}"


def _read_fingerprint(staging: Path) -> str | None:
    summary = staging / "summary.json"
    try:
        return json.loads(summary.read_text(encoding="utf-8")).get("input_fingerprint")
    except (OSError, ValueError):
        return None


def backfill(start: str, end: str, **kwargs) -> list[RunResult]:
    """Run :func:`run_report` for every month from ``start`` to ``end``; a failed month does not stop the others.
    The index is regenerated once at the end."""
    reports_dir = Path(kwargs.get("reports_dir", "reports")).expanduser().resolve()
    results = []
    from tqdm.auto import tqdm  # in the "report" extra, like papermill; a bar only on a terminal (disable=None)

    for period in tqdm(period_range(start, end), desc="backfill", unit="month", disable=None):
        try:
            results.append(run_report(period, regenerate_index=False, **kwargs))
        except PipelineError as exc:
            results.append(RunResult(period, "failed", reports_dir / "_failed", message=str(exc)))
    write_index(reports_dir)
    return results


def published_periods(reports_dir: str | os.PathLike) -> list[str]:
    reports_dir = Path(reports_dir)
    if not reports_dir.exists():
        return []
    return sorted(p.name for p in reports_dir.iterdir()
                  if p.is_dir() and PERIOD_RE.match(p.name) and (p / "manifest.json").exists())


def write_index(reports_dir: str | os.PathLike) -> Path:
    """(Re)write ``reports_dir/index.html`` listing every published period, newest first; works offline."""
    reports_dir = Path(reports_dir)
    rows = []
    for period in reversed(published_periods(reports_dir)):
        manifest = json.loads((reports_dir / period / "manifest.json").read_text(encoding="utf-8"))
        links = " · ".join(f'<a href="{period}/{html.escape(f)}">{"中文" if "_zh" in f else "English"}</a>'
                           for f in manifest.get("files", []) if f.startswith("dashboard_"))
        n_warn = ""
        try:
            summary = json.loads((reports_dir / period / "summary.json").read_text(encoding="utf-8"))
            n_warn = str(len(summary.get("warnings", [])))
        except (OSError, ValueError):
            pass  # a period published by an older version without summary.json: leave the count blank
        rows.append(f"<tr><td>{period}</td><td>{links}</td><td>{html.escape(manifest.get('started', ''))}</td>"
                    f"<td>{n_warn}</td><td><a href=\"{period}/report.ipynb\">run log</a></td>"
                    f"<td><code>{html.escape(manifest.get('code_version', ''))}</code></td></tr>")
    body = "\n".join(rows) or '<tr><td colspan="6">No period has been published yet.</td></tr>'
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sqc — published service-quality reports</title>
<style>body{{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",sans-serif;margin:2rem;color:#1f2933}}
table{{border-collapse:collapse}}td,th{{padding:.4rem .8rem;border-bottom:1px solid #d9e2ec;text-align:left}}
th{{background:#f0f4f8}}a{{color:#0b5cad}}</style></head>
<body><h1>Service-quality reports</h1><p>Monthly dashboards published by <code>sqc report</code>. Each opens offline.</p>
<table><thead><tr><th>Period</th><th>Dashboard</th><th>Run started</th><th>Warnings</th><th>Log</th><th>Code</th></tr></thead>
<tbody>
{body}
</tbody></table></body></html>
"""
    tmp = reports_dir / ".index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, reports_dir / "index.html")
    return reports_dir / "index.html"
