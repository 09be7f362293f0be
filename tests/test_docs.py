"""The documentation site builds with warnings as errors (API pages from the docstrings, the methods page, the
CLI reference from the parser, the data schema) and the tutorials execute during the build."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_no_module_cites_the_external_method_reference():
    hits = [str(p.relative_to(ROOT)) for p in (ROOT / "sqc").rglob("*") if p.is_file() and p.suffix in (".py", ".json")
            and "methods.md" in p.read_text(encoding="utf-8")]
    assert hits == []


def test_every_cited_methods_section_has_an_anchor():
    page = (ROOT / "docs" / "methods.md").read_text(encoding="utf-8")
    anchors = set(re.findall(r"^\(methods-([\d-]+)\)=$", page, flags=re.M))
    cited = set()
    for p in (ROOT / "sqc").rglob("*"):
        if p.is_file() and p.suffix in (".py", ".json"):
            cited |= {m.rstrip(".").replace(".", "-") for m in re.findall(r"Methods §(\d+(?:\.\d+)?)",
                                                                           p.read_text(encoding="utf-8"))}
    assert cited and cited <= anchors, f"cited without an anchor: {sorted(cited - anchors)}"


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_nb")
    out = tmp_path / "html"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-d",
                          str(tmp_path / "doctrees"), str(ROOT / "docs"), str(out)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-4000:]
    for page in ("index.html", "methods.html", "conventions.html", "cli.html", "data.html", "results.html",
                 "api/sqc.spc.html", "api/sqc.servqual.html",
                 "store.html", "api/sqc.interventions.html", "api/sqc.plotting.interventions.html", "tutorials/tutorial_kiosk_servqual.html",
                 "tutorials/tutorial_nhs_control_charts.html"):
        assert (out / page).exists(), page
    methods = (out / "methods.html").read_text(encoding="utf-8")
    assert 'id="methods-5-2"' in methods and 'id="methods-1-10"' in methods
    assert all(f'id="methods-8-{k}"' in methods for k in (4, 5, 6))    # interventions: ITS, roll-out, before/after
    cli = (out / "cli.html").read_text(encoding="utf-8")
    assert "backfill" in cli and "validate" in cli
    # the tutorials ran: their checkable numbers are in the page
    nhs = (out / "tutorials" / "tutorial_nhs_control_charts.html").read_text(encoding="utf-8")
    assert nhs.count("<img") >= 2          # matplotlib figures are shown as images
    assert "sigma_z 10.64" in nhs and "week 1 limits 0.9401 to 0.9657" in nhs and "0.0018135" in nhs
    kiosk = (out / "tutorials" / "tutorial_kiosk_servqual.html").read_text(encoding="utf-8")
    assert "0.879" in kiosk and "0.907" in kiosk and "0.843" in kiosk
