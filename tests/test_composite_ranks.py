"""Rank intervals of the composite score (sqc.scorecard.composite_scores): parametric draws from each branch's
composite and its standard error. Reference values are analytic: with two branches whose composites differ by
d and have the same standard error s, the lower one outranks the higher one with probability Φ(−d / (s√2))."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sqc.errors import ParameterError
from sqc.scorecard import composite_scores

Z = stats.norm.ppf(0.975)
TARGETS = pd.DataFrame({"kpi": ["service_level"], "target": [0.8], "direction": ["higher_is_better"]})
W = {"service_level": 1.0}


def _branches(composites, se, period="2026-10"):
    """One service-level row per branch whose composite (100 · value / 0.8) and SE are as given."""
    rows = []
    for i, (c, s) in enumerate(zip(composites, np.broadcast_to(se, len(composites)))):
        v, half = c / 100 * 0.8, Z * s / 100 * 0.8
        rows.append({"branch": f"B{i + 1:02d}", "period": period, "kpi": "service_level", "value": v,
                     "ci_low": v - half, "ci_high": v + half})
    return pd.DataFrame(rows)


def test_the_standard_error_is_recovered():
    out = composite_scores(_branches([90.0], 1.0), TARGETS, weights=W)
    assert out["ci_high"].iloc[0] - out["ci_low"].iloc[0] == pytest.approx(2 * Z * 1.0)


def test_well_separated_branches_have_exact_ranks():
    # d = 4, s = 1: P(swap) = Φ(−4/√2) = 0.0023 < 0.025, so each rank interval is the rank itself
    assert stats.norm.cdf(-4 / np.sqrt(2)) < 0.025
    out = composite_scores(_branches([90.0, 86.0, 82.0, 78.0], 1.0), TARGETS, weights=W)
    assert list(out["rank"]) == [1, 2, 3, 4]
    assert list(out["rank_low"]) == [1, 2, 3, 4] and list(out["rank_high"]) == [1, 2, 3, 4]


def test_close_pairs_swap():
    # d = 2, s = 1: P(swap) = Φ(−2/√2) = 0.079 > 0.025, so both rank intervals are 1–2
    assert stats.norm.cdf(-2 / np.sqrt(2)) > 0.025
    out = composite_scores(_branches([90.0, 88.0], 1.0), TARGETS, weights=W)
    assert list(out["rank_low"]) == [1, 1] and list(out["rank_high"]) == [2, 2]


def test_heavily_overlapping_intervals_give_wide_rank_intervals():
    # twelve branches 0.2 points apart with SE 3: every rank is nearly uniform over 1–12
    out = composite_scores(_branches(list(np.arange(12) * -0.2 + 95), 3.0), TARGETS, weights=W)
    assert list(out["rank"]) == list(range(1, 13))
    assert (out["rank_low"] <= 2).all() and (out["rank_high"] >= 11).all()
    assert ((out["rank_low"] <= out["rank"]) & (out["rank"] <= out["rank_high"])).all()


def test_reproducible_with_the_seed_and_network_not_ranked():
    k = pd.concat([_branches([90.0, 89.0, 88.0], 1.0),
                   _branches([89.0], 0.5).assign(branch="ALL")], ignore_index=True)
    a = composite_scores(k, TARGETS, weights=W)
    b = composite_scores(k, TARGETS, weights=W)
    pd.testing.assert_frame_equal(a, b)
    net = a.loc[a["branch"] == "ALL"].iloc[0]
    assert pd.isna(net["rank"]) and pd.isna(net["rank_low"]) and pd.isna(net["rank_high"])
    assert a.attrs["rank_draws"] == {"n_draws": 2000, "seed": 20261201}
    with pytest.raises(ParameterError, match="n_draws"):
        composite_scores(k, TARGETS, weights=W, n_draws=10)


def test_ranks_are_per_period():
    k = pd.concat([_branches([90.0, 80.0], 0.5, "2026-09"), _branches([80.0, 90.0], 0.5, "2026-10")])
    out = composite_scores(k, TARGETS, weights=W).set_index(["period", "branch"])
    assert out.loc[("2026-09", "B01"), "rank_high"] == 1 and out.loc[("2026-10", "B01"), "rank_low"] == 2
