"""The monthly reporting run: execute the report notebook for a period and publish it atomically.

Layout of the reports directory::

    reports/
      index.html                 every published period (rewritten after each run, atomically)
      2026-10 -> .versions/2026-10.<stamp>   one published period: a symlink to its current version
        dashboard_en.html        standalone, offline dashboard (one per language)
        summary.json             headline numbers, warnings, notes (machine-readable)
        report.ipynb             the executed notebook: the run log
        manifest.json            parameters, code version, package versions, input fingerprint, timings
      .versions/2026-10.<stamp>/ the versions behind the links (only the linked one is kept)
      _failed/2026-10_20261101T020000/report.ipynb   the run log of a failed run (the last N are kept)
      .staging/                  work in progress (ignored; cleared on the next run)

A run writes everything into ``.staging/``, moves the finished folder into ``.versions/`` and publishes it by
renaming a new symlink over ``reports/<period>``: one atomic step, so readers see the old month or the new one and
never neither. Every run (and ``sqc index``) first repairs what an interrupted run left: unfinished work is
removed, a month whose link was not yet swapped keeps its previous version, and the index is rewritten.
Re-running a published period does nothing unless ``force=True``.
"""
from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DataError, ParameterError, PipelineError

PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
LANGS = ("en", "zh")
REPORT_NOTEBOOK = "monthly_report.ipynb"
REPO_ROOT = Path(__file__).resolve().parents[1]
VERSIONS_DIR = ".versions"
TMP_LINK_PREFIX = ".link-"
LEGACY_OLD_RE = re.compile(r"^\.old-(\d{4}-\d{2})-\d+$")  # left by releases that swapped whole folders
CRASH_EXIT_CODE = 86
DEFAULT_MIN_FREE_MB = 200
DEFAULT_KEEP_FAILED = 5
DATA_SUFFIXES = (".csv", ".parquet", ".xlsx")
# Errors raised inside the report notebook that mean "fix the input" (exit 2), not "the run broke" (exit 1).
DATA_ERROR_NAMES = {"DataError", "SchemaError", "InsufficientDataError", "ParameterError"}
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
    error: str = ""  # for failed runs: "data" (bad input, exit 2) or "run" (exit 1)


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
    with open(reports_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _crash_point(step: str) -> None:
    """Test-only fault injection: ``SQC_TEST_CRASH_AT=<step>`` ends the process at that publishing step, as a
    power cut or ``kill -9`` would (no clean-up, no exception handlers)."""
    if os.environ.get("SQC_TEST_CRASH_AT") == step:
        os._exit(CRASH_EXIT_CODE)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` so that readers see the old file or the whole new one, never a part (temp file, fsync,
    rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _crash_point(f"tmp-written:{path.name}")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _setting(value, env: str, default, convert, what: str):
    """A run setting: the argument, else the environment variable, else the default; a number of 0 or more."""
    if value is None:
        value = os.environ.get(env, default)
    try:
        number = convert(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise ParameterError(f"{what} must be a number of 0 or more (argument or ${env}), got {value!r}")
    return number


def _min_free_bytes(min_free_mb) -> int:
    return int(_setting(min_free_mb, "SQC_MIN_FREE_MB", DEFAULT_MIN_FREE_MB, float, "minimum free space (MB)")
               * 2**20)


def _keep_failed_count(keep_failed) -> int:
    return _setting(keep_failed, "SQC_KEEP_FAILED", DEFAULT_KEEP_FAILED, int, "number of failed runs to keep")


def prepare_reports_dir(reports_dir: str | os.PathLike) -> Path:
    """Create the reports folder if needed and check that it can be written; a one-line error says what to fix."""
    reports_dir = Path(reports_dir).expanduser().resolve()
    if reports_dir.exists() and not reports_dir.is_dir():
        raise ParameterError(f"reports folder {reports_dir} is a file, not a folder; pass --reports DIR")
    try:
        reports_dir.mkdir(parents=True, exist_ok=True)
        probe = reports_dir / f".write-probe-{os.getpid()}"
        fd = os.open(probe, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        os.close(fd)
        probe.unlink()
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise PipelineError(f"disk full: cannot write in reports folder {reports_dir}; free space there") \
                from None
        raise ParameterError(f"reports folder {reports_dir} cannot be written ({exc.strerror}); make it writable "
                             f"by this user or pass --reports DIR") from None
    return reports_dir


def check_free_space(reports_dir: Path, min_free_mb=None) -> None:
    """Refuse to start a run when the reports folder's disk has less than the minimum free (a run that fills the
    disk half-way leaves nothing useful)."""
    need = _min_free_bytes(min_free_mb)
    free = shutil.disk_usage(reports_dir).free
    if free < need:
        raise PipelineError(f"disk full: {free / 2**20:.0f} MB free on the disk of {reports_dir}, the run needs at "
                            f"least {need / 2**20:.0f} MB; free space there (or lower --min-free-mb)")


def _version_stamp() -> str:
    return f"{dt.datetime.now().strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"


def _versions_of(reports_dir: Path, period: str) -> list[Path]:
    versions = reports_dir / VERSIONS_DIR
    if not versions.is_dir():
        return []
    return sorted(p for p in versions.iterdir() if p.name.startswith(period + "."))


def _link(reports_dir: Path, period: str, version: Path) -> None:
    """Point ``reports_dir/<period>`` at ``version`` in one atomic rename of a temporary symlink."""
    tmp = reports_dir / f"{TMP_LINK_PREFIX}{period}-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(f"{VERSIONS_DIR}/{version.name}", tmp)  # relative: the folder may be mounted elsewhere
    _crash_point("link-created")
    os.replace(tmp, reports_dir / period)
    _fsync(reports_dir)


def repair(reports_dir: Path) -> list[str]:
    """Undo whatever a crashed or killed run left behind, so that every published period is whole and linked.

    Call with the run lock held. Returns one line per repair made (for the log)."""
    done = []
    staging_root = reports_dir / ".staging"
    if staging_root.exists():
        for entry in staging_root.iterdir():
            shutil.rmtree(entry, ignore_errors=True)
            done.append(f"removed unfinished run {entry.name}")
    for entry in reports_dir.iterdir():
        if entry.name.startswith(TMP_LINK_PREFIX) or (entry.name.startswith(".") and entry.name.endswith(".tmp")):
            entry.unlink(missing_ok=True)
            done.append(f"removed temporary {entry.name}")
    versions = reports_dir / VERSIONS_DIR
    # Earlier releases swapped whole folders: adopt a published folder (or one stranded as .old-<period>-<pid>
    # by a run killed between its two renames) as a version, then link it below.
    for entry in sorted(reports_dir.iterdir()):
        legacy = LEGACY_OLD_RE.match(entry.name)
        if entry.is_symlink() or not entry.is_dir() or not (PERIOD_RE.match(entry.name) or legacy):
            continue
        period = legacy.group(1) if legacy else entry.name
        if not legacy and not (entry / "manifest.json").exists():
            continue  # not something sqc published: leave it alone
        if legacy and (os.path.lexists(reports_dir / period) or not (entry / "manifest.json").exists()):
            shutil.rmtree(entry, ignore_errors=True)
            done.append(f"removed {entry.name} left by an interrupted run")
            continue
        versions.mkdir(exist_ok=True)
        os.rename(entry, versions / f"{period}.{_version_stamp()}")
        done.append(f"moved {entry.name} into {VERSIONS_DIR}/")
    if versions.is_dir():
        for period in sorted({p.name.split(".")[0] for p in versions.iterdir() if PERIOD_RE.match(p.name[:7])}):
            link = reports_dir / period
            current = link.resolve() if link.is_symlink() else None
            complete = [v for v in _versions_of(reports_dir, period) if (v / "manifest.json").exists()]
            if current is None or not (current / "manifest.json").exists():
                if complete:
                    _link(reports_dir, period, complete[-1])
                    current = complete[-1].resolve()
                    done.append(f"linked {period} to {complete[-1].name}")
                elif link.is_symlink():
                    link.unlink()
                    current = None
                    done.append(f"removed broken link {period}")
            for v in _versions_of(reports_dir, period):
                if current is None or v.resolve() != current:
                    shutil.rmtree(v, ignore_errors=True)
    for entry in reports_dir.iterdir():  # a period link whose version vanished (deleted by hand)
        if entry.is_symlink() and PERIOD_RE.match(entry.name) and not entry.exists():
            entry.unlink()
            done.append(f"removed broken link {entry.name}")
    return done


def _publish(staging: Path, reports_dir: Path, period: str) -> Path:
    """Publish ``staging`` as ``reports_dir/<period>`` in one atomic step: the folder becomes a version under
    ``.versions/`` and the period's symlink is swapped to it by a rename. Readers see the old month or the new
    one, never neither; the previous version is removed afterwards."""
    for f in staging.iterdir():
        _fsync(f)
    _fsync(staging)
    _crash_point("staged")
    versions = reports_dir / VERSIONS_DIR
    versions.mkdir(exist_ok=True)
    version = versions / f"{period}.{_version_stamp()}"
    os.rename(staging, version)
    _fsync(versions)
    _crash_point("version-moved")
    _link(reports_dir, period, version)
    _crash_point("link-swapped")
    for old in _versions_of(reports_dir, period):
        if old != version:
            shutil.rmtree(old, ignore_errors=True)
    _crash_point("old-removed")
    return reports_dir / period


def _failed_notebook(staging: Path, reason: str) -> bytes:
    """The executed notebook if it is whole; otherwise (disk full, killed while writing) a small valid notebook
    that says why the run log is missing, so ``_failed/`` never holds a file that does not open."""
    try:
        text = (staging / "report.ipynb").read_bytes()
        if isinstance(json.loads(text), dict):
            return text
    except (OSError, ValueError):
        pass  # missing or cut short: replaced below
    note = {"cell_type": "markdown", "id": "failed-run", "metadata": {}, "source": [
        "# Failed run\n", f"The run failed: {reason}\n\n",
        "The executed notebook was incomplete (the disk may have been full), so this note replaces it.\n"]}
    return json.dumps({"cells": [note], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1).encode()


def _keep_failed(staging: Path, reports_dir: Path, run_name: str, reason: str, keep: int) -> Path | None:
    """Keep only the failed run's notebook (written atomically) under ``_failed/<run>/``, drop its partial outputs
    to give the disk back, and keep the last ``keep`` failures. Returns the notebook path, or None when it could
    not be written (disk full) or ``keep`` is 0."""
    notebook = _failed_notebook(staging, reason)
    shutil.rmtree(staging, ignore_errors=True)
    failed_root = reports_dir / "_failed"
    kept = None
    if keep > 0:
        target = failed_root / run_name
        try:
            target.mkdir(parents=True, exist_ok=True)
            _write_atomic(target / "report.ipynb", notebook)
            kept = target / "report.ipynb"
        except OSError:
            shutil.rmtree(target, ignore_errors=True)  # disk full: keep nothing rather than half a file
    if failed_root.is_dir():
        runs = sorted((p for p in failed_root.iterdir() if p.is_dir()), key=lambda p: (p.stat().st_mtime, p.name))
        for old in runs[:max(len(runs) - keep, 0)]:
            shutil.rmtree(old, ignore_errors=True)
    return kept


def _papermill():
    """papermill, imported without the optional ``rfc3987_syntax`` package: jsonschema (through nbformat) imports
    it when installed, and it builds a grammar at import (about 1 s of every run), for the "iri" string formats
    that notebook validation never checks. Only a module not yet imported is kept out."""
    sys.modules.setdefault("rfc3987_syntax", None)  # None in sys.modules: the import raises ImportError
    import papermill

    return papermill


def run_report(period: str, *, data_dir: str | os.PathLike | None = None,
               reports_dir: str | os.PathLike = "reports", branches=None, languages="en", force: bool = False,
               progress: bool = True, timeout: int = 1800, notebook: str | os.PathLike | None = None,
               regenerate_index: bool = True, min_free_mb=None, keep_failed=None) -> RunResult:
    """Execute the monthly report notebook for ``period`` and publish ``reports_dir/<period>/``.

    Returns a :class:`RunResult`. Raises :class:`ParameterError` for bad parameters, :class:`DataError` when the
    notebook stopped on bad input data, and :class:`PipelineError` for any other failure (disk full, a section
    that failed, a killed kernel). After a failure the executed notebook is kept under ``reports_dir/_failed/``
    (the last ``keep_failed`` runs, default ``$SQC_KEEP_FAILED`` or 5) and nothing is published. A run refuses
    to start with less than ``min_free_mb`` MB free (default ``$SQC_MIN_FREE_MB`` or 200).
    """
    pm = _papermill()
    period = validate_period(period)
    languages = validate_languages(languages)
    branches = validate_branches(branches)
    keep = _keep_failed_count(keep_failed)
    _min_free_bytes(min_free_mb)
    notebook = Path(notebook) if notebook else REPO_ROOT / "notebooks" / REPORT_NOTEBOOK
    if not notebook.exists():
        raise PipelineError(f"report notebook not found: {notebook}")
    if data_dir is not None:
        data_dir = check_data_dir(data_dir)
    reports_dir = prepare_reports_dir(reports_dir)
    target = reports_dir / period
    with _run_lock(reports_dir):
        repaired = repair(reports_dir)
        if (target / "manifest.json").exists() and not force:
            if repaired or regenerate_index:
                write_index(reports_dir)
            return RunResult(period, "skipped", target, message="already published; use --force to rebuild")
        check_free_space(reports_dir, min_free_mb)
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
        staging = reports_dir / ".staging" / f"{period}_{stamp}"
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
                                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                                # the last cell has run and its outputs are in: the kernel is stopped at once
                                # rather than asked to tear down its heap of chart objects (about 2.5 s per run)
                                shutdown_kernel="immediate")
        except BaseException as exc:  # includes KeyboardInterrupt: keep the run log, never publish
            reason = _failure_reason(exc)
            kept = _keep_failed(staging, reports_dir, f"{period}_{stamp}", reason, keep)
            if isinstance(exc, KeyboardInterrupt):
                raise
            where = (f"the executed notebook is kept at {kept}" if kept else
                     "the run log could not be kept" + (" (disk full)" if _is_disk_full(exc) else ""))
            if getattr(exc, "ename", None) in DATA_ERROR_NAMES:
                raise DataError(f"report for {period} stopped on bad input data: {exc.evalue}. Nothing was "
                                f"published; {where}") from None
            if _is_disk_full(exc):
                reason = f"disk full ({reason}); free space on the disk of {reports_dir}"
            raise PipelineError(f"report for {period} failed: {reason}. Nothing was published; {where}") from None
        missing = [f for f in [*(f"dashboard_{lang}.html" for lang in languages), "summary.json"]
                   if not (staging / f).exists()]
        if missing:
            kept = _keep_failed(staging, reports_dir, f"{period}_{stamp}", f"did not write {missing}", keep)
            raise PipelineError(f"report notebook for {period} ran but did not write {missing}; the executed "
                                f"notebook is kept at {kept}")
        manifest = {
            "period": period, "parameters": {k: v for k, v in parameters.items() if k != "output_dir"},
            "code_version": code_version(), "packages": package_versions(),
            "input_fingerprint": _read_fingerprint(staging), "started": dt.datetime.fromtimestamp(started).isoformat(
                timespec="seconds"), "seconds": round(time.time() - started, 2),
            "files": sorted(p.name for p in staging.iterdir()),
        }
        try:
            _write_atomic(staging / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode())
            _publish(staging, reports_dir, period)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            what = "disk full" if exc.errno == errno.ENOSPC else exc.strerror
            raise PipelineError(f"report for {period} could not be published ({what}); the published month is "
                                f"unchanged") from None
        if regenerate_index:
            write_index(reports_dir)
    return RunResult(period, "published", target, seconds=manifest["seconds"],
                     dashboards=[target / f"dashboard_{lang}.html" for lang in languages])


def _is_disk_full(exc: BaseException) -> bool:
    return getattr(exc, "errno", None) == errno.ENOSPC or "No space left on device" in str(exc)


def check_data_dir(data_dir: str | os.PathLike) -> Path:
    """A data folder must exist, be readable, and hold no empty (0-byte) table file."""
    data_dir = Path(data_dir).expanduser().resolve()
    if not data_dir.is_dir():
        raise ParameterError(f"data directory {data_dir} does not exist; pass --data DIR with the exports")
    if not os.access(data_dir, os.R_OK | os.X_OK):
        raise ParameterError(f"data directory {data_dir} cannot be read by this user; fix its permissions")
    check_no_empty_files(data_dir)
    return data_dir


def check_no_empty_files(data_dir: str | os.PathLike) -> None:
    """Refuse a data folder holding an empty (0-byte) table file: an export that failed half-way, or a table
    exported twice (complaints.csv beside complaints.parquet) where one copy is empty."""
    for f in sorted(Path(data_dir).iterdir()):
        if f.suffix.lower() in DATA_SUFFIXES and f.is_file() and f.stat().st_size == 0:
            raise DataError("the file is empty (0 bytes); export it again", file=str(f))


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
    The index is regenerated once at the end. A month that stopped on bad input data has ``error == "data"``."""
    reports_dir = prepare_reports_dir(kwargs.get("reports_dir", "reports"))
    results = []
    from tqdm.auto import tqdm  # in the "report" extra, like papermill; a bar only on a terminal (disable=None)

    for period in tqdm(period_range(start, end), desc="backfill", unit="month", disable=None):
        try:
            results.append(run_report(period, regenerate_index=False, **kwargs))
        except (PipelineError, DataError) as exc:
            results.append(RunResult(period, "failed", reports_dir / "_failed", message=str(exc),
                                     error="data" if isinstance(exc, DataError) else "run"))
    rebuild_index(reports_dir)
    return results


def rebuild_index(reports_dir: str | os.PathLike) -> Path:
    """Repair what an interrupted run left (under the run lock) and rewrite ``index.html``."""
    reports_dir = prepare_reports_dir(reports_dir)
    with _run_lock(reports_dir):
        repair(reports_dir)
        return write_index(reports_dir)


def published_periods(reports_dir: str | os.PathLike) -> list[str]:
    reports_dir = Path(reports_dir)
    if not reports_dir.exists():
        return []
    return sorted(p.name for p in reports_dir.iterdir()
                  if PERIOD_RE.match(p.name) and (p / "manifest.json").exists())


INDEX_TOP_ACTIONS = 3


def _index_row(reports_dir: Path, period: str) -> dict:
    """One published month for the index: links, its top "needs action" items and its warnings by severity
    (blank for a month published before summary.json had them)."""
    from .report.summary import severity_counts

    manifest = json.loads((reports_dir / period / "manifest.json").read_text(encoding="utf-8"))
    row = {"period": period, "started": manifest.get("started", ""), "code_version": manifest.get("code_version", ""),
           "links": [{"href": f"{period}/{f}", "label": "中文" if "_zh" in f else "English"}
                     for f in manifest.get("files", []) if f.startswith("dashboard_")],
           "actions": [], "has_actions": False, "counts": None}
    try:
        summary = json.loads((reports_dir / period / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return row  # a period published by an older version without summary.json
    if not isinstance(summary, dict):
        return row
    actions = summary.get("actions")
    if isinstance(actions, list):
        row["has_actions"] = True
        for a in actions[:INDEX_TOP_ACTIONS]:
            if not isinstance(a, dict):
                continue
            text = a.get("text")
            text = text.get("en") if isinstance(text, dict) else text
            row["actions"].append({"severity": a.get("severity") if a.get("severity") in ("critical", "warning")
                                   else "info", "text": str(text or a.get("plain_key") or a.get("key") or "")})
    counts = summary.get("warning_counts")
    if not isinstance(counts, dict) and isinstance(summary.get("warnings"), list):
        counts = severity_counts(w for w in summary["warnings"] if isinstance(w, dict))
    if isinstance(counts, dict):
        row["counts"] = {k: int(counts.get(k) or 0) for k in ("critical", "warning", "info")}
    return row


def write_index(reports_dir: str | os.PathLike) -> Path:
    """(Re)write ``reports_dir/index.html`` listing every published period, newest first, with its top
    "needs action" items and its warnings by severity; works offline. Call with the run lock held (or use
    :func:`rebuild_index`). Every string from the files is escaped (the template autoescapes)."""
    from .report.templates import render, stylesheet

    reports_dir = Path(reports_dir)
    rows = [_index_row(reports_dir, period) for period in reversed(published_periods(reports_dir))]
    page = render("index.html", rows=rows, top=INDEX_TOP_ACTIONS, css=stylesheet("index.css"))
    _write_atomic(reports_dir / "index.html", page.encode("utf-8"))
    return reports_dir / "index.html"
