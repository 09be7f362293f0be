"""Publishing with no window for loss: fault injection at every publishing step, repair of what crashes (of this
and of earlier releases) leave, exit codes and one-line messages for read-only folders, full disks, missing
folders and empty files, valid failed-run notebooks, and a bounded _failed/."""
import errno
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_support import write_fake_notebook
from sqc.errors import DataError, PipelineError
from sqc.pipeline import CRASH_EXIT_CODE, published_periods, run_report

ROOT = Path(__file__).resolve().parents[1]
STEPS = ["tmp-written:manifest.json", "staged", "version-moved", "link-created", "link-swapped", "old-removed",
         "tmp-written:index.html"]


def sqc(*args, env=None, timeout=300, stdin=""):
    return subprocess.run([sys.executable, "-m", "sqc.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ, **(env or {})), timeout=timeout, input=stdin)


def one_line_error(proc) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    return write_fake_notebook(tmp_path_factory.mktemp("nb") / "fake_report.ipynb")


@pytest.fixture(scope="module")
def published_once(tmp_path_factory, notebook):
    """Two published months (2026-08, 2026-10), copied afresh for each test."""
    reports = tmp_path_factory.mktemp("template") / "reports"
    for period in ("2026-08", "2026-10"):
        run_report(period, reports_dir=reports, notebook=notebook, progress=False, languages="en,zh")
    return reports


@pytest.fixture()
def reports(published_once, tmp_path):
    target = tmp_path / "reports"
    shutil.copytree(published_once, target, symlinks=True)
    return target


def snapshot(reports: Path, period: str) -> dict:
    return {p.name: p.read_bytes() for p in (reports / period).iterdir()}


def assert_intact(reports: Path, expected: dict[str, set]):
    """Every published month is whole, and the index lists exactly the published months with working links."""
    assert published_periods(reports) == sorted(expected)
    for period, versions in expected.items():
        files = snapshot(reports, period)
        assert set(files) == {"dashboard_en.html", "dashboard_zh.html", "summary.json", "report.ipynb",
                              "manifest.json"}, files.keys()
        json.loads(files["manifest.json"])
        assert files["dashboard_en.html"] in versions, "the month is the old or the new version, nothing else"
    index = (reports / "index.html").read_text()
    linked = set(re.findall(r'href="(\d{4}-\d{2})/', index))
    assert linked == set(expected), f"index links {linked}, published {set(expected)}"
    for href in re.findall(r'href="([^"]+)"', index):
        assert (reports / href).is_file(), href


def assert_clean(reports: Path):
    leftovers = [p.name for p in reports.iterdir() if p.name.startswith((".link-", ".old-")) or p.name.endswith(".tmp")]
    assert leftovers == []
    assert not any((reports / ".staging").iterdir()) if (reports / ".staging").exists() else True
    versions = sorted(p.name[:7] for p in (reports / ".versions").iterdir())
    assert versions == sorted(published_periods(reports)), "exactly one version per published month"
    for period in published_periods(reports):
        assert (reports / period).is_symlink()


@pytest.mark.parametrize("step", STEPS)
def test_killed_at_each_publishing_step_leaves_month_and_index_intact(reports, notebook, step):
    old = snapshot(reports, "2026-10")["dashboard_en.html"]
    proc = sqc("report", "--period", "2026-10", "--force", "--quiet", "--lang", "en,zh", "--reports", reports,
               "--notebook", notebook, env={"SQC_TEST_CRASH_AT": step})
    assert proc.returncode == CRASH_EXIT_CODE, (proc.returncode, proc.stderr)
    new = {old} | {p.read_bytes() for p in reports.glob(".versions/2026-10.*/dashboard_en.html")}
    assert_intact(reports, {"2026-08": {snapshot(reports, "2026-08")["dashboard_en.html"]}, "2026-10": new})
    # the next run (here `sqc index`) repairs whatever the crash left and rewrites the index
    proc = sqc("index", "--reports", reports)
    assert proc.returncode == 0, proc.stderr
    assert_intact(reports, {"2026-08": {snapshot(reports, "2026-08")["dashboard_en.html"]}, "2026-10": new})
    assert_clean(reports)
    if step in ("link-swapped", "old-removed", "tmp-written:index.html"):
        assert snapshot(reports, "2026-10")["dashboard_en.html"] != old, "the swap had happened: new version kept"
    else:
        assert snapshot(reports, "2026-10")["dashboard_en.html"] == old, "the swap had not happened: old kept"


def test_killed_first_publication_then_next_run_lists_it(reports, notebook):
    """A month published just before the kill (index not yet rewritten) is listed by the next run."""
    proc = sqc("report", "--period", "2026-11", "--quiet", "--reports", reports, "--notebook", notebook,
               env={"SQC_TEST_CRASH_AT": "old-removed"})
    assert proc.returncode == CRASH_EXIT_CODE
    assert "2026-11/" not in (reports / "index.html").read_text(), "precondition: the index is stale"
    r = run_report("2026-10", reports_dir=reports, notebook=notebook, progress=False)
    assert r.status == "skipped"
    assert '2026-11/dashboard_en.html' in (reports / "index.html").read_text(), "a skipped run repairs the index"


def test_month_stranded_by_an_older_release_is_restored(reports):
    """Earlier releases swapped folders with two renames; a kill between them left only .old-<period>-<pid>."""
    versions = sorted((reports / ".versions").glob("2026-10.*"))
    os.unlink(reports / "2026-10")
    os.rename(versions[0], reports / ".old-2026-10-4242")
    (reports / "2026-08").unlink()
    os.rename(next((reports / ".versions").glob("2026-08.*")), reports / "2026-08")  # old layout: a real folder
    assert published_periods(reports) == ["2026-08"]
    proc = sqc("index", "--reports", reports)
    assert proc.returncode == 0, proc.stderr
    assert published_periods(reports) == ["2026-08", "2026-10"]
    assert "2026-10/dashboard_en.html" in (reports / "index.html").read_text()
    assert_clean(reports)


def test_stale_index_is_rewritten_by_the_next_run(reports, notebook):
    (reports / "index.html").write_text("<html>stale: 2026-07/dashboard_en.html</html>")
    r = run_report("2026-08", reports_dir=reports, notebook=notebook, progress=False)
    assert r.status == "skipped"
    index = (reports / "index.html").read_text()
    assert "2026-07" not in index and "2026-08/dashboard_en.html" in index and "2026-10/dashboard_en.html" in index


def test_bad_input_data_exits_2_with_one_line(reports, notebook):
    proc = sqc("report", "--period", "2026-06", "--quiet", "--reports", reports, "--notebook", notebook)
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert "bad input data" in line and "hotline.csv" in line and "wait_s" in line and "row 7" in line
    assert "2026-06" not in published_periods(reports)
    proc = sqc("report", "--period", "2026-09", "--quiet", "--reports", reports, "--notebook", notebook)
    assert proc.returncode == 1 and "planted failure" in one_line_error(proc)
    proc = sqc("backfill", "--from", "2026-05", "--to", "2026-06", "--quiet", "--reports", reports, "--notebook",
               notebook)
    assert proc.returncode == 2, proc.stderr


def test_empty_file_missing_folder_and_file_for_folder_are_one_line_errors(tmp_path, demo_dir, notebook):
    data = tmp_path / "data"
    shutil.copytree(demo_dir, data)
    (data / "complaints.csv").write_text("")
    for args in (["validate", "--data", data],
                 ["report", "--period", "2026-10", "--data", data, "--reports", tmp_path / "r", "--notebook",
                  notebook]):
        proc = sqc(*args)
        assert proc.returncode == 2, proc.stderr
        line = one_line_error(proc)
        assert "complaints.csv" in line and "empty (0 bytes)" in line
    proc = sqc("report", "--period", "2026-10", "--data", tmp_path / "nope", "--reports", tmp_path / "r")
    assert proc.returncode == 2 and "does not exist" in one_line_error(proc)
    (tmp_path / "afile").write_text("x")
    proc = sqc("index", "--reports", tmp_path / "afile")
    assert proc.returncode == 2 and "is a file" in one_line_error(proc)
    sqc("users", "add", "anna", "--credentials", tmp_path / "u.json", "--password-stdin",
        stdin="violet-anchor-quarry-31")
    proc = sqc("serve", "--credentials", tmp_path / "u.json", "--reports", tmp_path / "nope")
    assert proc.returncode == 2 and "does not exist" in one_line_error(proc)


def _mount_tmpfs(path: Path, options: str):
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.decode().strip()}); needs root")


@pytest.fixture()
def small_disk(tmp_path):
    mounts = []

    def make(options):
        path = tmp_path / f"mnt{len(mounts)}"
        _mount_tmpfs(path, options)
        mounts.append(path)
        return path
    yield make
    for path in mounts:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_read_only_reports_folder_is_a_one_line_error(small_disk, notebook):
    ro = small_disk("ro,size=1m")
    proc = sqc("report", "--period", "2026-10", "--quiet", "--reports", ro, "--notebook", notebook)
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert "cannot be written" in line and str(ro) in line and "Read-only file system" in line


def test_free_space_is_checked_before_building(small_disk, notebook):
    disk = small_disk("size=4m")
    proc = sqc("report", "--period", "2026-10", "--quiet", "--reports", disk / "reports", "--notebook", notebook,
               "--min-free-mb", 50)
    assert proc.returncode == 1
    line = one_line_error(proc)
    assert "disk full" in line and "at least 50 MB" in line
    assert not (disk / "reports" / ".staging").exists() or not any((disk / "reports" / ".staging").iterdir())


def test_disk_filling_during_the_run_leaves_a_valid_log_and_gives_the_space_back(small_disk, notebook):
    disk = small_disk("size=3m")
    reports = disk / "reports"
    for attempt in range(3):
        proc = sqc("report", "--period", "2026-10", "--quiet", "--reports", reports, "--notebook", notebook,
                   "--min-free-mb", 0, "--keep-failed", 2, env={"FAKE_BYTES": str(5 * 2**20)})
        assert proc.returncode == 1, proc.stderr
        line = one_line_error(proc)
        assert "disk full" in line.lower() or "no space left" in line.lower(), line
    failed = sorted((reports / "_failed").iterdir())
    assert len(failed) == 2, "only the last N failed runs are kept"
    for run in failed:
        assert [p.name for p in run.iterdir()] == ["report.ipynb"], "no partial dashboard is kept"
        json.loads((run / "report.ipynb").read_text())
    assert not any((reports / ".staging").iterdir())
    used = sum(p.stat().st_size for p in reports.rglob("*") if p.is_file())
    assert used < 2**20, f"the partial outputs must be removed ({used} bytes left)"


def test_failed_notebook_cut_short_is_replaced_by_a_valid_one(tmp_path, notebook, monkeypatch):
    import papermill

    def fake_execute(src, out, parameters, **kw):
        Path(parameters["output_dir"], "dashboard_en.html").write_text("<html>partial")
        Path(out).write_text('{"cells": [{"cell_type": "code", "sou')  # cut short by a full disk
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    reports = tmp_path / "reports"
    with pytest.raises(PipelineError, match="disk full") as exc:
        run_report("2026-10", reports_dir=reports, notebook=notebook, progress=False, min_free_mb=0)
    kept = list((reports / "_failed").glob("2026-10_*/*"))
    assert [p.name for p in kept] == ["report.ipynb"] and str(kept[0]) in str(exc.value)
    nb = json.loads(kept[0].read_text())
    assert nb["nbformat"] == 4 and "No space left" in "".join(nb["cells"][0]["source"])
    import nbformat

    nbformat.validate(nbformat.reads(kept[0].read_text(), as_version=4))


def test_failed_runs_are_pruned_to_the_setting(tmp_path, notebook):
    reports = tmp_path / "reports"
    for _ in range(4):
        with pytest.raises(PipelineError):
            run_report("2026-09", reports_dir=reports, notebook=notebook, progress=False, keep_failed=3)
    assert len(list((reports / "_failed").iterdir())) == 3
    with pytest.raises(PipelineError):
        run_report("2026-09", reports_dir=reports, notebook=notebook, progress=False, keep_failed=0)
    assert list((reports / "_failed").iterdir()) == []


def test_data_error_in_notebook_is_a_data_error(tmp_path, notebook):
    with pytest.raises(DataError, match="bad input data"):
        run_report("2026-06", reports_dir=tmp_path / "r", notebook=notebook, progress=False)


def test_a_folder_sqc_did_not_publish_is_left_alone(reports):
    mine = reports / "2026-05"
    mine.mkdir()
    (mine / "notes.txt").write_text("kept")
    assert sqc("index", "--reports", reports).returncode == 0
    assert (mine / "notes.txt").read_text() == "kept" and not mine.is_symlink()


def test_run_settings_are_validated(tmp_path, notebook, monkeypatch):
    from sqc.errors import ParameterError

    for kw in ({"min_free_mb": -1}, {"min_free_mb": "lots"}, {"keep_failed": -2}, {"keep_failed": "x"}):
        with pytest.raises(ParameterError, match="0 or more"):
            run_report("2026-10", reports_dir=tmp_path, notebook=notebook, progress=False, **kw)
    monkeypatch.setenv("SQC_KEEP_FAILED", "many")
    with pytest.raises(ParameterError, match="SQC_KEEP_FAILED"):
        run_report("2026-10", reports_dir=tmp_path, notebook=notebook, progress=False)
