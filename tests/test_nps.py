"""NPS and CSAT (sqc.nps) against methods.md §6.2/§6.4 golden values and independently derived numbers."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqc.errors import DataError, InsufficientDataError, ParameterError
from sqc.nps import (csat, csat_compare, nps, nps_chart, nps_compare, nps_from_counts, nps_sample_size,
                     nps_table)


def _scores(promoters, passives, detractors):
    # spread over the whole scale so that the classification (not only 10/8/0) is exercised
    return ([9, 10] * (promoters // 2) + [10] * (promoters % 2) + [7, 8] * (passives // 2) + [7] * (passives % 2)
            + list(np.resize(np.arange(0, 7), detractors)))


# ---- methods.md §6.2 golden: 90 promoters, 60 passives, 50 detractors (n = 200)
def test_golden_nps_counts():
    r = nps_from_counts(90, 60, 50)
    assert r.nps == pytest.approx(20.000, abs=5e-4)
    assert r.se == pytest.approx(5.745, abs=5e-4)
    assert r.wald_ci == pytest.approx((8.741, 31.259), abs=5e-4)
    assert r.adjusted_nps == pytest.approx(19.704, abs=5e-4)
    assert r.adjusted_wald_ci == pytest.approx((8.544, 30.865), abs=5e-4)
    assert r.ci == r.adjusted_wald_ci  # default interval
    assert r.n == 200
    assert (r.promoter_share, r.passive_share, r.detractor_share) == pytest.approx((0.45, 0.30, 0.25))


def test_golden_nps_raw_scores_and_wald_method():
    r = nps(pd.Series(_scores(90, 60, 50), name="recommend"), method="wald")
    assert (r.promoters, r.passives, r.detractors) == (90, 60, 50)
    assert r.ci == pytest.approx((8.741, 31.259), abs=5e-4)
    assert r.distribution.sum() == 200 and list(r.distribution.index) == list(range(11))
    assert "NPS = 20.0" in r.summary()


def test_public_name_fixed_attributes():
    r = nps([10, 9, 9, 8, 7, 3, 10, 6])
    assert r.n == 8 and r.nps == pytest.approx(25.0)
    low, high = r.ci
    assert low < r.nps < high
    assert {w.code for w in r.warnings} >= {"W-NPS-01", "W-NPS-03"}


def test_two_sample_wald_rederived_from_R_formulas():
    # R package NPS (Rocks) nps.test(x, y): se.hat = sqrt(var.x/n.x + var.y/n.y), var = npvar().
    # Sample 1: 90/60/50 (NPS 20); sample 2: 70/60/70 (NPS 0). var1 = .66, var2 = .70, n = 200 each.
    # Reference numbers from R 4.2: se <- sqrt((.66+.7)/200) -> 8.2462112512 points; z = 2.4253562504;
    # 2*(1-pnorm(z)) = 0.0152933710; half-width qnorm(.975)*se = 16.1622770613.
    c = nps_compare(_scores(90, 60, 50), _scores(70, 60, 70))
    assert c.difference == pytest.approx(20.0)
    assert c.se == pytest.approx(8.2462112512, abs=1e-8)
    assert c.z == pytest.approx(2.4253562504, abs=1e-8)
    assert c.p_value == pytest.approx(0.0152933710, abs=1e-9)
    assert c.ci == pytest.approx((20 - 16.1622770613, 20 + 16.1622770613), abs=1e-8)
    # signed: reversing the order flips the difference
    assert nps_compare(_scores(70, 60, 70), _scores(90, 60, 50)).difference == pytest.approx(-20.0)


def test_two_sample_adjusted_wald_hand_computed():
    # each sample + (0.75 D, 1.5 P, 0.75 Pr): s1 = 50.75/61.5/90.75 (n 203), s2 = 70.75/61.5/70.75 (n 203)
    d1 = (90.75 - 50.75) / 203
    v1 = (90.75 + 50.75) / 203 - d1 ** 2
    v2 = (70.75 + 70.75) / 203
    se = 100 * np.sqrt(v1 / 203 + v2 / 203)
    c = nps_compare(_scores(90, 60, 50), _scores(70, 60, 70), method="adjusted_wald")
    assert c.difference == pytest.approx(100 * d1)
    assert c.se == pytest.approx(se)


def test_sample_size_golden():
    # methods.md §6.2: ±10 points at 95 % with p_P = p_D = 0.3 -> n ≈ 230 (1.95996² / 0.01 · 0.6 = 230.5)
    assert nps_sample_size(10, 0.3, 0.3) == 231


def test_csat_top2_golden_and_mean():
    # methods.md §6.4: 160/200 top-2-box -> Wilson [0.7391, 0.8495]
    ratings = [5] * 80 + [4] * 80 + [3] * 20 + [2] * 10 + [1] * 10
    r = csat(ratings)
    assert r.top_box.value == pytest.approx(0.8)
    assert (r.top_box.ci_low, r.top_box.ci_high) == pytest.approx((0.7391, 0.8495), abs=5e-5)
    # mean: t interval; reference from R 4.2 t.test(rep(c(5,4,3,2,1), c(80,80,20,10,10)))$conf.int
    # = 3.900256786 4.199743214 (mean 4.05), computed 2026-11-22
    assert r.mean.value == pytest.approx(4.05)
    assert (r.mean.ci_low, r.mean.ci_high) == pytest.approx((3.900256786, 4.199743214), abs=1e-8)


def test_csat_small_sample_uses_bootstrap_and_warns():
    r = csat([5, 4, 4, 3, 5, 2, 4, 5, 5, 4])
    assert r.mean.method == "BCa bootstrap"
    assert any(w.code == "W-CSAT-01" for w in r.warnings)
    assert r.mean.ci_low < r.mean.value < r.mean.ci_high


def test_csat_compare_newcombe():
    # Newcombe (1998) hybrid score CI, his Table II example 1: 56/70 vs 48/80 -> diff 0.2, CI [0.0524, 0.3339]
    a = [5] * 56 + [1] * 14
    b = [4] * 48 + [2] * 32
    c = csat_compare(a, b)
    assert c.top_box_difference.value == pytest.approx(0.2)
    assert (c.top_box_difference.ci_low, c.top_box_difference.ci_high) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def test_nps_table_groups_and_small_cells():
    df = pd.DataFrame({"wave": ["2026-06"] * 200 + ["2026-09"] * 10,
                       "recommend": _scores(90, 60, 50) + [10] * 6 + [3] * 4})
    t = nps_table(df, "wave").set_index("wave")
    assert t.loc["2026-06", "nps"] == pytest.approx(20.0)
    assert t.loc["2026-06", "ci_low"] == pytest.approx(8.544, abs=5e-4)
    assert bool(t.loc["2026-06", "reportable"]) and not bool(t.loc["2026-09", "reportable"])
    assert t.loc["2026-09", "n"] == 10


# ---- bad input
def test_out_of_scale_and_missing_are_counted_not_silent():
    r = nps([10, 9, 11, -1, 99, None, np.nan, 5, 7.5])
    assert r.n == 3
    assert r.exclusions == {"missing": 2, "out_of_scale": 4}
    assert any(w.code == "W-NPS-02" for w in r.warnings)


def test_no_valid_rating_raises():
    with pytest.raises(InsufficientDataError):
        nps([None, 11, 12])
    with pytest.raises(InsufficientDataError):
        nps_from_counts(0, 0, 0)


def test_non_numeric_rating_raises_with_location():
    with pytest.raises(DataError) as e:
        nps(pd.Series([10, "ten", 9], name="recommend"))
    assert e.value.column == "recommend" and e.value.row == 1 and e.value.value == "ten"


def test_parameter_errors():
    with pytest.raises(ParameterError):
        nps([10, 9], method="exact")
    with pytest.raises(ParameterError):
        nps([10, 9], breaks=(range(0, 8), range(7, 9), range(9, 11)))
    with pytest.raises(ParameterError):
        nps_from_counts(-1, 3, 4)
    with pytest.raises(ParameterError):
        nps([10, 9], confidence=95)
    with pytest.raises(ParameterError):
        csat([1, 2], scale=(5, 1))
    with pytest.raises(DataError):
        csat(["good", 4])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 300), st.integers(0, 300), st.integers(0, 300))
def test_properties(pr, pa, de):
    if pr + pa + de == 0:
        return
    r = nps_from_counts(pr, pa, de)
    assert -100 <= r.nps <= 100
    assert -100 <= r.ci[0] <= r.adjusted_nps <= r.ci[1] <= 100
    # Wald interval symmetric about NPS; shares sum to one
    assert r.wald_ci[1] - r.nps == pytest.approx(r.nps - r.wald_ci[0])
    assert r.promoter_share + r.passive_share + r.detractor_share == pytest.approx(1.0)


def test_nps_chart_by_hand():
    # three waves: 90/60/50, 70/60/70, 100/50/50 (n = 200 each); pooled p_P = 260/600, p_D = 170/600
    waves = {"2026-03": (90, 60, 50), "2026-06": (70, 60, 70), "2026-09": (100, 50, 50)}
    rows = []
    for w, (p, q, d) in waves.items():
        rows += [{"wave": w, "recommend": v} for v in _scores(p, q, d)]
    ch = nps_chart(pd.DataFrame(rows), laney="never")
    pp, pd_ = 260 / 600, 170 / 600
    centre = 100 * (pp - pd_)
    se = 100 * np.sqrt((pp + pd_ - (pp - pd_) ** 2) / 200)
    t = ch.table.set_index("period")
    assert ch.center == pytest.approx(centre)
    assert t["se"].tolist() == pytest.approx([se] * 3)
    assert t.loc["2026-06", "z"] == pytest.approx((0 - centre) / se)
    assert t.loc["2026-09", "ucl"] == pytest.approx(centre + 3 * se)
    z = (np.array([20.0, 0.0, 25.0]) - centre) / se
    sigma_z = np.abs(np.diff(z)).mean() / 1.128
    lan = nps_chart(pd.DataFrame(rows), laney="always")
    assert lan.sigma_z == pytest.approx(sigma_z)
    assert lan.table["ucl"].iloc[0] == pytest.approx(centre + 3 * se * sigma_z)
    with pytest.raises(ParameterError):
        nps_chart(pd.DataFrame(rows), baseline=1)
