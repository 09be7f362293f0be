"""Property tests (hypothesis) for the servqual building blocks: each fast path equals a slow, obvious
reference computed independently here."""
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sqc.servqual import Instrument, difference_score_reliability, hodges_lehmann, score
from sqc.servqual.paired import signed_rank_p
from sqc.servqual.scoring import _alpha_from_cov, _cov_complete, _item_total_from_cov

likert_gaps = st.lists(st.integers(-6, 6), min_size=2, max_size=80).map(lambda v: np.array(v, float))


@settings(max_examples=60, deadline=None)
@given(likert_gaps)
def test_hodges_lehmann_is_the_walsh_median(x):
    i, j = np.triu_indices(x.size)
    walsh = (x[i] + x[j]) / 2
    est, lo, hi = hodges_lehmann(x)
    assert est == np.median(walsh)
    assert lo <= est <= hi


@settings(max_examples=25, deadline=None)
@given(st.integers(5001, 9000), st.integers(0, 10_000))
def test_signed_rank_fast_path_equals_scipy(n, seed):
    x = np.random.default_rng(seed).integers(-3, 4, n).astype(float)
    ref = stats.wilcoxon(x, zero_method="pratt", method="approx").pvalue
    assert np.isclose(signed_rank_p(x), ref, rtol=1e-10, atol=1e-300)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 60), st.integers(2, 6), st.integers(0, 10_000))
def test_covariance_alpha_and_item_total_match_direct_formulas(n, k, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 8, (n, k)).astype(float)
    x[rng.random((n, k)) < 0.1] = np.nan
    c, m = _cov_complete(x)
    xc = x[~np.isnan(x).any(axis=1)]
    assert m == xc.shape[0]
    if m >= 2:
        assert np.allclose(c, np.cov(xc, rowvar=False), equal_nan=True)
        tot = xc.sum(axis=1).var(ddof=1)
        if tot > 0:
            alpha = k / (k - 1) * (1 - xc.var(axis=0, ddof=1).sum() / tot)
            assert np.isclose(_alpha_from_cov(c), alpha)
        r = _item_total_from_cov(c)
        for i in range(k):
            rest = xc.sum(axis=1) - xc[:, i]
            if xc[:, i].std() > 0 and rest.std() > 0:
                assert np.isclose(r[i], np.corrcoef(xc[:, i], rest)[0, 1])


@settings(max_examples=50, deadline=None)
@given(st.floats(0.2, 3), st.floats(0.2, 3), st.floats(0.3, 0.99), st.floats(0.3, 0.99), st.floats(-0.9, 0.9))
def test_rho_dd_equal_variance_reduction(sp, se, rp, re, r):
    # with equal variances ρ_DD = ((ρ_PP + ρ_EE)/2 − ρ_PE)/(1 − ρ_PE)   (methods.md §1.10)
    assert np.isclose(difference_score_reliability(sp, sp, rp, re, r), ((rp + re) / 2 - r) / (1 - r))
    assert difference_score_reliability(sp, se, rp, re, r) <= 1 + 1e-12


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(10, 60))
def test_gap_equals_p_minus_e_means_and_reverse_keying_is_an_involution(seed, n):
    rng = np.random.default_rng(seed)
    inst = Instrument.from_frame(pd.DataFrame({"item": [1, 2, 3], "dimension": ["a", "a", "b"],
                                               "reverse_keyed": [False, True, False], "scale_min": 1,
                                               "scale_max": 5, "text_en": "", "text_zh": ""}))
    df = pd.DataFrame(rng.integers(1, 6, (n, 6)), columns=["E1", "E2", "E3", "P1", "P2", "P3"]).astype(float)
    res = score(df, inst, structure=False, tests=("t",))
    it = res.item_gaps
    assert np.allclose(it["mean"], it["P_mean"] - it["E_mean"])
    # item 2 is recoded 6 − x in both E and P, so its gap flips sign relative to the raw answers
    assert np.isclose(it.loc[2, "mean"], -(df["P2"] - df["E2"]).mean())
    # reverse-keying the raw data ourselves and declaring nothing reversed gives the same result
    flipped = df.copy()
    flipped[["E2", "P2"]] = 6 - flipped[["E2", "P2"]]
    plain = inst.with_reverse_keyed([])
    assert np.allclose(score(flipped, plain, structure=False, tests=("t",)).item_gaps["mean"], it["mean"])
