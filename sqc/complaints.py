"""Complaints and service recovery (Methods §5.3, §5.4, §6.1).

What is here
------------
* :func:`prepare_complaints` — checks the complaints table; a complaint closed before it was opened (or with no
  opening time) is either a :class:`~sqc.errors.DataError` (``on_invalid="raise"``) or excluded and *counted*
  (``on_invalid="exclude"``, the default; ``W-CMP-01``). Complaints closed after the report cut-off are treated as
  still open at the cut-off (their closure was not yet known then).
* :func:`complaint_pareto` — Pareto by category (or channel, branch...) on counts, severity-weighted counts or
  complaints per exposure (``sqc.spc.pareto`` does the ordering and cumulative shares; "vital few" = smallest set
  reaching ``vital_share``; small categories grouped into "other" only after sorting and never first).
* :func:`compare_periods` — χ² test of homogeneity on the category × period table (categories with expected
  count < 5 merged, as Methods §5.3 asks), per-category change in share with a Newcombe (1998) interval and,
  when exposure is given, the rate ratio with the exact conditional interval (as R ``poisson.test``); per-category
  p-values Holm-adjusted within the family "categories".
* :func:`check_sheet` — tally table category × week / month / branch / channel / severity with totals.
* :func:`time_to_resolve` — Kaplan–Meier (1958) time to resolve with open cases right-censored at the cut-off
  (statsmodels ``SurvfuncRight``; Greenwood variance; log-log ("cloglog") intervals for the median and P90).
  Averaging only closed cases is biased short, so it is never done.
* :func:`recovery_metrics` — recovery rate (recovered / closed), resolution-within-SLA (closed within
  ``sla_days`` / closed), reopen rate (reopened / closed), each with a Wilson interval (``sqc.inference``), plus the
  censoring-aware share resolved within the SLA (1 − KM survival at ``sla_days``).
* :func:`detect_surges` — per-category u chart of network complaints per 1 000 active customers by month
  (``sqc.spc.u_chart``; Laney u′ when overdispersed), limits from a baseline, and the Making Data Count variation
  verdict (``sqc.spc.variation_verdict``); returns the categories with special-cause concern and the first month
  of the signal.

Exposure convention: complaint rates are per ``rate_per`` customer-months (active customers summed over the
months in the window; for one month this is "per 1 000 customers"), never per call.

Warnings
--------
* ``W-CMP-01`` (warning): complaints excluded as invalid (closed before opened, no opening time) — counted.
* ``W-CMP-02`` (warning): P90 (or the median) of time to resolve not estimable: fewer than 90 % (50 %) of cases
  closed by the cut-off; the KM curve is shown instead.
* ``W-CMP-03`` (warning): fewer than ``min_n`` complaints behind a rate or a KM estimate.
* ``W-CMP-04`` (critical): a complaint category surges (special-cause concern on its u chart).
* ``W-CMP-05`` (info): categories merged for the χ² test because their expected count was below 5.

Example
-------
>>> from sqc.complaints import time_to_resolve               # doctest: +SKIP
>>> ttr = time_to_resolve(data.complaints, as_of="2026-10")   # doctest: +SKIP
>>> ttr.table[["n", "median", "median_ci_low", "median_ci_high", "p90"]]  # doctest: +SKIP
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .diagnostics import QualityWarning
from .errors import DataError, InsufficientDataError, ParameterError
from .inference import DEFAULT_CONFIDENCE, _check_confidence, adjust_pvalues, wilson_ci
from .results import ResultData, row_lines

REQUIRED = ("complaint_id", "opened_at", "closed_at", "branch", "category")
#: default severity weights of the weighted Pareto (a parameter; printed with the result)
SEVERITY_WEIGHTS = {"low": 1.0, "medium": 3.0, "high": 9.0}
DIMENSIONS = ("category", "channel", "branch", "severity")
MIN_N = 30
DAY = pd.Timedelta(days=1)


# --------------------------------------------------------------------------------------------- preparation
@dataclass
class PreparedComplaints:
    """Complaints checked and cut at ``as_of``: ``frame`` has the columns of the input plus ``closed``
    (bool, known closed by the cut-off), ``days`` (opened → closed, or → cut-off when open) and ``period``."""

    frame: pd.DataFrame
    as_of: pd.Timestamp | None
    exclusions: pd.DataFrame
    warnings: list = field(default_factory=list)


def _cutoff(as_of) -> pd.Timestamp | None:
    """``"2026-10"`` → first instant of 2026-11 (data up to and including October); a timestamp is used as is."""
    if as_of is None:
        return None
    if isinstance(as_of, str) and not re.fullmatch(r"\d{4}-\d{2}(-\d{2}([ T].*)?)?", as_of.strip()):
        raise ParameterError(f"as_of must be a month 'YYYY-MM' or a timestamp 'YYYY-MM-DD[ HH:MM]', got {as_of!r}")
    if isinstance(as_of, str) and len(as_of.strip()) == 7:
        try:
            return (pd.Period(as_of, "M") + 1).start_time
        except ValueError as exc:
            raise ParameterError(f"as_of must be a month 'YYYY-MM' or a timestamp, got {as_of!r}") from exc
    try:
        return pd.Timestamp(as_of)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"as_of must be a month 'YYYY-MM' or a timestamp, got {as_of!r}") from exc


def _to_datetime(s: pd.Series, column: str) -> pd.Series:
    """Timestamps as naive local wall time (time-zone-aware input keeps its local clock time, so it compares with a
    month cut-off such as "2026-10")."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
    out = pd.to_datetime(s, errors="coerce", format="mixed")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    bad = out.isna() & s.notna()
    if bad.any():
        row = s.index[np.flatnonzero(bad.to_numpy())[0]]
        raise DataError("cannot read a timestamp", column=column, row=row, value=s.loc[row],
                        expected="a timestamp such as 2026-10-31 14:05", count=int(bad.sum()))
    return out


def prepare_complaints(complaints: pd.DataFrame, *, as_of=None, on_invalid: str = "exclude",
                       branches=None) -> PreparedComplaints:
    """Check the complaints table and cut it at ``as_of``.

    Parameters
    ----------
    complaints : DataFrame
        Columns ``complaint_id, opened_at, closed_at (null = open), branch, category`` and, where used,
        ``channel, severity, recovered, reopened``.
    as_of : "YYYY-MM" or timestamp, optional
        Report cut-off: complaints opened at or after it are out of scope; complaints closed at or after it count
        as open (censored) at the cut-off. ``None``: no cut (open cases censored at the latest timestamp seen).
    on_invalid : {"exclude", "raise"}
        A complaint closed before it was opened, or without an opening time: raise a :class:`DataError` naming
        the row, or exclude it and count it in ``exclusions`` (``W-CMP-01``).
    branches : list, optional
        Keep only these branches.
    """
    if on_invalid not in ("exclude", "raise"):
        raise ParameterError(f"on_invalid must be 'exclude' or 'raise', got {on_invalid!r}")
    if not isinstance(complaints, pd.DataFrame):
        raise ParameterError(f"complaints must be a DataFrame, got {type(complaints).__name__}")
    missing = [c for c in REQUIRED if c not in complaints.columns]
    if missing:
        raise DataError(f"complaints table lacks column(s) {missing}", column=missing[0],
                        expected=f"columns {list(REQUIRED)}")
    df = complaints if branches is None else complaints.loc[complaints["branch"].isin(list(branches))]
    opened = _to_datetime(df["opened_at"], "opened_at")
    closed = _to_datetime(df["closed_at"], "closed_at")
    cut = _cutoff(as_of)
    reasons = {
        "no opening time": opened.isna().to_numpy(),
        "closed before opened": (closed < opened).fillna(False).to_numpy(dtype=bool),
    }
    ex_rows = []
    bad_any = np.zeros(len(df), dtype=bool)
    for reason, mask in reasons.items():
        mask = mask & ~bad_any
        if not mask.any():
            continue
        pos = np.flatnonzero(mask)
        col = "opened_at" if reason == "no opening time" else "closed_at"
        if on_invalid == "raise":
            i = pos[0]
            raise DataError(f"complaint {df['complaint_id'].iloc[i]!r}: {reason}", column=col, row=df.index[i],
                            value=str(closed.iloc[i]) if col == "closed_at" else None,
                            expected=f"closed_at ≥ opened_at ({opened.iloc[i]})" if col == "closed_at"
                            else "an opening timestamp", count=int(mask.sum()))
        ex_rows.append({"reason": reason, "column": col, "count": int(mask.sum()),
                        "first_ids": list(df["complaint_id"].iloc[pos[:5]])})
        bad_any |= mask
    warnings = []
    if bad_any.any():
        warnings.append(QualityWarning(
            "W-CMP-01", "warning", f"{int(bad_any.sum())} complaint(s) excluded as invalid: "
            + "; ".join(f"{r['count']} {r['reason']}" for r in ex_rows) + ".",
            {"excluded": int(bad_any.sum()), "reasons": {r["reason"]: r["count"] for r in ex_rows}}, "complaints",
            f"已排除 {int(bad_any.sum())} 条无效投诉（如结案时间早于受理时间）。"))
    keep = ~bad_any
    if cut is not None:
        keep &= (opened < cut).to_numpy()
    out = df.loc[keep].copy()
    opened, closed = opened[keep], closed[keep]
    if cut is None:
        ref = pd.concat([opened, closed]).max() if len(out) else pd.Timestamp.now()
        is_closed = closed.notna()
    else:
        ref = cut
        is_closed = closed.notna() & (closed < cut)
    end = closed.where(is_closed, ref)
    out["opened_at"] = opened
    out["closed_at"] = closed
    out["closed"] = is_closed.to_numpy(dtype=bool)
    out["days"] = ((end - opened) / DAY).to_numpy(dtype=float)
    # month label by datetime64 truncation (much cheaper than strftime on large tables)
    out["period"] = np.datetime_as_string(opened.to_numpy().astype("datetime64[M]"), unit="M")
    exclusions = pd.DataFrame(ex_rows, columns=["reason", "column", "count", "first_ids"])
    return PreparedComplaints(out, cut, exclusions, warnings)


def _prepared(complaints, as_of, on_invalid, branches=None) -> PreparedComplaints:
    if isinstance(complaints, PreparedComplaints):
        return complaints
    return prepare_complaints(complaints, as_of=as_of, on_invalid=on_invalid, branches=branches)


def _window(frame: pd.DataFrame, start, end) -> pd.DataFrame:
    """Rows opened in the inclusive month range [start, end] ("YYYY-MM")."""
    p = frame["period"]
    keep = np.ones(len(frame), dtype=bool)
    for bound, op in ((start, np.greater_equal), (end, np.less_equal)):
        if bound is not None:
            b = _month(bound)
            keep &= op(p.to_numpy(dtype=object).astype(str), b)
    return frame.loc[keep]


def _month(x) -> str:
    try:
        return pd.Period(x, "M").strftime("%Y-%m")
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"a period must be a month 'YYYY-MM', got {x!r}") from exc


def _months_between(start: str, end: str) -> list[str]:
    return [p.strftime("%Y-%m") for p in pd.period_range(_month(start), _month(end), freq="M")]


def _exposure(volumes: pd.DataFrame, months: list[str], by: str | None, branches=None) -> pd.Series | float:
    """Customer-months in ``months`` (per branch when ``by == "branch"``)."""
    for col in ("branch", "period", "active_customers"):
        if col not in volumes.columns:
            raise DataError(f"volumes table lacks column {col!r}", column=col)
    v = volumes.loc[volumes["period"].astype(str).isin(months)]
    if branches is not None:
        v = v.loc[v["branch"].isin(list(branches))]
    cust = pd.to_numeric(v["active_customers"], errors="coerce")
    if cust.isna().any() or (cust <= 0).any():
        i = int(np.flatnonzero((cust.isna() | (cust <= 0)).to_numpy())[0])
        raise DataError("zero or missing exposure: a complaint rate needs customers", column="active_customers",
                        row=v.index[i], value=cust.iloc[i], expected="a customer count > 0")
    got = set(v["period"].astype(str))
    lacking = [m for m in months if m not in got]
    if lacking:
        raise DataError("no exposure (active customers) for month(s) in the window", column="period",
                        value=lacking[:3], expected="a volumes row for every month of the window",
                        count=len(lacking))
    if by == "branch":
        return cust.groupby(v["branch"]).sum().astype(float)
    return float(cust.sum())


# ----------------------------------------------------------------------------------------------------- Pareto
@dataclass
class ComplaintPareto(ResultData):
    """Pareto table of complaints.

    ``table`` is in Pareto order (by ``basis``) with columns ``count, percent, cum_percent`` (of the basis, from
    ``sqc.spc.pareto``), ``complaints`` (raw count), ``weighted`` (severity-weighted count), ``rate`` with
    ``rate_ci_low/high`` (per ``rate_per`` customer-months, exact Poisson; when exposure was given) and
    ``vital_few`` (bool).
    """

    _frame_attr = "table"

    table: pd.DataFrame
    basis: str
    by: str
    n: int
    window: tuple[str | None, str | None]
    severity_weights: dict | None
    rate_per: int | None
    exposure: object
    vital_share: float

    @property
    def vital_few(self) -> list:
        return list(self.table.index[self.table["vital_few"]])

    def _summary_lines(self, lang: str = "en") -> list[str]:
        lo, hi = self.window
        head = (f"Pareto of complaints by {self.by} ({self.basis}), {lo or 'start'} to {hi or 'end'}, "
                f"n = {self.n}")
        lines = [head]
        if self.severity_weights:
            lines.append(f"  severity weights: {self.severity_weights}")
        for name, r in self.table.iterrows():
            rate = (f", {r['rate']:.3g} per {self.rate_per:,} [{r['rate_ci_low']:.3g}, {r['rate_ci_high']:.3g}]"
                    if "rate" in r and pd.notna(r.get("rate")) else "")
            lines.append(f"  {'*' if r['vital_few'] else ' '} {name}: {r['complaints']:.0f} complaints, "
                         f"{r['percent']:.1f}% (cum {r['cum_percent']:.1f}%){rate}")
        what = {"count": "complaints", "weighted": "weighted complaints", "rate": "summed rates"}[self.basis]
        lines.append(f"  * vital few: smallest set reaching {self.vital_share:.0%} of the {what}")
        return lines


def rate_ratio_exact(x2: float, e2: float, x1: float, e1: float, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float, float, float]:
    """Ratio of two Poisson rates ``(x2/e2) / (x1/e1)`` with the exact conditional interval and test (as R
    ``poisson.test(c(x2, x1), c(e2, e1))``): given ``x1 + x2``, ``x2`` is binomial with
    ``p = e2·RR / (e1 + e2·RR)``; Clopper–Pearson limits for p are mapped back to RR. Returns
    ``(ratio, low, high, p_value)``; NaN when ``x1 + x2 == 0``; ``high`` is inf when ``x1 == 0``."""
    from scipy import stats
    from statsmodels.stats.proportion import proportion_confint

    x1, x2 = int(x1), int(x2)
    n = x1 + x2
    if n == 0:
        return np.nan, np.nan, np.nan, np.nan
    lo, hi = proportion_confint(x2, n, alpha=1 - confidence, method="beta")
    k = e1 / e2

    def to_rr(p):
        return np.inf if p >= 1 else p / (1 - p) * k

    ratio = (x2 / e2) / (x1 / e1) if x1 > 0 else np.inf
    pv = stats.binomtest(x2, n, e2 / (e1 + e2)).pvalue
    return float(ratio), float(to_rr(lo)), float(to_rr(hi)), float(pv)


def _poisson_ci(count, exposure, confidence):
    """Exact (Garwood 1936) interval for a Poisson count divided by its exposure."""
    from scipy import stats

    alpha = 1 - confidence
    c = np.asarray(count, dtype=float)
    lo = np.where(c > 0, stats.chi2.ppf(alpha / 2, 2 * np.maximum(c, 1e-300)) / 2, 0.0)
    hi = stats.chi2.ppf(1 - alpha / 2, 2 * c + 2) / 2
    return lo / exposure, hi / exposure


def complaint_pareto(complaints, *, by: str = "category", basis: str = "count", start=None, end=None,
                     as_of=None, volumes: pd.DataFrame | None = None, rate_per: int = 10_000,
                     severity_weights: dict | None = None, vital_share: float = 0.8,
                     other_below: float | None = None, branches=None, confidence: float = DEFAULT_CONFIDENCE,
                     on_invalid: str = "exclude") -> ComplaintPareto:
    """Pareto analysis of complaints (Methods §5.3).

    Parameters
    ----------
    complaints : DataFrame or PreparedComplaints
    by : {"category", "channel", "branch", "severity"}
    basis : {"count", "weighted", "rate"}
        What the bars and the ordering use: raw counts, severity-weighted counts (``Σ weight[severity]``) or
        complaints per ``rate_per`` customer-months (needs ``volumes``; differs from counts only when the
        exposure differs between bars, i.e. ``by="branch"``).
    start, end : "YYYY-MM", optional
        Inclusive window of opening months.
    volumes : DataFrame, optional
        ``branch, period, active_customers``; gives the ``rate`` columns.
    severity_weights : dict, optional
        Severity → weight; default ``SEVERITY_WEIGHTS`` (low 1, medium 3, high 9). Printed with the result.
    vital_share : float
        The "vital few" are the smallest leading set whose cumulative share reaches this (default 0.8).
    other_below : float, optional
        After sorting, bars with less than this share (e.g. 0.02) are grouped into "other" placed last.

    Returns
    -------
    ComplaintPareto
    """
    from .spc import pareto as spc_pareto

    if by not in DIMENSIONS:
        raise ParameterError(f"by must be one of {DIMENSIONS}, got {by!r}")
    if basis not in ("count", "weighted", "rate"):
        raise ParameterError(f"basis must be 'count', 'weighted' or 'rate', got {basis!r}")
    if not (0 < vital_share <= 1):
        raise ParameterError(f"vital_share must be in (0, 1], got {vital_share!r}")
    if basis == "rate" and volumes is None:
        raise ParameterError("basis='rate' needs volumes= (active customers per branch and month)")
    if rate_per <= 0:
        raise ParameterError(f"rate_per must be positive, got {rate_per!r}")
    confidence = _check_confidence(confidence)
    prep = _prepared(complaints, as_of, on_invalid, branches)
    frame = _window(prep.frame, start, end)
    if by not in frame.columns:
        raise DataError(f"complaints table lacks column {by!r}", column=by)
    if frame.empty:
        raise InsufficientDataError("no complaints in the window", expected=f"complaints opened {start}..{end}")
    weights = dict(SEVERITY_WEIGHTS if severity_weights is None else severity_weights)
    if any((not np.isfinite(w)) or w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ParameterError(f"severity weights must be non-negative and not all zero, got {weights}")
    counts = frame.groupby(by, observed=True).size().astype(float)
    table = pd.DataFrame({"complaints": counts})
    if "severity" in frame.columns:
        unknown = sorted(set(frame["severity"].dropna().astype(str)) - set(weights))
        if unknown:
            raise DataError("severity level without a weight", column="severity", value=unknown[0],
                            expected=f"one of {sorted(weights)} (or pass severity_weights=)")
        w = frame["severity"].astype(object).map(weights).astype(float)
        table["weighted"] = w.groupby(frame[by], observed=True).sum()
    elif basis == "weighted":
        raise DataError("a weighted Pareto needs the severity column", column="severity")
    warnings = list(prep.warnings)
    lo_m = _month(start) if start is not None else frame["period"].min()
    hi_m = _month(end) if end is not None else frame["period"].max()
    exposure = None
    if volumes is not None:
        months = _months_between(lo_m, hi_m)
        exposure = _exposure(volumes, months, by if by == "branch" else None, branches)
        expo = (exposure.reindex(table.index) if by == "branch" else pd.Series(exposure, index=table.index))
        if expo.isna().any():
            raise DataError("complaints for a branch without exposure", column="branch",
                            value=list(expo.index[expo.isna()])[:3], expected="a volumes row for each branch")
        units = expo / rate_per
        table["rate"] = table["complaints"] / units
        table["rate_ci_low"], table["rate_ci_high"] = _poisson_ci(table["complaints"].to_numpy(), units.to_numpy(),
                                                                  confidence)
        table["exposure"] = expo
    basis_col = {"count": "complaints", "weighted": "weighted", "rate": "rate"}[basis]
    # sqc.spc.pareto orders, accumulates and marks the vital few ("other" always last, never first)
    table = spc_pareto(table[basis_col], threshold=vital_share).join(table, how="left")
    if other_below is not None and len(table) > 2:
        small = (table["percent"] < 100 * other_below) & (np.arange(len(table)) > 0)
        is_other = pd.Index(table.index.astype(str)).str.strip().str.lower() == "other"
        if small.sum() >= 2:
            group = small.to_numpy() | is_other
            cols = ["complaints"] + [c for c in ("weighted", "exposure") if c in table]
            agg = table.loc[group, cols].sum()
            if "rate" in table:
                # pooled rate of the grouped bars (not the sum of their rates)
                if by != "branch":
                    agg["exposure"] = table["exposure"].iloc[0]
                units = agg["exposure"] / rate_per
                agg["rate"] = agg["complaints"] / units
                lo_, hi_ = _poisson_ci(np.array([agg["complaints"]]), units, confidence)
                agg["rate_ci_low"], agg["rate_ci_high"] = float(lo_[0]), float(hi_[0])
            kept = table.loc[~group].drop(columns=["count", "percent", "cum_percent", "vital_few"])
            merged = pd.concat([kept, agg.to_frame("other").T.astype(float)])
            merged.index.name = table.index.name
            table = spc_pareto(merged[basis_col], threshold=vital_share).join(merged, how="left")
    n = int(table["complaints"].sum())
    if n < MIN_N:
        warnings.append(QualityWarning(
            "W-CMP-03", "warning", f"Only {n} complaints in the window; the Pareto order is unstable.",
            {"n": n, "min_n": MIN_N}, "complaints Pareto", f"窗口内仅有 {n} 条投诉，帕累托排序不稳定。"))
    return ComplaintPareto(table, basis, by, n, (lo_m, hi_m), weights if "weighted" in table else None,
                           rate_per if volumes is not None else None, exposure, vital_share, warnings=warnings)


# --------------------------------------------------------------------------------------- period comparison
@dataclass
class PeriodComparison(ResultData):
    """Category mix (and rates) in two windows. ``table`` per category: counts, shares, share difference with
    Newcombe CI, and (with exposure) rates, rate ratio with CI and Holm-adjusted p-values."""

    _frame_attr = "table"

    table: pd.DataFrame
    chi2: float
    df: int
    p_value: float
    merged: list
    first: tuple[str, str]
    second: tuple[str, str]
    confidence: float

    def _summary_lines(self, lang: str = "en") -> list[str]:
        f, s = self.first, self.second
        lines = [f"Complaint mix {f[0]}..{f[1]} vs {s[0]}..{s[1]}: χ²({self.df}) = {self.chi2:.2f}, "
                 f"p = {self.p_value:.4g}" + (f" (merged: {self.merged})" if self.merged else "")]
        for cat, r in self.table.iterrows():
            line = (f"  {cat}: {r['n_1']:.0f} → {r['n_2']:.0f}; share {r['share_1']:.1%} → {r['share_2']:.1%} "
                    f"(Δ {r['share_diff']:+.1%} [{r['share_diff_ci_low']:+.1%}, {r['share_diff_ci_high']:+.1%}])")
            if "rate_ratio" in r:
                line += (f"; rate ratio {r['rate_ratio']:.2f} [{r['rate_ratio_ci_low']:.2f}, "
                         f"{r['rate_ratio_ci_high']:.2f}], p(Holm) = {r['p_adjusted']:.3g}")
            lines.append(line)
        return lines


def _span(x) -> tuple[str, str]:
    if isinstance(x, (tuple, list)):
        if len(x) != 2:
            raise ParameterError(f"a window is 'YYYY-MM' or (start, end), got {x!r}")
        return _month(x[0]), _month(x[1])
    m = _month(x)
    return m, m


def compare_periods(complaints, first, second, *, by: str = "category", volumes: pd.DataFrame | None = None,
                    as_of=None, branches=None, min_expected: float = 5.0, confidence: float = DEFAULT_CONFIDENCE,
                    adjust: str = "holm", on_invalid: str = "exclude") -> PeriodComparison:
    """Compare the complaint mix (and rates) of two windows (Methods §5.3).

    Parameters
    ----------
    first, second : "YYYY-MM" or (start, end)
        The two windows (inclusive months); ``second`` is compared against ``first``.
    volumes : DataFrame, optional
        Exposure; adds per-category rates (per 1 000 customer-months) and the rate ratio second/first with the
        exact conditional interval and test (:func:`rate_ratio_exact`, as R ``poisson.test``).
    min_expected : float
        Categories whose expected count in either window is below this are merged into one cell before the χ²
        test of homogeneity (``W-CMP-05``).
    adjust : str
        Multiplicity adjustment of the per-category rate tests, family = "categories" (Holm by default).

    Notes
    -----
    Share change per category: difference of independent proportions with the Newcombe (1998) hybrid score
    interval. χ² test: ``scipy.stats.chi2_contingency`` without continuity correction.
    """
    from scipy import stats
    from statsmodels.stats.proportion import confint_proportions_2indep

    if by not in DIMENSIONS:
        raise ParameterError(f"by must be one of {DIMENSIONS}, got {by!r}")
    confidence = _check_confidence(confidence)
    a, b = _span(first), _span(second)
    prep = _prepared(complaints, as_of, on_invalid, branches)
    fa, fb = _window(prep.frame, *a), _window(prep.frame, *b)
    ca = fa.groupby(by, observed=True).size()
    cb = fb.groupby(by, observed=True).size()
    tab = pd.concat([ca.rename("n_1"), cb.rename("n_2")], axis=1).fillna(0).astype(int)
    tab = tab.loc[tab.sum(axis=1) > 0]
    n1, n2 = int(tab["n_1"].sum()), int(tab["n_2"].sum())
    if n1 == 0 or n2 == 0:
        raise InsufficientDataError("both windows need complaints to compare", value=(n1, n2),
                                    expected="at least one complaint in each window")
    warnings = list(prep.warnings)
    # χ² homogeneity with small-expected categories merged (smallest first until all expected ≥ min_expected)
    total = n1 + n2
    chi_tab = tab.copy()
    merged: list = []
    while len(chi_tab) > 2:
        expected = np.outer(chi_tab.sum(axis=1), [n1, n2]) / total
        low = expected.min(axis=1) < min_expected
        if not low.any():
            break
        order = chi_tab.sum(axis=1).sort_values().index
        low_names = [c for c in order if low[list(chi_tab.index).index(c)]]
        take = low_names[:2] if len(low_names) >= 2 else [low_names[0], [c for c in order if c != low_names[0]][0]]
        merged.extend([t for t in take if not str(t).startswith("merged")])
        row = chi_tab.loc[take].sum()
        chi_tab = pd.concat([chi_tab.drop(index=take), row.to_frame(f"merged ({len(merged)})").T])
    if len(chi_tab) >= 2:
        chi2, p, dof, _ = stats.chi2_contingency(chi_tab.to_numpy(), correction=False)
    else:
        chi2, p, dof = float("nan"), float("nan"), 0
    if merged:
        warnings.append(QualityWarning(
            "W-CMP-05", "info", f"Categories merged for the χ² test (expected count < {min_expected:g}): {merged}.",
            {"merged": [str(m) for m in merged]}, "complaint mix",
            f"χ² 检验中合并了期望频数小于 {min_expected:g} 的类别：{merged}。"))
    s1, s2 = tab["n_1"] / n1, tab["n_2"] / n2
    lo, hi = [], []
    for x1, x2 in zip(tab["n_2"], tab["n_1"]):
        l_, h_ = confint_proportions_2indep(x1, n2, x2, n1, method="newcomb", alpha=1 - confidence)
        lo.append(l_)
        hi.append(h_)
    out = pd.DataFrame({"n_1": tab["n_1"], "n_2": tab["n_2"], "share_1": s1, "share_2": s2, "share_diff": s2 - s1,
                        "share_diff_ci_low": lo, "share_diff_ci_high": hi}, index=tab.index)
    if volumes is not None:
        e1 = _exposure(volumes, _months_between(*a), None, branches) / 1000.0
        e2 = _exposure(volumes, _months_between(*b), None, branches) / 1000.0
        out["rate_1"] = out["n_1"] / e1
        out["rate_2"] = out["n_2"] / e2
        rr, rl, rh, pv = [], [], [], []
        for x1, x2 in zip(out["n_1"], out["n_2"]):
            r_, l_, h_, p_ = rate_ratio_exact(x2, e2, x1, e1, confidence)
            rr.append(r_)
            rl.append(l_)
            rh.append(h_)
            pv.append(p_)
        out["rate_ratio"], out["rate_ratio_ci_low"], out["rate_ratio_ci_high"] = rr, rl, rh
        out["p_value"] = pv
        out["p_adjusted"] = adjust_pvalues(pv, adjust)
        out.attrs["rate_unit"] = "complaints per 1,000 customer-months"
        out.attrs["family"] = f"{len(out)} categories ({adjust})"
    out = out.sort_values("n_2", ascending=False)
    return PeriodComparison(out, float(chi2), int(dof), float(p), merged, a, b, confidence, warnings=warnings)


# ------------------------------------------------------------------------------------------------ check sheet
def check_sheet(complaints, *, rows: str = "category", columns: str = "week", start=None, end=None, as_of=None,
                branches=None, on_invalid: str = "exclude") -> pd.DataFrame:
    """Check-sheet tally (Ishikawa): counts of complaints by ``rows`` × ``columns`` with totals.

    ``columns`` is ``"week"`` (ISO week starting Monday, labelled by its Monday), ``"month"``, ``"branch"``,
    ``"channel"`` or ``"severity"``. Categories with no complaints in the window do not appear; the ``Total`` row
    and column close the table.
    """
    allowed_cols = ("week", "month") + DIMENSIONS
    if rows not in DIMENSIONS:
        raise ParameterError(f"rows must be one of {DIMENSIONS}, got {rows!r}")
    if columns not in allowed_cols:
        raise ParameterError(f"columns must be one of {allowed_cols}, got {columns!r}")
    prep = _prepared(complaints, as_of, on_invalid, branches)
    f = _window(prep.frame, start, end)
    if columns == "week":
        col = (f["opened_at"].dt.normalize() - pd.to_timedelta(f["opened_at"].dt.day_of_week, unit="D")).dt.strftime(
            "%Y-%m-%d").rename("week")
    elif columns == "month":
        col = f["period"].rename("month")
    else:
        col = f[columns]
    tab = pd.crosstab(f[rows], col, margins=True, margins_name="Total")
    tab.attrs["exclusions"] = prep.exclusions
    return tab


# ------------------------------------------------------------------------------------------- time to resolve
@dataclass
class TimeToResolve(ResultData):
    """Kaplan–Meier time to resolve (days), open cases censored at the cut-off.

    ``table`` per group: ``n, closed, open, median, median_ci_low, median_ci_high, p90, p90_ci_low, p90_ci_high``
    (days; NaN where not estimable, see ``W-CMP-02``) and ``within_sla`` with its CI (1 − S(sla_days)).
    ``curves`` maps group → DataFrame ``days, survival, ci_low, ci_high`` (step function; pointwise log-log CI).
    """

    _frame_attr = "table"

    table: pd.DataFrame
    curves: dict
    as_of: pd.Timestamp | None
    by: str | None
    sla_days: float | None
    confidence: float

    def _summary_lines(self, lang: str = "en") -> list[str]:
        pct = int(round(self.confidence * 100))

        def f(v):
            return "n/e" if pd.isna(v) else f"{v:.1f}"

        return row_lines(f"Time to resolve (Kaplan–Meier, open cases censored at {self.as_of}; {pct}% log-log CIs)",
                         self.table, lambda g, r: f"{g}: n = {int(r['n'])} ({int(r['open'])} open); median "
                         f"{f(r['median'])} d [{f(r['median_ci_low'])}, {f(r['median_ci_high'])}], P90 {f(r['p90'])}"
                         f" d [{f(r['p90_ci_low'])}, {f(r['p90_ci_high'])}]")


def _km_quantile(times: np.ndarray, surv: np.ndarray, q: float) -> float:
    """The q-quantile of a KM curve with R survival's convention (``quantile.survfit``): the first event time where
    S(t) ≤ 1 − q, except that where S is exactly 1 − q over an interval the midpoint of that interval is taken
    (without censoring this is the usual "averaged" sample quantile, R type 2). NaN when S never reaches 1 − q."""
    target = 1.0 - q
    eq = np.flatnonzero(np.abs(surv - target) <= 1e-12)
    if eq.size:
        i = int(eq[0])
        return float((times[i] + times[i + 1]) / 2) if i + 1 < times.size else float(times[i])
    below = np.flatnonzero(surv < target)
    return float(times[below[0]]) if below.size else float("nan")


def _km(days: np.ndarray, closed: np.ndarray, confidence: float, sla_days, quantiles=(0.5, 0.9)):
    """KM fit with statsmodels; quantiles with log-log ("cloglog") CIs, pointwise log-log band."""
    from scipy import stats
    from statsmodels.duration.survfunc import SurvfuncRight

    sf = SurvfuncRight(days, closed.astype(float))
    alpha = 1 - confidence
    res = {}
    for q in quantiles:
        key = "median" if q == 0.5 else f"p{int(round(q * 100))}"
        est = _km_quantile(sf.surv_times, sf.surv_prob, q)
        try:
            with np.errstate(divide="ignore", invalid="ignore"):
                lo, hi = sf.quantile_ci(q, alpha=alpha, method="cloglog")
        except (ValueError, IndexError):
            lo, hi = np.nan, np.nan
        lo = np.nan if lo is None else float(lo)
        hi = np.nan if hi is None else float(hi)
        # Where the KM curve has dropped to 0 the log-log band is undefined; R survival reports such a bound as
        # NA (not reached) and so do we.
        dead = sf.surv_times[sf.surv_prob <= 0]
        if dead.size and np.isfinite(hi) and hi >= dead.min():
            hi = np.nan
        if np.isinf(hi):
            hi = np.nan
        res[key] = est
        res[f"{key}_ci_low"] = lo
        res[f"{key}_ci_high"] = hi
    t, s, se = sf.surv_times, sf.surv_prob, sf.surv_prob_se
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        # log-log band (R survival conf.type = "log-log"): S^exp(±z·se/(S·log S))
        theta = z * se / (s * np.log(s))
        low = np.where((s > 0) & (s < 1), s ** np.exp(-theta), np.nan)
        high = np.where((s > 0) & (s < 1), s ** np.exp(theta), np.nan)
    curve = pd.DataFrame({"days": np.r_[0.0, t], "survival": np.r_[1.0, s], "ci_low": np.r_[1.0, low],
                          "ci_high": np.r_[1.0, high]})
    if sla_days is not None:
        idx = np.searchsorted(t, sla_days, side="right") - 1
        if idx < 0:
            res.update(within_sla=0.0, within_sla_ci_low=np.nan, within_sla_ci_high=np.nan)
        else:
            res.update(within_sla=1 - s[idx], within_sla_ci_low=1 - high[idx], within_sla_ci_high=1 - low[idx])
    return res, curve


def time_to_resolve(complaints, *, as_of=None, by: str | None = None, start=None, end=None,
                    sla_days: float | None = None, branches=None, confidence: float = DEFAULT_CONFIDENCE,
                    min_n: int = MIN_N, on_invalid: str = "exclude") -> TimeToResolve:
    """Kaplan–Meier time to resolve with open complaints right-censored at ``as_of`` (Methods §6.1).

    Parameters
    ----------
    complaints : DataFrame or PreparedComplaints
    as_of : "YYYY-MM" or timestamp
        Report cut-off (open cases are censored there).
    by : str, optional
        Group column (category, branch, channel, severity); a network row ``ALL`` is always included.
    start, end : "YYYY-MM", optional
        Cohort: complaints *opened* in this window.
    sla_days : float, optional
        Adds ``within_sla`` = 1 − S(sla_days), the censoring-aware share resolved within the SLA.

    Notes
    -----
    Estimator ``S(t) = Π_{t_i ≤ t} (1 − d_i / n_i)`` (statsmodels ``SurvfuncRight``) with Greenwood's variance; the
    q-quantile is the first event time with ``S(t) ≤ 1 − q`` (midpoint where S equals 1 − q over an interval, as R
    ``survival::quantile.survfit``) and its CI the set of t whose log-log pointwise interval contains ``1 − q``
    (Brookmeyer & Crowley 1982), as statsmodels ``SurvfuncRight.quantile_ci(method="cloglog")`` computes it; an
    upper limit that is never reached is NaN (R: NA).
    """
    confidence = _check_confidence(confidence)
    if by is not None and by not in DIMENSIONS:
        raise ParameterError(f"by must be one of {DIMENSIONS} or None, got {by!r}")
    if sla_days is not None and (not np.isfinite(sla_days) or sla_days <= 0):
        raise ParameterError(f"sla_days must be a positive number of days, got {sla_days!r}")
    prep = _prepared(complaints, as_of, on_invalid, branches)
    f = _window(prep.frame, start, end)
    if f.empty:
        raise InsufficientDataError("no complaints in the cohort window", expected=f"complaints opened {start}..{end}")
    groups = [("ALL", f)]
    if by is not None:
        groups += [(g, sub) for g, sub in f.groupby(by, observed=True, sort=True)]
    rows, curves = [], {}
    warnings = list(prep.warnings)
    for g, sub in groups:
        days = sub["days"].to_numpy(dtype=float)
        closed = sub["closed"].to_numpy(dtype=bool)
        res, curve = _km(np.maximum(days, 0.0), closed, confidence, sla_days)
        rows.append({by or "group": g, "n": len(sub), "closed": int(closed.sum()), "open": int((~closed).sum()),
                     **res})
        curves[g] = curve
        for key, q in (("median", 0.5), ("p90", 0.9)):
            if np.isnan(res[key]):
                warnings.append(QualityWarning(
                    "W-CMP-02", "warning", f"{g}: the {'median' if q == 0.5 else 'P90'} time to resolve is not "
                    f"estimable yet — fewer than {q:.0%} of complaints were closed by the cut-off.",
                    {"group": str(g), "quantile": q, "closed_share": float(closed.mean())}, f"time to resolve {g}",
                    f"{g}：截至统计时点结案比例不足 {q:.0%}，无法估计{'中位' if q == 0.5 else 'P90 '}处理时长。"))
        if len(sub) < min_n:
            warnings.append(QualityWarning(
                "W-CMP-03", "warning", f"{g}: only {len(sub)} complaints behind the time-to-resolve estimate.",
                {"group": str(g), "n": len(sub), "min_n": min_n}, f"time to resolve {g}",
                f"{g}：处理时长估计仅基于 {len(sub)} 条投诉。"))
    table = pd.DataFrame(rows).set_index(by or "group")
    return TimeToResolve(table, curves, prep.as_of, by, sla_days, confidence, warnings=warnings)


# ------------------------------------------------------------------------------------------- recovery metrics
@dataclass
class RecoveryMetrics(ResultData):
    """Recovery, resolution-within-SLA and reopen rates with Wilson CIs (tidy ``table``: group, metric,
    successes, n, value, ci_low, ci_high)."""

    _frame_attr = "table"

    table: pd.DataFrame
    sla_days: float
    by: str | None
    window: tuple
    confidence: float

    def wide(self) -> pd.DataFrame:
        return self.table.pivot(index="group", columns="metric", values="value")

    def _summary_lines(self, lang: str = "en") -> list[str]:
        return row_lines(f"Service recovery ({self.window[0] or 'start'}..{self.window[1] or 'end'}; SLA "
                         f"{self.sla_days:g} days; Wilson {self.confidence:.0%} CIs; denominators = complaints closed"
                         " by the cut-off)", self.table,
                         lambda _, r: f"{r['group']} {r['metric']}: {r['value']:.1%} [{r['ci_low']:.1%}, "
                         f"{r['ci_high']:.1%}] ({int(r['successes'])}/{int(r['n'])})")


RECOVERY_METRICS = {
    "recovery_rate": "complaints closed with customer-confirmed satisfactory resolution / complaints closed",
    "sla_compliance": "complaints closed within the SLA (days from opening) / complaints closed",
    "reopen_rate": "complaints reopened at least once / complaints closed",
}


def recovery_metrics(complaints, *, as_of=None, sla_days: float = 5.0, by: str | None = None, start=None,
                     end=None, branches=None, confidence: float = DEFAULT_CONFIDENCE, min_n: int = MIN_N,
                     on_invalid: str = "exclude") -> RecoveryMetrics:
    """Recovery rate, resolution-within-SLA and reopen rate with Wilson intervals (Methods §6.1).

    Denominator for all three: complaints opened in the window and closed by the cut-off (``recovered`` is null
    for open cases). A closed complaint with a missing ``recovered``/``reopened`` flag is left out of that
    metric's denominator and counted in ``table["missing"]``. The censoring-aware SLA share (which also counts
    the cases still open) is :func:`time_to_resolve` with ``sla_days``.
    """
    confidence = _check_confidence(confidence)
    if not np.isfinite(sla_days) or sla_days <= 0:
        raise ParameterError(f"sla_days must be a positive number of days, got {sla_days!r}")
    if by is not None and by not in DIMENSIONS:
        raise ParameterError(f"by must be one of {DIMENSIONS} or None, got {by!r}")
    for col in ("recovered", "reopened"):
        if col not in (complaints.frame if isinstance(complaints, PreparedComplaints) else complaints).columns:
            raise DataError(f"complaints table lacks column {col!r}", column=col)
    prep = _prepared(complaints, as_of, on_invalid, branches)
    f = _window(prep.frame, start, end)
    f = f.loc[f["closed"]]
    groups = [("ALL", f)]
    if by is not None:
        groups += [(g, sub) for g, sub in f.groupby(by, observed=True, sort=True)]
    rows = []
    warnings = list(prep.warnings)
    for g, sub in groups:
        for metric in RECOVERY_METRICS:
            if metric == "sla_compliance":
                ok = np.ones(len(sub), dtype=bool)
                succ = (sub["days"].to_numpy(dtype=float) <= sla_days)
            else:
                col = "recovered" if metric == "recovery_rate" else "reopened"
                vals = sub[col]
                ok = vals.notna().to_numpy()
                succ = vals.fillna(False).astype(bool).to_numpy()
            x, n = int(succ[ok].sum()), int(ok.sum())
            lo, hi = wilson_ci(x, n, confidence)
            rows.append({"group": g, "metric": metric, "successes": x, "n": n, "missing": int((~ok).sum()),
                         "value": x / n if n else np.nan, "ci_low": lo, "ci_high": hi})
        if len(sub) < min_n:
            warnings.append(QualityWarning(
                "W-CMP-03", "warning", f"{g}: only {len(sub)} closed complaints behind the recovery rates.",
                {"group": str(g), "n": len(sub), "min_n": min_n}, f"recovery {g}",
                f"{g}：恢复率仅基于 {len(sub)} 条已结案投诉。"))
    table = pd.DataFrame(rows)
    table.attrs["definitions"] = {**RECOVERY_METRICS, "sla_days": sla_days}
    return RecoveryMetrics(table, float(sla_days), by, (start, end), confidence, warnings=warnings)


# ---------------------------------------------------------------------------------------------- surge detector
@dataclass
class SurgeResult(ResultData):
    """Per-category u charts of network complaints per ``rate_per`` active customers by month.

    ``table`` per category: ``verdict`` (Making Data Count variation verdict), ``surge`` (special-cause concern,
    i.e. upward, at the latest month), ``first_signal`` (onset: first month of the unbroken block of points
    above the UCL, or of upward Making Data Count pattern points, that ends at the latest month),
    ``baseline_rate``, ``recent_rate`` (over the last ``recent`` months), ``rate_ratio`` with the exact conditional
    CI (recent vs baseline, :func:`rate_ratio_exact`), ``latest`` month values. ``charts`` maps category → the
    sqc.spc chart object;
    ``series`` the tidy monthly rates that fed them.
    """

    _frame_attr = "table"

    table: pd.DataFrame
    charts: dict
    series: pd.DataFrame
    baseline: tuple[str, str]
    rate_per: int
    chart_kind: str

    @property
    def surging(self) -> list:
        return list(self.table.index[self.table["surge"]])

    def _summary_lines(self, lang: str = "en") -> list[str]:
        lines = [f"Complaint surges (u charts per {self.rate_per:,} active customers, baseline "
                 f"{self.baseline[0]}..{self.baseline[1]})"]
        for cat, r in self.table.iterrows():
            flag = "SURGE" if r["surge"] else "     "
            lines.append(f"  {flag} {cat}: {r['verdict']}; baseline {r['baseline_rate']:.3f}, recent "
                         f"{r['recent_rate']:.3f} (ratio {r['rate_ratio']:.2f} [{r['rate_ratio_ci_low']:.2f}, "
                         f"{r['rate_ratio_ci_high']:.2f}]); first signal "
                         f"{r['first_signal'] if isinstance(r['first_signal'], str) else '—'}")
        return lines


def monthly_category_rates(complaints, volumes: pd.DataFrame, *, as_of=None, branches=None, rate_per: int = 1000,
                           start=None, end=None, on_invalid: str = "exclude") -> pd.DataFrame:
    """Network complaints per month and category with exposure: ``category, period, complaints, customers,
    exposure (customers / rate_per), rate``. Months with no complaint of a category appear with 0."""
    prep = _prepared(complaints, as_of, on_invalid, branches)
    f = _window(prep.frame, start, end)
    if f.empty:
        raise InsufficientDataError("no complaints in the window", expected="complaints to chart")
    lo = _month(start) if start is not None else f["period"].min()
    hi = _month(end) if end is not None else (prep.as_of - DAY).strftime("%Y-%m") if prep.as_of is not None \
        else f["period"].max()
    months = _months_between(lo, hi)
    v = volumes.loc[volumes["period"].astype(str).isin(months)]
    if branches is not None:
        v = v.loc[v["branch"].isin(list(branches))]
    cust = v.groupby(v["period"].astype(str))["active_customers"].sum().reindex(months)
    if cust.isna().any() or (cust <= 0).any():
        miss = list(cust.index[cust.isna() | (cust <= 0)])
        raise DataError("no exposure (active customers) for month(s)", column="active_customers", value=miss[:3],
                        expected="a volumes row for every month", count=len(miss))
    cats = sorted(f["category"].astype(str).unique())
    counts = f.groupby([f["category"].astype(str), f["period"]]).size()
    idx = pd.MultiIndex.from_product([cats, months], names=["category", "period"])
    counts = counts.reindex(idx, fill_value=0)
    out = counts.rename("complaints").reset_index()
    out["customers"] = cust.reindex(out["period"]).to_numpy(dtype=float)
    out["exposure"] = out["customers"] / rate_per
    out["rate"] = out["complaints"] / out["exposure"]
    return out


def _onset(mask: np.ndarray) -> int | None:
    """Start index of the unbroken run of True values that ends at the last position (None if the last is False)."""
    if mask.size == 0 or not mask[-1]:
        return None
    false_idx = np.flatnonzero(~mask)
    return int(false_idx[-1] + 1) if false_idx.size else 0


def detect_surges(complaints, volumes: pd.DataFrame, *, as_of=None, baseline=None, baseline_months: int = 12,
                  recent: int = 3, branches=None, rate_per: int = 1000, laney: str = "auto",
                  start=None, confidence: float = DEFAULT_CONFIDENCE, on_invalid: str = "exclude") -> SurgeResult:
    """Find complaint categories that surge: per-category u chart of network complaints per ``rate_per``
    active customers by month, with limits frozen from a baseline (Phase I) and the Making Data Count variation
    verdict ("lower is better").

    Parameters
    ----------
    complaints, volumes : DataFrame
    as_of : "YYYY-MM"
        Last month charted.
    baseline : (start, end), optional
        Phase-I months for the limits; default the first ``baseline_months`` months charted.
    recent : int
        Months averaged for ``recent_rate`` and compared with the baseline (rate ratio, score CI).
    laney : {"auto", "always", "never"}
        Laney u′ (Laney 2002): ``"auto"`` switches to u′ when the plain u chart raises sqc.spc's overdispersion
        warning W-SPC-03 (:func:`sqc.scorecard.attribute_chart`).

    Returns
    -------
    SurgeResult
        ``.surging`` lists categories with special-cause concern (``W-CMP-04`` each).
    """
    from . import spc
    from .scorecard import attribute_chart

    if recent < 1:
        raise ParameterError(f"recent must be ≥ 1 month, got {recent!r}")
    if laney not in ("auto", "always", "never"):
        raise ParameterError(f"laney must be 'auto', 'always' or 'never', got {laney!r}")
    confidence = _check_confidence(confidence)
    series = monthly_category_rates(complaints, volumes, as_of=as_of, branches=branches, rate_per=rate_per,
                                    start=start, on_invalid=on_invalid)
    months = sorted(series["period"].unique())
    if baseline is None:
        if len(months) < baseline_months + 1:
            raise InsufficientDataError(f"{len(months)} months charted; a surge test needs a baseline of "
                                        f"{baseline_months} months plus at least one month after it",
                                        expected=f"≥ {baseline_months + 1} months")
        base = (months[0], months[baseline_months - 1])
    else:
        base = _span(baseline)
    base_idx = [i for i, m in enumerate(months) if base[0] <= m <= base[1]]
    if len(base_idx) < 2:
        raise InsufficientDataError("the baseline needs at least 2 months", value=base, expected="≥ 2 months")
    rows, charts = [], {}
    warnings = []
    kind = "u"
    for cat, sub in series.groupby("category", sort=True):
        sub = sub.sort_values("period").reset_index(drop=True)
        chart = attribute_chart("u", sub, "complaints", "exposure", time="period",
                                baseline=slice(base_idx[0], base_idx[-1] + 1), laney=laney)
        kind = chart.chart
        charts[cat] = chart
        verdict = spc.variation_verdict(chart, "lower_is_better")
        concern = verdict.verdict == "concern"
        # onset of the current upward episode: the first month of the unbroken block of points above the UCL
        # that ends at the latest month; when the concern comes from a run rather than a limit breach, the block
        # of upward Making Data Count pattern points (sqc.spc.special_cause_points) ending at the latest month.
        n_pts = len(sub)
        stat = np.asarray(chart.statistic, dtype=float)
        centre = np.broadcast_to(np.asarray(chart.center, dtype=float), (n_pts,))
        ucl = np.broadcast_to(np.asarray(chart.ucl, dtype=float), (n_pts,))
        after = np.arange(n_pts) > base_idx[-1]
        patterns = spc.special_cause_points(chart.statistic, chart.center, chart.sigma, chart.lcl, chart.ucl)
        mdc_up = np.logical_or.reduce(list(patterns.values())) & (stat > centre)
        start_i = _onset((stat > ucl) & after)
        if start_i is None:
            start_i = _onset(mdc_up & after)
        first = sub["period"].iat[start_i] if (start_i is not None and concern) else None
        b = sub.iloc[base_idx]
        r = sub.iloc[-recent:]
        xb, eb = float(b["complaints"].sum()), float(b["exposure"].sum())
        xr, er = float(r["complaints"].sum()), float(r["exposure"].sum())
        ratio, lo, hi, _ = rate_ratio_exact(xr, er, xb, eb, confidence)
        rows.append({"category": cat, "verdict": verdict.verdict, "verdict_text": verdict.text("en"),
                     "verdict_text_zh": verdict.text("zh"), "surge": bool(concern and first is not None),
                     "first_signal": first, "baseline_rate": xb / eb, "recent_rate": xr / er,
                     "rate_ratio": ratio, "rate_ratio_ci_low": float(lo), "rate_ratio_ci_high": float(hi),
                     "latest_period": sub["period"].iat[-1], "latest_rate": float(sub["rate"].iat[-1]),
                     "latest_complaints": int(sub["complaints"].iat[-1])})
    table = pd.DataFrame(rows).set_index("category").sort_values(["surge", "rate_ratio"], ascending=[False, False])
    for cat, r in table.loc[table["surge"]].iterrows():
        warnings.append(QualityWarning(
            "W-CMP-04", "critical", f"'{cat}' complaints surge from {r['first_signal']}: recent rate "
            f"{r['recent_rate']:.3f} vs baseline {r['baseline_rate']:.3f} per {rate_per:,} customers "
            f"(×{r['rate_ratio']:.2f}, 95% CI {r['rate_ratio_ci_low']:.2f}–{r['rate_ratio_ci_high']:.2f}).",
            {"category": cat, "first_signal": r["first_signal"], "rate_ratio": float(r["rate_ratio"]),
             "ci": [float(r["rate_ratio_ci_low"]), float(r["rate_ratio_ci_high"])]}, f"complaints {cat}",
            f"“{cat}”类投诉自 {r['first_signal']} 起激增：近期每{rate_per:,}名客户 {r['recent_rate']:.3f} 件，"
            f"基线 {r['baseline_rate']:.3f} 件（×{r['rate_ratio']:.2f}）。"))
    return SurgeResult(table, charts, series, base, rate_per, kind, warnings=warnings)


__all__ = ["prepare_complaints", "PreparedComplaints", "complaint_pareto", "ComplaintPareto", "compare_periods",
           "PeriodComparison", "check_sheet", "time_to_resolve", "TimeToResolve", "recovery_metrics",
           "RecoveryMetrics", "detect_surges", "rate_ratio_exact", "SurgeResult", "monthly_category_rates",
           "SEVERITY_WEIGHTS",
           "RECOVERY_METRICS"]
