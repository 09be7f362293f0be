"""Hotelling T² chart for subgrouped or individual multivariate data (Phase I and Phase II limits).

Subgroups of equal size n (m baseline subgroups, p variables; Montgomery 2019 §11.3):
  T²ᵢ = n (x̄ᵢ − x̿)ᵀ S̄⁻¹ (x̄ᵢ − x̿), S̄ = mean of the baseline subgroup covariance matrices;
  Phase I UCL  = p(m−1)(n−1)/(mn − m − p + 1) · F_{1−α}(p, mn − m − p + 1);
  Phase II UCL = p(m+1)(n−1)/(mn − m − p + 1) · F_{1−α}(p, mn − m − p + 1).
Individuals (n = 1; Tracy, Young & Mason 1992):
  T²ᵢ = (xᵢ − x̄)ᵀ S⁻¹ (xᵢ − x̄) with the baseline mean and covariance;
  Phase I UCL  = (m−1)²/m · Beta_{1−α}(p/2, (m−p−1)/2);
  Phase II UCL = p(m+1)(m−1)/(m² − mp) · F_{1−α}(p, m − p).
LCL = 0. Baseline points get the Phase I limit, the others the Phase II limit. α = 0.0027 matches 3σ charts.
The centre line drawn is the median of the Phase I reference distribution.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, InsufficientDataError, ParameterError
from .core import ChartResult, baseline_mask, finish, numeric_column, require_columns
from .rules import resolve_rules

__all__ = ["hotelling_t2"]


def hotelling_t2(df: pd.DataFrame, columns, subgroup: str | None = None, *, baseline=None, alpha: float = 0.0027,
                 rules="limits") -> ChartResult:
    """Hotelling T² chart of ``columns`` (≥ 2 numeric columns), per subgroup or per row.

    Returns a ChartResult (statistic = T²; ``params`` holds the mean vector, covariance and limits).
    Rows with a missing value in any column are dropped and counted.
    """
    if not (0 < alpha < 0.5):
        raise ParameterError(f"alpha must be in (0, 0.5), got {alpha!r}")
    columns = list(columns)
    if len(columns) < 2:
        raise ParameterError("Hotelling T² needs at least 2 variables; use imr/xbar charts for one")
    require_columns(df, *columns, subgroup)
    X = np.column_stack([numeric_column(df, c) for c in columns])
    ok = ~np.isnan(X).any(axis=1)
    n_missing = int((~ok).sum())
    X = X[ok]
    p = X.shape[1]
    specs = resolve_rules(rules)
    if subgroup is None:
        m_all = X.shape[0]
        labels = pd.Index(df.index[ok])
        base = baseline_mask(baseline, m_all, labels)
        m = int(base.sum())
        if m <= p + 1:
            raise InsufficientDataError(f"the baseline has {m} rows; Hotelling T² for individuals needs more than "
                                        f"p + 1 = {p + 1}", value=m)
        mu = X[base].mean(axis=0)
        S = np.cov(X[base], rowvar=False)
        _check_cov(S, columns)
        D = X - mu
        t2 = np.einsum("ij,jk,ik->i", D, np.linalg.inv(S), D)
        ucl1 = (m - 1) ** 2 / m * stats.beta.ppf(1 - alpha, p / 2, (m - p - 1) / 2)
        ucl2 = p * (m + 1) * (m - 1) / (m * m - m * p) * stats.f.ppf(1 - alpha, p, m - p)
        med = (m - 1) ** 2 / m * stats.beta.median(p / 2, (m - p - 1) / 2)
        sizes = np.ones(m_all)
        n = 1
    else:
        key = df.loc[ok, subgroup]
        codes, uniq = pd.factorize(key, sort=True)
        sizes = np.bincount(codes).astype(float)
        if np.unique(sizes).size != 1:
            raise DataError("Hotelling T² with subgroups needs equal subgroup sizes", column=subgroup,
                            expected="the same number of rows per subgroup")
        n = int(sizes[0])
        if n < 2:
            raise DataError("subgroups of size 1: omit subgroup= for individual observations", column=subgroup)
        m_all = len(uniq)
        labels = pd.Index(uniq)
        base = baseline_mask(baseline, m_all, labels)
        m = int(base.sum())
        if m < 2:
            raise InsufficientDataError("a baseline needs at least 2 subgroups", value=m)
        means = np.column_stack([np.bincount(codes, weights=X[:, j]) / n for j in range(p)])
        covs = np.zeros((p, p))
        for g in np.flatnonzero(base):
            covs += np.cov(X[codes == g], rowvar=False)
        S = covs / m
        _check_cov(S, columns)
        mu = means[base].mean(axis=0)
        D = means - mu
        t2 = n * np.einsum("ij,jk,ik->i", D, np.linalg.inv(S), D)
        dfd = m * n - m - p + 1
        if dfd <= 0:
            raise InsufficientDataError("too few baseline subgroups for the number of variables", value=m)
        ucl1 = p * (m - 1) * (n - 1) / dfd * stats.f.ppf(1 - alpha, p, dfd)
        ucl2 = p * (m + 1) * (n - 1) / dfd * stats.f.ppf(1 - alpha, p, dfd)
        med = p * (m - 1) * (n - 1) / dfd * stats.f.median(p, dfd)
    ucl = np.where(base, ucl1, ucl2)
    phase = np.where(base, "I", "II") if baseline is not None else np.full(m_all, "I", dtype=object)
    params = {"stages": {"1": {"ucl_phase1": float(ucl1), "ucl_phase2": float(ucl2), "baseline": m,
                               "subgroup_size": n}}, "mean": dict(zip(columns, mu.tolist())),
              "covariance": pd.DataFrame(S, index=columns, columns=columns), "alpha": alpha, "p": p}
    return finish("t2", t2, np.full(1, med), np.zeros(1), ucl, np.full(1, np.nan), labels, sizes, phase, None,
                  specs, params=params, warnings=[], exclusions=[("rows with a missing value", n_missing)],
                  title="Hotelling T²")


def _check_cov(S, columns):
    if not np.all(np.isfinite(S)) or np.linalg.matrix_rank(S) < S.shape[0]:
        raise DataError("the baseline covariance matrix is singular (a constant or perfectly collinear variable)",
                        column=",".join(columns), expected="variables with variation that are not collinear")
