"""Inter-rater agreement statistics (Methods §4.6; re-exported by ``sqc.reliability``).

Functions
---------
icc(data, targets, raters, ratings)
    All six Shrout & Fleiss (1979) / McGraw & Wong (1996) intraclass correlations with F tests and CIs.
kappa(a, b, weights=None)
    Cohen's (1960) kappa and weighted kappa (Cohen 1968), asymptotic SE of Fleiss, Cohen & Everitt (1969).
fleiss_kappa(ratings)
    Fleiss' (1971) kappa for more than two raters (subjects × raters labels, or subjects × categories counts);
    ``missing="keep"`` uses Gwet's generalisation to unequal numbers of raters.
krippendorff_alpha(data, level)
    Krippendorff's (2004) alpha for any number of raters, missing data and any metric.
gwet_ac1(ratings)
    Gwet's (2008) AC1, robust to the high-prevalence "kappa paradox" (Feinstein & Cicchetti 1990).
bland_altman(a, b)
    Bland & Altman (1986, 1999) bias and 95 % limits of agreement with their CIs.

Warnings (``result.warnings``, :class:`sqc.diagnostics.QualityWarning`)
------------------------------------------------------------------------
* W-AG-01  kappa paradox: observed agreement is high (p_o ≥ 0.85) but kappa is low (< 0.6) because one category
  dominates; read Gwet's AC1 and p_o beside kappa.
* W-AG-02  poor reliability: an ICC below 0.5 (Koo & Li 2016 "poor").
* W-AG-03  few subjects: fewer than 10 rated subjects; intervals are wide.
* W-AG-04  proportional bias in a Bland–Altman analysis (the difference changes with the level, slope p < 0.05).

Conventions: all interval levels default to 95 %; every result keeps ``n`` and its exclusions (rows dropped for
missing values are counted, never silently lost).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from .diagnostics import QualityWarning
from .errors import DataError, InsufficientDataError, ParameterError
from .inference import DEFAULT_CONFIDENCE, _check_confidence, mean_ci
from .results import ResultData, ResultFrame

__all__ = ["icc", "kappa", "fleiss_kappa", "krippendorff_alpha", "gwet_ac1", "bland_altman", "koo_li_band",
           "landis_koch_label", "KappaResult", "AgreementResult", "BlandAltmanResult"]

# ---------------------------------------------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------------------------------------------

ICC_FORMS = pd.DataFrame(
    [
        ("ICC1", "ICC(1,1)", "Single raters absolute", "one-way random effects, absolute agreement, single rater"),
        ("ICC2", "ICC(A,1)", "Single random raters", "two-way random effects, absolute agreement, single rater"),
        ("ICC3", "ICC(C,1)", "Single fixed raters", "two-way mixed effects, consistency, single rater"),
        ("ICC1k", "ICC(1,k)", "Average raters absolute",
         "one-way random effects, absolute agreement, mean of k raters"),
        ("ICC2k", "ICC(A,k)", "Average random raters", "two-way random effects, absolute agreement, mean of k raters"),
        ("ICC3k", "ICC(C,k)", "Average fixed raters", "two-way mixed effects, consistency, mean of k raters"),
    ],
    columns=["type", "form", "psych_name", "description"],
)


def koo_li_band(value: float) -> str:
    """Koo & Li (2016) reading of an ICC: < .5 poor, .5–.75 moderate, .75–.9 good, > .9 excellent."""
    if value is None or not np.isfinite(value):
        return "undefined"
    if value < 0.5:
        return "poor"
    if value < 0.75:
        return "moderate"
    if value <= 0.9:
        return "good"
    return "excellent"


def landis_koch_label(value: float) -> str:
    """Landis & Koch (1977) benchmark for kappa-type coefficients (a rough guide only)."""
    if value is None or not np.isfinite(value):
        return "undefined"
    if value < 0:
        return "poor"
    for upper, label in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if value <= upper:
            return label
    return "almost perfect"


# ---------------------------------------------------------------------------------------------------------------
# ICC
# ---------------------------------------------------------------------------------------------------------------

class ICCTable(ResultFrame):
    """The six ICC forms as a DataFrame (one row per form; ``ICC``, ``F``, ``df1``, ``df2``, ``pval``, ``ci_low``,
    ``ci_high``, ``band``) that also follows the result protocol; ``attrs`` holds ``n_targets``, ``n_raters``,
    ``exclusions`` and ``warnings``."""

    _n_key = "n_targets"


def icc(data: pd.DataFrame, targets: str, raters: str, ratings: str, *, confidence: float = DEFAULT_CONFIDENCE,
        on_missing: str = "exclude") -> ICCTable:
    """Intraclass correlations, all six forms (Shrout & Fleiss 1979; McGraw & Wong 1996).

    From the two-way ANOVA of a complete targets × raters table (n targets, k raters) with mean squares
    MSB (targets), MSW (within targets), MSJ (raters) and MSE (residual):

    * ICC(1,1)  = (MSB − MSW) / (MSB + (k−1) MSW)                          one-way, single rater
    * ICC(A,1)  = (MSB − MSE) / (MSB + (k−1) MSE + k (MSJ − MSE)/n)        two-way random, absolute agreement
    * ICC(C,1)  = (MSB − MSE) / (MSB + (k−1) MSE)                          two-way mixed, consistency
    * ICC(1,k)  = (MSB − MSW) / MSB
    * ICC(A,k)  = (MSB − MSE) / (MSB + (MSJ − MSE)/n)
    * ICC(C,k)  = (MSB − MSE) / MSB

    F tests: MSB/MSW on (n−1, n(k−1)) df for the one-way forms, MSB/MSE on (n−1, (n−1)(k−1)) for the others.
    Confidence intervals are the exact F-based intervals of Shrout & Fleiss (1979) and McGraw & Wong (1996)
    (Satterthwaite df for the absolute-agreement forms), the same formulas as R ``psych::ICC``.

    Parameters
    ----------
    data : DataFrame
        Long format, one row per (target, rater) rating.
    targets, raters, ratings : str
        Column names.
    confidence : float
        Level of the intervals.
    on_missing : {"exclude", "raise"}
        A target without a rating from every rater is dropped and counted (``result.attrs["exclusions"]``), or an
        error is raised.

    Returns
    -------
    DataFrame
        One row per form with columns ``type`` (pingouin/psych names ICC1..ICC3k), ``form`` (McGraw–Wong name),
        ``description``, ``ICC``, ``F``, ``df1``, ``df2``, ``pval``, ``ci_low``, ``ci_high``, ``band`` (Koo & Li).
        ``attrs`` holds ``n_targets``, ``n_raters``, ``exclusions`` and ``warnings``.

    Examples
    --------
    >>> df = pd.DataFrame({"branch": list(range(8)) * 2, "body": ["A"] * 8 + ["B"] * 8,
    ...                    "score": [82, 74, 91, 65, 88, 77, 69, 95, 85, 70, 93, 72, 84, 80, 66, 92]})
    >>> float(round(icc(df, "branch", "body", "score").set_index("form").loc["ICC(A,1)", "ICC"], 4))
    0.9296
    """
    from scipy import stats

    alpha = 1 - _check_confidence(confidence)
    if on_missing not in ("exclude", "raise"):
        raise ParameterError(f"on_missing must be 'exclude' or 'raise', got {on_missing!r}")
    if not isinstance(data, pd.DataFrame):
        raise ParameterError("icc() needs a long DataFrame with one row per (target, rater) rating")
    for col in (targets, raters, ratings):
        if col not in data.columns:
            raise DataError("column not found", column=col, expected=f"one of {list(data.columns)}")
    values = pd.to_numeric(data[ratings], errors="coerce")
    bad = values.isna() & data[ratings].notna()
    if bad.any():
        row = bad.idxmax()
        raise DataError("rating is not a number", column=ratings, row=row, value=data.loc[row, ratings],
                        expected="numeric ratings", count=int(bad.sum()))
    long = pd.DataFrame({"t": data[targets].to_numpy(), "r": data[raters].to_numpy(), "y": values.to_numpy()})
    dup = long.duplicated(["t", "r"])
    if dup.any():
        row = data.index[int(np.argmax(dup.to_numpy()))]
        raise DataError("the same rater rated the same target twice", column=raters, row=row,
                        value=data.loc[row, raters], expected="one rating per (target, rater); average first",
                        count=int(dup.sum()))
    n_raters_all = long["r"].nunique()
    if n_raters_all < 2:
        raise InsufficientDataError("an ICC needs at least two raters", column=raters, value=n_raters_all,
                                    expected="≥ 2 distinct raters")
    wide = long.pivot(index="t", columns="r", values="y")
    incomplete = wide.isna().any(axis=1)
    if incomplete.any() and on_missing == "raise":
        raise DataError("target lacks a rating from some raters", column=targets, value=wide.index[incomplete][0],
                        expected="a complete targets × raters table", count=int(incomplete.sum()))
    exclusions = {"targets_incomplete": int(incomplete.sum())}
    wide = wide.loc[~incomplete]
    y = wide.to_numpy(dtype=float)
    n, k = y.shape
    if n < 2:
        raise InsufficientDataError("an ICC needs at least two targets rated by every rater", column=targets,
                                    value=n, expected="≥ 2 complete targets")

    grand = y.mean()
    ss_total = ((y - grand) ** 2).sum()
    ss_b = k * ((y.mean(axis=1) - grand) ** 2).sum()
    ss_j = n * ((y.mean(axis=0) - grand) ** 2).sum()
    ss_w = ss_total - ss_b
    ss_e = ss_w - ss_j
    msb, msw = ss_b / (n - 1), ss_w / (n * (k - 1))
    msj, mse = ss_j / (k - 1), ss_e / ((n - 1) * (k - 1))
    if msw == 0 or mse == 0:
        raise InsufficientDataError("the raters agree perfectly or the ratings are constant, so the ICC F ratios "
                                    "are undefined", column=ratings, expected="some residual variation")

    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    icc3 = (msb - mse) / (msb + (k - 1) * mse)
    icc1k = (msb - msw) / msb
    icc2k = (msb - mse) / (msb + (msj - mse) / n)
    icc3k = (msb - mse) / msb

    f1, df1n, df1d = msb / msw, n - 1, n * (k - 1)
    f3, df3n, df3d = msb / mse, n - 1, (n - 1) * (k - 1)
    p1 = stats.f.sf(f1, df1n, df1d)
    p3 = stats.f.sf(f3, df3n, df3d)

    q = 1 - alpha / 2
    f1l, f1u = f1 / stats.f.ppf(q, df1n, df1d), f1 * stats.f.ppf(q, df1d, df1n)
    f3l, f3u = f3 / stats.f.ppf(q, df3n, df3d), f3 * stats.f.ppf(q, df3d, df3n)
    l1, u1 = (f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)
    l3, u3 = (f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)
    # absolute agreement: Satterthwaite df (McGraw & Wong 1996, Table 7)
    fj = msj / mse
    vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = (n - 1) * k ** 2 * icc2 ** 2 * fj ** 2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    f2u, f2l = stats.f.ppf(q, n - 1, v), stats.f.ppf(q, v, n - 1)
    l2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
    u2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)

    out = ICC_FORMS[["type", "form", "description"]].copy()
    out["ICC"] = [icc1, icc2, icc3, icc1k, icc2k, icc3k]
    out["F"] = [f1, f3, f3, f1, f3, f3]
    out["df1"] = [df1n, df3n, df3n, df1n, df3n, df3n]
    out["df2"] = [df1d, df3d, df3d, df1d, df3d, df3d]
    out["pval"] = [p1, p3, p3, p1, p3, p3]
    out["ci_low"] = [l1, l2, l3, 1 - 1 / f1l, l2 * k / (1 + l2 * (k - 1)), 1 - 1 / f3l]
    out["ci_high"] = [u1, u2, u3, 1 - 1 / f1u, u2 * k / (1 + u2 * (k - 1)), 1 - 1 / f3u]
    out["band"] = [koo_li_band(x) for x in out["ICC"]]
    warns = []
    if icc2 < 0.5:
        warns.append(QualityWarning(
            "W-AG-02", "warning", f"Poor inter-rater reliability: ICC(A,1) = {icc2:.2f} (< 0.5, Koo & Li 2016).",
            {"icc_a1": float(icc2), "n_targets": n, "n_raters": k}, subject=ratings,
            message_zh=f"评审一致性差：ICC(A,1) = {icc2:.2f}（< 0.5）。"))
    if n < 10:
        warns.append(_few_subjects_warning(n, ratings))
    out = ICCTable(out)
    out.attrs.update({"n_targets": int(n), "n_raters": int(k), "exclusions": exclusions, "warnings": warns,
                      "confidence": 1 - alpha, "mean_squares": {"MSB": msb, "MSW": msw, "MSJ": msj, "MSE": mse}})
    return out


def _few_subjects_warning(n: int, subject: str | None) -> QualityWarning:
    return QualityWarning("W-AG-03", "info", f"Only {n} rated subjects: agreement intervals are wide.",
                          {"n": int(n), "threshold": 10}, subject=subject,
                          message_zh=f"仅 {n} 个评分对象：一致性区间较宽。")


# ---------------------------------------------------------------------------------------------------------------
# Cohen's kappa
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class KappaResult(ResultData):
    """Cohen's kappa (or weighted kappa) with everything that was computed.

    Attributes
    ----------
    kappa, se, ci_low, ci_high : float
        Estimate, asymptotic SE (Fleiss, Cohen & Everitt 1969) and Wald interval (clipped to [-1, 1]).
    z, pval : float
        Test of kappa = 0 using the SE under the null.
    p_observed, p_expected : float
        Observed and chance (weighted) agreement; p_o is always shown next to kappa (prevalence paradox).
    n : int
        Pairs used. ``exclusions`` counts pairs dropped because a rating was missing.
    weights : str
        ``"none"``, ``"linear"`` or ``"quadratic"``.
    table : DataFrame
        Rater-a × rater-b contingency table.
    """

    kappa: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    pval: float
    p_observed: float
    p_expected: float
    n: int
    weights: str
    categories: list
    table: pd.DataFrame
    confidence: float = DEFAULT_CONFIDENCE
    exclusions: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return landis_koch_label(self.kappa)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"statistic": "kappa" if self.weights == "none" else f"kappa ({self.weights} weights)",
                              "value": self.kappa, "se": self.se, "ci_low": self.ci_low, "ci_high": self.ci_high,
                              "p_observed": self.p_observed, "p_expected": self.p_expected, "n": self.n,
                              "pval": self.pval, "label": self.label}])

    def _summary_lines(self, lang: str = "en") -> list[str]:
        w = "" if self.weights == "none" else f" ({self.weights} weights)"
        lines = [f"Cohen's kappa{w}: {self.kappa:.3f}  {100 * self.confidence:.0f}% CI "
                 f"[{self.ci_low:.3f}, {self.ci_high:.3f}]  n = {self.n}",
                 f"observed agreement p_o = {self.p_observed:.3f}, chance agreement p_e = {self.p_expected:.3f}, "
                 f"z = {self.z:.2f}, p = {self.pval:.4g}; Landis–Koch: {self.label}"]
        return lines


def _encode(frame: pd.DataFrame, categories):
    """Integer codes (−1 = missing) of a subjects × raters table, the category list, and the missing mask.

    Categories are the declared ones (unknown ratings raise :class:`DataError` naming row, rater and value) or
    the sorted observed values. Vectorised through ``Index.get_indexer`` (one pass, any label type)."""
    flat = pd.Series(frame.to_numpy().ravel())
    miss = flat.isna().to_numpy()
    if categories is None:
        try:
            cats = sorted(pd.unique(flat[~miss]).tolist())
        except TypeError:
            raise ParameterError("ratings of mixed types cannot be ordered; pass categories= explicitly") from None
    else:
        cats = list(categories)
    codes = np.asarray(pd.Index(cats).get_indexer(flat), dtype=np.int64)
    unknown = (codes < 0) & ~miss
    if unknown.any():
        i = int(np.argmax(unknown))
        r, c = divmod(i, frame.shape[1])
        raise DataError("rating is not one of the declared categories", column=str(frame.columns[c]),
                        row=frame.index[r], value=flat.iloc[i], expected=f"one of {cats}", count=int(unknown.sum()))
    return codes.reshape(frame.shape), cats, miss.reshape(frame.shape)


def kappa(a: Sequence, b: Sequence, weights: str | None = None, *, categories: Sequence | None = None,
          confidence: float = DEFAULT_CONFIDENCE) -> KappaResult:
    """Cohen's kappa for two raters, unweighted (Cohen 1960) or weighted (Cohen 1968).

    ``κ_w = (p_o − p_e) / (1 − p_e)`` with ``p_o = Σ v_ij p_ij`` and ``p_e = Σ v_ij p_i. p_.j``, where the agreement
    weights v_ij are 1 on the diagonal and 0 elsewhere (unweighted), ``1 − |i−j|/(q−1)`` (linear) or ``1 − (i−j)²/(q−1)²``
    (quadratic) for q ordered categories. The SE is the large-sample variance of Fleiss, Cohen & Everitt (1969),
    computed by ``statsmodels.stats.inter_rater.cohens_kappa``.

    Parameters
    ----------
    a, b : sequence
        Ratings of the same subjects by rater a and rater b (missing values drop the pair and are counted).
    weights : {None, "linear", "quadratic"}
        Weights for ordered categories (the category order is ``categories`` or the sorted observed values).
    categories : sequence, optional
        The allowed categories, in order. Ratings outside them raise :class:`DataError`. Declaring categories
        that nobody used keeps them in the table (this matters for weighted kappa).
    confidence : float

    Returns
    -------
    KappaResult

    References
    ----------
    Cohen (1960) Educ. Psychol. Meas. 20:37–46; Cohen (1968) Psychol. Bull. 70:213–220; Fleiss, Cohen & Everitt
    (1969) Psychol. Bull. 72:323–327.

    Examples
    --------
    >>> r = kappa([1,1,0,1,0,1,1,1,0,1,1,0], [1,1,0,0,0,1,1,1,1,1,1,0])
    >>> round(r.kappa, 3), round(r.p_observed, 4)
    (0.625, 0.8333)
    """
    from scipy import stats
    from statsmodels.stats.inter_rater import cohens_kappa

    confidence = _check_confidence(confidence)
    wmap = {None: None, "none": None, "linear": "linear", "quadratic": "quadratic"}
    if weights not in wmap:
        raise ParameterError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")
    a_s, b_s = pd.Series(list(a) if not hasattr(a, "__array__") else np.asarray(a)), \
        pd.Series(list(b) if not hasattr(b, "__array__") else np.asarray(b))
    if len(a_s) != len(b_s):
        raise ParameterError(f"the two raters' rating vectors differ in length ({len(a_s)} vs {len(b_s)}); "
                             "pass one rating per subject for each rater, in the same order")
    pair = pd.DataFrame({"a": a_s.to_numpy(), "b": b_s.to_numpy()})
    if pair.isna().all(axis=None):
        raise InsufficientDataError("no subject was rated by both raters (all ratings missing)",
                                    expected="at least one subject with two ratings")
    codes, categories, miss = _encode(pair, categories)
    both = ~miss.any(axis=1)
    n_missing = int((~both).sum())
    if not both.any():
        raise InsufficientDataError("no subject was rated by both raters (all ratings missing)",
                                    expected="at least one subject with two ratings")
    q = len(categories)
    if q < 2:
        raise InsufficientDataError("kappa needs at least two categories; every rating is the same",
                                    value=categories[0] if categories else None, expected="≥ 2 categories")
    table = np.bincount(codes[both, 0] * q + codes[both, 1], minlength=q * q).reshape(q, q).astype(float)
    n = int(table.sum())
    with np.errstate(invalid="ignore"):  # perfect agreement: the variance is 0 up to round-off (may be < 0)
        res = cohens_kappa(table, wt=wmap[weights])
    # statsmodels' agreement weights: identity, 1-|i-j|/(q-1) or 1-(i-j)^2/(q-1)^2 (same as the docstring)
    p = table / n
    idx = np.arange(q)
    if wmap[weights] is None:
        v = np.eye(q)
    elif weights == "linear":
        v = 1 - np.abs(np.subtract.outer(idx, idx)) / (q - 1)
    else:
        v = 1 - np.subtract.outer(idx, idx) ** 2 / (q - 1) ** 2
    p_o = float((v * p).sum())
    p_e = float((v * np.outer(p.sum(1), p.sum(0))).sum())
    k_val = float(res.kappa)
    se = float(np.sqrt(max(float(res.var_kappa), 0.0)))
    zq = stats.norm.ppf(0.5 + confidence / 2)
    se0 = float(res.std_kappa0)
    z = k_val / se0 if se0 > 0 else float("nan")
    pval = float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan")
    warns = []
    if p_o >= 0.85 and k_val < 0.6:
        warns.append(QualityWarning(
            "W-AG-01", "warning",
            f"Kappa paradox: raters agree on {100 * p_o:.0f}% of subjects but kappa is only {k_val:.2f} because one "
            "category dominates; read Gwet's AC1 and the observed agreement beside kappa.",
            {"p_observed": p_o, "kappa": k_val, "p_expected": p_e}, subject="kappa",
            message_zh=f"Kappa 悖论：评审在 {100 * p_o:.0f}% 的对象上一致，但 kappa 仅为 {k_val:.2f}（某一类别占绝对多数）；"
                       "请同时参考 Gwet AC1 和观察一致率。"))
    if n < 10:
        warns.append(_few_subjects_warning(n, "kappa"))
    return KappaResult(
        kappa=k_val, se=se, ci_low=float(max(-1.0, k_val - zq * se)), ci_high=float(min(1.0, k_val + zq * se)),
        z=float(z), pval=pval, p_observed=p_o, p_expected=p_e, n=n, weights=wmap[weights] or "none",
        categories=list(categories), table=pd.DataFrame(table.astype(int), index=categories, columns=categories),
        confidence=confidence, exclusions={"pairs_with_missing": n_missing}, warnings=warns)


# ---------------------------------------------------------------------------------------------------------------
# multi-rater coefficients
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class AgreementResult(ResultData):
    """A chance-corrected agreement coefficient with its interval (Fleiss' kappa, Gwet's AC1, Krippendorff's α).

    ``method`` names the coefficient and how the interval was obtained; ``n_subjects``/``n_raters`` describe the
    table used and ``exclusions`` what was dropped.
    """

    statistic: str
    value: float
    se: float
    ci_low: float
    ci_high: float
    p_observed: float
    p_expected: float
    n_subjects: int
    n_raters: int
    categories: list
    method: str
    confidence: float = DEFAULT_CONFIDENCE
    pval: float = float("nan")
    exclusions: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return landis_koch_label(self.value)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"statistic": self.statistic, "value": self.value, "se": self.se,
                              "ci_low": self.ci_low, "ci_high": self.ci_high, "p_observed": self.p_observed,
                              "p_expected": self.p_expected, "n_subjects": self.n_subjects,
                              "n_raters": self.n_raters, "pval": self.pval, "method": self.method}])

    def _summary_lines(self, lang: str = "en") -> list[str]:
        lines = [f"{self.statistic}: {self.value:.3f}  {100 * self.confidence:.0f}% CI [{self.ci_low:.3f}, "
                 f"{self.ci_high:.3f}]  ({self.n_subjects} subjects, {self.n_raters} raters; {self.method})"]
        if np.isfinite(self.p_observed):
            lines.append(f"observed agreement {self.p_observed:.3f}, chance agreement {self.p_expected:.3f}")
        return lines


def _as_frame(ratings) -> pd.DataFrame:
    if isinstance(ratings, pd.DataFrame):
        return ratings
    arr = np.asarray(ratings, dtype=object)
    if arr.ndim != 2:
        raise ParameterError("ratings must be a 2-D table (subjects in rows)")
    return pd.DataFrame(arr)


def _counts_table(ratings, format: str, categories):
    """subjects × categories count matrix (float) and category list, from either input format."""
    df = _as_frame(ratings)
    if format == "counts":
        counts = df.apply(pd.to_numeric, errors="coerce")
        if counts.isna().to_numpy().any() or (counts.to_numpy() < 0).any():
            raise DataError("a counts table must hold non-negative numbers of raters per category",
                            expected="subjects × categories counts, no missing values")
        cats = list(df.columns) if categories is None else list(categories)
        if categories is not None and len(cats) != df.shape[1]:
            raise ParameterError("categories must name every column of the counts table")
        if df.shape[1] < 2:
            raise InsufficientDataError("a counts table needs at least two category columns",
                                        expected="≥ 2 categories")
        return counts.to_numpy(float), cats, 0, int(counts.sum(axis=1).max())
    if format != "raters":
        raise ParameterError(f"format must be 'raters' (subjects × raters) or 'counts' (subjects × categories), "
                             f"got {format!r}")
    if df.shape[1] < 2:
        raise InsufficientDataError("an agreement statistic needs at least two raters (columns)",
                                    value=df.shape[1], expected="a subjects × raters table with ≥ 2 raters")
    if df.isna().all(axis=None):
        raise InsufficientDataError("every rating is missing", expected="at least one rated subject")
    codes, cats, miss = _encode(df, categories)
    q = len(cats)
    rows = np.repeat(np.arange(df.shape[0]), df.shape[1])
    ok = ~miss.ravel()
    counts = np.bincount(rows[ok] * q + codes.ravel()[ok], minlength=df.shape[0] * q).reshape(df.shape[0], q)
    return counts.astype(float), cats, int(miss.sum()), df.shape[1]


def _linearised_se(counts: np.ndarray, coef: float, pa_i: np.ndarray, two: np.ndarray, pe: float,
                   pe_i: np.ndarray) -> float:
    """Gwet's (2008, 2014) linearised subject-level SE shared by AC1 and the generalised Fleiss kappa."""
    n = counts.shape[0]
    n2 = int(two.sum())
    c_i = (n / n2) * (pa_i - pe * two) / (1 - pe)
    c_ix = c_i - 2 * (1 - coef) * (pe_i - pe) / (1 - pe)
    return float(np.sqrt(((c_ix - coef) ** 2).sum() / (n * (n - 1))))


def _pairwise_agreement(counts: np.ndarray):
    """Per-subject observed agreement p_a,i (subjects with ≥ 2 ratings), the mask of those subjects, and π_k."""
    r_i = counts.sum(axis=1)
    two = r_i >= 2
    den = r_i * (r_i - 1)
    pa_i = np.where(two, (counts * (counts - 1)).sum(axis=1) / np.where(den > 0, den, 1), 0.0)
    pi_k = (counts / r_i[:, None]).mean(axis=0)
    return pa_i, two, pi_k, r_i


def fleiss_kappa(ratings, *, format: str = "raters", categories: Sequence | None = None, missing: str = "drop",
                 confidence: float = DEFAULT_CONFIDENCE) -> AgreementResult:
    """Fleiss' (1971) kappa for several raters per subject.

    With n_ij raters putting subject i in category j (m raters per subject, N subjects):
    P_i = (Σ_j n_ij² − m)/(m(m−1)), P̄ = mean P_i, p_j = Σ_i n_ij/(N m), P̄_e = Σ p_j², κ = (P̄ − P̄_e)/(1 − P̄_e).
    On complete data the estimate is ``statsmodels.stats.inter_rater.fleiss_kappa``. The interval uses Gwet's
    (2008; 2014 §5) linearised subject-level variance with a t distribution on N − 1 df (valid away from κ = 0,
    as in R ``irrCAC::fleiss.kappa.raw``); the p-value of κ = 0 uses the null SE of Fleiss, Nee & Landis (1979).

    Parameters
    ----------
    ratings : DataFrame or 2-D array
        ``format="raters"``: subjects × raters category labels (NaN = not rated); ``format="counts"``:
        subjects × categories counts.
    categories : sequence, optional
        Allowed categories; unknown ratings raise :class:`DataError`.
    missing : {"drop", "keep"}
        ``"drop"``: only subjects with the full (most common) number of ratings are used, the others are counted
        in ``exclusions``. ``"keep"``: Gwet's generalisation for unequal numbers of raters per subject (p_a over
        subjects with ≥ 2 ratings, π_j = mean_i n_ij/r_i).

    Examples
    --------
    >>> round(fleiss_kappa([[1, 1], [0, 0], [1, 0], [1, 1]]).value, 3)
    0.467
    """
    from scipy import stats
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    confidence = _check_confidence(confidence)
    if missing not in ("drop", "keep"):
        raise ParameterError(f"missing must be 'drop' or 'keep', got {missing!r}")
    counts, cats, n_missing, n_raters = _counts_table(ratings, format, categories)
    m_i = counts.sum(axis=1)
    if missing == "drop":
        m = int(np.bincount(m_i.astype(int)).argmax()) if m_i.size else 0
        keep = m_i == m
    else:
        m = int(m_i.max()) if m_i.size else 0
        keep = m_i >= 1
    excluded = int((~keep).sum())
    counts = counts[keep]
    N = counts.shape[0]
    if m < 2:
        raise InsufficientDataError("Fleiss' kappa needs at least two raters per subject", value=m,
                                    expected="≥ 2 ratings per subject")
    pa_i, two, pi_k, r_i = _pairwise_agreement(counts)
    if N < 2 or two.sum() < 2:
        raise InsufficientDataError("Fleiss' kappa needs at least two subjects rated by two or more raters",
                                    value=int(two.sum()), expected="≥ 2 subjects")
    p_bar = float(pa_i[two].sum() / two.sum())
    pe = float((pi_k ** 2).sum())
    complete = bool(np.all(r_i == r_i[0]))
    value = float(sm_fleiss(counts, method="fleiss")) if complete else (p_bar - pe) / (1 - pe)
    pe_i = (counts @ pi_k) / r_i
    se = _linearised_se(counts, value, pa_i, two, pe, pe_i)
    tq = stats.t.ppf(0.5 + confidence / 2, N - 1)
    if complete:
        # Fleiss, Nee & Landis (1979) SE under the null, for the test of kappa = 0
        mm = int(r_i[0])
        s_ = (pi_k * (1 - pi_k)).sum()
        se0 = float(np.sqrt(2 / (N * mm * (mm - 1))) * np.sqrt(s_ ** 2 - (pi_k * (1 - pi_k) * (1 - 2 * pi_k)).sum())
                    / s_) if s_ > 0 else float("nan")
        pval = float(2 * stats.norm.sf(abs(value / se0))) if np.isfinite(se0) and se0 > 0 else float("nan")
        method = "Fleiss (1971); Gwet linearised SE (t interval); test of κ = 0 with the Fleiss–Nee–Landis SE"
    else:
        pval = float(2 * stats.t.sf(abs(value / se), N - 1)) if se > 0 else float("nan")
        method = "Fleiss (1971) generalised to missing ratings (Gwet 2014); linearised SE, t interval"
    warns = [_few_subjects_warning(N, "Fleiss kappa")] if N < 10 else []
    return AgreementResult(
        "Fleiss' kappa", value, se, max(-1.0, value - tq * se), min(1.0, value + tq * se), p_bar, pe, N,
        n_raters, cats, method, confidence, pval,
        {"subjects_excluded": excluded, "missing_ratings": n_missing}, warnings=warns)


def gwet_ac1(ratings, *, format: str = "raters", categories: Sequence | None = None,
             confidence: float = DEFAULT_CONFIDENCE) -> AgreementResult:
    """Gwet's (2008) AC1 for two or more raters (missing ratings allowed).

    With r_ik raters putting subject i in category k (r_i raters on subject i, q categories):
    p_a = mean over subjects with r_i ≥ 2 of Σ_k r_ik(r_ik − 1)/(r_i(r_i − 1));
    π_k = mean_i r_ik/r_i; p_e = Σ_k π_k(1 − π_k)/(q − 1); AC1 = (p_a − p_e)/(1 − p_e).
    The variance is Gwet's (2008, eq. 29; as in R ``irrCAC::gwet.ac1.raw``) linearised subject-level
    variance with a t interval on N − 1 df. For two raters and two categories, p_e = 2π(1 − π).

    ``categories`` matters: q counts the declared categories, used or not.

    Examples
    --------
    >>> round(gwet_ac1([[1, 1], [1, 1], [0, 0], [1, 0]]).value, 3)
    0.529
    """
    from scipy import stats

    confidence = _check_confidence(confidence)
    counts, cats, n_missing, n_raters = _counts_table(ratings, format, categories)
    q = counts.shape[1]
    if q < 2:
        raise InsufficientDataError("AC1 needs at least two categories; declare them with categories=",
                                    expected="≥ 2 categories")
    rated = counts.sum(axis=1) > 0
    counts = counts[rated]
    n = counts.shape[0]
    pa_i, two, pi_k, r_i = _pairwise_agreement(counts)
    n2 = int(two.sum())
    if n2 < 2:
        raise InsufficientDataError("AC1 needs at least two subjects with two or more ratings", value=n2,
                                    expected="≥ 2 subjects rated twice")
    pa = pa_i[two].sum() / n2
    pe = float((pi_k * (1 - pi_k)).sum() / (q - 1))
    ac1 = float((pa - pe) / (1 - pe))
    pe_i = (counts @ (1 - pi_k)) / r_i / (q - 1)
    se = _linearised_se(counts, ac1, pa_i, two, pe, pe_i)
    tq = stats.t.ppf(0.5 + confidence / 2, n - 1)
    pval = float(2 * stats.t.sf(abs(ac1 / se), n - 1)) if se > 0 else float("nan")
    warns = [_few_subjects_warning(n, "Gwet AC1")] if n < 10 else []
    return AgreementResult("Gwet's AC1", ac1, se, max(-1.0, ac1 - tq * se), min(1.0, ac1 + tq * se), float(pa), pe,
                           n, n_raters, cats, "Gwet (2008), linearised variance, t interval", confidence, pval,
                           {"missing_ratings": n_missing, "subjects_unrated": int((~rated).sum())}, warnings=warns)


def krippendorff_alpha(data, level: str = "nominal", *, n_boot: int = 1000, seed: int = 20261122,
                       confidence: float = DEFAULT_CONFIDENCE, categories: Sequence | None = None) -> AgreementResult:
    """Krippendorff's (2004) alpha: α = 1 − D_o/D_e (observed over expected disagreement among pairable values).

    Computed with the ``krippendorff`` package (Castro 2017) for the nominal, ordinal, interval and ratio
    difference functions. The interval is a percentile bootstrap over units (subjects), ``n_boot`` resamples
    with a fixed seed.

    Parameters
    ----------
    data : DataFrame or 2-D array
        Units (subjects) in rows × raters in columns; NaN = not rated. (Note: the ``krippendorff`` package
        itself takes raters × units; sqc uses the same orientation as :func:`fleiss_kappa`.)
    level : {"nominal", "ordinal", "interval", "ratio"}
    categories : sequence, optional
        For nominal/ordinal data: the allowed values (unknown values raise). Non-numeric labels are coded by
        their position in ``categories`` (or their sorted order).

    Examples
    --------
    Krippendorff (2011, "Computing Krippendorff's alpha-reliability") four observers × 12 units, nominal α = 0.743.
    """
    import krippendorff

    confidence = _check_confidence(confidence)
    levels = ("nominal", "ordinal", "interval", "ratio")
    if level not in levels:
        raise ParameterError(f"level must be one of {levels}, got {level!r}")
    if n_boot < 0:
        raise ParameterError("n_boot must be ≥ 0 (0 = no bootstrap interval)")
    df = _as_frame(data)
    if df.shape[1] < 2:
        raise InsufficientDataError("Krippendorff's alpha needs at least two raters (columns)", value=df.shape[1],
                                    expected="units × raters with ≥ 2 raters")
    if df.isna().all(axis=None):
        raise InsufficientDataError("every rating is missing", expected="at least one pairable value")
    numeric = df.apply(pd.to_numeric, errors="coerce")
    non_numeric = (numeric.isna() & df.notna()).to_numpy()
    if non_numeric.any() and level in ("interval", "ratio"):
        i = np.argwhere(non_numeric)[0]
        raise DataError("interval/ratio alpha needs numeric ratings", column=str(df.columns[i[1]]),
                        row=df.index[i[0]], value=df.iat[i[0], i[1]], expected="numbers")
    if categories is not None or non_numeric.any():
        codes, _, miss = _encode(df, categories)  # checks declared categories
        # labels are coded by their category position; numbers keep their values
        values = np.where(miss, np.nan, codes).astype(float) if non_numeric.any() else numeric.to_numpy(float)
    else:
        values = numeric.to_numpy(float)
    pairable = (~np.isnan(values)).sum(axis=1) >= 2
    if pairable.sum() < 2:
        raise InsufficientDataError("Krippendorff's alpha needs at least two units rated by two or more raters",
                                    value=int(pairable.sum()), expected="≥ 2 pairable units")
    if np.unique(values[~np.isnan(values)]).size < 2:
        raise InsufficientDataError("every rating has the same value, so alpha is undefined",
                                    expected="≥ 2 distinct values")
    vals = values[pairable]
    domain = np.unique(vals[~np.isnan(vals)])
    value = float(krippendorff.alpha(reliability_data=vals.T, level_of_measurement=level, value_domain=domain))
    lo = hi = se = float("nan")
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        n_units = vals.shape[0]
        boots = []
        for _ in range(n_boot):
            sample = vals[rng.integers(0, n_units, n_units)]
            if np.unique(sample[~np.isnan(sample)]).size < 2:
                continue  # degenerate resample: alpha undefined
            boots.append(krippendorff.alpha(reliability_data=sample.T, level_of_measurement=level,
                                            value_domain=domain))
        boots = np.asarray(boots)
        a = (1 - confidence) / 2
        lo, hi = (float(x) for x in np.quantile(boots, [a, 1 - a]))
        se = float(boots.std(ddof=1))
    n = int(pairable.sum())
    warns = [_few_subjects_warning(n, "Krippendorff alpha")] if n < 10 else []
    return AgreementResult(f"Krippendorff's alpha ({level})", value, se, lo, hi, float("nan"), float("nan"), n,
                           df.shape[1], list(domain), f"Krippendorff (2004); unit bootstrap ({n_boot} resamples)",
                           confidence, float("nan"),
                           {"units_not_pairable": int((~pairable).sum()),
                            "missing_ratings": int(np.isnan(values).sum())},
                           warnings=warns)


# ---------------------------------------------------------------------------------------------------------------
# Bland–Altman
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class BlandAltmanResult(ResultData):
    """Bland–Altman agreement between two methods/assessors (difference = a − b).

    Attributes
    ----------
    bias, bias_ci : mean difference and its t interval
    sd : SD of the differences
    loa_low, loa_high : bias ∓ z·SD (z = 1.96 for 95 %)
    loa_low_ci, loa_high_ci : intervals of the limits, SE = SD·√(1/n + z²/(2(n−1))) (Bland & Altman 1999)
    slope, slope_pval : regression of the difference on the pair mean (proportional bias check)
    means, diffs : the plotted points
    """

    _chart = "sqc.plotting.audit:bland_altman_spec"

    bias: float
    bias_ci: tuple
    sd: float
    loa_low: float
    loa_high: float
    loa_low_ci: tuple
    loa_high_ci: tuple
    n: int
    slope: float
    slope_pval: float
    means: np.ndarray
    diffs: np.ndarray
    label_a: str = "a"
    label_b: str = "b"
    confidence: float = DEFAULT_CONFIDENCE
    exclusions: dict = field(default_factory=dict)

    @property
    def bias_significant(self) -> bool:
        return bool(self.bias_ci[0] > 0 or self.bias_ci[1] < 0)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [("bias", self.bias, *self.bias_ci), ("lower limit of agreement", self.loa_low, *self.loa_low_ci),
             ("upper limit of agreement", self.loa_high, *self.loa_high_ci)],
            columns=["quantity", "value", "ci_low", "ci_high"]).assign(n=self.n)

    def _summary_lines(self, lang: str = "en") -> list[str]:
        c = f"{100 * self.confidence:.0f}%"
        lines = [f"Bland–Altman: {self.label_a} − {self.label_b}, n = {self.n} pairs",
                 f"bias {self.bias:+.3f} ({c} CI {self.bias_ci[0]:+.3f} to {self.bias_ci[1]:+.3f}), SD {self.sd:.3f}",
                 f"limits of agreement {self.loa_low:+.3f} ({self.loa_low_ci[0]:+.3f} to {self.loa_low_ci[1]:+.3f}) "
                 f"and {self.loa_high:+.3f} ({self.loa_high_ci[0]:+.3f} to {self.loa_high_ci[1]:+.3f})",
                 f"proportional bias: slope {self.slope:+.3f}, p = {self.slope_pval:.3g}"]
        return lines


def bland_altman(a: Sequence[float], b: Sequence[float], *, confidence: float = DEFAULT_CONFIDENCE,
                 labels: tuple[str, str] = ("a", "b")) -> BlandAltmanResult:
    """Bland & Altman (1986) bias and limits of agreement between paired measurements a and b.

    d_i = a_i − b_i; bias = d̄ with a t interval; limits d̄ ∓ z·s_d (z = Φ⁻¹(0.975) = 1.96 for 95 %), each with
    the approximate interval ± t_{n−1}·s_d·√(1/n + z²/(2(n−1))) (Bland & Altman 1999, §4.2). A regression of d on
    the pair mean (a + b)/2 checks for proportional bias (W-AG-04 when p < 0.05). Pairs with a missing value are
    dropped and counted.

    Examples
    --------
    >>> r = bland_altman([85, 70, 93, 72, 84, 80, 66, 92], [82, 74, 91, 65, 88, 77, 69, 95])
    >>> round(r.bias, 3)
    0.125
    """
    from scipy import stats

    confidence = _check_confidence(confidence)
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ParameterError(f"a and b must be 1-D and of equal length (got {x.shape} and {y.shape})")
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    n = int(x.size)
    if n < 3:
        raise InsufficientDataError("Bland–Altman needs at least three complete pairs", value=n,
                                    expected="≥ 3 pairs")
    d = x - y
    m = (x + y) / 2
    est = mean_ci(d, confidence)
    sd = float(d.std(ddof=1))
    z = stats.norm.ppf(0.5 + confidence / 2)
    t = stats.t.ppf(0.5 + confidence / 2, n - 1)
    se_loa = sd * np.sqrt(1 / n + z ** 2 / (2 * (n - 1)))
    lo, hi = est.value - z * sd, est.value + z * sd
    if np.ptp(m) > 0:
        reg = stats.linregress(m, d)
        slope, slope_p = float(reg.slope), float(reg.pvalue)
    else:
        slope, slope_p = float("nan"), float("nan")
    warns = []
    if np.isfinite(slope_p) and slope_p < 0.05:
        warns.append(QualityWarning(
            "W-AG-04", "warning", f"Proportional bias: the difference {labels[0]} − {labels[1]} changes with the "
            f"score level (slope {slope:+.2f} per point, p = {slope_p:.3g}); a single bias figure is a summary only.",
            {"slope": slope, "pval": slope_p, "n": n}, subject=f"{labels[0]} vs {labels[1]}",
            message_zh=f"比例偏倚：{labels[0]} − {labels[1]} 的差值随分数水平变化（斜率 {slope:+.2f}，p = {slope_p:.3g}）。"))
    return BlandAltmanResult(
        bias=est.value, bias_ci=(est.ci_low, est.ci_high), sd=sd, loa_low=float(lo), loa_high=float(hi),
        loa_low_ci=(float(lo - t * se_loa), float(lo + t * se_loa)),
        loa_high_ci=(float(hi - t * se_loa), float(hi + t * se_loa)), n=n, slope=slope, slope_pval=slope_p,
        means=m, diffs=d, label_a=labels[0], label_b=labels[1], confidence=confidence,
        exclusions={"pairs_with_missing": int((~ok).sum())}, warnings=warns)
