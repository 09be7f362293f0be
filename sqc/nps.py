"""Net Promoter Score and CSAT with proper intervals (Methods §6.2–§6.4).

NPS conventions
---------------
* 0–10 "likelihood to recommend"; promoters 9–10, passives 7–8, detractors 0–6 (``breaks`` parameter).
* ``NPS = 100 · (n_P − n_D) / n``.
* Multinomial variance of NPS/100 (R package ``NPS``, Rocks, ``npvar``/``nps.var``):
  ``Var = [p_P + p_D − (p_P − p_D)²] / n``.
* Wald interval: ``NPS ± 100 · z · √Var`` (R ``NPS::nps.test``).
* Adjusted Wald (Rocks 2016, "Interval estimation for the Net Promoter Score", The American Statistician 70(4)):
  add the pseudo-counts 0.75 detractors, 1.5 passives and 0.75 promoters (3 in all, i.e. ``z²/…`` rounded as in the
  paper), recompute the proportions and the variance with ``n + 3``, then Wald around the *adjusted* estimate.
  Better coverage for small n and extreme scores; the default here. ``.nps`` is always the plain NPS; the
  adjusted centre is kept in ``.adjusted_nps``.
* Two independent samples: ``Δ = NPS_1 − NPS_2``, ``Var(Δ) = Var_1 + Var_2``, z test and CI (R ``nps.test``
  reports ``|Δ|``; here Δ keeps its sign). With ``method="adjusted_wald"`` each sample gets the pseudo-counts.

CSAT conventions (§6.4)
-----------------------
* Mean rating with a Student-t interval (``sqc.inference.mean_ci``); with fewer than 30 ratings a BCa bootstrap
  interval (``sqc.inference.bootstrap_ci``, fixed seed) is used instead and the method says so.
* Top-2-box share (ratings ≥ scale_max − 1) with a Wilson interval (``sqc.inference.proportion``).
* Two-sample comparisons: Welch t for the means, Newcombe (1998) hybrid-score interval for the difference of
  top-2-box shares.

Warnings raised (``result.warnings``)
-------------------------------------
* ``W-NPS-01`` (warning): fewer than 30 valid ratings — the interval is wide; show the distribution, not only NPS.
* ``W-NPS-02`` (info): ratings outside the scale were excluded (counted in ``exclusions``).
* ``W-NPS-03`` (info): Keiningham et al. (2007) caveat — NPS is no better than other satisfaction measures at
  predicting growth; always shown with the full 0–10 distribution.
* ``W-NPS-04`` (info): the standardised NPS chart has fewer than 12 baseline periods (limits provisional).
* ``W-CSAT-01`` (warning): fewer than 30 ratings; bootstrap interval used.

Example
-------
>>> from sqc.nps import nps_from_counts
>>> r = nps_from_counts(promoters=90, passives=60, detractors=50)
>>> round(r.nps, 3), tuple(round(x, 3) for x in r.ci)
(20.0, (8.544, 30.865))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from .diagnostics import QualityWarning
from .errors import DataError, InsufficientDataError, ParameterError
from .inference import DEFAULT_CONFIDENCE, Estimate, _check_confidence, bootstrap_ci, mean_ci, proportion
from .results import Result, ResultData, row_lines

DEFAULT_BREAKS = (range(0, 7), range(7, 9), range(9, 11))
#: pseudo-counts (detractors, passives, promoters) of the adjusted Wald interval (Rocks 2016)
ADJUSTED_WALD_PSEUDO = (0.75, 1.5, 0.75)
NPS_METHODS = ("adjusted_wald", "wald")
MIN_N = 30


def _z(confidence: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(0.5 + _check_confidence(confidence) / 2))


def _npvar(d: float, p: float, pr: float) -> float:
    """Multinomial variance of NPS/100 for counts (detractors, passives, promoters), *not* divided by n
    (R ``NPS::npvar``)."""
    n = d + p + pr
    pp, pd_ = pr / n, d / n
    return (pp + pd_) - (pp - pd_) ** 2


def _check_method(method: str) -> str:
    if method not in NPS_METHODS:
        raise ParameterError(f"method must be one of {NPS_METHODS}, got {method!r}")
    return method


@dataclass
class NPSResult(ResultData):
    """A Net Promoter Score with its interval.

    Attributes
    ----------
    nps : float
        Plain NPS on the −100..100 scale.
    ci : (float, float)
        Interval on the −100..100 scale by ``method``.
    n : int
        Valid ratings used.
    promoters, passives, detractors : int
        Counts.
    promoter_share, passive_share, detractor_share : float
        Shares (0–1).
    se : float
        Standard error of NPS (×100 scale) from the multinomial variance, plain counts.
    adjusted_nps : float
        Centre of the adjusted-Wald interval (×100 scale).
    wald_ci, adjusted_wald_ci : (float, float)
        Both intervals, whatever ``method`` chose.
    method, confidence : str, float
    distribution : pandas.Series
        Count of each rating 0..10 (the distribution must be shown beside NPS).
    exclusions : dict
        Counted exclusions (``{"missing": k, "out_of_scale": m}``).
    warnings : list of QualityWarning
    """

    _chart = "sqc.plotting.nps:nps_spec"

    nps: float
    ci: tuple[float, float]
    n: int
    promoters: int
    passives: int
    detractors: int
    se: float
    adjusted_nps: float
    wald_ci: tuple[float, float]
    adjusted_wald_ci: tuple[float, float]
    method: str
    confidence: float
    distribution: pd.Series | None = None
    exclusions: dict = field(default_factory=dict)

    @property
    def promoter_share(self) -> float:
        return self.promoters / self.n if self.n else float("nan")

    @property
    def passive_share(self) -> float:
        return self.passives / self.n if self.n else float("nan")

    @property
    def detractor_share(self) -> float:
        return self.detractors / self.n if self.n else float("nan")

    @property
    def estimate(self) -> Estimate:
        return Estimate(self.nps, self.ci[0], self.ci[1], self.n, f"NPS, {self.method.replace('_', ' ')}")

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "nps": self.nps, "ci_low": self.ci[0], "ci_high": self.ci[1], "n": self.n, "se": self.se,
            "promoters": self.promoters, "passives": self.passives, "detractors": self.detractors,
            "promoter_share": self.promoter_share, "passive_share": self.passive_share,
            "detractor_share": self.detractor_share, "method": self.method}])

    def _summary_lines(self, lang: str = "en") -> list[str]:
        pct = int(round(self.confidence * 100))
        lines = [f"NPS = {self.nps:.1f}  ({pct}% CI {self.ci[0]:.1f} to {self.ci[1]:.1f}, "
                 f"{self.method.replace('_', ' ')}), n = {self.n}",
                 f"  promoters {self.promoter_share:.1%}, passives {self.passive_share:.1%}, "
                 f"detractors {self.detractor_share:.1%}; SE = {self.se:.2f}"]
        return lines

    def __repr__(self) -> str:
        return f"NPSResult(nps={self.nps:.2f}, ci=({self.ci[0]:.2f}, {self.ci[1]:.2f}), n={self.n})"


def nps_from_counts(promoters: int, passives: int, detractors: int, *, confidence: float = DEFAULT_CONFIDENCE,
                    method: str = "adjusted_wald") -> NPSResult:
    """NPS and its interval from the three counts.

    Parameters
    ----------
    promoters, passives, detractors : int
        Non-negative counts.
    confidence : float
    method : {"adjusted_wald", "wald"}
        Which interval goes to ``.ci`` (both are kept).

    Returns
    -------
    NPSResult

    Notes
    -----
    ``Var(NPS/100) = [p_P + p_D − (p_P − p_D)²] / n``; adjusted Wald adds 0.75/1.5/0.75 pseudo-counts
    (Rocks 2016). Golden (Methods §6.2): 90/60/50 → NPS 20.000, SE 5.745, Wald [8.741, 31.259],
    adjusted 19.704 [8.544, 30.865].
    """
    method = _check_method(method)
    counts = []
    for name, v in (("promoters", promoters), ("passives", passives), ("detractors", detractors)):
        if v is None or not np.isfinite(v) or v < 0 or float(v) != int(v):
            raise ParameterError(f"{name} must be a non-negative whole number, got {v!r}")
        counts.append(int(v))
    pr, pa, de = counts
    n = pr + pa + de
    if n == 0:
        raise InsufficientDataError("no valid ratings: NPS needs at least one 0–10 rating", expected="n ≥ 1")
    z = _z(confidence)
    value = 100.0 * (pr - de) / n
    se = 100.0 * np.sqrt(_npvar(de, pa, pr) / n)
    wald = (float(value - z * se), float(value + z * se))
    d_a, p_a, r_a = de + ADJUSTED_WALD_PSEUDO[0], pa + ADJUSTED_WALD_PSEUDO[1], pr + ADJUSTED_WALD_PSEUDO[2]
    n_a = d_a + p_a + r_a
    adj = 100.0 * (r_a - d_a) / n_a
    se_a = 100.0 * np.sqrt(_npvar(d_a, p_a, r_a) / n_a)
    adj_ci = (float(max(-100.0, adj - z * se_a)), float(min(100.0, adj + z * se_a)))
    warnings = []
    if n < MIN_N:
        warnings.append(QualityWarning(
            "W-NPS-01", "warning", f"NPS rests on only {n} ratings (< {MIN_N}); the interval is wide — read the "
            f"0–10 distribution, not the single number.", {"n": n, "min_n": MIN_N}, "NPS",
            f"NPS 仅基于 {n} 个评分（少于 {MIN_N}），置信区间很宽，请同时查看 0–10 分布。"))
    return NPSResult(nps=value, ci=adj_ci if method == "adjusted_wald" else wald, n=n, promoters=pr, passives=pa,
                     detractors=de, se=float(se), adjusted_nps=float(adj), wald_ci=wald, adjusted_wald_ci=adj_ci,
                     method=method, confidence=float(confidence), warnings=warnings)


def _classify(scores, breaks) -> tuple[np.ndarray, dict, pd.Series]:
    """Valid ratings as an int array, plus counted exclusions and the 0..10 distribution."""
    if isinstance(scores, (str, bytes)) or np.ndim(scores) != 1:
        raise ParameterError("scores must be a one-dimensional sequence of 0–10 ratings (e.g. a Series)")
    s = pd.Series(scores)
    if not (pd.api.types.is_numeric_dtype(s) or s.dtype == object) or pd.api.types.is_bool_dtype(s):
        raise ParameterError(f"scores must be numeric 0–10 ratings, got dtype {s.dtype}")
    num = pd.to_numeric(s, errors="coerce")
    not_numeric = num.isna() & s.notna()
    if not_numeric.any():
        pos = int(np.flatnonzero(not_numeric.to_numpy())[0])
        raise DataError("a rating is not a number", column=getattr(scores, "name", None) or "scores",
                        row=s.index[pos], value=s.iloc[pos], expected="a whole number 0–10",
                        count=int(not_numeric.sum()))
    missing = int(num.isna().sum())
    num = num.dropna().astype(float)
    valid_points = sorted({int(v) for b in breaks for v in b})
    ok = num.isin(valid_points)
    out = int((~ok).sum())
    vals = num[ok].astype(int).to_numpy()
    dist = pd.Series(vals).value_counts().reindex(valid_points, fill_value=0).rename("count")
    dist.index.name = "rating"
    return vals, {"missing": missing, "out_of_scale": out}, dist


def _check_breaks(breaks):
    if len(breaks) != 3:
        raise ParameterError("breaks must be three groups of ratings: (detractors, passives, promoters)")
    sets = [set(int(v) for v in b) for b in breaks]
    if sets[0] & sets[1] or sets[1] & sets[2] or sets[0] & sets[2]:
        raise ParameterError("breaks must not overlap: each rating belongs to one group")
    return sets


def nps(scores: Sequence[float] | pd.Series, *, breaks=DEFAULT_BREAKS, confidence: float = DEFAULT_CONFIDENCE,
        method: str = "adjusted_wald") -> NPSResult:
    """Net Promoter Score of 0–10 ratings with its interval.

    Parameters
    ----------
    scores : array-like
        Ratings 0–10. Missing values are excluded and counted; values off the scale (e.g. 11, −1, 5.5, 99 "don't
        know") are excluded, counted in ``exclusions["out_of_scale"]`` and reported as ``W-NPS-02``.
    breaks : three sequences
        Ratings of detractors, passives, promoters; default ``(0..6, 7..8, 9..10)``.
    confidence : float
    method : {"adjusted_wald", "wald"}

    Returns
    -------
    NPSResult
        ``.nps`` (−100..100), ``.ci``, ``.n`` and the three shares.

    Examples
    --------
    >>> r = nps([10, 9, 9, 8, 7, 3, 10, 6])
    >>> r.n, round(r.nps, 1)
    (8, 25.0)
    """
    sets = _check_breaks(breaks)
    vals, excl, dist = _classify(scores, breaks)
    if vals.size == 0:
        raise InsufficientDataError("no valid 0–10 ratings to compute NPS from", column="scores",
                                    expected="at least one rating on the 0–10 scale",
                                    count=excl["missing"] + excl["out_of_scale"] or None)
    de = int(np.isin(vals, list(sets[0])).sum())
    pa = int(np.isin(vals, list(sets[1])).sum())
    pr = int(np.isin(vals, list(sets[2])).sum())
    res = nps_from_counts(pr, pa, de, confidence=confidence, method=method)
    res.distribution = dist
    res.exclusions = excl
    if excl["out_of_scale"]:
        res.warnings.append(QualityWarning(
            "W-NPS-02", "info", f"{excl['out_of_scale']} rating(s) outside the 0–10 scale were excluded "
            f"(e.g. 'don't know' codes).", dict(excl), "NPS",
            f"已排除 {excl['out_of_scale']} 个不在 0–10 量表内的评分（如“不知道”代码）。"))
    res.warnings.append(QualityWarning(
        "W-NPS-03", "info", "NPS is no better than other satisfaction measures at predicting growth "
        "(Keiningham et al. 2007); read it with the full 0–10 distribution.", {}, "NPS",
        "NPS 预测增长的能力并不优于其他满意度指标（Keiningham 等 2007），应结合完整 0–10 分布解读。"))
    return res


@dataclass
class NPSComparison(Result):
    """Difference of two independent NPS values (first minus second) with a z test."""

    first: NPSResult
    second: NPSResult
    difference: float
    se: float
    ci: tuple[float, float]
    z: float
    p_value: float
    method: str
    confidence: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"nps_1": self.first.nps, "n_1": self.first.n, "nps_2": self.second.nps,
                              "n_2": self.second.n, "difference": self.difference, "se": self.se,
                              "ci_low": self.ci[0], "ci_high": self.ci[1], "z": self.z, "p_value": self.p_value,
                              "method": self.method}])

    def _summary_lines(self, lang: str = "en") -> list[str]:
        pct = int(round(self.confidence * 100))
        return [(f"NPS difference = {self.difference:.1f} points ({pct}% CI {self.ci[0]:.1f} to {self.ci[1]:.1f}; "
                f"z = {self.z:.2f}, p = {self.p_value:.4g}; {self.method.replace('_', ' ')})\n"
                f"  first:  {self.first.nps:.1f} (n = {self.first.n})\n"
                f"  second: {self.second.nps:.1f} (n = {self.second.n})")]


def nps_compare(first, second, *, breaks=DEFAULT_BREAKS, confidence: float = DEFAULT_CONFIDENCE,
                method: str = "wald") -> NPSComparison:
    """Compare two independent NPS values: ``Δ = NPS_1 − NPS_2``, ``SE(Δ) = √(SE_1² + SE_2²)``.

    Parameters
    ----------
    first, second : array-like of 0–10 ratings, or NPSResult
    method : {"wald", "adjusted_wald"}
        ``"wald"`` matches R ``NPS::nps.test`` (which reports ``|Δ|``; here Δ is signed). ``"adjusted_wald"`` adds the
        Rocks (2016) pseudo-counts to each sample before computing Δ and its SE.

    Returns
    -------
    NPSComparison
        difference, se, ci, z, two-sided p_value. Paired designs (same customers twice) need a bootstrap instead.
    """
    from scipy import stats

    method = _check_method(method)
    a = first if isinstance(first, NPSResult) else nps(first, breaks=breaks, confidence=confidence)
    b = second if isinstance(second, NPSResult) else nps(second, breaks=breaks, confidence=confidence)
    z = _z(confidence)
    if method == "wald":
        diff = a.nps - b.nps
        se = float(np.hypot(a.se, b.se))
    else:
        pd_, pp_, pr_ = ADJUSTED_WALD_PSEUDO

        def adj(r):
            d, p, q = r.detractors + pd_, r.passives + pp_, r.promoters + pr_
            n = d + p + q
            return 100 * (q - d) / n, 100 * np.sqrt(_npvar(d, p, q) / n)

        (ca, sa), (cb, sb) = adj(a), adj(b)
        diff, se = float(ca - cb), float(np.hypot(sa, sb))
    zval = diff / se if se > 0 else (0.0 if diff == 0 else np.sign(diff) * np.inf)
    p = float(2 * stats.norm.sf(abs(zval))) if np.isfinite(zval) else 0.0
    return NPSComparison(a, b, float(diff), se, (float(diff - z * se), float(diff + z * se)), float(zval), p, method,
                         float(confidence))


def nps_table(frame: pd.DataFrame, by, *, score: str = "recommend", breaks=DEFAULT_BREAKS,
              confidence: float = DEFAULT_CONFIDENCE, method: str = "adjusted_wald",
              min_n: int = MIN_N) -> pd.DataFrame:
    """NPS per group (e.g. per wave, or per branch × wave), one row each with n, shares, SE and CI.

    Groups with fewer than ``min_n`` ratings keep their numbers but get ``reportable = False`` (Methods §0.3
    small-cell rule: show "insufficient data"). One pass: counts per group and class, then the formulas.
    """
    if score not in frame.columns:
        raise DataError(f"column {score!r} not found", column=score, expected=f"one of {list(frame.columns)}")
    by = [by] if isinstance(by, str) else list(by)
    for col in by:
        if col not in frame.columns:
            raise DataError(f"grouping column {col!r} not found", column=col, expected=f"one of {list(frame.columns)}")
    sets = _check_breaks(breaks)
    num = pd.to_numeric(frame[score], errors="coerce")
    cls = pd.Series(pd.NA, index=frame.index, dtype="object")
    for name, s in zip(("detractors", "passives", "promoters"), sets):
        cls[num.isin(list(s))] = name
    tab = pd.crosstab([frame[c] for c in by], cls.rename("class")).reindex(
        columns=["detractors", "passives", "promoters"], fill_value=0)
    rows = []
    for key, r in tab.iterrows():
        if r.sum() == 0:
            continue
        res = nps_from_counts(int(r["promoters"]), int(r["passives"]), int(r["detractors"]), confidence=confidence,
                              method=method)
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), "nps": res.nps, "ci_low": res.ci[0], "ci_high": res.ci[1], "n": res.n,
                     "se": res.se, "promoter_share": res.promoter_share, "passive_share": res.passive_share,
                     "detractor_share": res.detractor_share, "reportable": res.n >= min_n})
    return pd.DataFrame(rows)


@dataclass
class NPSChart(ResultData):
    """Standardised NPS chart over periods (Methods §6.3): one row per period in ``table`` with ``n, nps, se,
    z, center, lcl, ucl, signal``; ``sigma_z`` is the Laney (2002) between-period factor (1 = none applied)."""

    _frame_attr = "table"

    table: pd.DataFrame
    center: float
    sigma_z: float
    laney: bool
    baseline: int

    def _summary_lines(self, lang: str = "en") -> list[str]:
        return row_lines(f"Standardised NPS chart: centre {self.center:.1f}, σ_z = {self.sigma_z:.2f}"
                         f"{' (Laney limits)' if self.laney else ''}, baseline {self.baseline} periods", self.table,
                         lambda _, r: f"{r['period']}: NPS {r['nps']:.1f} (n = {int(r['n'])}), limits "
                         f"{r['lcl']:.1f} to {r['ucl']:.1f}{'  SIGNAL' if r['signal'] else ''}")


def nps_chart(frame: pd.DataFrame, period: str = "wave", *, score: str = "recommend", breaks=DEFAULT_BREAKS,
              baseline: int | None = None, laney: str = "auto", L: float = 3.0) -> NPSChart:
    """Standardised chart of NPS by period with the multinomial SE (Methods §6.3).

    ``NPS̄ = 100·Σ(n_P − n_D)/Σn`` over the baseline periods (default all); with the pooled shares p̄_P, p̄_D,
    ``SE_m = 100·√([p̄_P + p̄_D − (p̄_P − p̄_D)²]/n_m)``; ``z_m = (NPS_m − NPS̄)/SE_m``. Limits
    ``NPS̄ ± L·SE_m·σ_z``; ``σ_z = MR̄(z)/1.128`` over the baseline (Laney 2002) is applied when ``laney="always"``,
    or with ``"auto"`` when σ_z > 1 (months vary more than sampling error), never with ``"never"``.
    """
    if laney not in ("auto", "always", "never"):
        raise ParameterError(f"laney must be 'auto', 'always' or 'never', got {laney!r}")
    if not (L > 0):
        raise ParameterError(f"L must be positive, got {L!r}")
    t = nps_table(frame, period, score=score, breaks=breaks, method="wald", min_n=1)
    if len(t) < 2:
        raise InsufficientDataError("a chart needs at least 2 periods with ratings", column=period,
                                    expected="≥ 2 periods")
    t = t.sort_values(period).reset_index(drop=True).rename(columns={period: "period"})
    k = len(t) if baseline is None else int(baseline)
    if not (2 <= k <= len(t)):
        raise ParameterError(f"baseline must be between 2 and {len(t)} periods, got {baseline!r}")
    b = t.iloc[:k]
    n_b = b["n"].sum()
    pp = float((b["promoter_share"] * b["n"]).sum() / n_b)
    pd_ = float((b["detractor_share"] * b["n"]).sum() / n_b)
    center = 100 * (pp - pd_)
    var1 = pp + pd_ - (pp - pd_) ** 2
    se = 100 * np.sqrt(var1 / t["n"].to_numpy(dtype=float))
    z = (t["nps"].to_numpy() - center) / se
    mr = np.abs(np.diff(z[:k]))
    sigma_z = float(mr.mean() / 1.128) if mr.size else 1.0
    use = laney == "always" or (laney == "auto" and sigma_z > 1)
    factor = sigma_z if use else 1.0
    out = t[["period", "n", "nps"]].copy()
    out["se"] = se
    out["z"] = z
    out["center"] = center
    out["lcl"] = center - L * se * factor
    out["ucl"] = center + L * se * factor
    out["signal"] = (out["nps"] > out["ucl"]) | (out["nps"] < out["lcl"])
    out["phase"] = np.where(np.arange(len(out)) < k, "I", "II")
    warnings = []
    if k < 12:
        warnings.append(QualityWarning(
            "W-NPS-04", "info", f"NPS chart limits rest on {k} periods (< 12): provisional.", {"baseline": k},
            "NPS chart", f"NPS 控制图的控制限仅基于 {k} 期（少于 12 期），为临时值。"))
    return NPSChart(out, float(center), sigma_z, bool(use), k, warnings=warnings)


def nps_sample_size(margin: float, promoter_share: float, detractor_share: float, *,
                    confidence: float = DEFAULT_CONFIDENCE) -> int:
    """Ratings needed for an NPS interval of ± ``margin`` points (Wald): ``n = (z / (margin/100))² · Var₁`` with
    ``Var₁ = p_P + p_D − (p_P − p_D)²`` (Methods §6.2; golden: ±10 points, p_P = p_D = 0.3 → 231, i.e. n ≈ 230).
    """
    if not (0 < margin <= 200):
        raise ParameterError(f"margin must be in NPS points (0, 200], got {margin!r}")
    pp, pd_ = float(promoter_share), float(detractor_share)
    if pp < 0 or pd_ < 0 or pp + pd_ > 1:
        raise ParameterError("promoter_share and detractor_share must be ≥ 0 and sum to at most 1")
    var1 = pp + pd_ - (pp - pd_) ** 2
    return int(np.ceil((_z(confidence) / (margin / 100.0)) ** 2 * var1))


# ----------------------------------------------------------------------------------------------------- CSAT
@dataclass
class CSATResult(ResultData):
    """CSAT mean and top-2-box share, each with n and CI."""

    _chart = "sqc.plotting.nps:csat_spec"

    mean: Estimate
    top_box: Estimate
    n: int
    scale: tuple[int, int]
    top_box_threshold: int
    distribution: pd.Series
    exclusions: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"measure": "mean", **self.mean.as_dict()},
            {"measure": f"top-2-box (≥{self.top_box_threshold})", **self.top_box.as_dict()}]).set_index("measure")

    def _summary_lines(self, lang: str = "en") -> list[str]:
        lo, hi = self.scale
        lines = [f"CSAT ({lo}–{hi}) mean = {self.mean.value:.2f} [{self.mean.ci_low:.2f}, {self.mean.ci_high:.2f}] "
                 f"({self.mean.method}), n = {self.n}",
                 f"  top-2-box (≥{self.top_box_threshold}) = {self.top_box.value:.1%} "
                 f"[{self.top_box.ci_low:.1%}, {self.top_box.ci_high:.1%}] (Wilson)"]
        return lines


def csat(ratings, *, scale: tuple[int, int] = (1, 5), top_boxes: int = 2,
         confidence: float = DEFAULT_CONFIDENCE, bootstrap_below: int = MIN_N) -> CSATResult:
    """CSAT mean (t interval; BCa bootstrap below ``bootstrap_below`` ratings) and top-box share (Wilson).

    Parameters
    ----------
    ratings : array-like
        Ratings on ``scale``; missing values excluded and counted; values off the scale or not whole numbers are
        excluded and counted (``exclusions["out_of_scale"]``).
    scale : (int, int)
        (min, max) of the rating scale, e.g. (1, 5).
    top_boxes : int
        How many top scale points count as satisfied (2 → "top-2-box": 4–5 on a 1–5 scale).

    Notes
    -----
    Golden (Methods §6.4): 160 of 200 in the top two boxes → Wilson [0.7391, 0.8495].
    """
    lo, hi = (int(scale[0]), int(scale[1]))
    if hi <= lo:
        raise ParameterError(f"scale must be (min, max) with max > min, got {scale!r}")
    if not (1 <= int(top_boxes) < hi - lo + 1):
        raise ParameterError(f"top_boxes must be between 1 and {hi - lo}, got {top_boxes!r}")
    s = pd.Series(ratings)
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError("a CSAT rating is not a number", column=getattr(ratings, "name", None) or "ratings",
                        row=s.index[pos], value=s.iloc[pos], expected=f"a whole number {lo}–{hi}",
                        count=int(bad.sum()))
    missing = int(num.isna().sum())
    num = num.dropna()
    ok = num.between(lo, hi) & (num == np.round(num))
    excl = {"missing": missing, "out_of_scale": int((~ok).sum())}
    x = num[ok].to_numpy(dtype=float)
    if x.size == 0:
        raise InsufficientDataError(f"no valid CSAT ratings on the {lo}–{hi} scale", column="ratings",
                                    expected=f"at least one rating {lo}–{hi}")
    threshold = hi - int(top_boxes) + 1
    warnings = []
    m = mean_ci(x, confidence)
    if bootstrap_below and 3 <= x.size < bootstrap_below and np.ptp(x) > 0:
        low, high = bootstrap_ci((x,), np.mean, confidence)
        m = Estimate(m.value, low, high, m.n, "BCa bootstrap")
        warnings.append(QualityWarning(
            "W-CSAT-01", "warning", f"CSAT rests on only {x.size} ratings; a bootstrap interval is used.",
            {"n": int(x.size)}, "CSAT", f"CSAT 仅有 {x.size} 个评分，采用 bootstrap 置信区间。"))
    top = proportion(int((x >= threshold).sum()), int(x.size), confidence)
    dist = pd.Series(x.astype(int)).value_counts().reindex(range(lo, hi + 1), fill_value=0).rename("count")
    dist.index.name = "rating"
    if excl["out_of_scale"]:
        warnings.append(QualityWarning(
            "W-NPS-02", "info", f"{excl['out_of_scale']} CSAT rating(s) outside {lo}–{hi} were excluded.",
            dict(excl), "CSAT", f"已排除 {excl['out_of_scale']} 个不在 {lo}–{hi} 范围内的 CSAT 评分。"))
    return CSATResult(m, top, int(x.size), (lo, hi), threshold, dist, excl, warnings=warnings)


@dataclass
class CSATComparison(Result):
    """Two independent CSAT samples: difference of means (Welch) and of top-box shares (Newcombe)."""

    mean_difference: Estimate
    mean_p_value: float
    top_box_difference: Estimate
    top_box_p_value: float
    first: CSATResult
    second: CSATResult

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"measure": "mean difference", **self.mean_difference.as_dict(), "p_value": self.mean_p_value},
            {"measure": "top-box difference", **self.top_box_difference.as_dict(), "p_value": self.top_box_p_value},
        ]).set_index("measure")

    def _summary_lines(self, lang: str = "en") -> list[str]:
        md, td = self.mean_difference, self.top_box_difference
        return [(f"CSAT mean difference = {md.value:.3f} [{md.ci_low:.3f}, {md.ci_high:.3f}] (Welch), "
                f"p = {self.mean_p_value:.4g}\n"
                f"top-box difference = {td.value:.1%} [{td.ci_low:.1%}, {td.ci_high:.1%}] (Newcombe), "
                f"p = {self.top_box_p_value:.4g}")]


def csat_compare(first, second, *, scale: tuple[int, int] = (1, 5), top_boxes: int = 2,
                 confidence: float = DEFAULT_CONFIDENCE) -> CSATComparison:
    """Compare two independent CSAT samples (first minus second).

    Mean: Welch t-test and interval (``statsmodels`` ``CompareMeans``). Top-box share: Newcombe (1998) hybrid score
    interval (``statsmodels`` ``confint_proportions_2indep(method="newcomb")``) and a score test.
    """
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    a = csat(first, scale=scale, top_boxes=top_boxes, confidence=confidence)
    b = csat(second, scale=scale, top_boxes=top_boxes, confidence=confidence)
    if a.n < 2 or b.n < 2:
        raise InsufficientDataError("each CSAT sample needs at least 2 ratings for a comparison",
                                    expected="n ≥ 2 in both samples")

    def vals(r):
        return np.repeat(r.distribution.index.to_numpy(dtype=float), r.distribution.to_numpy())

    cm = CompareMeans(DescrStatsW(vals(a)), DescrStatsW(vals(b)))
    _, p_mean, _ = cm.ttest_ind(usevar="unequal")
    lo, hi = cm.tconfint_diff(alpha=1 - confidence, usevar="unequal")
    md = Estimate(a.mean.value - b.mean.value, float(lo), float(hi), a.n + b.n, "Welch t")
    xa, xb = int(round(a.top_box.value * a.n)), int(round(b.top_box.value * b.n))
    tlo, thi = confint_proportions_2indep(xa, a.n, xb, b.n, method="newcomb", alpha=1 - confidence)
    tp = test_proportions_2indep(xa, a.n, xb, b.n, method="score").pvalue
    td = Estimate(a.top_box.value - b.top_box.value, float(tlo), float(thi), a.n + b.n, "Newcombe hybrid score")
    return CSATComparison(md, float(p_mean), td, float(tp), a, b)


__all__ = ["nps", "nps_from_counts", "nps_compare", "nps_table", "nps_sample_size", "nps_chart", "NPSChart",
           "NPSResult", "NPSComparison",
           "csat",
           "csat_compare", "CSATResult", "CSATComparison", "DEFAULT_BREAKS", "ADJUSTED_WALD_PSEUDO"]
