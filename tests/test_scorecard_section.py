"""Dashboard sections of issue 6 (scorecard, complaints): build in English and Chinese on the demo data, carry
n/CI in the headline, call out the planted effects, and embed nothing that loads from the network."""
import json
import re

import pytest

pytest.importorskip("panel")

from sqc.report.context import ReportContext, Section  # noqa: E402

BRANCHES = [f"B{i:02d}" for i in range(1, 13)]
REMOTE = re.compile(r"""(src|href)\s*=\s*["']https?://""")


def _html(section) -> str:
    import panel as pn

    parts = []
    for obj in section.body.objects:
        if isinstance(obj, (pn.pane.HTML, pn.pane.Markdown)):
            parts.append(str(obj.object))
    return "\n".join(parts)


@pytest.fixture(scope="module", params=["en", "zh"])
def scorecard_section(request, demo_data):
    from sqc.report.sections import scorecard

    return request.param, scorecard.build(ReportContext(demo_data, "2026-10", BRANCHES, request.param))


@pytest.fixture(scope="module", params=["en", "zh"])
def complaints_section(request, demo_data):
    from sqc.report.sections import complaints

    return request.param, complaints.build(ReportContext(demo_data, "2026-10", BRANCHES, request.param))


def test_scorecard_section(scorecard_section):
    lang, s = scorecard_section
    assert isinstance(s, Section) and s.key == "scorecard"
    assert s.title == ("KPI 计分卡" if lang == "zh" else "KPI scorecard")
    h = s.headline
    json.dumps(h)  # summary.json must serialise
    sl = h["network"]["service_level"]
    assert sl["n"] > 0 and sl["ci_low"] < sl["value"] < sl["ci_high"] and sl["target"] == 0.8
    assert sl["variation"] in ("improvement", "concern", "common_cause")
    assert "B07" in h["concerns"] and {"service_level", "asa_s", "abandonment_rate"} <= set(h["concerns"]["B07"])
    assert s.notes and s.notes[0].startswith("B07")  # the waiting-time shift is called out first
    html = _html(s)
    assert not REMOTE.search(html)
    assert "▼" in html and "title=" in html  # verdict icons as unicode with the verdict in words


def test_complaints_section(complaints_section):
    lang, s = complaints_section
    assert s.key == "complaints"
    h = s.headline
    json.dumps(h)
    assert [x["category"] for x in h["surges"]] == ["billing"]
    assert h["surges"][0]["first_signal"] == "2026-08"
    assert h["pareto"][0]["category"] == "billing"
    for m in ("recovery_rate", "sla_compliance", "reopen_rate"):
        assert h[m]["n"] > 0 and h[m]["ci_low"] <= h[m]["value"] <= h[m]["ci_high"]
    med = h["time_to_resolve_days"]["median"]
    assert med["ci_low"] <= med["value"] <= med["ci_high"]
    assert len(s.notes) == 1
    assert ("计费" in s.notes[0]) if lang == "zh" else ("billing" in s.notes[0] and "Aug 2026" in s.notes[0])
    assert any(w.code == "W-CMP-04" for w in s.warnings)
    assert not REMOTE.search(_html(s))


def test_sections_respect_period_and_branches(demo_data):
    from sqc.report.sections import complaints, scorecard

    ctx = ReportContext(demo_data, "2026-07", ["B01", "B07"], "en")
    s = complaints.build(ctx)
    assert s.headline["surges"] == []  # the billing surge starts in August
    sc = scorecard.build(ctx)
    assert set(sc.headline["composite"]) == {"ALL", "B01", "B07"}
