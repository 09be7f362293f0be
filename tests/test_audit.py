"""Audit scoring (sqc.audit) — methods.md §4 golden values, properties and bad input.

References: methods.md §4.5 toy checklist (sections 75/75/100 → 80.000; 100/55.556/50 → 67.778; 50/50 73.889;
two incidents × 3 points → 67.889) and §4.7 G-theory golden (σ²_b = 25, σ²_e = 100 → .20, .50, .75, .80).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sqc
from sqc import audit
from sqc.errors import DataError, ParameterError

TOY_ITEMS = pd.DataFrame({
    "item_id": ["g1", "g2", "g3", "n1", "n2", "n3", "f1", "f2"],
    "section": ["Greeting"] * 3 + ["Needs"] * 3 + ["Facility"] * 2,
    "max_score": [1, 1, 1, 2, 2, 1, 1, 1],
    "weight": [1, 1, 2, 2, 2, 1, 1, 1]})
TOY_SECTION_W = {"Greeting": 30, "Needs": 50, "Facility": 20}
SCORES_A = [1, 0, 1, 2, 1, np.nan, 1, 1]
SCORES_B = [1, 1, 1, 1, 1, 1, 1, 0]


def toy_checklist(**kw):
    return audit.Checklist(TOY_ITEMS, section_weights=TOY_SECTION_W, **kw)


def visit_rows(visit_id, scores, body="provincial", branch="B01", period="2026-07", items=None):
    items = list(TOY_ITEMS["item_id"]) if items is None else items
    return pd.DataFrame({"visit_id": visit_id, "branch": branch, "period": period, "assessor_body": body,
                         "assessor_id": body[0].upper() + "1", "item_id": items, "score": scores})


def toy_visits():
    return pd.concat([visit_rows("vA", SCORES_A, "provincial"), visit_rows("vB", SCORES_B, "city")],
                     ignore_index=True)


# ------------------------------------------------------------------ golden values
def test_golden_section_and_total_scores():
    vs = audit.score_visits(toy_visits(), toy_checklist())
    sec = vs.sections.set_index(["visit_id", "section"])["score"]
    assert sec[("vA", "Greeting")] == pytest.approx(75)
    assert sec[("vA", "Needs")] == pytest.approx(75)
    assert sec[("vA", "Facility")] == pytest.approx(100)
    assert sec[("vB", "Greeting")] == pytest.approx(100)
    assert sec[("vB", "Needs")] == pytest.approx(55.556, abs=5e-4)
    assert sec[("vB", "Facility")] == pytest.approx(50)
    tot = vs.visits.set_index("visit_id")["total"]
    assert tot["vA"] == pytest.approx(80.000, abs=5e-4)
    assert tot["vB"] == pytest.approx(67.778, abs=5e-4)
    # the N/A item of visit A left the Needs denominator, not the section
    assert vs.sections.set_index(["visit_id", "section"]).loc[("vA", "Needs"), "n_na"] == 1
    assert (vs.visits["effective_weight"] == 100).all()


def test_golden_combined_and_deductions():
    vs = audit.score_visits(toy_visits(), toy_checklist())
    comb = audit.combine_assessors(vs, weights={"provincial": 0.5, "city": 0.5})
    assert comb.table["score"].iloc[0] == pytest.approx(73.889, abs=5e-4)
    inc = pd.DataFrame({"branch": ["B01", "B01"], "period": ["2026-07", "2026-07"], "deduction": [3.0, 3.0],
                        "veto": [False, False]})
    for order in ("monthly", "quarterly"):  # one month only: both orders agree
        q = audit.quarterly_scores(comb, inc, order=order)
        assert q.table["final"].iloc[0] == pytest.approx(67.889, abs=5e-4)
        assert q.table["deductions"].iloc[0] == 6 and q.table["n_incidents"].iloc[0] == 2
        assert q.order == order and order in q.summary() and q.order_text in q.summary()
    # deduction points per type instead of the column
    inc2 = inc.assign(type=["late_report", "late_report"], deduction=[0.0, 0.0])
    q2 = audit.quarterly_scores(comb, inc2, deduction_points={"late_report": 3})
    assert q2.table["final"].iloc[0] == pytest.approx(67.889, abs=5e-4)


def test_g_theory_golden():
    g = audit.g_coefficient(25, 100, np.array([1, 4, 12, 16]))
    np.testing.assert_allclose(g, [.20, .50, .75, .80], atol=1e-12)
    assert audit.visits_needed(25, 100, 0.8) == pytest.approx(16)
    assert audit.visits_needed(25, 100, 0.75) == pytest.approx(12)
    assert audit.visits_needed(0, 100, 0.7) == float("inf")


# ------------------------------------------------------------------ N/A, critical items, properties
def test_section_all_na_is_dropped_and_weights_renormalise():
    scores = [1, 0, 1, 2, 1, np.nan, np.nan, np.nan]  # Facility entirely N/A
    vs = audit.score_visits(visit_rows("v1", scores), toy_checklist())
    # Greeting 75 and Needs 75 → total 75 with weights 30/80 and 50/80
    assert vs.visits["total"].iloc[0] == pytest.approx(75)
    assert vs.visits["effective_weight"].iloc[0] == pytest.approx(80)
    eff = vs.sections.set_index("section")["weight_effective"]
    assert eff["Greeting"] == pytest.approx(37.5) and eff["Needs"] == pytest.approx(62.5)
    assert eff["Facility"] == 0 and np.isnan(vs.sections.set_index("section").loc["Facility", "score"])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 2)), min_size=8, max_size=8),
       st.tuples(st.floats(0.5, 10), st.floats(0.5, 10), st.floats(0.5, 10)))
def test_total_is_renormalised_weighted_mean_of_applicable_sections(raw, sw):
    maxes = TOY_ITEMS["max_score"].to_numpy()
    scores = [np.nan if x is None else float(min(x, m)) for x, m in zip(raw, maxes)]
    weights = dict(zip(["Greeting", "Needs", "Facility"], sw))
    cl = audit.Checklist(TOY_ITEMS, section_weights=weights)
    try:
        vs = audit.score_visits(visit_rows("v", scores), cl)
    except DataError:
        assert all(np.isnan(scores))  # only an all-N/A visit may fail
        return
    sec = vs.sections.set_index("section")
    ok = sec["score"].notna()
    expected = (sec.loc[ok, "score"] * pd.Series(weights)[ok[ok].index]).sum() / pd.Series(weights)[ok[ok].index].sum()
    assert vs.visits["total"].iloc[0] == pytest.approx(expected)
    assert sec.loc[ok, "weight_effective"].sum() == pytest.approx(100)
    assert 0 <= vs.visits["total"].iloc[0] <= 100


@pytest.mark.parametrize("consequence,total,status", [("flag", 80.0, "fail"), ("zero_section", 57.5, "fail"),
                                                      ("cap_total", 50.0, "fail")])
def test_critical_item_consequences(consequence, total, status):
    items = TOY_ITEMS.assign(critical=[False, True, False, False, False, False, False, False])
    cl = audit.Checklist(items, section_weights=TOY_SECTION_W, critical_consequence=consequence, critical_cap=50)
    vs = audit.score_visits(visit_rows("vA", SCORES_A), cl)  # g2 = 0 → critical failed
    v = vs.visits.iloc[0]
    assert v["critical_failed"] and v["status"] == status
    assert v["total_raw"] == pytest.approx(80.0)
    # zero_section: Greeting → 0, total = (0*30 + 75*50 + 100*20)/100 = 57.5
    assert v["total"] == pytest.approx(total)
    assert any(w.code == "W-MS-08" for w in vs.warnings)


def test_default_section_weights_are_points_shares():
    cl = audit.Checklist(TOY_ITEMS)
    # Σ w·max: Greeting 1+1+2 = 4, Needs 4+4+1 = 9, Facility 2
    assert cl.section_weights.to_dict() == {"Greeting": 4.0, "Needs": 9.0, "Facility": 2.0}
    vs = audit.score_visits(visit_rows("v", SCORES_B), cl)
    pooled = (TOY_ITEMS["weight"] * SCORES_B).sum() / (TOY_ITEMS["weight"] * TOY_ITEMS["max_score"]).sum() * 100
    assert vs.visits["total"].iloc[0] == pytest.approx(pooled)
    assert "Greeting" in cl.summary()


# ------------------------------------------------------------------ bad input
def test_score_above_max_unknown_item_all_na_raise():
    v = toy_visits()
    v.loc[3, "score"] = 5  # n1 max 2
    with pytest.raises(DataError, match="above the item's maximum") as e:
        audit.score_visits(v, toy_checklist())
    assert e.value.column == "score" and e.value.row == 3 and e.value.value == 5
    v = toy_visits()
    v.loc[0, "item_id"] = "zz9"
    with pytest.raises(DataError, match="unknown item id") as e:
        audit.score_visits(v, toy_checklist())
    assert e.value.value == "zz9"
    allna = visit_rows("vN", [np.nan] * 8)
    with pytest.raises(DataError, match="every item of the visit is N/A"):
        audit.score_visits(pd.concat([toy_visits(), allna]), toy_checklist())
    v = toy_visits()
    v.loc[1, "score"] = -1
    with pytest.raises(DataError, match="below 0"):
        audit.score_visits(v, toy_checklist())
    v = pd.concat([toy_visits(), toy_visits().iloc[[0]]])
    with pytest.raises(DataError, match="duplicate"):
        audit.score_visits(v, toy_checklist())
    with pytest.raises(DataError, match="lacks a required column"):
        audit.score_visits(toy_visits().drop(columns="score"), toy_checklist())


def test_bad_rows_excluded_and_counted():
    v = toy_visits()
    v.loc[3, "score"] = 5
    extra = visit_rows("vC", SCORES_B, "city", branch="B02")
    extra.loc[extra.index[0], "item_id"] = "zz9"
    allna = visit_rows("vN", [np.nan] * 8, branch="B03")
    vs = audit.score_visits(pd.concat([v, extra, allna], ignore_index=True), toy_checklist(), on_error="exclude")
    assert list(vs.visits["visit_id"]) == ["vB"]
    ex = vs.exclusions.set_index("reason")
    assert ex.loc["score above the item's maximum", "n_visits"] == 1
    assert ex.loc["unknown item id", "n_rows"] == 1
    assert ex.loc["every item N/A", "n_visits"] == 1
    assert any(w.code == "W-MS-05" for w in vs.warnings)


def test_na_not_allowed():
    items = TOY_ITEMS.assign(na_allowed=[True] * 5 + [False] + [True] * 2)
    with pytest.raises(DataError, match="forbids"):
        audit.score_visits(visit_rows("vA", SCORES_A), audit.Checklist(items, section_weights=TOY_SECTION_W))


def test_checklist_and_weight_parameters():
    with pytest.raises(ParameterError, match="≥ 0"):
        audit.Checklist(TOY_ITEMS.assign(weight=[-1, 1, 2, 2, 2, 1, 1, 1]))
    with pytest.raises(ParameterError, match="sum"):
        audit.Checklist(TOY_ITEMS, section_weights={"Greeting": 0, "Needs": 0, "Facility": 0})
    with pytest.raises(ParameterError, match="every checklist section"):
        audit.Checklist(TOY_ITEMS, section_weights={"Greeting": 1})
    with pytest.raises(ParameterError, match="critical_consequence"):
        toy_checklist(critical_consequence="explode")
    vs = audit.score_visits(toy_visits(), toy_checklist())
    with pytest.raises(ParameterError, match="≥ 0"):
        audit.combine_assessors(vs, weights={"provincial": -0.5, "city": 1.5})
    with pytest.raises(ParameterError, match="sum to zero"):
        audit.combine_assessors(vs, weights={"provincial": 0, "city": 0})
    with pytest.raises(ParameterError, match="no weight"):
        audit.combine_assessors(vs, weights={"provincial": 1.0})
    comb = audit.combine_assessors(vs)
    with pytest.raises(ParameterError, match="order"):
        audit.quarterly_scores(comb, order="yearly")
    with pytest.raises(DataError, match="deduction"):
        audit.quarterly_scores(comb, pd.DataFrame({"branch": ["B01"], "period": ["2026-07"], "deduction": [-1.0]}))


# ------------------------------------------------------------------ combining, order of operations, ranks
def test_combine_flags_disagreement_and_single_body():
    v = pd.concat([toy_visits(), visit_rows("vC", SCORES_A, "provincial", branch="B02")], ignore_index=True)
    vs = audit.score_visits(v, toy_checklist())
    comb = audit.combine_assessors(vs, weights={"provincial": 0.7, "city": 0.3}, disagreement_margin=10)
    t = comb.table.set_index("branch")
    assert t.loc["B01", "score"] == pytest.approx(0.7 * 80 + 0.3 * 67.7778, abs=1e-3)
    assert t.loc["B01", "adjudicate"] and t.loc["B01", "difference"] == pytest.approx(12.2222, abs=1e-3)
    assert t.loc["B02", "single_body"] and t.loc["B02", "score"] == pytest.approx(80)
    assert {w.code for w in comb.warnings} == {"W-MS-03", "W-MS-04"}
    ex = audit.combine_assessors(vs, missing_body="exclude")
    assert list(ex.table["branch"]) == ["B01"]
    assert not audit.combine_assessors(vs, disagreement_margin=15).table["adjudicate"].any()


def test_order_of_operations_changes_result():
    # three months at 80; one 6-point incident in month 2
    tab = pd.DataFrame({"branch": "B01", "period": ["2026-07", "2026-08", "2026-09"], "score": [80.0] * 3,
                        "n_visits": 2})
    inc = pd.DataFrame({"branch": ["B01"], "period": ["2026-08"], "deduction": [6.0], "veto": [False]})
    monthly = audit.quarterly_scores(tab, inc, order="monthly").table.iloc[0]
    quarterly = audit.quarterly_scores(tab, inc, order="quarterly").table.iloc[0]
    assert monthly["final"] == pytest.approx(78.0)     # (80 + 74 + 80)/3
    assert quarterly["final"] == pytest.approx(74.0)   # 80 − 6
    assert monthly["quarter"] == "2026Q3" and monthly["n_months"] == 3
    # floor and cap
    big = inc.assign(deduction=[100.0])
    assert audit.quarterly_scores(tab, big, order="quarterly").table["final"].iloc[0] == 0
    assert audit.quarterly_scores(tab, big, order="quarterly", deduction_cap=10).table["final"].iloc[0] == 70
    # veto: floor and lowest grade whatever the order
    veto = inc.assign(deduction=[0.0], veto=[True])
    for order in ("monthly", "quarterly"):
        r = audit.quarterly_scores(tab, veto, order=order).table.iloc[0]
        assert r["final"] == 0 and r["veto"] and r["grade"] == "E"


def test_grades_bands():
    g = audit.assign_grades([95, 90, 89.99, 80, 71, 60, 10, np.nan])
    assert list(g) == ["A", "A", "B", "B", "C", "D", "E", None]
    g2 = audit.assign_grades([85, 40], bands=[("pass", 50), ("fail", 0)])
    assert list(g2) == ["pass", "fail"]


def _synthetic_network(n_branches=8, months=("2026-07", "2026-08", "2026-09"), visits_per_body=2, city_shift=5.0,
                       branch_sd=6.0, noise_sd=6.0, seed=3, ties=False):
    """Visit totals for a synthetic quarter (DataFrame in the VisitScores.visits format)."""
    rng = np.random.default_rng(seed)
    true = 80 + rng.normal(0, branch_sd, n_branches)
    if ties:
        true[:] = 80
    rows = []
    for b in range(n_branches):
        for m in months:
            for body in ("provincial", "city"):
                for k in range(visits_per_body):
                    y = true[b] + (city_shift if body == "city" else 0) + rng.normal(0, noise_sd)
                    if ties:
                        y = 80 + (city_shift if body == "city" else 0)
                    rows.append({"visit_id": f"{b}-{m}-{body}-{k}", "branch": f"B{b + 1:02d}", "period": m,
                                 "assessor_body": body, "total": float(np.clip(y, 0, 100))})
    return pd.DataFrame(rows), true


def test_rank_branches_intervals_and_ties():
    visits, true = _synthetic_network(branch_sd=10, noise_sd=2)
    r = audit.rank_branches(visits, n_boot=500, quarter="2026Q3")
    t = r.table
    assert (t["rank_low"] <= t["rank"]).all() and (t["rank"] <= t["rank_high"]).all()
    # clearly separated branches: the rank order follows the true means
    best = f"B{int(np.argmax(true)) + 1:02d}"
    assert t.iloc[0]["branch"] == best and t.iloc[0]["rank"] == 1
    assert t["n_visits"].eq(12).all()
    assert (t["score_ci_low"] <= t["final"] + 1e-9).all() and (t["final"] <= t["score_ci_high"] + 1e-9).all()
    # ties share the minimum rank
    tied, _ = _synthetic_network(ties=True)
    rt = audit.rank_branches(tied, n_boot=50)
    assert (rt.table["rank"] == 1).all() and (rt.table["rank_high"] == 1).all()


def test_rank_unstable_warning_and_deductions_in_league():
    visits, _ = _synthetic_network(branch_sd=0.5, noise_sd=8)
    inc = pd.DataFrame({"branch": ["B01", "B02"], "period": ["2026-08", "2025-01"], "deduction": [3.0, 50.0],
                        "veto": [False, True]})
    r = audit.rank_branches(visits, inc, n_boot=300, order="quarterly")
    codes = {w.code for w in r.warnings}
    assert "W-MS-06" in codes and "W-MS-01" in codes
    t = r.table.set_index("branch")
    assert t.loc["B01", "deductions"] == 3 and not t.loc["B02", "veto"]  # 2025 incident is outside the quarter
    assert t.loc["B01", "final"] == pytest.approx(t.loc["B01", "score_before_deductions"] - 3)
    assert "Order of operations: quarterly" in r.summary()


def test_funnel_flags_outlier():
    visits, _ = _synthetic_network(branch_sd=0.0, noise_sd=3, n_branches=10)
    visits.loc[visits["branch"] == "B03", "total"] -= 15
    f = audit.funnel_data(visits)
    p = f.points.set_index("branch")
    assert p.loc["B03", "signal"] == "below"
    assert (p.drop("B03")["signal"].isin(["within", "above (95%)", "below (95%)"])).all()
    lim = f.limits
    assert (lim["hi998"] > lim["hi95"]).all() and (np.diff(lim["hi95"]) < 0).all()


def test_g_study_recovers_components():
    visits, _ = _synthetic_network(n_branches=40, branch_sd=5, noise_sd=10, visits_per_body=3, seed=11)
    g = audit.g_study(visits, by=None)
    row = g.table.iloc[0]
    assert row["var_branch"] == pytest.approx(25, rel=0.5)
    assert row["var_error"] == pytest.approx(100, rel=0.2)
    assert row["g_coefficient"] == pytest.approx(audit.g_coefficient(row["var_branch"], row["var_error"], 18))
    assert g.curve(5)["g_coefficient"].is_monotonic_increasing


def test_g_study_warns_when_not_dependable():
    visits, _ = _synthetic_network(branch_sd=0.5, noise_sd=10)
    g = audit.g_study(visits)
    assert any(w.code == "W-MS-01" for w in g.warnings)
    good, _ = _synthetic_network(branch_sd=10, noise_sd=2)
    assert not audit.g_study(good).warnings


def test_assessor_bias_detects_lenient_city():
    visits, _ = _synthetic_network(n_branches=12, city_shift=5, noise_sd=3)
    r = audit.assessor_bias(visits)
    assert r.bias == pytest.approx(5, abs=1.5)
    assert r.bland_altman.bias_significant
    assert r.sentence.startswith("The city body scores") and "points higher than the provincial body" in r.sentence
    assert any(w.code == "W-MS-02" for w in r.warnings)
    none, _ = _synthetic_network(n_branches=12, city_shift=0, noise_sd=3, seed=5)
    r0 = audit.assessor_bias(none)
    assert r0.bland_altman.bias_ci[0] < 0 < r0.bland_altman.bias_ci[1]
    assert not any(w.code == "W-MS-02" for w in r0.warnings)
    assert r0.sentence.startswith("No systematic difference")
    with pytest.raises(ParameterError, match="not found"):
        audit.assessor_bias(visits, body_a="regional")


def test_sem_margin():
    visits, _ = _synthetic_network(n_branches=12, city_shift=0, noise_sd=3)
    comb = audit.combine_assessors(visits, disagreement_margin="sem")
    assert comb.margin > 0 and "SEM" in comb.margin_rule


def test_nps_reexport():
    r = sqc.audit.nps([10, 9, 9, 8, 7, 3, 0, 10, 6, 9])
    # 5 promoters, 3 detractors of 10 → NPS 20
    assert r.nps == pytest.approx(20.0) and r.n == 10
    assert r.ci[0] < 20 < r.ci[1]


def test_agreement_names_reexported():
    assert audit.icc is sqc.agreement.icc and audit.kappa is sqc.agreement.kappa


# ------------------------------------------------------------------ the demo network (generated on the fly)
@pytest.fixture(scope="module")
def demo_audit(tmp_path_factory):
    demo = pytest.importorskip("sqc.demo")
    out = tmp_path_factory.mktemp("demo_audit")
    demo.generate(out, tables=["branches", "checklist", "audit_visits", "incidents"])
    return (pd.read_parquet(out / "audit_visits.parquet"), pd.read_csv(out / "checklist.csv"),
            pd.read_csv(out / "incidents.csv"))


def test_demo_network_lenient_city_found(demo_audit):
    visits, checklist, incidents = demo_audit
    vs = audit.score_visits(visits, checklist)
    assert len(vs.visits) == visits["visit_id"].nunique()
    bias = audit.assessor_bias(vs)
    assert bias.bland_altman.bias_ci[0] > 0  # the planted lenient city body
    league = audit.rank_branches(vs, incidents, n_boot=200)
    assert len(league.table) == 12 and league.table["grade"].notna().all()


def test_item_agreement_pairs_bodies_per_branch_month():
    rows = []
    rng = np.random.default_rng(4)
    for b in range(12):
        for m in ("2026-07", "2026-08"):
            base = rng.integers(0, 2, 8).astype(float)
            base[3] = rng.integers(0, 3)  # graded item n1 (max 2)
            city = base.copy()
            city[0] = 1.0  # the city body always passes g1
            rows.append(visit_rows(f"P{b}{m}", base, "provincial", branch=f"B{b:02d}", period=m))
            rows.append(visit_rows(f"C{b}{m}", city, "city", branch=f"B{b:02d}", period=m))
    vs = audit.score_visits(pd.concat(rows, ignore_index=True), toy_checklist())
    r = audit.item_agreement(vs, min_pairs=10)
    t = r.table.set_index("item_id")
    assert t.loc["g1", "n_pairs"] == 24
    assert t.loc["g1", "difference"] == pytest.approx(1 - t.loc["g1", "mean_b"])
    assert r.table.iloc[0]["item_id"] == "g1"  # sorted: most lenient item first
    # identical items: perfect agreement
    assert t.loc["g2", "p_observed"] == 1 and t.loc["g2", "kappa"] == pytest.approx(1.0)
    assert t.loc["n1", "kappa"] == pytest.approx(1.0)  # graded item, quadratic weights
    with pytest.raises(ParameterError, match="not found"):
        audit.item_agreement(vs, body_a="regional")


def test_visit_with_two_branches_is_bad_input():
    v = toy_visits()
    v.loc[2, "branch"] = "B09"
    with pytest.raises(DataError, match="more than one branch"):
        audit.score_visits(v, toy_checklist())
    vs = audit.score_visits(v, toy_checklist(), on_error="exclude")
    assert list(vs.visits["visit_id"]) == ["vB"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(60, 70), min_size=2, max_size=15))
def test_rank_ties_share_minimum_rank(values):
    """Property (methods.md §4.8): rank = 1 + number of strictly better branches (ties share the minimum)."""
    v = np.asarray(values, float)
    ranks = audit._min_rank_desc(v[:, None])[:, 0]
    expected = [1 + int((v > x).sum()) for x in v]
    assert list(ranks) == expected


def test_month_weights_by_visits():
    tab = pd.DataFrame({"branch": "B01", "period": ["2026-07", "2026-08", "2026-09"], "score": [90.0, 60.0, 90.0],
                        "n_visits": [1, 2, 1]})
    eq = audit.quarterly_scores(tab).table.iloc[0]
    vw = audit.quarterly_scores(tab, month_weights="visits").table.iloc[0]
    assert eq["final"] == pytest.approx(80.0)
    assert vw["final"] == pytest.approx((90 + 120 + 90) / 4)
    assert vw["n_visits"] == 4
    with pytest.raises(DataError, match="n_visits"):
        audit.quarterly_scores(tab.drop(columns="n_visits"), month_weights="visits")


def test_boolean_columns_from_text_exports():
    items = TOY_ITEMS.assign(critical=["False", "True", "no", "0", "", None, "FALSE", "false"],
                             na_allowed=["True"] * 5 + ["False"] + ["yes", "1"])
    cl = audit.Checklist(items, section_weights=TOY_SECTION_W)
    assert cl.items["critical"].tolist() == [False, True] + [False] * 6
    assert cl.items["na_allowed"].tolist() == [True] * 5 + [False, True, True]
    with pytest.raises(DataError, match="yes/no"):
        audit.Checklist(TOY_ITEMS.assign(critical="maybe"))
    tab = pd.DataFrame({"branch": "B01", "period": ["2026-07"], "score": [80.0]})
    inc = pd.DataFrame({"branch": ["B01"], "period": ["2026-07"], "deduction": [0.0], "veto": ["False"]})
    assert audit.quarterly_scores(tab, inc).table["final"].iloc[0] == 80
