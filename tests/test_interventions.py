"""sqc.interventions: segmented regression (checked against the published Sicily example), before/after, staggered
roll-outs, the register, and recovery of the demo network's planted intervention effects."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqc import interventions as iv
from sqc.errors import DataError, InsufficientDataError, ParameterError

DATA = Path(__file__).with_name("data")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sicily() -> pd.DataFrame:
    return pd.read_csv(DATA / "sicily.csv")


# ------------------------------------------------------------------------------------------- published reference
def test_sicily_seasonal_quasipoisson_step_change_matches_the_paper(sicily):
    """Lopez Bernal J, Cummins S, Gasparrini A. Interrupted time series regression for the evaluation of public
    health interventions: a tutorial. Int J Epidemiol 2017;46(1):348-355, Sicily smoking ban (acute coronary
    events, Jan 2002 - Nov 2006, ban from Jan 2005, age-standardised population as offset), step-change model with
    two harmonic pairs and a quasi-Poisson scale: "RR 0.885 (95% CI 0.839-0.933)". Data: tests/data/sicily.csv,
    see tests/data/sicily_README.md."""
    res = iv.its(sicily, "aces", "time", "smokban", offset="stdpop", seasonality=2, period=12,
                 family="quasipoisson")
    lvl = res.effects.loc["level"]
    assert round(lvl["rate_ratio"], 3) == 0.885
    assert round(lvl["ci_low"], 3) == 0.839
    assert round(lvl["ci_high"], 3) == 0.933
    assert (res.n, res.n_pre, res.n_post) == (59, 36, 23)
    assert res.verdict == "effective"
    # Student t on n - p = 52 df (R's summary of a quasi-Poisson glm) widens the interval a little
    t = iv.its(sicily, "aces", "time", "smokban", offset="stdpop", interval="t").effects.loc["level"]
    assert t["ci_low"] < lvl["ci_low"] and t["ci_high"] > lvl["ci_high"] and t["p"] > lvl["p"]
    # quasi-Poisson dispersion = Pearson chi2 / df, as R's summary(glm(..., family = quasipoisson))$dispersion
    fitted = res.series["fitted"].to_numpy()
    x2 = np.sum((sicily["aces"].to_numpy() - fitted) ** 2 / fitted)
    assert res.scale == pytest.approx(x2 / (59 - 7))


def test_sicily_other_models_of_the_tutorial(sicily):
    """The tutorial's code (gasparrini/2017_lopezbernal_IJE_codedata, Rcode.R) also fits the model without
    seasonality (model1 Poisson, model2 quasi-Poisson) and a step + slope change (model4). These are pinned
    values of the same formulas (R glm + Epi::ci.exp: Wald intervals exp(b ± 1.96 SE)); the step change RR 0.894
    is the unadjusted estimate the tutorial reports before adjusting for season. The quasi-Poisson interval must
    be the Poisson one widened by sqrt(dispersion)."""
    m1 = iv.its(sicily, "aces", "time", "smokban", offset="stdpop", seasonality=0, family="poisson")
    m2 = iv.its(sicily, "aces", "time", "smokban", offset="stdpop", seasonality=0, family="quasipoisson")
    l1, l2 = m1.effects.loc["level"], m2.effects.loc["level"]
    assert round(l1["rate_ratio"], 3) == round(l2["rate_ratio"], 3) == 0.894
    assert (round(l1["ci_low"], 3), round(l1["ci_high"], 3)) == (0.865, 0.925)
    assert (round(l2["ci_low"], 3), round(l2["ci_high"], 3)) == (0.839, 0.953)
    assert l2["se"] == pytest.approx(l1["se"] * np.sqrt(m2.scale))
    assert any(w.code == "W-INT-03" for w in m1.warnings)          # over-dispersion ignored by plain Poisson
    m4 = iv.its(sicily, "aces", "time", "smokban", offset="stdpop", slope_change=True)
    assert list(m4.effects.index) == ["level", "slope", "at_end"]
    assert m4.params["t0"] == 36                                    # I(time - 36):smokban in Rcode.R
    assert round(m4.effects.loc["level", "rate_ratio"], 3) == 0.876
    assert m4.effects.loc["slope", "ci_low"] < 1 < m4.effects.loc["slope", "ci_high"]


def test_counterfactual_and_autocorrelation_diagnostics(sicily):
    res = iv.its(sicily, "aces", "time", "smokban", offset="stdpop")
    s = res.series
    post = s["after"] > 0
    # before the start the counterfactual is the fitted model; after it, fitted = counterfactual x RR
    assert np.allclose(s.loc[~post, "counterfactual"], s.loc[~post, "fitted"])
    assert np.allclose(s.loc[post, "fitted"] / s.loc[post, "counterfactual"], res.effects.loc["level", "rate_ratio"])
    assert (s["cf_low"] < s["counterfactual"]).all() and (s["counterfactual"] < s["cf_high"]).all()
    assert list(res.acf.index) == list(range(1, 13)) and list(res.ljung_box.index) == list(range(1, 13))
    lb_p = res.ljung_box["lb_pvalue"].iloc[-1]
    assert (lb_p < 0.05) == any(w.code == "W-INT-01" for w in res.warnings)
    hac = iv.its(sicily, "aces", "time", "smokban", offset="stdpop", cov_type="HAC")
    assert hac.effects.loc["level", "rate_ratio"] == pytest.approx(res.effects.loc["level", "rate_ratio"])
    assert hac.effects.loc["level", "se"] != pytest.approx(res.effects.loc["level", "se"])
    assert not any(w.code == "W-INT-01" for w in hac.warnings)
    assert "level" in res.summary() and res.to_frame().shape[0] == 1


def test_calendar_months_give_the_same_fit_as_numeric_time(sicily):
    months = sicily.assign(month_str=pd.PeriodIndex.from_fields(year=sicily["year"], month=sicily["month"],
                                                                 freq="M").astype(str))
    a = iv.its(sicily, "aces", "time", "smokban", offset="stdpop")
    b = iv.its(months.sample(frac=1, random_state=1), "aces", "month_str", "smokban", offset="stdpop")
    assert b.effects.loc["level", "rate_ratio"] == pytest.approx(a.effects.loc["level", "rate_ratio"], rel=1e-9)


def test_negative_binomial_family(sicily):
    res = iv.its(sicily, "aces", "time", "smokban", offset="stdpop", family="negbin")
    assert 0.84 < res.effects.loc["level", "rate_ratio"] < 0.93 and res.scale > 0
    hac = iv.its(sicily, "aces", "time", "smokban", offset="stdpop", family="negbin", cov_type="HAC")
    assert hac.effects.loc["level", "rate_ratio"] == pytest.approx(res.effects.loc["level", "rate_ratio"], rel=1e-6)


# ------------------------------------------------------------------------------------------- simulation
def _its_series(rng, rr, n=36, start=18, base=40.0):
    t = np.arange(1, n + 1)
    mu = base * np.exp(0.005 * t + 0.15 * np.sin(2 * np.pi * t / 12)) * np.where(t > start, rr, 1.0)
    return pd.DataFrame({"t": t, "y": rng.poisson(mu), "x": (t > start).astype(int)})


def test_its_intervals_cover_the_true_ratio():
    rng = np.random.default_rng(7)
    hits = [iv.its(_its_series(rng, 0.7), "y", "t", "x", seasonality=1).effects.loc["level"] for _ in range(200)]
    cover = np.mean([h["ci_low"] < 0.7 < h["ci_high"] for h in hits])
    assert 0.90 <= cover <= 0.99
    assert np.median([h["rate_ratio"] for h in hits]) == pytest.approx(0.7, abs=0.03)


def _panel(rng, rr, starts, n_t=24):
    rows = []
    unit_fx = rng.normal(0, 0.3, len(starts))
    time_fx = 0.2 * np.sin(np.arange(n_t) / 3)
    for i, (u, s) in enumerate(starts.items()):
        for k in range(n_t):
            treated = s is not None and k >= s
            mu = 8.0 * np.exp(unit_fx[i] + time_fx[k]) * (rr if treated else 1.0)
            rows.append({"unit": u, "t": k + 1, "y": rng.poisson(mu), "start": None if s is None else s + 1,
                         "e": 1000.0})
    return pd.DataFrame(rows)


STARTS = {"A": 6, "B": 6, "C": 6, "D": 10, "E": 10, "F": 10, "G": 14, "H": 14, "I": None, "J": None, "K": None,
          "L": None}


def test_staggered_recovers_the_effect_and_states_its_assumption():
    rng = np.random.default_rng(11)
    res = iv.staggered(_panel(rng, 0.7, STARTS), "y", "unit", "t", "start", offset="e")
    lvl = res.headline
    assert lvl["ci_low"] < 0.7 < lvl["ci_high"] and res.verdict == "effective"
    assert res.assumption == "parallel_trends" and "parallel trends" in res.summary()
    assert (res.n_units, res.n_treated, res.n_never) == (12, 8, 4)
    assert set(res.event_time.index) == {-4, -3, -2, 0, 1, 2, 3, 4, 5, 6}
    assert 0 <= res.pretrend_p <= 1


def test_staggered_coverage_and_no_effect():
    rng = np.random.default_rng(3)
    fits = [iv.staggered(_panel(rng, 1.0, STARTS), "y", "unit", "t", "start", offset="e", event_time=False)
            for _ in range(40)]
    cover = np.mean([r.headline["ci_low"] < 1.0 < r.headline["ci_high"] for r in fits])
    assert cover >= 0.875                                      # 95 % intervals; 35 of 40 at least
    assert np.mean([r.verdict == "effective" for r in fits]) <= 0.1


def test_staggered_warns_without_comparison_units():
    rng = np.random.default_rng(5)
    starts = {u: (6 if i < 6 else 10) for i, u in enumerate("ABCDEFGH")}
    res = iv.staggered(_panel(rng, 0.8, starts), "y", "unit", "t", "start", offset="e")
    codes = {w.code for w in res.warnings}
    assert "W-INT-04" in codes and "W-INT-06" in codes


# ------------------------------------------------------------------------------------------- before / after
def test_before_after_uses_the_exact_rate_ratio_and_stages():
    from sqc.complaints import rate_ratio_exact

    df = pd.DataFrame({"m": [f"2025-{i:02d}" for i in range(1, 11)], "c": [12, 15, 11, 14, 13, 6, 7, 5, 8, 6],
                       "n": [1000] * 10, "x": [0] * 5 + [1] * 5})
    res = iv.before_after(df, "c", "n", "m", "x")
    assert (res.rate_ratio, res.ci_low, res.ci_high, res.p) == pytest.approx(rate_ratio_exact(32, 5000, 65, 5000))
    assert set(res.chart.stage) == {"before", "after"}
    assert res.before["points"] == res.after["points"] == 5
    assert res.verdict == "effective" and res.runs_after.n_useful <= 5
    assert res.to_frame().loc["level", "count_after"] == 32
    p = iv.before_after(df.assign(n=200), "c", "n", "m", "x", chart="p")
    assert p.chart.chart == "p" and p.chart.center[0] == pytest.approx(65 / 1000)
    assert p.chart.center[-1] == pytest.approx(32 / 1000)
    short = iv.before_after(df.iloc[3:7], "c", "n", "m", "x")
    assert short.verdict == "too_few_points" and any(w.code == "W-INT-02" for w in short.warnings)


@pytest.mark.parametrize("lo,hi,direction,expected", [
    (0.5, 0.9, "lower_is_better", "effective"), (1.1, 1.5, "lower_is_better", "worsened"),
    (0.8, 1.2, "lower_is_better", "no_evidence"), (1.1, 1.5, "higher_is_better", "effective")])
def test_verdict_codes(lo, hi, direction, expected):
    assert iv.verdict_code(lo, hi, direction=direction) == expected
    assert iv.verdict_code(lo, hi, direction=direction, enough_points=False) == "too_few_points"


# ------------------------------------------------------------------------------------------- bad input
def test_bad_input_raises_clear_errors(sicily):
    with pytest.raises(ParameterError, match="family"):
        iv.its(sicily, "aces", "time", "smokban", family="gaussian")
    with pytest.raises(ParameterError, match="cov_type"):
        iv.its(sicily, "aces", "time", "smokban", cov_type="HC0")
    with pytest.raises(DataError, match="not found"):
        iv.its(sicily, "acs", "time", "smokban")
    bad = sicily.copy()
    bad.loc[4, "aces"] = -3
    with pytest.raises(DataError) as e:
        iv.its(bad, "aces", "time", "smokban")
    assert e.value.row == 5 and e.value.value == -3
    back = sicily.copy()
    back.loc[50, "smokban"] = 0
    with pytest.raises(DataError, match="goes back down"):
        iv.its(back, "aces", "time", "smokban")
    zero = sicily.assign(stdpop=sicily["stdpop"].where(sicily.index != 2, 0))
    with pytest.raises(DataError, match="exposure"):
        iv.its(zero, "aces", "time", "smokban", offset="stdpop")
    with pytest.raises(InsufficientDataError):
        iv.its(sicily.assign(smokban=0), "aces", "time", "smokban")


def test_register_checks_consistency():
    from sqc.demo import make_interventions, _context

    reg_df = make_interventions(_context(1, 1.0, "2026-10", 24))
    reg = iv.register(reg_df)
    assert set(reg) == {"INT-01", "INT-02", "INT-03"}
    assert reg["INT-02"].staggered and not reg["INT-01"].staggered
    assert len(reg["INT-01"].starts) == 12 and reg["INT-02"].complaint_categories == ["product_info"]
    bad = reg_df.copy()
    bad.loc[bad.index[3], "name_en"] = "Something else"
    with pytest.raises(DataError) as e:
        iv.register(bad)
    assert e.value.column == "name_en" and e.value.row == 4
    bad = reg_df.copy()
    bad["complaint_categories"] = bad["complaint_categories"].replace("installation", "instalation")
    with pytest.raises(DataError, match="unknown value"):
        iv.register(bad)
    with pytest.raises(DataError, match="blueprint step"):
        iv.register(reg_df, blueprint_steps=pd.DataFrame({"step_id": ["S1C"]}))


# ------------------------------------------------------------------------------------------- demo network
@pytest.fixture(scope="module")
def demo_effects(demo_data):
    effects, warnings = iv.evaluate_all(demo_data, as_of="2026-10")
    return {e.intervention.intervention_id: e for e in effects}


def test_demo_planted_effects_are_recovered(demo_effects):
    from sqc.demo import INTERVENTION_EFFECTS

    assert set(demo_effects) == set(INTERVENTION_EFFECTS)
    for iid, spec in INTERVENTION_EFFECTS.items():
        e = demo_effects[iid]
        assert e.effect["ci_low"] < spec["rate_ratio"] < e.effect["ci_high"], (iid, e.effect)
    assert demo_effects["INT-01"].design == "its" and demo_effects["INT-01"].verdict == "effective"
    assert demo_effects["INT-02"].design == "staggered" and demo_effects["INT-02"].verdict == "effective"
    assert demo_effects["INT-03"].verdict != "effective"        # the training did nothing
    assert demo_effects["INT-03"].verdict == "no_evidence"


def test_demo_early_months_fall_back_to_simpler_designs(demo_data):
    effects, warnings = iv.evaluate_all(demo_data, as_of="2025-10")
    by_id = {e.intervention.intervention_id: e for e in effects}
    assert set(by_id) == {"INT-01", "INT-02"}                   # INT-03 starts 2025-11
    assert by_id["INT-01"].design == "before_after"              # 9 months before, 3 after
    assert by_id["INT-01"].effect["ci_low"] < 0.6 < by_id["INT-01"].effect["ci_high"]
    assert by_id["INT-02"].design == "staggered"
    frame = iv.effects_frame(effects)
    assert list(frame.index) == ["INT-01", "INT-02"] and {"rate_ratio", "ci_low", "ci_high", "p"} <= set(frame)
    early = {e.intervention.intervention_id: e for e in iv.evaluate_all(demo_data, as_of="2025-09")[0]}
    assert early["INT-01"].verdict == "too_few_points"          # 2 months after the start
    assert any(w.code == "W-INT-02" and w.subject == "INT-01" for w in early["INT-01"].warnings)


def test_a_roll_out_that_reaches_every_branch_is_still_compared_with_not_yet_treated_ones(demo_data):
    """INT-02 restricted to its 8 branches: no branch is never treated, but the cohorts start at different months,
    so each cohort is compared with the ones not yet started (and the last cohort has nobody left: W-INT-04)."""
    treated = sorted(demo_data.interventions.loc[demo_data.interventions["intervention_id"] == "INT-02", "branch"])
    e = iv.evaluate(demo_data, "INT-02", as_of="2026-10", branches=treated)
    assert e.design == "staggered" and e.result.n_never == 0
    assert any(w.code == "W-INT-04" for w in e.warnings)
    assert e.effect["ci_low"] < 0.7 < e.effect["ci_high"]


def test_process_measure_counts_failed_audit_checks(demo_data):
    a = demo_data.audit_visits.merge(demo_data.checklist[["item_id", "max_score"]], on="item_id")
    a = a[(a["item_id"] == "BH04") & a["score"].notna()]
    f = iv.audit_failures(demo_data.audit_visits, demo_data.checklist, ["BH04"])
    assert f["exposure"].sum() == len(a) and f["count"].sum() == (a["score"] < a["max_score"]).sum()
    reg = iv.register(demo_data.interventions)
    effects, _ = iv.evaluate_process_measures(demo_data, reg["INT-02"], as_of="2026-10")
    assert [e.measure for e in effects] == ["BH04"] and effects[0].design == "staggered"
    assert effects[0].effect["count_before"] + effects[0].effect["count_after"] > 0


def _kpi_panel(kpi, *, before, after, start="2025-11", months=24, branches=("B01", "B02", "B03"), n=2000, seed=3,
               kind="proportion"):
    """A tidy monthly KPI frame with a planted step at ``start`` in every branch (binomial successes for a
    proportion, summed gamma-distributed waits for a mean)."""
    rng = np.random.default_rng(seed)
    periods = [str(p) for p in pd.period_range(end="2026-10", periods=months, freq="M")]
    rows = []
    for b in branches:
        for p in periods:
            level = after if p >= start else before
            num = rng.binomial(n, level) if kind == "proportion" else rng.gamma(2.0, level / 2.0, n).sum()
            rows.append({"branch": b, "period": p, "kpi": kpi, "numerator": float(num), "denominator": float(n)})
    return pd.DataFrame(rows)


def _single_start_register(kpis: str, start="2025-11-01", branches=("B01", "B02", "B03")):
    return iv.register(pd.DataFrame({
        "intervention_id": "INT-K", "kind": "process_change", "name_en": "k", "name_zh": "k", "description_en": "d",
        "description_zh": "d", "step_id": "S1", "failure_type": "server_task", "branch": list(branches),
        "start_date": start, "complaint_categories": "billing", "kpis": kpis, "checklist_items": None}))["INT-K"]


def test_kpi_effects_recover_a_planted_step_in_the_kpis_own_direction():
    """A 10% rise of first-contact resolution (0.70 → 0.77) planted from 2025-11 in every branch: the segmented
    regression's ratio covers 1.10 and, higher being better, the verdict is "effective"; a 20% rise of a mean wait
    (lower is better) is "worsened"; no step gives no evidence."""
    fcr = _kpi_panel("fcr_rate", before=0.70, after=0.77)
    asa = _kpi_panel("asa_s", before=20.0, after=24.0, kind="mean", n=400)
    flat = _kpi_panel("abandonment_rate", before=0.06, after=0.06, seed=11)
    frame = pd.concat([fcr, asa, flat], ignore_index=True)
    effects, skipped = iv.evaluate_kpis(frame, _single_start_register("fcr_rate;asa_s;abandonment_rate"),
                                        as_of="2026-10")
    assert not skipped
    by = {e.measure: e for e in effects}
    assert by["fcr_rate"].design == "its" and by["fcr_rate"].verdict == "effective"
    assert by["fcr_rate"].effect["ci_low"] < 1.10 < by["fcr_rate"].effect["ci_high"]
    assert by["asa_s"].verdict == "worsened" and by["asa_s"].effect["ci_low"] < 1.20 < by["asa_s"].effect["ci_high"]
    assert by["abandonment_rate"].verdict == "no_evidence"


def test_kpi_effect_of_a_mean_needs_the_segmented_regression():
    """Two months after the start: a proportion falls back to the before/after p chart, a mean is not judged (an
    exact Poisson comparison of summed seconds would be meaningless) and gets an info warning instead."""
    frame = pd.concat([_kpi_panel("fcr_rate", before=0.70, after=0.77, start="2026-09"),
                       _kpi_panel("asa_s", before=20.0, after=24.0, start="2026-09", kind="mean", n=400)])
    effects, skipped = iv.evaluate_kpis(frame, _single_start_register("fcr_rate;asa_s", start="2026-09-01"),
                                        as_of="2026-10")
    assert [(e.measure, e.design) for e in effects] == [("fcr_rate", "before_after")]
    assert [w.code for w in skipped] == ["W-INT-02"] and "asa_s" in skipped[0].message
