"""Plots and the dashboard section "can this score be trusted" on the bundled demo data and the test data."""
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sqc.reliability import alpha, cfa, efa, parallel_analysis  # noqa: E402

DATA = Path(__file__).with_name("data")


@pytest.fixture(scope="module")
def sim():
    d = pd.read_csv(DATA / "reliability_servqual_sim.csv")
    d["P11"] = 8 - d["P11"]
    return d


def test_static_plots(sim):
    from matplotlib.figure import Figure

    from sqc.plotting import reliability as rp

    a = alpha(sim[[f"P{i}" for i in range(18, 23)]])
    for fig in (rp.item_total_bars(a), rp.alpha_if_deleted(a), rp.loadings_heatmap(efa(sim, 5)),
                rp.scree(parallel_analysis(sim, n_iter=10)),
                rp.loadings_heatmap(cfa(sim, {"t": ["P1", "P2", "P3", "P4"], "r": ["P5", "P6", "P7", "P8", "P9"]})),
                rp.alpha_by_scale({"empathy": a, "tangibles": alpha(sim[["P1", "P2", "P3", "P4"]])})):
        assert isinstance(fig, Figure)
    # the weak item P20 is drawn in the 'weak' colour
    fig = rp.item_total_bars(a)
    colors = [tuple(p.get_facecolor()) for p in fig.axes[0].patches]
    assert sum(c[0] > 0.7 for c in colors) == 1


def test_bokeh_plots(sim):
    from bokeh.models import Plot

    from sqc.plotting import reliability as rp

    assert isinstance(rp.item_total_bokeh(alpha(sim[["P1", "P2", "P3", "P4"]])), Plot)
    assert isinstance(rp.scree_bokeh(parallel_analysis(sim, n_iter=10)), Plot)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_section_names_weak_item_20(demo_data, lang):
    from sqc.report.context import ReportContext
    from sqc.report.sections import reliability as section

    ctx = ReportContext(demo_data, "2026-10", sorted(demo_data.branches["branch"]), lang)
    s = section.build(ctx)
    assert s.key == "reliability" and s.headline["wave"] == "2026-09"
    weak = {w["item"] for w in s.headline["weak_items"]}
    assert "P20" in weak  # planted effect: item 20 weak
    assert any("20" in n for n in s.notes)
    a = s.headline["alpha"]["empathy"]["P"]
    assert a["ci_low"] < a["value"] < a["ci_high"] and a["n"] > 30
    assert s.headline["cfa"]["n"] > 30 and 0 < s.headline["cfa"]["cfi"] <= 1
    if lang == "zh":
        assert "移情性" in s.notes[0]


def test_section_respects_period_and_branches(demo_data):
    from sqc.report.context import ReportContext
    from sqc.report.sections import reliability as section

    s = section.build(ReportContext(demo_data, "2025-01", ["B01", "B02", "B03", "B04", "B05", "B06"], "en"))
    assert s.headline["wave"] == "2024-12" and s.headline["instrument"] == "v1"
    # v1: items 11 and 20 negatively worded -> reverse-keyed, so no 'negative item-total r' warning
    assert not any(w.code == "W-REL-01" for w in s.warnings)
    empty = section.build(ReportContext(demo_data, "2024-06", ["B01"], "en"))
    assert empty.headline["wave"] is None


def test_section_with_too_few_respondents():
    from sqc.report.context import ReportContext
    from sqc.report.sections import reliability as section

    survey = pd.read_csv(DATA / "reliability_servqual_sim.csv").head(10)
    survey = survey.assign(wave="2026-09", branch="B01", instrument="v2")
    s = section.build(ReportContext(SimpleNamespace(survey=survey), "2026-10", ["B01"], "en"))
    assert s.headline["n"] == 10 and "Not enough" in s.notes[0]


def test_section_headline_is_json_serialisable(demo_data):
    import json

    from sqc.report.context import ReportContext
    from sqc.report.sections import reliability as section

    s = section.build(ReportContext(demo_data, "2026-10", sorted(demo_data.branches["branch"]), "en"))
    text = json.dumps(s.headline)
    assert '"empathy"' in text and "NaN" not in text
    assert all(w.message_zh for w in s.warnings)
