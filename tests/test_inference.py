"""Shared inference helpers against R and statsmodels."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqc.errors import ParameterError
from sqc.inference import adjust_pvalues, mean_ci, proportion, wilson_ci

P = [0.01, 0.04, 0.03, 0.005, 0.2, 0.049]


def test_holm_and_bh_match_r_p_adjust():
    # R 4.2: p.adjust(c(.01,.04,.03,.005,.2,.049), "holm") and "BH"
    assert adjust_pvalues(P, "holm") == pytest.approx([0.05, 0.12, 0.12, 0.03, 0.2, 0.12])
    assert adjust_pvalues(P, "bh") == pytest.approx([0.03, 0.0588, 0.0588, 0.03, 0.2, 0.0588])
    assert adjust_pvalues(P, "bonferroni") == pytest.approx([0.06, 0.24, 0.18, 0.03, 1.0, 0.294])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(0, 1), st.just(float("nan"))), min_size=1, max_size=30))
def test_agrees_with_statsmodels(pvals):
    from statsmodels.stats.multitest import multipletests

    p = np.array(pvals)
    ok = ~np.isnan(p)
    for ours, theirs in (("holm", "holm"), ("bh", "fdr_bh"), ("bonferroni", "bonferroni")):
        got = adjust_pvalues(p, ours)
        assert np.isnan(got[~ok]).all()
        if ok.any():
            np.testing.assert_allclose(got[ok], multipletests(p[ok], method=theirs)[1], rtol=1e-12, atol=1e-15)


def test_adjust_rejects_bad_input():
    with pytest.raises(ParameterError, match="unknown"):
        adjust_pvalues(P, "sidak-ish")
    with pytest.raises(ParameterError, match="between 0 and 1"):
        adjust_pvalues([0.5, 1.5])


def test_wilson_matches_methods_golden_value():
    # methods.md §6: Wilson 95% for 160/200 = [0.7391, 0.8495]
    low, high = wilson_ci(160, 200)
    assert (round(low, 4), round(high, 4)) == (0.7391, 0.8495)
    est = proportion(160, 200)
    assert est.value == 0.8 and est.n == 200
    assert np.isnan(wilson_ci(0, 0)[0])


def test_mean_ci_matches_r_t_test():
    # R 4.2.2: t.test(c(3, 5, 4, 6, 7))$conf.int -> 3.036756839 6.963243161
    est = mean_ci([3, 5, 4, 6, 7, np.nan])
    assert (est.value, est.n) == (5.0, 5)
    assert (est.ci_low, est.ci_high) == pytest.approx((3.036756839, 6.963243161), abs=1e-9)
