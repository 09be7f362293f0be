"""Inter-rater agreement (sqc.agreement) against independent references.

References used (numbers pasted, never recomputed by the code under test):
* methods.md §4.6 golden values (ICC forms on 8 branches × 2 assessors; Cohen's kappa 0.625, p_o 0.8333).
* R psych 2.2.9 ``ICC(x, lmer=FALSE)`` and ``cohen.kappa()``, computed 2026-11-22 on (a) the Shrout & Fleiss
  (1979) 6 targets × 4 judges table (the example data of psych::ICC) and (b) the methods.md §4.6 data.
* Krippendorff (2011) "Computing Krippendorff's alpha-reliability", 4 observers × 12 units: nominal .743,
  ordinal .815, interval .849, ratio .797.
* Fleiss (1971) worked example as tabulated on Wikipedia "Fleiss' kappa" (10 subjects × 14 raters × 5 categories):
  P̄ = 0.378, P̄_e = 0.213, κ = 0.210.
* Base R 4.2 (mean, sd, t.test, qnorm/qt, lm) for Bland–Altman on the methods.md §4.6 data, computed 2026-11-22.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqc.agreement import bland_altman, fleiss_kappa, gwet_ac1, icc, kappa, krippendorff_alpha
from sqc.errors import DataError, InsufficientDataError, ParameterError

GOLD_A = [82, 74, 91, 65, 88, 77, 69, 95]
GOLD_B = [85, 70, 93, 72, 84, 80, 66, 92]

# Shrout & Fleiss (1979) Table 2: 6 targets rated by 4 judges (columns)
SF = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])


def _long(wide: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(wide).stack().rename_axis(["target", "rater"]).rename("score").reset_index()


def test_icc_methods_golden_and_psych_on_gold_data():
    res = icc(_long(np.c_[GOLD_A, GOLD_B]), "target", "rater", "score").set_index("form")
    # methods.md §4.6 golden values (pingouin naming)
    gold = {"ICC(1,1)": .9299, "ICC(A,1)": .9296, "ICC(C,1)": .9204, "ICC(1,k)": .9637, "ICC(A,k)": .9635,
            "ICC(C,k)": .9585}
    for form, v in gold.items():
        assert res.loc[form, "ICC"] == pytest.approx(v, abs=5e-5), form
    # R psych 2.2.9 ICC(cbind(A, B), lmer=FALSE), computed 2026-11-22: F, df, p and 95% bounds
    psych = {
        "ICC(1,1)": (0.9299247125, 27.54073200, 7, 8, 5.453115941e-05, 0.7175764376, 0.9852866991),
        "ICC(A,1)": (0.9295751226, 24.12306101, 7, 7, 2.166491649e-04, 0.6865514978, 0.9855471252),
        "ICC(C,1)": (0.9203918663, 24.12306101, 7, 7, 2.166491649e-04, 0.6569191342, 0.9835380785),
        "ICC(1,k)": (0.9636901445, 27.54073200, 7, 8, 5.453115941e-05, 0.8355685627, 0.9925888281),
        "ICC(A,k)": (0.9635023915, 24.12306101, 7, 7, 2.166491649e-04, 0.8141482768, 0.9927209611),
        "ICC(C,k)": (0.9585458910, 24.12306101, 7, 7, 2.166491649e-04, 0.7929404889, 0.9917007283),
    }
    for form, (v, f, d1, d2, p, lo, hi) in psych.items():
        row = res.loc[form]
        assert row["ICC"] == pytest.approx(v, abs=1e-8)
        assert row["F"] == pytest.approx(f, rel=1e-7)
        assert (row["df1"], row["df2"]) == (d1, d2)
        assert row["pval"] == pytest.approx(p, rel=1e-6)
        assert row["ci_low"] == pytest.approx(lo, abs=1e-7), form
        assert row["ci_high"] == pytest.approx(hi, abs=1e-7), form


def test_icc_matches_psych_on_shrout_fleiss_data():
    # R psych 2.2.9: ICC(sf, lmer=FALSE) on the Shrout & Fleiss (1979) judges data, computed 2026-11-22
    psych = {
        "ICC1": (0.1657417684, 1.794678492, 0.1647688083446, -0.13293232487, 0.7225600623),
        "ICC2": (0.2897637795, 11.027247956, 0.0001345665165, 0.01878651337, 0.7610843696),
        "ICC3": (0.7148407148, 11.027247956, 0.0001345665165, 0.34246476503, 0.9458582600),
        "ICC1k": (0.4427971337, 1.794678492, 0.1647688083446, -0.88444215524, 0.9124154203),
        "ICC2k": (0.6200505476, 11.027247956, 0.0001345665165, 0.07113681530, 0.9272320402),
        "ICC3k": (0.9093155424, 11.027247956, 0.0001345665165, 0.67567471382, 0.9858916782),
    }
    res = icc(_long(SF), "target", "rater", "score").set_index("type")
    assert list(res.index) == list(psych)
    for t, (v, f, p, lo, hi) in psych.items():
        assert res.loc[t, "ICC"] == pytest.approx(v, abs=1e-9)
        assert res.loc[t, "F"] == pytest.approx(f, rel=1e-8)
        assert res.loc[t, "pval"] == pytest.approx(p, rel=1e-6)
        assert res.loc[t, "ci_low"] == pytest.approx(lo, abs=1e-8)
        assert res.loc[t, "ci_high"] == pytest.approx(hi, abs=1e-8)
    assert set(res.reset_index().columns) >= {"type", "description", "ICC", "F", "df1", "df2", "pval", "ci_low",
                                              "ci_high"}
    assert res.attrs["n_targets"] == 6 and res.attrs["n_raters"] == 4


def test_icc_point_estimates_agree_with_pingouin():
    pg = pytest.importorskip("pingouin")
    ref = pg.intraclass_corr(_long(SF), targets="target", raters="rater", ratings="score").set_index("Type")
    res = icc(_long(SF), "target", "rater", "score").set_index("form")  # pingouin 0.7 uses McGraw-Wong names
    np.testing.assert_allclose(res["ICC"].to_numpy(), ref.loc[res.index, "ICC"].to_numpy(), atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(-10, 10), st.floats(-10, 10)), min_size=3, max_size=25),
       st.floats(-5, 5))
def test_icc_average_at_least_single_when_positive(rows, shift):
    """Property (methods.md §10): ICC(A,k) ≥ ICC(A,1) whenever ICC(A,1) ≥ 0; Spearman–Brown links them."""
    truth = np.array([r[0] for r in rows])
    a = truth + np.array([r[1] for r in rows])
    b = truth + shift + np.array([r[2] for r in rows])
    try:
        res = icc(_long(np.c_[a, b]), "target", "rater", "score").set_index("form")["ICC"]
    except InsufficientDataError:
        return
    a1, ak = res["ICC(A,1)"], res["ICC(A,k)"]
    assert ak == pytest.approx(2 * a1 / (1 + a1), abs=1e-9)
    if a1 >= 0:
        assert ak >= a1 - 1e-12


def test_icc_bad_input():
    with pytest.raises(InsufficientDataError, match="two raters"):
        icc(pd.DataFrame({"t": [1, 2, 3], "r": ["x"] * 3, "y": [1.0, 2, 3]}), "t", "r", "y")
    with pytest.raises(DataError, match="column not found"):
        icc(_long(SF), "target", "judge", "score")
    bad = _long(SF).astype({"score": object})
    bad.loc[3, "score"] = "n/a"
    with pytest.raises(DataError, match="not a number"):
        icc(bad, "target", "rater", "score")
    dup = pd.concat([_long(SF), _long(SF).iloc[[0]]])
    with pytest.raises(DataError, match="twice"):
        icc(dup, "target", "rater", "score")
    # incomplete target: excluded and counted, or an error on request
    inc = _long(SF).iloc[1:]
    res = icc(inc, "target", "rater", "score")
    assert res.attrs["exclusions"]["targets_incomplete"] == 1 and res.attrs["n_targets"] == 5
    with pytest.raises(DataError, match="lacks a rating"):
        icc(inc, "target", "rater", "score", on_missing="raise")
    allnan = _long(SF).assign(score=np.nan)
    with pytest.raises(InsufficientDataError):
        icc(allnan, "target", "rater", "score")


# ------------------------------------------------------------------ kappa
KA = [1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 0]
KB = [1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0]
G1 = [0, 1, 2, 2, 1, 0, 2, 2, 1, 1, 2, 0, 1, 2, 2, 1]
G2 = [0, 1, 2, 1, 1, 0, 2, 2, 2, 1, 2, 1, 1, 2, 1, 1]


def test_kappa_golden_and_psych():
    r = kappa(KA, KB)
    # methods.md §4.6 golden: p_o = .8333, kappa = .625
    assert r.p_observed == pytest.approx(0.8333, abs=5e-5)
    assert r.kappa == pytest.approx(0.625, abs=1e-12)
    # R psych 2.2.9 cohen.kappa(cbind(a, b)), computed 2026-11-22: var.kappa 0.05749511719, lower 0.1550371025
    # (psych clips the upper bound to 1, as sqc does)
    assert r.se ** 2 == pytest.approx(0.05749511719, rel=1e-9)
    assert r.ci_low == pytest.approx(0.1550371025, abs=1e-9)
    assert r.ci_high == 1.0
    assert r.n == 12 and r.table.to_numpy().sum() == 12
    assert "0.625" in r.summary()


def test_weighted_kappa_psych_and_fce():
    # R psych 2.2.9 cohen.kappa(cbind(g1, g2)), computed 2026-11-22: unweighted 0.60 (CI 0.2581281167..0.9418718833),
    # quadratic-weighted 0.75; with w = 1 - |i-j|/2 (linear agreement weights) 0.6666666667.
    r0 = kappa(G1, G2)
    assert r0.kappa == pytest.approx(0.60, abs=1e-12)
    assert (r0.ci_low, r0.ci_high) == pytest.approx((0.2581281167, 0.9418718833), abs=1e-9)
    rq = kappa(G1, G2, weights="quadratic")
    rl = kappa(G1, G2, weights="linear")
    assert rq.kappa == pytest.approx(0.75, abs=1e-12)
    assert rl.kappa == pytest.approx(2 / 3, abs=1e-10)
    # Variance: Fleiss, Cohen & Everitt (1969) large-sample formula, evaluated by hand (numpy, 2026-11-22) on this
    # table. (psych 2.2.9 reports a different weighted variance, 0.0064163 quadratic / 0.0214120 linear, from
    # another formula; statsmodels and the FCE paper agree with each other.)
    assert rq.se ** 2 == pytest.approx(0.01605224609375, rel=1e-9)
    assert rl.se ** 2 == pytest.approx(0.023678626543209895, rel=1e-9)


def test_kappa_declared_categories_and_missing():
    # a declared but unused category changes the weighted kappa (more distance available) but not p_o
    r3 = kappa(G1, G2, weights="linear")
    r4 = kappa(G1, G2, weights="linear", categories=[0, 1, 2, 3])
    assert r4.p_observed != r3.p_observed and r4.table.shape == (4, 4)
    rm = kappa(KA + [np.nan], KB + [1])
    assert rm.n == 12 and rm.exclusions["pairs_with_missing"] == 1 and rm.kappa == pytest.approx(0.625)


def test_kappa_paradox_warning():
    a = [1] * 18 + [0, 1]
    b = [1] * 18 + [1, 0]
    r = kappa(a, b)
    assert r.p_observed == pytest.approx(0.9)
    assert any(w.code == "W-AG-01" for w in r.warnings)
    ac1 = gwet_ac1(np.c_[a, b])
    assert ac1.value > 0.85  # AC1 does not collapse under high prevalence


def test_kappa_bad_input():
    with pytest.raises(DataError, match="declared categories"):
        kappa([1, 2, 3], [1, 2, 9], categories=[1, 2, 3])
    with pytest.raises(InsufficientDataError, match="all ratings missing"):
        kappa([np.nan, np.nan], [1, np.nan])
    with pytest.raises(ParameterError, match="length"):
        kappa([1, 2], [1, 2, 3])
    with pytest.raises(ParameterError, match="weights"):
        kappa(KA, KB, weights="cubic")
    with pytest.raises(InsufficientDataError, match="two categories"):
        kappa([1, 1, 1], [1, 1, 1])


# ------------------------------------------------------------------ multi-rater
FLEISS_WIKI = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])


def test_fleiss_kappa_published_example():
    r = fleiss_kappa(FLEISS_WIKI, format="counts")
    assert r.value == pytest.approx(0.210, abs=5e-4)
    assert r.p_observed == pytest.approx(0.378, abs=5e-4)
    assert r.p_expected == pytest.approx(0.213, abs=5e-4)
    assert r.n_subjects == 10 and r.n_raters == 14


def test_fleiss_kappa_raters_format_equals_counts_format():
    rng = np.random.default_rng(1)
    labels = rng.choice(["yes", "no", "partly"], size=(30, 4), p=[.6, .3, .1])
    r1 = fleiss_kappa(labels)
    counts = pd.DataFrame(labels).apply(lambda row: row.value_counts(), axis=1).fillna(0)
    r2 = fleiss_kappa(counts, format="counts")
    assert r1.value == pytest.approx(r2.value, abs=1e-12)
    # two raters, equal marginals: Fleiss' kappa equals Cohen's kappa (Scott's pi = kappa here)
    assert fleiss_kappa(np.c_[KA, KB]).value == pytest.approx(0.625, abs=1e-12)


def test_fleiss_bad_input():
    with pytest.raises(InsufficientDataError, match="two raters"):
        fleiss_kappa(np.array([[1], [0], [1]]))
    with pytest.raises(DataError, match="declared categories"):
        fleiss_kappa(np.c_[KA, KB], categories=[0, 9])
    with pytest.raises(InsufficientDataError, match="every rating is missing"):
        fleiss_kappa(pd.DataFrame({"a": [np.nan] * 3, "b": [np.nan] * 3}))
    with pytest.raises(ParameterError, match="format"):
        fleiss_kappa(np.c_[KA, KB], format="wide")


def test_gwet_ac1_hand_computed():
    # two raters, binary: p_a = 10/12, pi = 2/3, p_e = 2*pi*(1-pi) = 4/9, AC1 = (5/6 - 4/9)/(5/9) = 0.7
    r = gwet_ac1(np.c_[KA, KB])
    assert r.value == pytest.approx(0.7, abs=1e-12)
    assert r.p_expected == pytest.approx(4 / 9, abs=1e-12)
    assert 0 < r.ci_low < 0.7 < r.ci_high <= 1
    # missing ratings allowed: a subject rated once only contributes to pi, not to p_a
    r2 = gwet_ac1(pd.DataFrame({"a": KA + [1], "b": KB + [np.nan]}))
    assert r2.exclusions["missing_ratings"] == 1


KRIPP = pd.DataFrame({  # Krippendorff (2011) reliability data, units in rows, observers A-D in columns
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
    "C": [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan]})


@pytest.mark.parametrize("level,expected", [("nominal", .743), ("ordinal", .815), ("interval", .849),
                                            ("ratio", .797)])
def test_krippendorff_published(level, expected):
    r = krippendorff_alpha(KRIPP, level, n_boot=200)
    assert r.value == pytest.approx(expected, abs=5e-4)
    assert r.n_subjects == 11 and r.exclusions["units_not_pairable"] == 1
    assert r.ci_low < r.value < r.ci_high


def test_krippendorff_bad_input():
    with pytest.raises(InsufficientDataError, match="every rating is missing"):
        krippendorff_alpha(pd.DataFrame({"a": [np.nan] * 3, "b": [np.nan] * 3}))
    with pytest.raises(InsufficientDataError, match="two raters"):
        krippendorff_alpha(KRIPP[["A"]])
    with pytest.raises(ParameterError, match="level"):
        krippendorff_alpha(KRIPP, "metric")
    with pytest.raises(DataError, match="declared categories"):
        krippendorff_alpha(KRIPP, categories=[1, 2, 3, 4])


# ------------------------------------------------------------------ Bland–Altman
def test_bland_altman_against_base_r():
    # base R 4.2 on d = B - A (methods.md §4.6 data): mean 0.125, sd 4.155461123, t.test CI -3.349052438..3.599052438,
    # LoA -8.019554140 (-14.229386991, -1.809721289) and 8.269554140 (2.059721289, 14.479386991) with
    # SE = sd*sqrt(1/n + z^2/(2(n-1))) and t_{7}; lm(d ~ mean) slope -0.06267415441, p 0.7159387174.
    r = bland_altman(GOLD_B, GOLD_A, labels=("B", "A"))
    assert r.bias == pytest.approx(0.125)
    assert r.sd == pytest.approx(4.155461123, abs=1e-8)
    assert r.bias_ci == pytest.approx((-3.349052438, 3.599052438), abs=1e-8)
    assert r.loa_low == pytest.approx(-8.019554140, abs=1e-8)
    assert r.loa_high == pytest.approx(8.269554140, abs=1e-8)
    assert r.loa_low_ci == pytest.approx((-14.229386991, -1.809721289), abs=1e-8)
    assert r.loa_high_ci == pytest.approx((2.059721289, 14.479386991), abs=1e-8)
    assert r.slope == pytest.approx(-0.06267415441, abs=1e-9)
    assert r.slope_pval == pytest.approx(0.7159387174, abs=1e-8)
    assert not r.bias_significant
    assert r.to_frame().shape == (3, 5)


def test_bland_altman_bad_input_and_missing():
    with pytest.raises(ParameterError):
        bland_altman([1, 2, 3], [1, 2])
    with pytest.raises(InsufficientDataError):
        bland_altman([1, np.nan, 3], [1, 2, np.nan])
    r = bland_altman(GOLD_B + [np.nan], GOLD_A + [70])
    assert r.n == 8 and r.exclusions["pairs_with_missing"] == 1


# ------------------------------------------------------------------ a 20 × 3 ordinal table shared with R
# Ratings 1-5 of 20 subjects by 3 raters (numpy default_rng(42) draw, pasted here so R and sqc read the same data).
# R psych 2.2.9, computed 2026-11-22: ICC(cbind(r1, r2, r3), lmer=FALSE); cohen.kappa(cbind(r1, r2)) and
# cohen.kappa(cbind(r1, r3)) (psych's weighted kappa uses quadratic weights).
R1 = [1, 4, 3, 4, 4, 5, 1, 5, 2, 1, 3, 4, 3, 4, 5, 3, 4, 2, 4, 3]
R2 = [1, 5, 5, 3, 2, 5, 2, 5, 4, 2, 4, 4, 4, 4, 4, 3, 3, 1, 5, 5]
R3 = [1, 3, 4, 2, 3, 5, 1, 4, 1, 1, 2, 5, 4, 3, 4, 4, 2, 1, 4, 2]


def test_icc_three_raters_psych():
    psych = {"ICC1": (0.6312384473, 6.135338346, 0.3927966535, 0.8161007550),
             "ICC2": (0.6384231989, 7.318385650, 0.3919453153, 0.8219330547),
             "ICC3": (0.6780558229, 7.318385650, 0.4520360243, 0.8432985596),
             "ICC1k": (0.8370098039, 6.135338346, 0.6599430878, 0.9301348152),
             "ICC2k": (0.8411940299, 7.318385650, 0.6591412756, 0.9326490307),
             "ICC3k": (0.8633578431, 7.318385650, 0.7122146842, 0.9416728920)}
    res = icc(_long(np.c_[R1, R2, R3]), "target", "rater", "score").set_index("type")
    for t, (v, f, lo, hi) in psych.items():
        assert res.loc[t, ["ICC", "F", "ci_low", "ci_high"]].to_numpy(float) == pytest.approx([v, f, lo, hi],
                                                                                              abs=1e-8)


def test_kappa_ordinal_pairs_psych():
    r12 = kappa(R1, R2)
    assert (r12.ci_low, r12.kappa, r12.ci_high) == pytest.approx((-0.1473838210, 0.1054313099, 0.3582464408),
                                                                 abs=1e-9)
    assert kappa(R1, R2, weights="quadratic").kappa == pytest.approx(0.6204379562, abs=1e-9)
    r13 = kappa(R1, R3)
    assert (r13.ci_low, r13.kappa, r13.ci_high) == pytest.approx((-0.2065903348, 0.04458598726, 0.2957623093),
                                                                 abs=1e-9)
    assert kappa(R1, R3, weights="quadratic").kappa == pytest.approx(0.71232876712, abs=1e-9)
    # observed-agreement table as psych prints it (proportions)
    assert kappa(R1, R2).table.to_numpy()[2, 3:].tolist() == [2, 2]


def test_gwet_ac1_published_irrcac_example():
    # Gwet's irrCAC example cac.raw4raters (= the Krippendorff 2011 data above): AC1 0.77544, SE 0.14295,
    # 95% CI (0.46081, 1), p_a 0.81818, p_e 0.19032 (irrCAC documentation output, as reproduced in the docstring of
    # afergadis/irrCAC irrCAC/raw.py)
    r = gwet_ac1(KRIPP)
    assert r.value == pytest.approx(0.77544, abs=5e-6)
    assert r.se == pytest.approx(0.14295, abs=5e-6)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.46081, 1.0), abs=5e-6)
    assert r.p_observed == pytest.approx(0.81818, abs=5e-6)
    assert r.p_expected == pytest.approx(0.19032, abs=5e-6)
    assert r.n_subjects == 12 and r.exclusions["missing_ratings"] == 7


def test_fleiss_kappa_with_missing_ratings_irrcac():
    # irrCAC fleiss.kappa.raw on cac.raw4raters (the Krippendorff data above): 0.76117, SE 0.15302,
    # 95% CI (0.42438, 1), p_a 0.81818, p_e 0.23872 (irrCAC documentation output, as reproduced in the docstring
    # of afergadis/irrCAC irrCAC/raw.py)
    r = fleiss_kappa(KRIPP, missing="keep")
    assert r.value == pytest.approx(0.76117, abs=5e-6)
    assert r.se == pytest.approx(0.15302, abs=5e-6)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.42438, 1.0), abs=5e-6)
    assert (r.p_observed, r.p_expected) == pytest.approx((0.81818, 0.23872), abs=5e-6)
    # default: only the subjects rated by all four observers
    d = fleiss_kappa(KRIPP)
    assert d.n_subjects == 8 and d.exclusions["subjects_excluded"] == 4
    with pytest.raises(ParameterError, match="missing"):
        fleiss_kappa(KRIPP, missing="impute")


def test_fleiss_complete_data_keep_equals_drop():
    r1 = fleiss_kappa(FLEISS_WIKI, format="counts")
    r2 = fleiss_kappa(FLEISS_WIKI, format="counts", missing="keep")
    assert r1.value == pytest.approx(r2.value, abs=1e-12) and r1.se == pytest.approx(r2.se)
    assert 0 < r1.pval < 0.05
