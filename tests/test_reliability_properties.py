"""Property tests (hypothesis) and cross-checks against independent implementations."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sqc.reliability import alpha, cfa, efa, split_half


def _likert(seed, n, k, missing):
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, 1))
    x = np.clip(np.round(4 + 1.3 * (0.7 * f + 0.7 * rng.standard_normal((n, k)))), 1, 7)
    x[rng.random((n, k)) < missing] = np.nan
    return pd.DataFrame(x, columns=[f"i{j}" for j in range(k)])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(20, 200), k=st.integers(3, 9), shift=st.floats(-5, 5))
def test_alpha_invariant_to_item_shift_and_chunking(seed, n, k, shift):
    df = _likert(seed, n, k, 0.0)
    if (df.std() == 0).any():
        return
    a = alpha(df)
    b = alpha(df + shift, chunk_rows=7)
    assert b.alpha == pytest.approx(a.alpha, abs=1e-9)
    assert b.std_alpha == pytest.approx(a.std_alpha, abs=1e-9)
    np.testing.assert_allclose(b.item_stats["r_drop"], a.item_stats["r_drop"], atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(30, 150), k=st.integers(3, 8))
def test_complete_data_formulas(seed, n, k):
    df = _likert(seed, n, k, 0.0)
    if (df.std() == 0).any():
        return
    r = alpha(df)
    c = df.cov().to_numpy()
    # textbook alpha: k/(k-1) (1 - sum var / var(total))
    assert r.alpha == pytest.approx(k / (k - 1) * (1 - np.trace(c) / df.sum(axis=1).var()), abs=1e-10)
    # r_drop = correlation of the item with the sum of the other items; alpha-if-deleted = alpha of the rest
    for j, col in enumerate(df.columns):
        rest = df.drop(columns=col)
        assert r.item_stats.loc[col, "r_drop"] == pytest.approx(np.corrcoef(df[col], rest.sum(axis=1))[0, 1],
                                                                abs=1e-10)
        if k > 2:
            cr = rest.cov().to_numpy()
            ad = (k - 1) / (k - 2) * (1 - np.trace(cr) / cr.sum())
            assert r.item_stats.loc[col, "alpha_if_deleted"] == pytest.approx(ad, abs=1e-10)
    # Feldt CI contains alpha; listwise == pairwise on complete data
    assert r.ci[0] < r.alpha < r.ci[1]
    assert alpha(df, missing="listwise").alpha == pytest.approx(r.alpha, abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(arrays(np.float64, (40, 4), elements=st.integers(1, 5).map(float)))
def test_split_half_bounds(x):
    df = pd.DataFrame(x, columns=list("abcd"))
    if (df.std() == 0).any():
        return
    s = split_half(df)
    assert s.beta <= s.mean_split + 1e-12 <= s.lambda4 + 2e-12
    assert s.mean_split == pytest.approx(s.alpha, abs=1e-10)  # exhaustive splits: average = standardized alpha


def test_alpha_matches_pingouin_when_installed():
    pg = pytest.importorskip("pingouin")
    df = _likert(3, 500, 8, 0.05)
    a = alpha(df)
    value, ci = pg.cronbach_alpha(data=df, ci=0.95)  # pingouin: pairwise covariance, Feldt CI rounded to 3 dp
    assert a.alpha == pytest.approx(value, abs=1e-10)
    assert a.ci == pytest.approx(tuple(ci), abs=1e-3)


def test_efa_listwise_and_cfa_one_factor_agree_on_loadings():
    df = _likert(11, 800, 6, 0.02)
    e = efa(df, 1, method="ml", missing="listwise")
    c = cfa(df, {"f": list(df.columns)})
    # a one-factor ML EFA of the correlation matrix and the standardized one-factor CFA are the same model
    np.testing.assert_allclose(e.loadings.iloc[:, 0].to_numpy(), c.standardized_loadings["loading"].to_numpy(),
                               atol=1e-5)
    assert e.n == c.n
