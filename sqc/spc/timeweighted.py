"""Time-weighted charts: tabular CUSUM (with fast initial response) and EWMA with exact time-varying limits.

Both standardise subgroup means with σ̂ estimated from the baseline subgroups as for X̄–R (mean of Rᵢ/d2(nᵢ));
with one observation per subgroup, σ̂ = MR̄/d2(2) as for an I chart. μ₀ = ``target`` or the size-weighted
baseline mean.

CUSUM (Page 1954; Montgomery 2019 §9.1): zᵢ = (x̄ᵢ − μ₀)/(σ̂/√nᵢ);
C⁺ᵢ = max(0, C⁺ᵢ₋₁ + zᵢ − k), C⁻ᵢ = max(0, C⁻ᵢ₋₁ − zᵢ − k), C⁺₀ = C⁻₀ = ``headstart`` (FIR, Lucas &
Crosier 1982, e.g. h/2). A signal when C > h. The recursion is evaluated without a Python loop by the Lindley
identity Cᵢ = Sᵢ − min(−C₀, min_{j≤i} Sⱼ) with Sᵢ = Σ(zⱼ − k). ``to_frame()`` has ``upper`` = C⁺ and ``lower`` =
−C⁻ (plotted below zero, as qcc does), in σ units of the subgroup mean; ``statistic`` = C⁺ − C⁻ is for display.

EWMA (Roberts 1959; Montgomery §9.2): wᵢ = λx̄ᵢ + (1 − λ)wᵢ₋₁, w₀ = μ₀; Var(wᵢ) = σ̂² Σⱼ λ²(1−λ)^{2(i−j)}/nⱼ,
exact for variable nⱼ (for equal n: σ̂²/n · λ/(2−λ)·(1 − (1−λ)^{2i})); limits μ₀ ± L·√Var(wᵢ). Both recursions
use ``scipy.signal.lfilter``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from ..errors import ParameterError
from .charts import _check_L, subgroup_stats
from .constants import d2 as _d2
from .core import ChartResult, baseline_mask, check_baseline, data_warnings, finish, require_columns
from .rules import RuleSpec, resolve_rules

__all__ = ["cusum", "ewma"]


def _standardised_means(df, value, subgroup, baseline, target, constants):
    warnings: list = []
    if subgroup is None:
        df = df.assign(_row=np.arange(len(df)))
        subgroup = "_row"
    labels, n, mean, rng, _, n_missing = subgroup_stats(df, value, subgroup)
    m = len(labels)
    base = baseline_mask(baseline, m, labels)
    check_baseline(base, None, warnings, value)
    if np.all(n[base] == 1):
        mr = np.abs(np.diff(mean[base]))
        sigma = float(np.mean(mr) / _d2(2, constants))
        method = "MR/d2(2)"
    else:
        ok = base & (n >= 2)
        sigma = float(np.mean(rng[ok] / _d2(n[ok], constants)))
        method = "mean R/d2(n)"
    mu0 = float(np.sum(n[base] * mean[base]) / np.sum(n[base])) if target is None else float(target)
    if sigma == 0:
        raise ParameterError("σ̂ = 0 in the baseline (all values equal): a CUSUM/EWMA cannot be standardised; "
                             "pass a known sigma or a longer baseline")
    warnings += data_warnings(mean[base], value, skew=False)
    return labels, n, mean, base, mu0, sigma, method, n_missing, warnings


def cusum(df: pd.DataFrame, value: str, subgroup: str | None = None, *, k: float = 0.5, h: float = 5.0,
          headstart: float = 0.0, baseline=None, target: float | None = None, sigma: float | None = None,
          constants: str = "exact") -> ChartResult:
    """Tabular (two-sided) CUSUM of subgroup means, in σ units.

    Parameters
    ----------
    df, value, subgroup : data; ``subgroup=None`` treats each row as a subgroup of one.
    k : float
        Reference value (allowance) in σ units, usually half the shift to detect (0.5 for a 1σ shift).
    h : float
        Decision interval in σ units (4 or 5 usual; h = 5, k = 0.5 gives ARL₀ ≈ 465).
    headstart : float
        Fast initial response C₀ (0 ≤ headstart < h; h/2 is usual).
    baseline : count, slice, mask or None (σ̂ and μ₀ from these subgroups).
    target : float, optional
        μ₀ (default: baseline mean). ``sigma``: a known σ of individual observations.

    Returns
    -------
    ChartResult; ``to_frame()`` has ``upper`` and ``lower``; signals ``cusum_upper``/``cusum_lower``.
    """
    for name, v in (("k", k), ("h", h), ("headstart", headstart)):
        if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
            raise ParameterError(f"{name} must be a number ≥ 0, got {v!r}")
    if h <= 0 or headstart >= h:
        raise ParameterError(f"need h > 0 and 0 ≤ headstart < h (got h={h}, headstart={headstart})")
    require_columns(df, value, subgroup)
    labels, n, mean, base, mu0, sig, method, n_missing, warnings = _standardised_means(
        df, value, subgroup, baseline, target, constants)
    if sigma is not None:
        sig, method = float(sigma), "known"
    z = (mean - mu0) / (sig / np.sqrt(n))
    s_up = np.cumsum(z - k)
    s_lo = np.cumsum(-z - k)
    upper = s_up - np.minimum(-headstart, np.minimum.accumulate(s_up))
    lower = s_lo - np.minimum(-headstart, np.minimum.accumulate(s_lo))
    m = len(labels)
    phase = np.where(base, "I", "II") if baseline is not None else np.full(m, "I", dtype=object)
    params = {"stages": {"1": {"mu0": mu0, "sigma": sig, "sigma_method": method}}, "k": k, "h": h,
              "headstart": headstart}
    res = finish("cusum", upper - lower, np.zeros(1), np.full(1, -h), np.full(1, h), np.full(1, np.nan), labels,
                 n, phase, None, [], params=params, warnings=warnings,
                 exclusions=[(f"missing values in {value}", n_missing)], extra={"upper": upper, "lower": 0.0 - lower + 0.0},
                 title=f"CUSUM of {value}")
    spec_u, spec_l = RuleSpec("cusum_upper", "cusum", 1), RuleSpec("cusum_lower", "cusum", 1)
    res.flags = {"cusum_upper": upper > h, "cusum_lower": lower > h}
    res.specs = [spec_u, spec_l]
    # the displayed statistic's side must match the CUSUM that fired
    res.statistic = np.where(res.flags["cusum_lower"] & ~res.flags["cusum_upper"], -lower, upper)
    return res


def ewma(df: pd.DataFrame, value: str, subgroup: str | None = None, *, lam: float = 0.2, L: float = 3.0,
         baseline=None, target: float | None = None, sigma: float | None = None, rules="limits",
         constants: str = "exact") -> ChartResult:
    """EWMA chart of subgroup means with exact time-varying limits (variable n handled exactly).

    Parameters
    ----------
    lam : float
        Smoothing weight λ in (0, 1] (λ = 1 is a Shewhart X̄ chart).
    L : float
        Limit width (L = 3 with λ = 0.2; 2.86 gives ARL₀ ≈ 500 for λ = 0.1).
    Other parameters as :func:`cusum`. ``statistic`` is the smoothed value.
    """
    if not (isinstance(lam, (int, float)) and 0 < lam <= 1):
        raise ParameterError(f"lam must be in (0, 1], got {lam!r}")
    L = _check_L(L)
    specs = resolve_rules(rules)
    require_columns(df, value, subgroup)
    labels, n, mean, base, mu0, sig, method, n_missing, warnings = _standardised_means(
        df, value, subgroup, baseline, target, constants)
    if sigma is not None:
        sig, method = float(sigma), "known"
    w, _ = lfilter([lam], [1.0, -(1.0 - lam)], mean, zi=[(1.0 - lam) * mu0])
    v = lfilter([lam ** 2], [1.0, -(1.0 - lam) ** 2], 1.0 / n)  # Σ λ²(1−λ)^{2(i−j)}/n_j
    se = sig * np.sqrt(v)
    m = len(labels)
    phase = np.where(base, "I", "II") if baseline is not None else np.full(m, "I", dtype=object)
    params = {"stages": {"1": {"mu0": mu0, "sigma": sig, "sigma_method": method}}, "lam": lam, "L": L}
    return finish("ewma", w, np.full(1, mu0), mu0 - L * se, mu0 + L * se, se, labels, n, phase, None, specs,
                  params=params, warnings=warnings, exclusions=[(f"missing values in {value}", n_missing)],
                  extra={"subgroup_mean": mean}, title=f"EWMA of {value}")
