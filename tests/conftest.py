import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATASETS = ROOT / "datasets"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    if not (DATASETS / "branches.csv").exists():
        pytest.fail("bundled demo data missing: run `python -m sqc.demo --out datasets`")
    return DATASETS


@pytest.fixture(scope="session")
def demo_data(demo_dir):
    from sqc.io import load_network

    return load_network(demo_dir)


def chromium_path() -> str | None:
    for cand in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if cand and Path(cand).exists():
            return cand
    return None


@pytest.fixture(scope="session")
def chromium():
    path = chromium_path()
    if path is None:
        if os.environ.get("SQC_REQUIRE_BROWSER"):
            pytest.fail("SQC_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("Debian chromium not installed")
    return path


@pytest.fixture(scope="session")
def published_reports(tmp_path_factory):
    """One real monthly run (2026-10, English and Chinese) on the demo data, shared by the e2e and browser tests."""
    from sqc.pipeline import run_report

    reports = tmp_path_factory.mktemp("reports")
    result = run_report("2026-10", reports_dir=reports, languages="en,zh", progress=False)
    return reports, result
