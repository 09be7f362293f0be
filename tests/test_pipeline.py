"""The monthly run: publish, idempotence, forced re-run, failures and kills that never damage published periods,
backfill and the index. Uses a small stand-in report notebook so these semantics are tested in seconds; the real
report notebook is exercised in test_report_e2e.py."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sqc.errors import ParameterError, PipelineError
from pipeline_support import write_fake_notebook
from sqc.pipeline import backfill, period_range, published_periods, run_report, validate_period

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def fake_notebook(tmp_path):
    return write_fake_notebook(tmp_path / "fake_report.ipynb")


def run(period, reports, nb, **kw):
    return run_report(period, reports_dir=reports, notebook=nb, progress=False, **kw)


def test_publish_rerun_and_force(tmp_path, fake_notebook):
    reports = tmp_path / "reports"
    r = run("2026-10", reports, fake_notebook, languages="en,zh")
    assert r.status == "published"
    period_dir = reports / "2026-10"
    files = sorted(p.name for p in period_dir.iterdir())
    assert files == ["dashboard_en.html", "dashboard_zh.html", "manifest.json", "report.ipynb", "summary.json"]
    manifest = json.loads((period_dir / "manifest.json").read_text())
    assert manifest["parameters"]["period"] == "2026-10" and manifest["parameters"]["languages"] == ["en", "zh"]
    assert manifest["packages"]["pandas"] != "not installed" and manifest["code_version"]
    assert manifest["input_fingerprint"] == "abc"
    index = (reports / "index.html").read_text()
    assert "2026-10/dashboard_en.html" in index and "2026-10/dashboard_zh.html" in index
    before = (period_dir / "dashboard_en.html").read_text()
    # idempotent: a second run does nothing
    again = run("2026-10", reports, fake_notebook, languages="en,zh")
    assert again.status == "skipped" and (period_dir / "dashboard_en.html").read_text() == before
    # forced: rebuilt
    forced = run("2026-10", reports, fake_notebook, languages="en,zh", force=True)
    assert forced.status == "published" and (period_dir / "dashboard_en.html").read_text() != before
    assert not list(reports.glob(".old-*")) and not any((reports / ".staging").iterdir())


def test_failure_keeps_notebook_and_leaves_published_periods_intact(tmp_path, fake_notebook):
    reports = tmp_path / "reports"
    run("2026-08", reports, fake_notebook)
    snapshot = {p.name: p.read_bytes() for p in (reports / "2026-08").iterdir()}
    with pytest.raises(PipelineError, match="planted failure.*Nothing was published") as exc:
        run("2026-09", reports, fake_notebook)
    assert not (reports / "2026-09").exists()
    failed = list((reports / "_failed").glob("2026-09_*/report.ipynb"))
    assert len(failed) == 1 and str(failed[0]) in str(exc.value)
    assert {p.name: p.read_bytes() for p in (reports / "2026-08").iterdir()} == snapshot
    assert published_periods(reports) == ["2026-08"]


def test_killed_run_leaves_no_trace_and_next_run_recovers(tmp_path, fake_notebook):
    reports = tmp_path / "reports"
    run("2026-10", reports, fake_notebook)
    snapshot = {p.name: p.read_bytes() for p in (reports / "2026-10").iterdir()}
    env = dict(os.environ, FAKE_SLEEP="60")
    cmd = [sys.executable, "-m", "sqc.cli", "report", "--period", "2026-10", "--force", "--quiet",
           "--reports", str(reports), "--notebook", str(fake_notebook), "--lang", "en"]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and not list((reports / ".staging").glob("2026-10_*/report.ipynb")):
        time.sleep(0.2)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGKILL)  # like a power cut or `kill -9` of the cron job and its kernel
    proc.wait(timeout=30)
    assert {p.name: p.read_bytes() for p in (reports / "2026-10").iterdir()} == snapshot
    assert published_periods(reports) == ["2026-10"]
    # a later run clears the stale staging area and publishes normally
    r = run("2026-11", reports, fake_notebook)
    assert r.status == "published" and not any((reports / ".staging").iterdir())


def test_backfill_publishes_each_month_and_reports_failures(tmp_path, fake_notebook):
    reports = tmp_path / "reports"
    results = backfill("2026-07", "2026-10", reports_dir=reports, notebook=fake_notebook, progress=False)
    assert [r.status for r in results] == ["published", "published", "failed", "published"]
    assert published_periods(reports) == ["2026-07", "2026-08", "2026-10"]
    index = (reports / "index.html").read_text()
    assert all(p in index for p in ("2026-07", "2026-08", "2026-10")) and "2026-09/" not in index


def test_parameters_are_validated_before_anything_runs(tmp_path, fake_notebook):
    for bad in ("2026-13", "2026-1", "26-10", "October", ""):
        with pytest.raises(ParameterError, match="YYYY-MM"):
            validate_period(bad)
    with pytest.raises(ParameterError, match="language"):
        run("2026-10", tmp_path, fake_notebook, languages="fr")
    with pytest.raises(ParameterError, match="branch ids"):
        run("2026-10", tmp_path, fake_notebook, branches="B01;DROP")
    with pytest.raises(ParameterError, match="does not exist"):
        run("2026-10", tmp_path, fake_notebook, data_dir=tmp_path / "nope")
    with pytest.raises(ParameterError, match="empty"):
        period_range("2026-10", "2026-01")
    assert period_range("2025-11", "2026-10")[::11] == ["2025-11", "2026-10"] and len(period_range("2025-11", "2026-10")) == 12


@pytest.mark.parametrize("args, message", [
    (["report", "--period", "2026-13"], "YYYY-MM"),
    (["report", "--period", "2026-10", "--lang", "de"], "language"),
    (["backfill", "--from", "2026-10", "--to", "2026-01"], "empty"),
    (["serve", "--credentials", "/nonexistent/creds.json"], "not found"),
])
def test_cli_bad_parameters_exit_2_with_a_clear_message(tmp_path, args, message):
    proc = subprocess.run([sys.executable, "-m", "sqc.cli", *args, *(["--reports", str(tmp_path)]
                           if args[0] in ("report", "backfill") else [])], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
