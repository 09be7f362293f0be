"""Shared inference helpers (Methods §0.3): one place for the interval and multiplicity conventions.

Every module that reports a mean, a proportion or a family of p-values uses these functions, so the
conventions (t-intervals, Wilson intervals, Holm within a declared family, BCa bootstrap with a fixed seed)
are the same everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ParameterError

DEFAULT_CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 5000
BOOTSTRAP_SEED = 20261122


def _check_confidence(confidence: float) -> float:
    if not (0.0 < float(confidence) < 1.0):
        raise ParameterError(f"confidence must be strictly between 0 and 1, got {confidence!r}; use e.g. 0.95")
    return float(confidence)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its n and confidence interval (what every number shown to a manager carries)."""

    value: float
    ci_low: float
    ci_high: float
    n: int
    method: str

    def as_dict(self) -> dict:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high, "n": self.n,
                "method": self.method}


def wilson_ci(successes, n, confidence: float = DEFAULT_CONFIDENCE):
    """Wilson score interval for a binomial proportion (Wilson 1927; Brown, Cai & DasGupta 2001).

    Vectorised over array-like ``successes`` and ``n``; wraps ``statsmodels.stats.proportion.proportion_confint``.
    Returns ``(low, high)`` as floats or arrays. ``n == 0`` gives NaN bounds (callers report "insufficient data").
    """
    from statsmodels.stats.proportion import proportion_confint

    confidence = _check_confidence(confidence)
    successes = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(successes < 0) or np.any(successes > n):
        raise ParameterError("successes must lie between 0 and n for a Wilson interval")
    with np.errstate(invalid="ignore", divide="ignore"):
        safe_n = np.where(n > 0, n, 1.0)
        low, high = proportion_confint(successes, safe_n, alpha=1 - confidence, method="wilson")
    low = np.where(n > 0, low, np.nan)
    high = np.where(n > 0, high, np.nan)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def proportion(successes: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
    """A proportion with its Wilson interval as an :class:`Estimate`."""
    low, high = wilson_ci(successes, n, confidence)
    value = successes / n if n > 0 else float("nan")
    return Estimate(float(value), low, high, int(n), "Wilson score")


def mean_ci(values, confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
    """Mean with a Student-t interval; NaNs are excluded and the n used is reported."""
    from scipy import stats

    confidence = _check_confidence(confidence)
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, "t")
    m = float(x.mean())
    if n < 2:
        return Estimate(m, float("nan"), float("nan"), n, "t")
    se = x.std(ddof=1) / np.sqrt(n)
    q = stats.t.ppf(0.5 + confidence / 2, n - 1)
    return Estimate(m, m - q * se, m + q * se, n, "t")


def adjust_pvalues(pvalues, method: str = "holm"):
    """Multiplicity adjustment within one declared family: ``"holm"`` (default; Holm 1979), ``"bh"``
    (Benjamini–Hochberg 1995), ``"bonferroni"`` or ``"none"``. NaN p-values stay NaN and do not count towards the
    family size.

    Same results as R's ``p.adjust`` and ``statsmodels.stats.multitest.multipletests`` (tested against both);
    written in numpy because ``multipletests`` runs ``gc.collect()`` on every call, which dominated SERVQUAL
    scoring time on large surveys.

    Holm: p_(i) adjusted = max_{j ≤ i} min(1, (m − j + 1) · p_(j)) over the ascending order.
    BH:   p_(i) adjusted = min_{j ≥ i} min(1, m / j · p_(j)).
    """
    methods = ("holm", "bh", "fdr_bh", "bonferroni", "none")
    if method not in methods:
        raise ParameterError(f"unknown p-value adjustment {method!r}; use one of {sorted(methods)}")
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    vals = p[ok]
    if vals.size == 0 or method == "none":
        out[ok] = vals
        return out
    if np.any((vals < 0) | (vals > 1)):
        raise ParameterError("p-values must lie between 0 and 1")
    m = vals.size
    order = np.argsort(vals, kind="mergesort")
    ranked = vals[order]
    if method == "bonferroni":
        adj = np.minimum(1.0, m * ranked)
    elif method == "holm":
        adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * ranked))
    else:  # Benjamini–Hochberg
        adj = np.minimum(1.0, np.minimum.accumulate((m / np.arange(1, m + 1) * ranked)[::-1])[::-1])
    result = np.empty(m)
    result[order] = adj
    out[ok] = result
    return out


def bootstrap_ci(data, statistic, confidence: float = DEFAULT_CONFIDENCE, *, n_resamples: int = BOOTSTRAP_RESAMPLES,
                 method: str = "BCa", seed: int = BOOTSTRAP_SEED, paired: bool = False):
    """BCa (default) bootstrap interval via ``scipy.stats.bootstrap`` with a fixed seed for reproducibility.

    ``data`` is a sequence of samples as scipy expects (e.g. ``(x,)``); returns ``(low, high)``.
    """
    from scipy import stats

    confidence = _check_confidence(confidence)
    res = stats.bootstrap(data, statistic, confidence_level=confidence, n_resamples=n_resamples, method=method,
                          random_state=np.random.default_rng(seed), paired=paired, vectorized=False)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)
