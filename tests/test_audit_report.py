"""Audit plots and the "branch league" dashboard section (on the bundled demo data)."""
from __future__ import annotations

import json

import pytest

from sqc import audit


@pytest.fixture(scope="module")
def demo_results(demo_data):
    scores = audit.score_visits(demo_data.audit_visits, demo_data.checklist)
    league = audit.rank_branches(scores, demo_data.incidents, quarter="2026Q3", n_boot=200)
    return {"scores": scores, "league": league, "funnel": audit.funnel_data(scores, quarter="2026Q3"),
            "bias": audit.assessor_bias(scores), "g": audit.g_study(scores)}


def test_static_plots(demo_results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from sqc.plotting import audit as ap

    r = demo_results
    figs = [ap.league_figure(r["league"]), ap.funnel_figure(r["funnel"]), ap.bland_altman_figure(r["bias"]),
            ap.bland_altman_figure(r["bias"].bland_altman), ap.section_profile_figure(r["scores"]),
            ap.g_curve_figure(r["g"])]
    for f in figs:
        assert isinstance(f, Figure)
        plt.close(f)


def test_bokeh_plots(demo_results):
    from bokeh.embed import json_item

    from sqc.plotting import audit as ap

    r = demo_results
    for p in (ap.league_bokeh(r["league"]), ap.funnel_bokeh(r["funnel"]), ap.bland_altman_bokeh(r["bias"]),
              ap.section_profile_bokeh(r["scores"])):
        json.dumps(json_item(p))  # serialisable = embeddable offline


def test_demo_planted_effects(demo_results):
    bias = demo_results["bias"]
    assert bias.bland_altman.bias_ci[0] > 0 and bias.sentence.startswith("The city body scores")
    assert {w.code for w in bias.warnings} >= {"W-MS-02"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_section_builds(demo_data, lang):
    from sqc.report.context import ReportContext, Section
    from sqc.report.sections import audit as section

    branches = sorted(demo_data.branches["branch"])
    s = section.build(ReportContext(demo_data, "2026-10", branches, lang))
    assert isinstance(s, Section) and s.key == "audit"
    h = s.headline
    assert h["quarter"] == "2026Q3" and h["order_of_operations"] == "monthly"
    assert len(h["league"]) == len(branches)
    b = h["assessor_bias_city_minus_provincial"]
    assert b["ci_low"] > 0 and b["n"] > 0
    json.dumps(h)  # plain types only
    text = s.body[0].object
    if lang == "en":
        assert "city body scores" in text and "points higher than the provincial body" in text
        assert any("city assessor body" in n for n in s.notes)
        assert "Order of operations" in s.body[3].object
    else:
        assert "市级评审机构的评分比省级评审机构平均高" in text
        assert "计算顺序" in s.body[3].object
    assert any(w.code == "W-MS-02" for w in s.warnings)
    assert h["items_city_higher"] and all(i["ci_low"] > 0 for i in h["items_city_higher"])


def test_section_respects_period_and_branches(demo_data):
    from sqc.report.context import ReportContext
    from sqc.report.sections import audit as section

    s = section.build(ReportContext(demo_data, "2025-06", ["B01", "B02", "B03", "B07"], "en"))
    assert s.headline["quarter"] == "2025Q2"
    assert {r["branch"] for r in s.headline["league"]} == {"B01", "B02", "B03", "B07"}
    # the month score uses the report month only
    assert s.headline["month_score"]["period"] == "2025-06" and s.headline["month_score"]["n"] == 4


def test_funnel_findings_carry_their_size(demo_data):
    """A branch outside the funnel limits is a finding with its mean visit score, the company mean, the number of
    visits and, for ranking in "needs action", its relative distance from the company mean."""
    from sqc import audit
    from sqc.report.context import ComputeContext
    from sqc.report.sections import audit as section

    result = section.compute(ComputeContext(demo_data, "2026-10", list(demo_data.branches["branch"])))
    notes = [n for n in result.notes if n.key == "audit.note_funnel"]
    funnel = result.values["funnel"]
    outside = funnel.points[funnel.points["signal"].isin(["above", "below"])].set_index("branch")
    assert len(notes) == len(outside) > 0
    # the same numbers straight from the audit module
    scores = audit.score_visits(demo_data.audit_visits, demo_data.checklist, on_error="exclude")
    quarter = funnel.group
    again = audit.funnel_data(scores, quarter=quarter)
    for note in notes:
        branch = note.subject.split(":", 1)[1]
        row = again.points.set_index("branch").loc[branch]
        assert note.params["mean"].value == pytest.approx(row["mean"])
        assert note.params["target"].value == pytest.approx(again.target)
        assert note.params["n"] == row["n"]
        assert note.effect == pytest.approx(abs(row["mean"] / again.target - 1))
    text = result.context.in_language("en").note_text(notes[0])
    assert f"(n = {notes[0].params['n']} visits)" in text and f"{notes[0].params['target'].value:,.1f}" in text
