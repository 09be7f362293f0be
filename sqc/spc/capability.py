"""Process capability (with confidence intervals, one-sided specs, ppm, normality check) and Pareto tables.

Capability indices (Montgomery 2019 §8.3; Kotz & Johnson 1993)
----------------------------------------------------------------
σ_w (within) = R̄/d2 over subgroups (or the chosen estimator), MR̄/d2(2) for individual values; σ_o (overall) =
sample SD. μ̂ = grand mean; T = target (default the mid-specification when both limits are given).

    Cp  = (USL − LSL)/(6σ_w)      Cpu = (USL − μ̂)/(3σ_w)     Cpl = (μ̂ − LSL)/(3σ_w)     Cpk = min(Cpu, Cpl)
    Cpm = Cp/√(1 + ((μ̂ − T)/σ_w)²)                           (Chan, Cheng & Spiring 1988; qcc)
    Pp  = (USL − LSL)/(6σ_o)      Ppk = min(Ppu, Ppl) with σ_o

With one specification only, Cp/Pp/Cpm are NaN and Cpk = Cpu (or Cpl).

Confidence intervals (n = number of individual observations; documented conventions)
-------------------------------------------------------------------------------------
* Cp, Pp: χ² interval Cp·√(χ²_{α/2, n−1}/(n−1)) .. Cp·√(χ²_{1−α/2, n−1}/(n−1)) (qcc; Montgomery eq. 8.19).
* Cpk, Ppk, Cpu, Cpl: Bissell (1990) normal approximation Ĉ·(1 ± z·√(1/(9nĈ²) + 1/(2(n−1)))).
  ``ci="two_sided"`` (default) uses z = z_{1−α/2} for all of them. ``ci="qcc"`` reproduces R qcc's
  ``process.capability`` exactly, which uses z_{1−α/2} for Cpk but z_{1−α} (qnorm(confidence.level)) for Cpl and
  Cpu.
* Cpm: χ² interval with ν = n(1 + ξ²)/(1 + 2ξ²), ξ = (μ̂ − T)/σ_w (Boyles 1991; qcc).

Expected fraction out of spec uses the normal model with σ_w ("expected_within") and σ_o
("expected_overall"); observed fraction counts the data. Both in ppm.

Normality: Shapiro–Wilk for n ≤ 5000, D'Agostino–Pearson above. When p < 0.05 a warning (W-SPC-10) is
returned and the percentile (ISO 22514-2 / Clements 1989) indices are reported in ``.nonnormal``:
Cp* = (USL − LSL)/(P99.865 − P0.135); Cpk* = min((USL − M)/(P99.865 − M), (M − LSL)/(M − P0.135)), M = median.

Pareto (Methods §5.3)
------------------------
Categories sorted by count, descending; ties are ordered by category name (ascending) so the order is
reproducible; a category named "other"/"Other"/"其他" is placed last whatever its count (it is a catch-all,
never a "vital few" cause). ``vital_few`` marks the smallest leading set whose cumulative share reaches
``threshold`` (default 80 %).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..diagnostics import QualityWarning
from ..errors import DataError, InsufficientDataError, ParameterError
from ..inference import _check_confidence
from .constants import d2 as _d2
from .core import numeric_column, require_columns
from ..results import ResultData, ResultFrame

__all__ = ["capability", "CapabilityResult", "pareto", "sigma_level"]

INDEX_ROWS = ["Cp", "Cpl", "Cpu", "Cpk", "Cpm", "Pp", "Ppk"]


@dataclass
class CapabilityResult(ResultData):
    """Capability analysis. ``table``: indices with CIs; ``fractions``: out-of-spec shares and ppm;
    ``normality``: test name, statistic, p-value; ``nonnormal``: percentile indices."""

    _chart = "sqc.plotting.spc:capability_spec"

    table: pd.DataFrame
    fractions: pd.DataFrame
    n: int
    mean: float
    sigma_within: float
    sigma_overall: float
    lsl: float | None
    usl: float | None
    target: float | None
    normality: dict
    nonnormal: pd.DataFrame
    confidence: float
    ci: str
    values: np.ndarray | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _summary_lines(self, lang: str = "en") -> list[str]:
        lines = [f"Capability: n = {self.n}, mean = {self.mean:.6g}, σ within = {self.sigma_within:.6g}, "
                 f"σ overall = {self.sigma_overall:.6g}, LSL = {self.lsl}, USL = {self.usl}, target = {self.target}",
                 f"{self.confidence:.0%} CIs ({self.ci} convention)",
                 self.table.to_string(float_format=lambda v: f"{v:.4f}"),
                 self.fractions.to_string(float_format=lambda v: f"{v:.6g}"),
                 f"normality: {self.normality['test']} p = {self.normality['p_value']:.4g}"]
        return lines


def _bissell(value, n, z):
    with np.errstate(invalid="ignore", divide="ignore"):
        half = z * np.sqrt(1.0 / (9.0 * n * value ** 2) + 1.0 / (2.0 * (n - 1)))
    return value * (1 - half), value * (1 + half)


def _chi2_ci(value, df, alpha):
    return (value * np.sqrt(stats.chi2.ppf(alpha / 2, df) / df),
            value * np.sqrt(stats.chi2.ppf(1 - alpha / 2, df) / df))


def capability(df: pd.DataFrame, value: str, subgroup: str | None = None, *, lsl: float | None = None,
               usl: float | None = None, target: float | None = None, sigma=None, confidence: float = 0.95,
               ci: str = "two_sided", constants: str = "exact") -> CapabilityResult:
    """Process capability indices with confidence intervals.

    Parameters
    ----------
    df : DataFrame
    value : str
        Measurement column.
    subgroup : str, optional
        Subgroup column: σ_w = mean(Rᵢ/d2(nᵢ)) (qcc's X̄ default). Without subgroups σ_w = MR̄/d2(2) in row order.
    lsl, usl : float, optional
        Specification limits; at least one. One-sided specs give only the matching one-sided indices.
    target : float, optional
        Target for Cpm (default: mid-specification; NaN Cpm with a one-sided spec and no target).
    sigma : float, optional
        A known within-subgroup σ.
    confidence : float
    ci : {"two_sided", "qcc"}
        CI convention (see module docstring).
    constants : {"exact", "tabled"}

    Returns
    -------
    CapabilityResult whose ``.table`` is indexed by Cp, Cpl, Cpu, Cpk, Cpm, Pp, Ppk with columns value,
    ci_low, ci_high.

    Examples
    --------
    >>> cap = capability(calls, "handle_s", lsl=None, usl=600)     # doctest: +SKIP
    >>> cap.table.loc["Cpk"]                                       # doctest: +SKIP
    """
    from .charts import subgroup_stats

    confidence = _check_confidence(confidence)
    if ci not in ("two_sided", "qcc"):
        raise ParameterError(f"ci must be 'two_sided' or 'qcc', got {ci!r}")
    if lsl is None and usl is None:
        raise ParameterError("give at least one specification limit (lsl= and/or usl=)")
    if lsl is not None and usl is not None and not lsl < usl:
        raise ParameterError(f"lsl ({lsl}) must be below usl ({usl})")
    require_columns(df, value, subgroup)
    x_all = numeric_column(df, value)
    keep = ~np.isnan(x_all)
    x = x_all[keep]
    n = x.size
    if n < 2:
        raise InsufficientDataError("capability needs at least 2 observations", column=value, value=n)
    warnings: list = []
    if n_missing := int((~keep).sum()):
        warnings.append(QualityWarning("W-SPC-07", "info", f"{n_missing} missing value(s) dropped",
                                       {"missing": n_missing}, value, f"剔除缺失值{n_missing}个"))
    mu = float(np.mean(x))
    s_o = float(np.std(x, ddof=1))
    if sigma is not None:
        if not (isinstance(sigma, (int, float)) and sigma > 0):
            raise ParameterError(f"sigma must be a positive number, got {sigma!r}")
        s_w = float(sigma)
    elif subgroup is not None:
        _, nn, _, rng, _, _ = subgroup_stats(df.loc[keep], value, subgroup)
        if np.any(nn < 2):
            raise DataError("subgroups of size 1 cannot estimate within-subgroup σ by ranges", column=subgroup,
                            expected="subgroups of size ≥ 2, or no subgroup column (moving ranges)")
        s_w = float(np.mean(rng / _d2(nn, constants)))
    else:
        s_w = float(np.mean(np.abs(np.diff(x))) / _d2(2, constants))
    if s_w == 0 or s_o == 0:
        raise DataError("all values are equal (σ = 0): capability indices are undefined", column=value,
                        value=mu, expected="data with some variation")
    if target is None and lsl is not None and usl is not None:
        target = (lsl + usl) / 2.0
    alpha = 1 - confidence
    z2 = stats.norm.ppf(1 - alpha / 2)
    z1 = stats.norm.ppf(confidence) if ci == "qcc" else z2
    nan = float("nan")
    two = lsl is not None and usl is not None
    cp = (usl - lsl) / (6 * s_w) if two else nan
    cpu = (usl - mu) / (3 * s_w) if usl is not None else nan
    cpl = (mu - lsl) / (3 * s_w) if lsl is not None else nan
    cpk = float(np.nanmin([cpu, cpl]))
    pp = (usl - lsl) / (6 * s_o) if two else nan
    ppu = (usl - mu) / (3 * s_o) if usl is not None else nan
    ppl = (mu - lsl) / (3 * s_o) if lsl is not None else nan
    ppk = float(np.nanmin([ppu, ppl]))
    if two and target is not None:
        xi = (mu - target) / s_w
        cpm = cp / np.sqrt(1 + xi ** 2)
        nu = n * (1 + xi ** 2) / (1 + 2 * xi ** 2)
        cpm_ci = _chi2_ci(cpm, nu, alpha)
    else:
        cpm, cpm_ci = nan, (nan, nan)
    rows = {
        "Cp": (cp, *_chi2_ci(cp, n - 1, alpha)),
        "Cpl": (cpl, *_bissell(cpl, n, z1)),
        "Cpu": (cpu, *_bissell(cpu, n, z1)),
        "Cpk": (cpk, *_bissell(cpk, n, z2)),
        "Cpm": (cpm, *cpm_ci),
        "Pp": (pp, *_chi2_ci(pp, n - 1, alpha)),
        "Ppk": (ppk, *_bissell(ppk, n, z2)),
    }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["value", "ci_low", "ci_high"]).loc[INDEX_ROWS]
    table["n"] = n
    # fractions out of spec
    fr = {}
    for name, lim, below in (("below_lsl", lsl, True), ("above_usl", usl, False)):
        if lim is None:
            fr[name] = (nan, nan, nan)
            continue
        obs = float(np.mean(x < lim)) if below else float(np.mean(x > lim))
        ew = stats.norm.cdf((lim - mu) / s_w) if below else stats.norm.sf((lim - mu) / s_w)
        eo = stats.norm.cdf((lim - mu) / s_o) if below else stats.norm.sf((lim - mu) / s_o)
        fr[name] = (obs, float(ew), float(eo))
    fractions = pd.DataFrame.from_dict(fr, orient="index", columns=["observed", "expected_within",
                                                                   "expected_overall"])
    fractions.loc["total"] = fractions.sum(skipna=True)
    for c in list(fractions.columns):
        fractions[c + "_ppm"] = fractions[c] * 1e6
    # normality
    if n <= 5000 and n >= 3:
        stat, p = stats.shapiro(x)
        test = "Shapiro-Wilk"
    elif n > 5000:
        stat, p = stats.normaltest(x)
        test = "D'Agostino-Pearson"
    else:
        stat, p, test = nan, nan, "none (n < 3)"
    normality = {"test": test, "statistic": float(stat), "p_value": float(p)}
    q_lo, med, q_hi = np.quantile(x, [0.00135, 0.5, 0.99865])
    nonnormal = pd.DataFrame({"value": {
        "Cp_percentile": (usl - lsl) / (q_hi - q_lo) if two else nan,
        "Cpu_percentile": (usl - med) / (q_hi - med) if usl is not None else nan,
        "Cpl_percentile": (med - lsl) / (med - q_lo) if lsl is not None else nan}})
    nonnormal.loc["Cpk_percentile"] = np.nanmin(nonnormal["value"].iloc[1:].to_numpy())
    if np.isfinite(p) and p < 0.05:
        warnings.append(QualityWarning(
            "W-SPC-10", "warning",
            f"the data are not normal ({test} p = {p:.3g}): normal-theory indices and ppm are unreliable; see the "
            f"percentile indices (.nonnormal) or transform the data",
            {"test": test, "p_value": float(p), "n": n}, value,
            f"数据不服从正态分布（{test} p = {p:.3g}）：基于正态的能力指数和ppm不可靠，请参考分位数法指数或变换数据"))
    if n < 30:
        warnings.append(QualityWarning("W-SPC-04", "warning", f"only {n} observations: capability CIs are wide",
                                       {"n": n}, value, f"仅{n}个观测值：能力指数置信区间很宽"))
    return CapabilityResult(table, fractions, n, mu, s_w, s_o, lsl, usl, target, normality, nonnormal, confidence,
                            ci, warnings=warnings, values=x)


def sigma_level(defects: float, opportunities: float, *, shift: float = 1.5) -> dict:
    """DPMO and sigma level for service defect counts: DPMO = 10⁶·defects/opportunities;
    sigma level = Φ⁻¹(1 − DPMO/10⁶) + ``shift`` (the conventional 1.5σ long-term shift; pass 0 for none)."""
    if opportunities <= 0:
        raise ParameterError("opportunities must be > 0")
    if defects < 0 or defects > opportunities:
        raise ParameterError("defects must lie between 0 and the number of opportunities")
    dpmo = 1e6 * defects / opportunities
    level = float(stats.norm.isf(defects / opportunities) + shift) if defects > 0 else float("inf")
    return {"dpmo": dpmo, "sigma_level": level, "shift": shift, "defects": defects, "opportunities": opportunities}


OTHER_NAMES = {"other", "others", "其他"}


class ParetoTable(ResultFrame):
    """A Pareto table (see :func:`pareto`): a DataFrame indexed by category that also follows the result protocol;
    ``attrs["n"]`` is the total count."""

    _chart = "sqc.plotting.spc:pareto_chart"


def pareto(counts, *, threshold: float = 0.8) -> ParetoTable:
    """Pareto table: categories by count (descending), with percent, cumulative percent and ``vital_few``.

    Parameters
    ----------
    counts : Series or mapping
        Category → count (≥ 0). A raw column of categories can be passed as ``series.value_counts()``.
    threshold : float
        Share defining the vital few (default 0.8).

    Returns
    -------
    DataFrame indexed by category with columns ``count``, ``percent``, ``cum_percent``, ``vital_few``.
    Ties: by category name. "Other" is always last (see module docstring).
    """
    if not (0 < threshold <= 1):
        raise ParameterError(f"threshold must be in (0, 1], got {threshold!r}")
    s = pd.Series(counts, dtype=object) if not isinstance(counts, pd.Series) else counts
    if s.empty:
        raise InsufficientDataError("no categories to rank")
    vals = pd.to_numeric(s, errors="coerce")
    bad = vals.isna() | (vals < 0)
    if bad.any():
        k = s.index[bad.to_numpy()][0]
        raise DataError("a Pareto count must be a number ≥ 0", column="count", row=k, value=s[k],
                        expected="a count ≥ 0")
    if s.index.has_duplicates:
        raise DataError("duplicated category", column="category", value=s.index[s.index.duplicated()][0],
                        expected="each category once (sum them first)")
    total = float(vals.sum())
    if total <= 0:
        raise InsufficientDataError("all counts are zero", column="count")
    names = pd.Index(s.index.astype(str))
    is_other = np.array([n.strip().lower() in OTHER_NAMES for n in names])
    order = np.lexsort((names.to_numpy(), -vals.to_numpy(dtype=float), is_other))
    out = pd.DataFrame({"count": vals.to_numpy()[order]}, index=s.index[order])
    out.index.name = "category"
    out["percent"] = 100 * out["count"] / total
    out["cum_percent"] = out["count"].cumsum() * 100 / total
    prev = out["cum_percent"].shift(fill_value=0.0)
    out["vital_few"] = (prev < 100 * threshold - 1e-12) & ~is_other[order]
    out = ParetoTable(out)
    out.attrs.update({"n": int(total) if float(total).is_integer() else total, "threshold": threshold})
    return out
