"""The "Did our fixes work?" dashboard section, the blueprint counts and drawings, and the register tables in the
demo data."""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqc.blueprint import check_blueprint, failure_counts
from sqc.errors import DataError

BRANCHES = [f"B{i:02d}" for i in range(1, 13)]
LOCALE = Path(__file__).resolve().parents[1] / "sqc" / "report" / "locale" / "interventions.json"
SECTION_SRC = Path(__file__).resolve().parents[1] / "sqc" / "report" / "sections" / "interventions.py"


# ------------------------------------------------------------------------------------------- blueprint
def test_failure_counts_match_a_direct_count(demo_data):
    f = failure_counts(demo_data.blueprint_steps, period="2026-10", complaints=demo_data.complaints,
                       audit_visits=demo_data.audit_visits, checklist=demo_data.checklist,
                       interventions=demo_data.interventions)
    steps = demo_data.blueprint_steps
    assert set(f.index) == set(steps.loc[steps["failure_en"].notna(), "step_id"])
    c = demo_data.complaints
    month = c["opened_at"].dt.strftime("%Y-%m") == "2026-10"
    assert f.loc["S4B", "complaints"] == ((c["category"] == "installation") & month).sum()
    assert f.loc["S4B", "shared"] == 2 and f.loc["S5C", "shared"] == 2      # installation counted at two points
    a = demo_data.audit_visits.merge(demo_data.checklist[["item_id", "max_score"]], on="item_id")
    a = a[(a["period"] == "2026-10") & (a["item_id"] == "BH04") & a["score"].notna()]
    assert f.loc["S2O", "checks"] == len(a) and f.loc["S2O", "defects"] == (a["score"] < a["max_score"]).sum()
    assert f.loc["S2O", "defect_ci_low"] <= f.loc["S2O", "defect_rate"] <= f.loc["S2O", "defect_ci_high"]
    assert f.loc["S4B", "complaints_ci_low"] < f.loc["S4B", "complaints"] < f.loc["S4B", "complaints_ci_high"]
    assert f.loc["S4B", "guarded_by"] == "INT-01" and f.loc["S2O", "guarded_by"] == "INT-02"
    # before INT-02 reached any branch nothing guards S2O
    early = failure_counts(steps, period="2025-04", interventions=demo_data.interventions)
    assert early.loc["S2O", "guarded_by"] == ""
    # restricted to never-treated branches, INT-02 guards nothing
    never = failure_counts(steps, period="2026-10", interventions=demo_data.interventions,
                           branches=["B04", "B07"])
    assert never.loc["S2O", "guarded_by"] == ""


def test_blueprint_checks():
    steps = pd.DataFrame({"step_id": ["A", "B"], "stage": [1, 1], "lane": ["customer", "frontstage"],
                          "text_en": ["a", "b"], "text_zh": ["a", "b"], "failure_en": [None, "x"],
                          "failure_type": [None, "server_task"], "complaint_category": [None, "billing"],
                          "checklist_item": [None, None]})
    with pytest.raises(DataError) as e:
        check_blueprint(steps)
    assert e.value.column == "lane" and e.value.row == 2
    steps.loc[1, "lane"] = "onstage"
    steps.loc[1, "failure_type"] = None
    with pytest.raises(DataError, match="failure type"):
        check_blueprint(steps)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_blueprint_and_effect_figures_draw_every_glyph(demo_data, lang):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sqc.interventions import evaluate
    from sqc.plotting.interventions import blueprint_figure, effect_figure
    from sqc.plotting.scorecard import cjk_rc

    f = failure_counts(demo_data.blueprint_steps, period="2026-10", complaints=demo_data.complaints,
                       interventions=demo_data.interventions)
    with warnings.catch_warnings(record=True) as caught, plt.rc_context(cjk_rc()):
        warnings.simplefilter("always")
        fig = blueprint_figure(demo_data.blueprint_steps, f, lang=lang)
        fig.canvas.draw()
        texts = [t.get_text() for t in fig.axes[0].texts]
        eff = evaluate(demo_data, "INT-01", as_of="2026-10")
        fig2 = effect_figure(eff.series)
        fig2.canvas.draw()
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    if lang == "zh" and any("CJK" in str(w.message) or "Glyph" in str(w.message) for w in caught):
        pytest.skip("no CJK font installed on this machine")
    assert not missing
    step_text = demo_data.blueprint_steps[f"text_{lang}"].iloc[0]
    assert any(step_text[:4] in t for t in texts)
    assert any("INT-01" in t for t in texts)               # the fail-safe guarding S4B is marked
    plt.close(fig)
    plt.close(fig2)


# ------------------------------------------------------------------------------------------- section
def _html(section) -> str:
    import panel as pn

    return "\n".join(str(o.object) for o in section.body.objects if isinstance(o, (pn.pane.HTML, pn.pane.Markdown)))


@pytest.fixture(scope="module")
def computed(demo_data):
    pytest.importorskip("panel")
    from sqc.report.context import ReportContext
    from sqc.report.sections import interventions

    return interventions.compute(ReportContext(demo_data, "2026-10", BRANCHES))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_section_renders_in_both_languages(computed, lang):
    from sqc.report.context import Section
    from sqc.report.sections import interventions

    s = interventions.render(computed, lang)
    assert isinstance(s, Section) and s.key == "interventions"
    assert s.title == ("整改见效了吗？" if lang == "zh" else "Did our fixes work?")
    h = s.headline
    json.dumps(h)
    rows = {r["id"]: r for r in h["interventions"]}
    assert set(rows) == {"INT-01", "INT-02", "INT-03"}
    for r in rows.values():          # every number with its n and interval
        rr = r["rate_ratio"]
        assert rr["n"] > 0 and rr["n_before"] > 0 and rr["n_after"] > 0 and rr["ci_low"] < rr["value"] < rr["ci_high"]
    assert rows["INT-03"]["verdict"] != "effective"
    proc = {(p["id"], p["item_id"]): p for p in h["process_measures"]}
    assert set(proc) == {("INT-02", "BH04"), ("INT-03", "ET04")}      # no audit effect was planted
    for p in proc.values():
        fr = p["failure_rate_ratio"]
        assert fr["n_checks_failed"] > 0 and fr["ci_low"] < 1 < fr["ci_high"] and p["verdict"] == "no_evidence"
    html = _html(s)
    assert not re.search(r"""(src|href)\s*=\s*["']https?://""", html)
    verdicts = json.loads(LOCALE.read_text(encoding="utf-8"))
    assert verdicts["verdict_effective"][lang] in html and verdicts["verdict_no_evidence"][lang] in html
    assert "verdict_" not in html and "ft_" not in html and "cat_" not in html     # no untranslated keys
    if lang == "zh":
        assert "装机预约双重确认" in html
    assert s.notes == []                                   # nothing got worse in the demo
    assert sum(code == "note_effective" for code, _ in computed.values["interventions"].notes) == 2
    assert ("INT-01 有效" if lang == "zh" else "INT-01 worked") in html


def test_compute_is_language_free_and_build_matches(computed, demo_data):
    from sqc.report.context import ReportContext
    from sqc.report.sections import interventions

    assert all(isinstance(code, str) for code, _ in computed.values["interventions"].notes)
    assert {r["verdict"] for r in computed.values["interventions"].rows} <= {"effective", "no_evidence", "worsened", "too_few_points"}
    built = interventions.build(ReportContext(demo_data, "2026-10", BRANCHES, "zh"))
    assert built.headline == interventions.render(computed, "zh").headline


def test_section_without_a_register(demo_data):
    from sqc.io import NetworkData
    from sqc.report.context import ReportContext
    from sqc.report.sections import interventions

    tables = {k: v for k, v in demo_data.tables.items() if k not in ("interventions", "blueprint_steps")}
    data = NetworkData(demo_data.data_dir, tables)
    s = interventions.build(ReportContext(data, "2026-10", BRANCHES, "en"))
    assert s.headline["n_evaluated"] == 0 and "No intervention register" in _html(s)


def test_locale_has_every_key_in_both_languages():
    loc = json.loads(LOCALE.read_text(encoding="utf-8"))
    for key, entry in loc.items():
        assert entry.get("en") and entry.get("zh"), key
    src = SECTION_SRC.read_text(encoding="utf-8")
    used = set(re.findall(r"""\bt\(\s*["']([a-z_]+)["']""", src))
    used = {k for k in used if not k.endswith("_")}          # prefixes completed below
    used |= {f"{p}_{v}" for p, vals in {
        "verdict": ("effective", "no_evidence", "worsened", "too_few_points"),
        "design": ("its", "staggered", "before_after"),
        "ft": ("server_task", "server_treatment", "server_tangible", "customer_preparation", "customer_encounter",
               "customer_resolution"),
        "kind": ("fail_safe", "process_change", "training", "other"),
        "cat": ("billing", "network", "installation", "staff_attitude", "waiting_time", "product_info", "other"),
        "basis": ("months", "branch_months", "months_checks", "branch_months_checks"),
        "pverdict": ("effective", "no_evidence", "worsened", "too_few_points"),
        "explain": ("its", "staggered", "before_after"),
        "lane": ("customer", "onstage", "backstage", "support"),
        "line": ("interaction", "visibility", "internal_interaction"), "note": ("effective", "worsened")}.items()
        for v in vals}
    assert not sorted(used - set(loc))


def test_register_tables_in_the_demo(demo_data):
    from sqc.interventions import register

    reg = register(demo_data.interventions, blueprint_steps=demo_data.blueprint_steps,
                   checklist=demo_data.checklist)
    assert {i.failure_type for i in reg.values()} <= {"server_task", "server_treatment", "server_tangible",
                                                      "customer_preparation", "customer_encounter",
                                                      "customer_resolution"}
    starts = sorted({s.strftime("%Y-%m") for s in reg["INT-02"].starts.values()})
    assert starts == ["2025-05", "2025-09", "2026-01"] and len(reg["INT-02"].starts) == 8
    assert np.all(demo_data.interventions["start_date"].dt.day == 1)


def test_a_fix_that_made_things_worse_is_called_out(demo_data):
    """Double the staff-attitude complaints from INT-03's start: the verdict is 'worsened' and the note reaches the
    top of the dashboard in both languages."""
    from sqc.io import NetworkData
    from sqc.report.context import ReportContext
    from sqc.report.sections import interventions

    c = demo_data.complaints
    extra = c[(c["category"] == "staff_attitude") & (c["opened_at"] >= "2025-11-01")]
    extra = extra.assign(complaint_id=extra["complaint_id"] + "-dup")
    data = NetworkData(demo_data.data_dir, {**demo_data.tables, "complaints": pd.concat([c, extra],
                                                                                         ignore_index=True)})
    res = interventions.compute(ReportContext(data, "2026-10", BRANCHES))
    row = next(r for r in res.values["interventions"].rows if r["intervention_id"] == "INT-03")
    assert row["verdict"] == "worsened" and row["ci_low"] > 1
    for lang in ("en", "zh"):
        s = interventions.render(res, lang)
        assert len(s.notes) == 1 and s.notes[0].startswith("⚠ INT-03")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_kpis_named_in_the_register_are_evaluated_and_shown(computed, lang):
    """INT-03 names mean satisfaction (csat_mean): its ratio, interval and months reach summary.json, and the KPI
    table shows it in the page's language with no planted effect (no clear change)."""
    from sqc.report.sections import interventions

    kpi = {(k["id"], k["kpi"]): k for k in computed.headline["kpi_effects"]}
    assert set(kpi) == {("INT-03", "csat_mean")}
    ratio = kpi[("INT-03", "csat_mean")]["kpi_ratio"]
    assert ratio["ci_low"] < 1 < ratio["ci_high"] and ratio["n_before"] >= 12 and ratio["n_after"] >= 12
    assert kpi[("INT-03", "csat_mean")]["verdict"] == "no_evidence"
    html = _html(interventions.render(computed, lang))
    words = json.loads(LOCALE.read_text(encoding="utf-8"))
    assert words["kpi_effects_title"][lang] in html and words["kverdict_no_evidence"][lang] in html
    from sqc.report.context import translate

    assert translate("kpi.csat_mean", lang) != "csat_mean" and translate("kpi.csat_mean", lang) in html
    assert "csat_mean" not in html and "kverdict_" not in html


def test_a_kpi_that_got_worse_is_called_out(demo_data, monkeypatch):
    """A KPI that moved the wrong way after a fix becomes a warning finding (one subject per intervention) in the
    manager's words in both languages."""
    import sqc.interventions as ivmod
    from sqc.report.context import ReportContext
    from sqc.report.sections import interventions

    real = ivmod.evaluate_kpis

    def worse(*args, **kwargs):
        effects, skipped = real(*args, **kwargs)
        for e in effects:
            e.verdict = "worsened"
            e.effect = {**e.effect, "rate_ratio": 0.95, "ci_low": 0.92, "ci_high": 0.98}
        return effects, skipped

    monkeypatch.setattr(ivmod, "evaluate_kpis", worse)
    res = interventions.compute(ReportContext(demo_data, "2026-10", BRANCHES))
    notes = [n for n in res.notes if n.key.endswith("note_kpi_worsened")]
    assert len(notes) == 1 and notes[0].severity == "warning" and notes[0].subject == "intervention:INT-03"
    for lang in ("en", "zh"):
        ctx = res.context.in_language(lang)
        text = ctx.note_text(notes[0], plain=True)
        assert "INT-03" in text and "-5.0%" in text and "csat_mean" not in text
