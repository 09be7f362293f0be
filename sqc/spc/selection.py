"""Chart selection help, run charts (Anhøj rules) and OC / ARL curves for Shewhart charts.

``select_chart`` follows Methods §5.2: measurement → X̄–S (n > 10) / X̄–R (2 ≤ n ≤ 10) / I–MR (one value per
period); proportion → p chart (Laney p′ when overdispersed with large n); count with exposure → u (Laney u′);
count with equal exposure → c; time between events → t chart; opportunities between events → g chart.
With data it also checks W-SPC-01 (autocorrelation), W-SPC-03 (overdispersion: the p/u chart puts > 25 % of
points outside, or the dispersion ratio χ²/df > 2 with median n > 1000), W-SPC-04 (fewer than 12 baseline
points) and W-SPC-05 (skew).

OC curves (Montgomery 2019 §6.2.6, 7.2; qcc ``oc.curves``): the probability β of *not* signalling on the first
sample after a shift, and ARL = 1/(1 − β):
* X̄ / I: shift δ in σ units of individuals: β = Φ(L − δ√n) − Φ(−L − δ√n);
* p / np: true proportion p₁: β = P(D ≤ ⌊n·UCL⌋) − P(D < ⌈n·LCL⌉), D ~ Binomial(n, p₁) (strict limits: a
  point equal to a limit does not signal);
* c / u: true mean c₁: β = P(C ≤ ⌊UCL⌋) − P(C < ⌈LCL⌉), C ~ Poisson(c₁).
The in-control ARL of a 3σ X̄ chart is 370.4.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..diagnostics import QualityWarning
from ..errors import ParameterError
from .core import MIN_BASELINE, ChartResult, data_warnings, finish, numeric_column, order_by_time, require_columns
from .rules import RuleSpec, anhoej
from ..results import ResultData

__all__ = ["select_chart", "ChartRecommendation", "oc_curve", "arl", "run_chart", "DATA_TYPES", "kpi_chart", "KPI_KINDS"]

DATA_TYPES = ("measurement", "proportion", "count_with_exposure", "count", "time_between_events",
              "opportunities_between_events")


@dataclass
class ChartRecommendation(ResultData):
    chart: str
    function: str
    reason_en: str
    reason_zh: str
    evidence: dict = field(default_factory=dict)

    def _summary_lines(self, lang: str = "en") -> list[str]:
        lines = [f"{self.chart} ({self.function}): {self.reason_zh if lang == 'zh' else self.reason_en}"]
        return lines


def select_chart(data_type: str, *, subgroup_size: float | None = None, values=None, counts=None, sizes=None,
                 n_baseline: int | None = None, subject: str | None = None) -> ChartRecommendation:
    """Recommend a control chart for a KPI and say why (en/zh), with data warnings when data are given.

    Parameters
    ----------
    data_type : {"measurement", "proportion", "count_with_exposure", "count", "time_between_events",
                 "opportunities_between_events"}
    subgroup_size : float, optional
        Typical observations per plotted point for measurements (1 = one value per period).
    values : array, optional
        The series that would be charted (measurements, times) - for autocorrelation and skew checks.
    counts, sizes : arrays, optional
        Numerators and denominators/exposures for proportions and rates - for the overdispersion check.
    n_baseline : int, optional
        Planned baseline length (W-SPC-04 below 12).
    """
    if data_type not in DATA_TYPES:
        raise ParameterError(f"data_type must be one of {DATA_TYPES}, got {data_type!r}")
    warnings: list = []
    ev: dict = {}
    if values is not None:
        v = np.asarray(values, dtype=float)
        warnings += data_warnings(v, subject or data_type)
        n_points = int(np.sum(~np.isnan(v)))
    else:
        n_points = None
    if n_baseline is None and n_points is not None:
        n_baseline = n_points
    if data_type == "measurement":
        k = subgroup_size or 1
        if k <= 1:
            rec = ("I-MR", "imr", "one value per period: individuals chart with limits from moving ranges "
                   "(Wheeler)", "每期一个值：用移动极差估计控制限的单值图（Wheeler）")
        elif k <= 10:
            rec = ("X̄-R", "xbar_r", f"subgroups of about {k:g}: the range is efficient for n ≤ 10",
                   f"子组大小约{k:g}：n≤10时极差足够有效")
        elif k <= 100:
            rec = ("X̄-S", "xbar_s", f"subgroups of about {k:g}: the SD uses all the data (variable n handled)",
                   f"子组大小约{k:g}：标准差利用全部数据（可处理不等子组）")
        else:
            rec = ("I-MR of subgroup means", "imr",
                   f"subgroups of about {k:g}: X̄ limits would be too tight because day-to-day variation "
                   "dominates; chart the subgroup means on an I-MR chart",
                   f"子组大小约{k:g}：组间波动占主导，均值图控制限过窄；应对子组均值作单值-移动极差图")
    elif data_type in ("proportion", "count_with_exposure"):
        is_p = data_type == "proportion"
        rec = (("p", "p_chart", "a share of a known total: binomial limits per period",
                "已知总数中的比例：逐期二项控制限") if is_p else
               ("u", "u_chart", "events per unit of exposure: Poisson limits per period",
                "单位暴露量的事件数：逐期泊松控制限"))
        if counts is not None and sizes is not None:
            c = np.asarray(counts, dtype=float)
            n = np.asarray(sizes, dtype=float)
            pbar = c.sum() / n.sum()
            sd = np.sqrt(pbar * (1 - pbar) / n) if is_p else np.sqrt(pbar / n)
            y = c / n
            outside = float(np.mean(np.abs(y - pbar) > 3 * sd))
            chi2 = float(np.sum(((y - pbar) / sd) ** 2))
            ratio = chi2 / max(len(y) - 1, 1)
            ev = {"share_outside": outside, "dispersion_ratio": ratio, "median_n": float(np.median(n))}
            if (outside > 0.25 or ratio > 2) and np.median(n) > 1000:
                alt = "laney_p" if is_p else "laney_u"
                warnings.append(QualityWarning(
                    "W-SPC-03", "warning",
                    f"overdispersion: {outside:.0%} of points outside the {'p' if is_p else 'u'} limits, "
                    f"dispersion ratio {ratio:.1f}, with large denominators; use a Laney {'p' if is_p else 'u'}′ chart",
                    {**ev, "suggest": alt}, subject, f"过度离散：{outside:.0%}的点超限，离散比{ratio:.1f}，请用Laney {'p' if is_p else 'u'}′图"))
                rec = ((("Laney p′", "laney_p") if is_p else ("Laney u′", "laney_u")) +
                       ("large denominators make between-period variation dominate: Laney's chart widens the "
                        "limits by σ_z, the observed spread of the standardised values",
                        "分母很大时组间波动占主导：Laney图按标准化值的实际离散σ_z放宽控制限"))
    elif data_type == "count":
        rec = ("c", "c_chart", "event counts with equal exposure: Poisson limits c̄ ± 3√c̄",
               "暴露量相同的事件计数：泊松控制限 c̄ ± 3√c̄")
    elif data_type == "time_between_events":
        rec = ("t", "t_chart", "rare events: chart the time between them (t^(1/3.6) transform; monthly counts "
               "would be mostly 0)", "罕见事件：对事件间隔时间作图（t^(1/3.6)变换；月度计数多为0）")
    else:
        rec = ("g", "g_chart", "rare events: chart the number of opportunities between them (geometric limits)",
               "罕见事件：对事件间的机会数作图（几何分布控制限）")
    if n_baseline is not None and n_baseline < MIN_BASELINE:
        warnings.append(QualityWarning("W-SPC-04", "warning", f"only {n_baseline} baseline points: limits "
                                       "provisional", {"baseline_points": n_baseline}, subject,
                                       f"基线仅{n_baseline}个点：控制限为临时值"))
    return ChartRecommendation(rec[0], rec[1], rec[2], rec[3], warnings=warnings, evidence=ev)


def run_chart(df: pd.DataFrame, value: str, *, time: str | None = None) -> ChartResult:
    """Run chart: the values around their median with the Anhøj rules (``params["anhoej"]``).

    When a rule fires, the points of the longest run are flagged (``anhoej_run``) and/or every point
    (``anhoej_crossings``) - a run chart signal is about the whole series, not one point.
    """
    require_columns(df, value, time)
    warnings: list = []
    df = order_by_time(df, time, warnings)
    x = numeric_column(df, value)
    keep = ~np.isnan(x)
    x = x[keep]
    labels = pd.Index(df[time])[keep] if time is not None else pd.Index(df.index)[keep]
    med = float(np.median(x))
    a = anhoej(x, med)
    n = x.size
    res = finish("run", x, np.full(1, med), np.full(1, np.nan), np.full(1, np.nan), np.full(1, np.nan), labels,
                 np.ones(1), np.full(n, "I", dtype=object), None, [], params={"stages": {"1": {"median": med}},
                                                                            "anhoej": a.to_dict()},
                 warnings=warnings, exclusions=[(f"missing values in {value}", int((~keep).sum()))],
                 title=f"run chart: {value}")
    flags = {}
    if a.longest_run > a.longest_run_max:
        s = np.sign(x - med)
        useful = np.flatnonzero(s != 0)
        su = s[useful]
        b = np.r_[0, np.flatnonzero(np.diff(su) != 0) + 1, su.size]
        lens = np.diff(b)
        j = int(np.argmax(lens))
        f = np.zeros(n, dtype=bool)
        f[useful[b[j]:b[j + 1]]] = True
        flags["anhoej_run"] = f
    if a.n_crossings < a.n_crossings_min:
        flags["anhoej_crossings"] = np.ones(n, dtype=bool)
    res.flags = flags
    res.specs = [RuleSpec(k, "run", a.longest_run_max + 1) for k in flags]
    return res


def _beta_from_result(res: ChartResult, shifts):
    chart = res.chart
    L = float(res.params.get("L", 3.0))
    sizes = np.unique(np.asarray(res.sizes, dtype=float))
    if chart in ("xbar", "i"):
        if sizes.size > 1:
            raise ParameterError("OC curves need equal subgroup sizes")
        n = float(sizes[0]) if chart == "xbar" else 1.0
        d = np.asarray(shifts, dtype=float)
        return d, stats.norm.cdf(L - d * np.sqrt(n)) - stats.norm.cdf(-L - d * np.sqrt(n))
    if chart in ("p", "np", "c", "u"):
        if sizes.size > 1:
            raise ParameterError("OC curves need equal subgroup sizes")
        n = float(sizes[0])
        lcl = float(np.broadcast_to(res.lcl, (len(res),))[-1])
        ucl = float(np.broadcast_to(res.ucl, (len(res),))[-1])
        if chart in ("p", "u"):
            lcl, ucl = lcl * n, ucl * n
        q = np.asarray(shifts, dtype=float)
        if chart in ("p", "np"):
            dist = stats.binom(int(round(n)), q)
        else:
            dist = stats.poisson(q * (n if chart == "u" else 1.0))
        # in control while LCL ≤ D ≤ UCL (points equal to a limit do not signal)
        beta = dist.cdf(np.floor(ucl)) - dist.cdf(np.ceil(lcl) - 1)
        return q, beta
    raise ParameterError(f"OC curves are available for xbar, i, p, np, c and u charts, not {chart!r}")


def oc_curve(result, shifts=None) -> pd.DataFrame:
    """Operating-characteristic curve of a Shewhart chart: ``shift`` (σ units for X̄/I; the true p for p/np;
    the true mean count per unit for c/u), ``beta`` (probability of no signal on one point) and ``arl``."""
    res = getattr(result, "location", result)
    if shifts is None:
        if res.chart in ("xbar", "i"):
            shifts = np.linspace(0, 3, 31)
        else:
            c = float(np.broadcast_to(np.asarray(res.center, dtype=float), (len(res),))[-1])
            n = float(np.asarray(res.sizes, dtype=float).ravel()[0])
            base = c / n if res.chart in ("np", "c") and res.chart == "np" else c
            if res.chart == "np":
                shifts = np.linspace(0, min(1.0, 4 * base), 41)
            elif res.chart == "p":
                shifts = np.linspace(0, min(1.0, 4 * c), 41)
            else:
                shifts = np.linspace(0, 4 * base if base > 0 else 1, 41)
    s, beta = _beta_from_result(res, shifts)
    with np.errstate(divide="ignore"):
        arl_v = 1.0 / (1.0 - beta)
    return pd.DataFrame({"shift": s, "beta": beta, "arl": arl_v})


def arl(result, shifts) -> np.ndarray:
    """Average run length 1/(1 − β) at the given shifts (see :func:`oc_curve`)."""
    return oc_curve(result, np.atleast_1d(shifts))["arl"].to_numpy()


KPI_KINDS = {"service_level": "proportion", "abandonment_rate": "proportion", "fcr_rate": "proportion",
             "csat_top2": "proportion", "asa_s": "mean", "aht_s": "mean", "csat_mean": "mean",
             "complaint_rate_per_1000": "rate"}


def kpi_chart(series: pd.DataFrame, kind: str, *, baseline: int | None = 12, laney: str = "auto",
              rules="default", time: str = "period") -> ChartResult:
    """The control chart Methods §5.2 recommends for one KPI series from :mod:`sqc.kpi` (tidy rows with
    ``period, numerator, denominator, value``), with limits frozen after ``baseline`` periods.

    * ``kind="proportion"`` (service level, abandonment, FCR, top-2-box): p chart on numerator/denominator;
      Laney p′ when ``laney="always"`` or, with ``"auto"``, when the p chart raises W-SPC-03 (overdispersion with
      large denominators - the usual case for monthly call counts).
    * ``kind="rate"`` (complaints per 1000): u chart on complaints/exposure, Laney u′ likewise.
    * ``kind="mean"`` (ASA, AHT, CSAT mean): I–MR of the monthly values (Wheeler; X̄ limits from thousands of
      calls per month would be far too tight).

    A baseline longer than the series falls back to all points (Phase I only). Returns the location
    :class:`ChartResult` (for proportions and rates the chart used is in ``result.chart``).
    """
    if kind not in ("proportion", "rate", "mean"):
        raise ParameterError(f"kind must be 'proportion', 'rate' or 'mean', got {kind!r}")
    if laney not in ("auto", "always", "never"):
        raise ParameterError(f"laney must be 'auto', 'always' or 'never', got {laney!r}")
    s = series.sort_values(time).reset_index(drop=True)
    s = s.loc[s["denominator"] > 0] if kind != "mean" else s.loc[s["value"].notna()]
    s = s.reset_index(drop=True)
    base = baseline if (baseline is not None and len(s) > baseline) else None
    if kind == "mean":
        from .charts import imr
        return imr(s, "value", time=time, baseline=base, rules=rules).location
    from .charts import laney_p, laney_u, p_chart, u_chart
    plain, prime = (p_chart, laney_p) if kind == "proportion" else (u_chart, laney_u)
    if laney == "always":
        return prime(s, "numerator", "denominator", time=time, baseline=base, rules=rules)
    res = plain(s, "numerator", "denominator", time=time, baseline=base, rules=rules)
    if laney == "auto" and any(w.code == "W-SPC-03" for w in res.warnings):
        out = prime(s, "numerator", "denominator", time=time, baseline=base, rules=rules)
        out.warnings = [w for w in res.warnings if w.code == "W-SPC-03"] + out.warnings
        return out
    return res
