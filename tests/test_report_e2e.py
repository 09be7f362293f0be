"""The real monthly report on the bundled demo data: what a manager receives for 2026-10."""
import json

import pytest

from sqc.report.dashboard import SECTION_ORDER, find_remote_resources, unpack_page

pytestmark = pytest.mark.slow
PAGE_LIMIT_BYTES = 2_500_000  # each dashboard page, at every demo scale


def test_report_publishes_offline_dashboards_summary_and_manifest(published_reports):
    reports, result = published_reports
    assert result.status == "published"
    period_dir = reports / "2026-10"
    for lang in ("en", "zh"):
        html = unpack_page((period_dir / f"dashboard_{lang}.html").read_text(encoding="utf-8"))
        assert find_remote_resources(html) == []
        size = (period_dir / f"dashboard_{lang}.html").stat().st_size
        assert size <= PAGE_LIMIT_BYTES, f"dashboard_{lang}.html is {size / 1e6:.2f} MB; it is e-mailed"
    summary = json.loads((period_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["period"] == "2026-10" and summary["languages"] == ["en", "zh"]
    assert list(summary["sections"]) == [s for s in SECTION_ORDER if s in summary["sections"]]
    assert set(summary["sections"]) == set(SECTION_ORDER), "every analysis area has a dashboard section"
    for load in summary["load"]:
        assert load["rows_kept"] > 0, load
    manifest = json.loads((period_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["input_fingerprint"] and len(manifest["input_fingerprint"]) == 64
    assert "report.ipynb" in manifest["files"]
    assert (reports / "index.html").exists()


def test_planted_effects_are_called_out(published_reports):
    """datasets/README.md plants effects; the dashboard must say so in words a manager reads."""
    reports, _ = published_reports
    summary = json.loads((reports / "2026-10" / "summary.json").read_text(encoding="utf-8"))
    notes = " ".join(n for ns in summary["notes"].values() for n in ns)
    text = (notes + json.dumps(summary["warnings"], ensure_ascii=False)).lower()
    assert "b07" in text, "the waiting-time shift at B07 is called out"
    assert "billing" in text, "the billing complaint surge is called out"
    html = unpack_page((reports / "2026-10" / "dashboard_en.html").read_text(encoding="utf-8")).lower()
    assert "city" in html and "lenient" in html or "higher than the provincial" in html
