"""Did the fix work? Effects of fail-safes (poka-yoke) and other interventions, with honest uncertainty.

Three designs, from the strongest the data allow to the simplest (Methods §8 gives the formulas, assumptions and
references; §8.3 how the design is chosen):

* :func:`its` - segmented (interrupted time series) regression of monthly counts: a Poisson GLM with a log
  exposure offset, linear trend, harmonic seasonal terms, a level change (and optionally a slope change) at the
  start, with a quasi-Poisson or negative-binomial scale; counterfactual prediction and residual
  autocorrelation diagnostics (ACF, Ljung-Box) with an optional HAC covariance.
* :func:`staggered` - for roll-outs that start at different months in different branches: a Poisson GLM with
  branch and month fixed effects (difference-in-differences), an overall rate ratio and event-time estimates,
  compared against branches not yet (or never) treated, with standard errors clustered by branch.
* :func:`before_after` - when there are too few months for a regression: a u or p chart with a stage break at the
  start, the exact Poisson rate ratio after/before and the Anhoej runs analysis of the after period.

:func:`register` validates the intervention register (table ``interventions``, one row per intervention and
branch) and :func:`evaluate` picks the design for one intervention of a loaded network and returns the effect on
its primary complaint category with a verdict code.

Verdict codes (translated by the report layer): ``"effective"`` (the interval excludes no change, in the good
direction), ``"worsened"`` (excludes no change, in the bad direction), ``"no_evidence"`` (the interval includes
no change), ``"too_few_points"`` (fewer months before or after than the design needs).

Warning codes: W-INT-01 residual autocorrelation (intervals too narrow), W-INT-02 too few points for the design,
W-INT-03 over-dispersion ignored (Poisson family), W-INT-04 too few comparison (not-yet-treated) branches,
W-INT-05 pre-trends (parallel trends doubtful), W-INT-06 few clusters for cluster-robust errors, W-INT-07
start date inside a month (that month is coded with the share of days after the start).

References
----------
Lopez Bernal J, Cummins S, Gasparrini A (2017). Interrupted time series regression for the evaluation of public
health interventions: a tutorial. Int J Epidemiol 46(1):348-355.
Wagner AK, Soumerai SB, Zhang F, Ross-Degnan D (2002). Segmented regression analysis of interrupted time series
studies in medication use research. J Clin Pharm Ther 27:299-309.
Newey WK, West KD (1987). A simple, positive semi-definite, heteroskedasticity and autocorrelation consistent
covariance matrix. Econometrica 55:703-708.
Ljung GM, Box GEP (1978). On a measure of lack of fit in time series models. Biometrika 65:297-303.
Wooldridge JM (2023). Simple approaches to nonlinear difference-in-differences with panel data. Econometrics
Journal 26:C31-C66.
Chase RB, Stewart DM (1994). Make your service fail-safe. Sloan Management Review 35(3):35-44.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .diagnostics import QualityWarning
from .errors import DataError, InsufficientDataError, ParameterError
from .results import ResultData, row_lines

FAMILIES = ("poisson", "quasipoisson", "negbin")
COV_TYPES = ("nonrobust", "HAC")
DIRECTIONS = ("lower_is_better", "higher_is_better")
VERDICTS = ("effective", "no_evidence", "worsened", "too_few_points")
DESIGNS = ("its", "staggered", "before_after")
MIN_SEGMENT_POINTS = 8      # months on each side of the start for a segmented regression (Wagner et al. 2002)
MIN_BEFORE_AFTER_POINTS = 3  # months on each side for a before/after comparison to be shown at all
MIN_CONTROL_UNITS = 2       # never/not-yet-treated branches needed to compare a staggered roll-out against
FEW_CLUSTERS = 10           # below this many branches cluster-robust errors are optimistic
DEFAULT_CONFIDENCE = 0.95


def _z(confidence: float) -> float:
    from scipy import stats

    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")
    return float(stats.norm.ppf(0.5 + confidence / 2))


def verdict_code(ci_low: float, ci_high: float, *, direction: str = "lower_is_better",
                 enough_points: bool = True) -> str:
    """Verdict from a rate-ratio interval: ``"effective"`` if the whole interval lies on the good side of 1,
    ``"worsened"`` if on the bad side, ``"no_evidence"`` otherwise; ``"too_few_points"`` when the design lacks
    points (whatever the interval says)."""
    if direction not in DIRECTIONS:
        raise ParameterError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if not enough_points or not np.isfinite(ci_low) or not np.isfinite(ci_high):
        return "too_few_points" if not enough_points else "no_evidence"
    good_below = direction == "lower_is_better"
    if ci_high < 1:
        return "effective" if good_below else "worsened"
    if ci_low > 1:
        return "worsened" if good_below else "effective"
    return "no_evidence"


def _t_crit(confidence: float, df: int) -> float:
    from scipy import stats

    _z(confidence)
    return float(stats.t.ppf(0.5 + confidence / 2, max(int(df), 1)))


def _effect_row(beta: float, se: float, z: float, df: int | None = None) -> dict:
    """Log-scale estimate -> rate ratio with ``exp(β ± z·SE)`` and a two-sided p (normal, or t with ``df``)."""
    from scipy import stats

    dist = stats.norm if df is None else stats.t(max(int(df), 1))
    p = float(2 * dist.sf(abs(beta / se))) if se > 0 else np.nan
    return {"estimate": float(beta), "se": float(se), "rate_ratio": float(np.exp(beta)),
            "ci_low": float(np.exp(beta - z * se)), "ci_high": float(np.exp(beta + z * se)), "p": p}


# =============================================================================================== ITS
@dataclass
class ITSResult(ResultData):
    """Segmented regression of one series (see :func:`its`; Methods §8.4). ``.plot()`` draws observed against
    the counterfactual with its interval.

    Attributes
    ----------
    effects : DataFrame
        Rows ``level`` (step change at the start), ``slope`` (change of the monthly trend, when asked) and
        ``at_end`` (level + slope up to the last point, when a slope change is fitted); columns ``estimate``
        (log scale), ``se``, ``rate_ratio``, ``ci_low``, ``ci_high``, ``p``.
    series : DataFrame
        Per point: ``time``, ``observed``, ``exposure``, ``fitted``, ``counterfactual`` with ``cf_low``/``cf_high``
        (the fitted model with the intervention terms set to zero; interval of the mean), ``after`` (0..1).
    acf : DataFrame
        Residual (Pearson) autocorrelation by lag with the approximate 95 % band ``±1.96/√n``.
    ljung_box : DataFrame
        Ljung-Box Q statistic and p-value by lag on the Pearson residuals.
    scale : float
        Dispersion (Pearson χ²/df for quasi-Poisson, 1 for Poisson); ``alpha`` for the negative binomial.
    verdict : str
        One of :data:`VERDICTS` (from the ``level`` row, or ``at_end`` when a slope change is fitted).
    warnings : list of QualityWarning
    model : statsmodels results (for anything else)
    """

    effects: pd.DataFrame
    series: pd.DataFrame
    acf: pd.DataFrame
    ljung_box: pd.DataFrame
    family: str
    cov_type: str
    scale: float
    n: int
    n_pre: int
    n_post: int
    confidence: float
    direction: str
    verdict: str
    model: Any = None
    params: dict = field(default_factory=dict)

    _chart = "sqc.plotting.interventions:its_spec"

    def to_frame(self) -> pd.DataFrame:
        return self.effects.copy()

    @property
    def headline(self) -> pd.Series:
        """The row the verdict rests on (``at_end`` with a slope change, else ``level``)."""
        return self.effects.loc["at_end" if "at_end" in self.effects.index else "level"]

    def _summary_lines(self, lang: str = "en") -> list[str]:
        return [*row_lines(f"Interrupted time series ({self.family}, {self.cov_type} covariance): n = {self.n} "
                           f"points ({self.n_pre} before, {self.n_post} after); dispersion {self.scale:.3g}",
                           self.effects, lambda name, r: f"{name:7s} RR {r['rate_ratio']:.3f} ({self.confidence:.0%}"
                           f" CI {r['ci_low']:.3f}-{r['ci_high']:.3f}), p = {r['p']:.3g}"),
                f"  verdict: {self.verdict}"]

    def __repr__(self) -> str:
        return self.summary()


def _time_axis(values: pd.Series, column: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Numeric time (months) and, for calendar input, the month of the year (for the seasonal terms)."""
    if pd.api.types.is_numeric_dtype(values):
        t = values.to_numpy(dtype=float)
        if np.isnan(t).any():
            i = int(np.flatnonzero(np.isnan(t))[0])
            raise DataError("missing time value", column=column, row=i + 1, expected="a number or a month YYYY-MM")
        return t, None
    try:
        per = pd.PeriodIndex(values.astype(str), freq="M")
    except (ValueError, TypeError):
        try:
            per = pd.DatetimeIndex(pd.to_datetime(values)).to_period("M")
        except (ValueError, TypeError):
            raise DataError("time values are neither numbers nor months", column=column,
                            value=values.iloc[0], expected="numbers (1, 2, ...) or months written YYYY-MM") from None
    ords = np.asarray(per.year * 12 + per.month - 1, dtype=float)
    return ords - ords.min() + 1, np.asarray(per.month, dtype=float)


def harmonics(position: np.ndarray, k: int, period: float) -> np.ndarray:
    """Fourier terms ``sin(2πjx/P), cos(2πjx/P)``, j = 1..k (as R ``tsModel::harmonic``), one column each."""
    cols = []
    for j in range(1, k + 1):
        ang = 2 * np.pi * j * np.asarray(position, float) / period
        cols += [np.sin(ang), np.cos(ang)]
    return np.column_stack(cols) if cols else np.empty((len(position), 0))


def its(frame: pd.DataFrame, outcome: str, time: str, intervention: str, *, offset: str | None = None,
        seasonality: int = 2, period: int = 12, family: str = "quasipoisson", slope_change: bool = False,
        cov_type: str = "nonrobust", maxlags: int | None = None, interval: str = "z",
        direction: str = "lower_is_better", confidence: float = DEFAULT_CONFIDENCE,
        min_points: int = MIN_SEGMENT_POINTS) -> ITSResult:
    r"""Interrupted time series (segmented) regression of a count series.

    .. math::

        \log E[Y_t] = \log E_t + \beta_0 + \beta_1 t + \beta_2 X_t + \beta_3 (t - t_0) X_t
                      + \sum_{j=1}^{k} [\gamma_j \sin(2\pi j m_t / P) + \delta_j \cos(2\pi j m_t / P)]

    with ``E_t`` the exposure (offset), ``X_t`` the intervention indicator (0 before, 1 after; a share in the
    month it started), ``t_0`` the last time before the start and ``m_t`` the position in the seasonal cycle
    (the month of the year for calendar input, else ``t``). ``exp(β2)`` is the step change (rate ratio)
    and ``exp(β3)`` the change of the monthly trend. Var(Y) = φ·μ with φ = Pearson χ²/(n − p) (quasi-Poisson),
    φ = 1 (Poisson) or μ + αμ² (negative binomial, α by maximum likelihood). Intervals are Wald intervals on the
    log scale (``exp(β ± z·SE)``, as the tutorial's ``ci.exp``); ``cov_type="HAC"`` replaces the model-based
    covariance by the Newey-West estimator (Bartlett kernel, ``maxlags`` default ``⌊4(n/100)^{2/9}⌋``, at
    least 1), robust to residual autocorrelation. Diagnostics: ACF of the Pearson residuals and the Ljung-Box
    test at lag ``min(period, n/4)``; p < 0.05 without HAC raises W-INT-01.

    Parameters
    ----------
    frame : DataFrame
        One row per time point (sorted here by ``time``).
    outcome : str
        Count column (non-negative integers).
    time : str
        Numbers (1, 2, ...) or months (``YYYY-MM``/timestamps; month of the year then drives the seasonal terms).
    intervention : str
        Column with 0 before and 1 after the start (values between 0 and 1 allowed for a partial month).
    offset : str, optional
        Exposure column (e.g. population, active customers); its log enters with coefficient 1.
    seasonality : int
        Number of sine/cosine pairs (0 = none). period : int — cycle length in time units (12 for months).
    family : {"quasipoisson", "poisson", "negbin"}
    slope_change : bool
        Also fit a change of slope.
    cov_type : {"nonrobust", "HAC"}
    interval : {"z", "t"}
        Critical value of the Wald intervals and tests: normal (as the tutorial's ``ci.exp``) or Student t with
        n − p degrees of freedom (as R's ``summary`` of a quasi-Poisson fit; safer for short series).
    direction : {"lower_is_better", "higher_is_better"}
        Which way is good, for the verdict.
    min_points : int
        Points needed on each side; fewer gives the verdict ``"too_few_points"`` and W-INT-02.

    Returns
    -------
    ITSResult

    References
    ----------
    Lopez Bernal, Cummins & Gasparrini (2017) Int J Epidemiol 46:348-355 (their Sicily smoking-ban example, with
    two harmonics and a quasi-Poisson scale, gives a step change RR 0.885, 95 % CI 0.839-0.933; reproduced in
    tests/test_interventions.py). Newey & West (1987). Ljung & Box (1978).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.read_csv("tests/data/sicily.csv")                       # doctest: +SKIP
    >>> its(d, "aces", "time", "smokban", offset="stdpop").effects      # doctest: +SKIP
    """
    import statsmodels.api as sm
    from statsmodels.stats.diagnostic import acorr_ljungbox
    from statsmodels.tsa.stattools import acf as sm_acf

    if family not in FAMILIES:
        raise ParameterError(f"family must be one of {FAMILIES}, got {family!r}")
    if cov_type not in COV_TYPES:
        raise ParameterError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}")
    if direction not in DIRECTIONS:
        raise ParameterError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if not isinstance(seasonality, (int, np.integer)) or seasonality < 0:
        raise ParameterError(f"seasonality must be a whole number of harmonic pairs ≥ 0, got {seasonality!r}")
    if period <= 0:
        raise ParameterError(f"period must be positive (12 for monthly data), got {period!r}")
    if interval not in ("z", "t"):
        raise ParameterError(f"interval must be 'z' (normal) or 't' (Student t), got {interval!r}")
    z = _z(confidence)
    cols = [outcome, time, intervention] + ([offset] if offset else [])
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataError(f"column(s) {missing} not found", column=missing[0],
                        expected=f"columns {cols}; the frame has {list(frame.columns)}")
    df = frame[cols].reset_index(drop=True)
    t, month = _time_axis(df[time], time)
    order = np.argsort(t, kind="stable")
    df, t = df.iloc[order].reset_index(drop=True), t[order]
    month = None if month is None else month[order]
    y = pd.to_numeric(df[outcome], errors="coerce").to_numpy(float)
    bad = np.isnan(y) | (y < 0) | (np.abs(y - np.round(y)) > 1e-9)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError("outcome must be a non-negative whole count", column=outcome, row=int(order[i]) + 1,
                        value=df[outcome].iloc[i], expected="0, 1, 2, ...")
    x = pd.to_numeric(df[intervention], errors="coerce").to_numpy(float)
    bad = np.isnan(x) | (x < 0) | (x > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError("intervention indicator must lie between 0 and 1", column=intervention,
                        row=int(order[i]) + 1, value=df[intervention].iloc[i], expected="0 before, 1 after")
    if np.any(np.diff(x) < 0):
        raise DataError("intervention indicator goes back down: one start per series", column=intervention,
                        expected="0 ... 0, then 1 ... 1 in time order")
    if offset:
        e = pd.to_numeric(df[offset], errors="coerce").to_numpy(float)
        bad = ~(e > 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError("exposure must be positive", column=offset, row=int(order[i]) + 1,
                            value=df[offset].iloc[i], expected="a positive number (customers, population...)")
    else:
        e = np.ones_like(y)
    n = y.size
    n_pre, n_post = int(np.sum(x == 0)), int(np.sum(x > 0))
    if n_pre < 2 or n_post < 1:
        raise InsufficientDataError(f"a segmented regression needs points before and after the start "
                                    f"(got {n_pre} before, {n_post} after)", column=intervention)
    warnings: list[QualityWarning] = []
    t0 = float(t[x == 0].max())
    slope = np.where(x > 0, t - t0, 0.0) * (x > 0)
    pos = t if month is None else month
    season = harmonics(pos, int(seasonality), float(period))
    names = ["const", "time", "level"] + (["slope"] if slope_change else []) + \
        [f"{f}{j}" for j in range(1, int(seasonality) + 1) for f in ("sin", "cos")]
    X = np.column_stack([np.ones(n), t, x] + ([slope] if slope_change else []) + [season])
    if n - X.shape[1] < 2:
        raise InsufficientDataError(f"{n} points cannot carry {X.shape[1]} parameters; use fewer seasonal terms "
                                    f"or before_after()", column=outcome)
    X = pd.DataFrame(X, columns=names)
    dof = n - X.shape[1] if interval == "t" else None
    if dof is not None:
        z = _t_crit(confidence, dof)
    lags = maxlags if maxlags is not None else max(1, int(np.floor(4 * (n / 100) ** (2 / 9))))
    fit_kw = {"cov_type": "HAC", "cov_kwds": {"maxlags": lags}} if cov_type == "HAC" else {}
    if family == "negbin":
        from statsmodels.discrete.discrete_model import NegativeBinomial

        model = NegativeBinomial(y, X, offset=np.log(e), loglike_method="nb2").fit(disp=0, maxiter=200, **fit_kw)
        alpha = float(model.params["alpha"])
        mu = model.predict(X, offset=np.log(e))
        pearson = (y - mu) / np.sqrt(mu + alpha * mu ** 2)
        beta = model.params[names].to_numpy()
        cov = model.cov_params().loc[names, names].to_numpy()
        scale = alpha
    else:
        glm = sm.GLM(y, X, family=sm.families.Poisson(), offset=np.log(e))
        model = glm.fit(scale="X2" if family == "quasipoisson" else None, **fit_kw)
        mu = model.fittedvalues
        pearson = (y - mu) / np.sqrt(mu)
        beta = model.params.to_numpy()
        cov = model.cov_params().to_numpy()
        scale = float(np.sum(pearson ** 2) / model.df_resid) if family == "quasipoisson" else 1.0
        if family == "poisson" and np.sum(pearson ** 2) / model.df_resid > 1.5:
            warnings.append(QualityWarning(
                "W-INT-03", "warning", f"counts vary {np.sum(pearson ** 2) / model.df_resid:.1f} times more than "
                "Poisson allows: the Poisson intervals are too narrow; use family='quasipoisson' or 'negbin'",
                {"dispersion": float(np.sum(pearson ** 2) / model.df_resid)}, subject=outcome))
    se = np.sqrt(np.diag(cov))
    idx = {nm: i for i, nm in enumerate(names)}
    rows = {"level": _effect_row(beta[idx["level"]], se[idx["level"]], z, df=dof)}
    if slope_change:
        rows["slope"] = _effect_row(beta[idx["slope"]], se[idx["slope"]], z, df=dof)
        # total effect at the last point: level + slope·(t_end - t0)
        g = np.zeros(len(names))
        g[idx["level"]], g[idx["slope"]] = 1.0, float(t.max() - t0)
        rows["at_end"] = _effect_row(float(g @ beta), float(np.sqrt(g @ cov @ g)), z, df=dof)
    effects = pd.DataFrame.from_dict(rows, orient="index")[["rate_ratio", "ci_low", "ci_high", "p", "estimate",
                                                             "se"]]
    # counterfactual: same model with the intervention terms at zero
    Xcf = X.to_numpy().copy()
    Xcf[:, idx["level"]] = 0.0
    if slope_change:
        Xcf[:, idx["slope"]] = 0.0
    eta = Xcf @ beta + np.log(e)
    eta_se = np.sqrt(np.einsum("ij,jk,ik->i", Xcf, cov, Xcf))
    series = pd.DataFrame({"time": df[time].to_numpy(), "t": t, "observed": y, "exposure": e,
                           "fitted": np.asarray(mu, float), "counterfactual": np.exp(eta),
                           "cf_low": np.exp(eta - z * eta_se), "cf_high": np.exp(eta + z * eta_se), "after": x})
    # autocorrelation of the Pearson residuals
    nlags = int(max(1, min(period, n // 4)))
    r = sm_acf(pearson, nlags=nlags, fft=False)
    acf_frame = pd.DataFrame({"lag": np.arange(1, nlags + 1), "acf": r[1:],
                              "band": 1.959964 / np.sqrt(n)}).set_index("lag")
    lb = acorr_ljungbox(pearson, lags=list(range(1, nlags + 1)), return_df=True)
    lb.index.name = "lag"
    lb_p = float(lb["lb_pvalue"].iloc[-1])     # one pre-set lag (a full season), not the smallest of many
    if lb_p < 0.05 and cov_type != "HAC":
        warnings.append(QualityWarning(
            "W-INT-01", "warning", f"the residuals are autocorrelated (Ljung-Box p = {lb_p:.3g}, lag-1 ACF "
            f"{r[1]:+.2f}): the intervals are likely too narrow; refit with cov_type='HAC' or model the "
            "autocorrelation", {"ljung_box_p": lb_p, "acf_lag1": float(r[1])}, subject=outcome,
            message_zh=f"残差存在自相关（Ljung-Box p = {lb_p:.3g}），区间可能偏窄；请改用 HAC 标准误。"))
    enough = n_pre >= min_points and n_post >= min_points
    if not enough:
        warnings.append(QualityWarning(
            "W-INT-02", "warning", f"{n_pre} points before and {n_post} after the start; a segmented regression "
            f"needs at least {min_points} on each side to separate a change from trend and season",
            {"n_pre": n_pre, "n_post": n_post, "min_points": min_points}, subject=outcome,
            message_zh=f"干预前 {n_pre} 个点、干预后 {n_post} 个点，少于每侧 {min_points} 个。"))
    if np.any((x > 0) & (x < 1)):
        warnings.append(QualityWarning(
            "W-INT-07", "info", "the start falls inside a month; that month is coded with the share of its days "
            "after the start", {"share": float(x[(x > 0) & (x < 1)][0])}, subject=outcome))
    head = effects.loc["at_end" if slope_change else "level"]
    verdict = verdict_code(head["ci_low"], head["ci_high"], direction=direction, enough_points=enough)
    return ITSResult(effects, series, acf_frame, lb, family, cov_type, float(scale), n, n_pre, n_post,
                     confidence, direction, verdict, model,
                     {"seasonality": int(seasonality), "period": period, "slope_change": slope_change,
                      "maxlags": lags if cov_type == "HAC" else None, "t0": t0, "interval": interval},
                     warnings=warnings)


# =============================================================================================== before/after
@dataclass
class BeforeAfterResult(ResultData):
    """Before/after comparison (see :func:`before_after`; Methods §8.6). ``.plot()`` draws the staged control
    chart."""

    chart: Any
    rate_ratio: float
    ci_low: float
    ci_high: float
    p: float
    before: dict
    after: dict
    runs_after: Any
    runs_vs_before: Any
    confidence: float
    direction: str
    verdict: str

    _chart = "sqc.plotting.interventions:before_after_spec"

    def sample_size(self) -> int:
        """Points (months) before and after the start."""
        return int(self.before["points"] + self.after["points"])

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"rate_ratio": self.rate_ratio, "ci_low": self.ci_low, "ci_high": self.ci_high,
                              "p": self.p, "count_before": self.before["count"], "count_after": self.after["count"],
                              "n_before": self.before["points"], "n_after": self.after["points"]}],
                            index=pd.Index(["level"]))

    def _summary_lines(self, lang: str = "en") -> list[str]:
        return [f"Before/after: {self.before['count']:.0f} in {self.before['points']} points, then "
                f"{self.after['count']:.0f} in {self.after['points']}; rate ratio {self.rate_ratio:.3f} "
                f"({self.confidence:.0%} CI {self.ci_low:.3f}-{self.ci_high:.3f}, exact), p = {self.p:.3g}",
                f"  after period runs: longest {self.runs_after.longest_run} (max {self.runs_after.longest_run_max})"
                f", crossings {self.runs_after.n_crossings} (min {self.runs_after.n_crossings_min})",
                f"  verdict: {self.verdict}"]

    def __repr__(self) -> str:
        return self.summary()


def before_after(frame: pd.DataFrame, count: str, size: str, time: str, intervention: str, *, chart: str = "u",
                 direction: str = "lower_is_better", confidence: float = DEFAULT_CONFIDENCE,
                 min_points: int = MIN_BEFORE_AFTER_POINTS) -> BeforeAfterResult:
    """Before/after comparison of a count (u chart) or proportion (p chart) with a stage break at the start.

    * the chart: :func:`sqc.spc.u_chart` / :func:`sqc.spc.p_chart` with ``stages`` = before/after, each stage
      with its own centre line and limits;
    * the exact conditional rate ratio (after/before) and its Clopper-Pearson interval and test
      (:func:`sqc.complaints.rate_ratio_exact`); for a p chart it is the ratio of proportions treated as rare
      events;
    * Anhoej runs analysis of the after period around its own median (is the new level stable?) and around the
      before centre line (is the shift sustained: a long run or few crossings).

    ``intervention`` is 0 before and 1 after (a partial month counts as after when > 0.5). Points are summed
    within each stage for the rate ratio.

    References
    ----------
    Chase & Stewart (1994); Anhoej & Olesen (2014) PLoS ONE 9:e113825; qicharts2 (``part`` argument).
    """
    from .complaints import rate_ratio_exact
    from .spc import anhoej, p_chart, u_chart

    if chart not in ("u", "p"):
        raise ParameterError(f"chart must be 'u' (counts per exposure) or 'p' (proportions), got {chart!r}")
    if direction not in DIRECTIONS:
        raise ParameterError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    _z(confidence)
    for c in (count, size, time, intervention):
        if c not in frame.columns:
            raise DataError(f"column {c!r} not found", column=c, expected=f"one of {list(frame.columns)}")
    df = frame[[count, size, time, intervention]].copy()
    df["_t"] = _time_axis(df[time], time)[0]
    df = df.sort_values("_t", kind="stable").reset_index(drop=True)
    after = pd.to_numeric(df[intervention], errors="coerce").to_numpy(float) > 0.5
    if np.any(np.diff(after.astype(int)) < 0):
        raise DataError("intervention indicator goes back down: one start per series", column=intervention)
    df["stage"] = np.where(after, "after", "before")
    n_b, n_a = int((~after).sum()), int(after.sum())
    if n_b == 0 or n_a == 0:
        raise InsufficientDataError(f"need points before and after the start (got {n_b} before, {n_a} after)",
                                    column=intervention)
    make = u_chart if chart == "u" else p_chart
    ch = make(df, count, size, time=time, stages="stage", rules="default")
    c = df[count].to_numpy(float)
    s = df[size].to_numpy(float)
    x1, e1, x2, e2 = c[~after].sum(), s[~after].sum(), c[after].sum(), s[after].sum()
    rr, lo, hi, p = rate_ratio_exact(x2, e2, x1, e1, confidence)
    rate = c / s
    runs_after = anhoej(rate[after])
    runs_vs = anhoej(rate[after], center=x1 / e1)
    warnings = list(ch.warnings)
    enough = n_b >= min_points and n_a >= min_points
    if not enough:
        warnings.append(QualityWarning(
            "W-INT-02", "warning", f"{n_b} points before and {n_a} after; at least {min_points} on each side are "
            "needed to tell a change from month-to-month noise", {"n_pre": n_b, "n_post": n_a}, subject=count,
            message_zh=f"干预前 {n_b} 个点、干预后 {n_a} 个点，少于每侧 {min_points} 个。"))
    verdict = verdict_code(lo, hi, direction=direction, enough_points=enough)
    return BeforeAfterResult(ch, rr, lo, hi, p, {"count": x1, "exposure": e1, "points": n_b},
                             {"count": x2, "exposure": e2, "points": n_a}, runs_after, runs_vs, confidence,
                             direction, verdict, warnings=warnings)


# =============================================================================================== staggered
@dataclass
class StaggeredResult(ResultData):
    """Difference-in-differences of a staggered roll-out (see :func:`staggered`; Methods §8.5). ``.plot()`` draws
    the treated units' observed counts against the counterfactual."""

    effects: pd.DataFrame
    event_time: pd.DataFrame
    series: pd.DataFrame
    pretrend_p: float
    n_units: int
    n_treated: int
    n_never: int
    cohorts: dict
    confidence: float
    direction: str
    verdict: str
    assumption: str = "parallel_trends"
    model: Any = None

    _chart = "sqc.plotting.interventions:its_spec"

    def sample_size(self) -> int:
        """Units (the clusters the errors are clustered by)."""
        return self.n_units

    def to_frame(self) -> pd.DataFrame:
        return self.effects.copy()

    @property
    def headline(self) -> pd.Series:
        return self.effects.loc["level"]

    def _summary_lines(self, lang: str = "en") -> list[str]:
        r = self.headline
        return [f"Staggered roll-out, Poisson difference-in-differences with branch and month fixed effects: "
                f"{self.n_treated} treated units in {len(self.cohorts)} cohort(s), {self.n_never} never treated; "
                f"errors clustered by unit ({self.n_units} clusters)",
                f"  level RR {r['rate_ratio']:.3f} ({self.confidence:.0%} CI {r['ci_low']:.3f}-{r['ci_high']:.3f}), "
                f"p = {r['p']:.3g}",
                f"  pre-trend test (leads jointly 0): p = {self.pretrend_p:.3g}",
                "  rests on parallel trends: without the intervention, treated and not-yet-treated units would "
                "have changed by the same factor",
                f"  verdict: {self.verdict}"]

    def __repr__(self) -> str:
        return self.summary()


def staggered(frame: pd.DataFrame, outcome: str, unit: str, time: str, start: str, *, offset: str | None = None,
              leads: int = 4, lags: int = 6, event_time: bool = True, direction: str = "lower_is_better",
              confidence: float = DEFAULT_CONFIDENCE) -> StaggeredResult:
    r"""Staggered roll-out: Poisson difference-in-differences with unit and time fixed effects.

    Overall effect (one indicator D_it = 1 from unit i's start on):

    .. math:: \log E[Y_{it}] = \log E_{it} + \alpha_i + \gamma_t + \beta D_{it}

    and event-time (dynamic) effects, with event time k = t − start_i binned at ``-leads`` and ``+lags`` and
    k = −1 the reference:

    .. math:: \log E[Y_{it}] = \log E_{it} + \alpha_i + \gamma_t + \sum_{k \ne -1} \beta_k 1[t - s_i = k]

    Estimated as a Poisson quasi-likelihood GLM (consistent whatever the dispersion; Wooldridge 2023) with
    standard errors clustered by unit; because the cluster-robust variance is biased downwards with few clusters
    (Cameron & Miller 2015), the reported standard error of the overall effect is the larger of the
    cluster-robust and the model-based quasi-Poisson one, and intervals use t with G − 1 degrees of freedom
    (G = number of units). Month effects are identified by the units not yet (or never) treated at
    each month, so each unit's change is compared with theirs. The pre-period coefficients (leads) test parallel
    trends (joint Wald test); ``exp(β)`` is the rate ratio after/before relative to the comparison units.

    Parameters
    ----------
    frame : DataFrame
        One row per unit and time (a balanced panel is best).
    outcome, unit, time : str
        Count column, unit id (branch), month (``YYYY-MM`` or numbers).
    start : str
        Column holding each unit's start (same units as ``time``; missing = never treated).
    offset : str, optional
        Exposure column.

    Assumptions (stated on the result): parallel trends on the log scale; no anticipation before the start; no
    spill-over to comparison units. Warnings: W-INT-04 (fewer than 2 comparison units), W-INT-05 (leads jointly
    different from 0 at 5 %), W-INT-06 (fewer than 10 clusters: cluster-robust intervals optimistic).
    """
    # the fixed-effect design matrices are small: BLAS threads only contend on a busy machine (5x slower)
    from .reliability.alpha import _blas_single_thread

    with _blas_single_thread():
        return _staggered(frame, outcome, unit, time, start, offset=offset, leads=leads, lags=lags,
                          event_time=event_time, direction=direction, confidence=confidence)


def _staggered(frame, outcome, unit, time, start, *, offset, leads, lags, event_time, direction, confidence):
    """Body of :func:`staggered` (run with one BLAS thread)."""
    import statsmodels.api as sm

    if direction not in DIRECTIONS:
        raise ParameterError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    _z(confidence)
    cols = [outcome, unit, time, start] + ([offset] if offset else [])
    for c in cols:
        if c not in frame.columns:
            raise DataError(f"column {c!r} not found", column=c, expected=f"one of {list(frame.columns)}")
    df = frame[cols].copy().reset_index(drop=True)
    t, _ = _time_axis(pd.concat([df[time], df[start].dropna()], ignore_index=True), time)
    df["_t"] = t[:len(df)]
    start_t = np.full(len(df), np.nan)
    start_t[df[start].notna().to_numpy()] = t[len(df):]
    df["_s"] = start_t
    if df.groupby(unit)["_s"].nunique(dropna=False).max() > 1:
        raise DataError("a unit has more than one start", column=start, expected="one start per unit (or none)")
    y = pd.to_numeric(df[outcome], errors="coerce").to_numpy(float)
    if np.isnan(y).any() or (y < 0).any():
        i = int(np.flatnonzero(np.isnan(y) | (y < 0))[0])
        raise DataError("outcome must be a non-negative count", column=outcome, row=i + 1, value=df[outcome].iloc[i])
    e = pd.to_numeric(df[offset], errors="coerce").to_numpy(float) if offset else np.ones(len(df))
    if not (e > 0).all():
        i = int(np.flatnonzero(~(e > 0))[0])
        raise DataError("exposure must be positive", column=offset, row=i + 1, value=df[offset].iloc[i])
    units = pd.Index(sorted(df[unit].unique()))
    starts = df.groupby(unit)["_s"].first()
    treated_units = starts.dropna()
    never = int(starts.isna().sum())
    last_t = df["_t"].max()
    treated_units = treated_units[treated_units <= last_t]
    if treated_units.empty:
        raise InsufficientDataError("no unit starts within the data", column=start)
    warnings: list[QualityWarning] = []
    # comparison units available at the latest cohort's start
    n_compare = int(((starts.isna()) | (starts > treated_units.max())).sum())
    if n_compare < MIN_CONTROL_UNITS:
        warnings.append(QualityWarning(
            "W-INT-04", "warning", f"only {n_compare} branch(es) are never or not yet treated when the last cohort "
            f"starts; the month effects there rest on too few comparison units", {"n_compare": n_compare,
                                                                                 "min": MIN_CONTROL_UNITS},
            subject=outcome, message_zh=f"最后一批开始时仅有 {n_compare} 个未实施的对照网点，对照不足。"))
    if len(units) < FEW_CLUSTERS:
        warnings.append(QualityWarning(
            "W-INT-06", "info", f"{len(units)} clusters: cluster-robust intervals are optimistic with fewer than "
            f"{FEW_CLUSTERS}", {"n_clusters": len(units)}, subject=outcome))
    D = (df["_s"].notna() & (df["_t"] >= df["_s"])).to_numpy(float)
    unit_d = pd.get_dummies(df[unit], prefix="u", drop_first=True, dtype=float)
    time_d = pd.get_dummies(df["_t"].astype(int), prefix="t", drop_first=True, dtype=float)
    base = pd.concat([pd.Series(1.0, index=df.index, name="const"), unit_d, time_d], axis=1)
    groups = pd.factorize(df[unit])[0]
    cov = {"cov_type": "cluster", "cov_kwds": {"groups": groups}}
    X1 = base.assign(level=D)
    glm1 = sm.GLM(y, X1, family=sm.families.Poisson(), offset=np.log(e))
    m1 = glm1.fit(**cov)
    # With few clusters the cluster-robust variance is biased downwards (Cameron & Miller 2015): never report an
    # interval narrower than the model-based quasi-Poisson one, and use t with G - 1 degrees of freedom.
    quasi_se = float(glm1.fit(scale="X2").bse["level"])
    se_level = max(float(m1.bse["level"]), quasi_se)
    zc = _t_crit(confidence, len(units) - 1)
    rows = {"level": _effect_row(float(m1.params["level"]), se_level, zc, df=len(units) - 1)}
    effects = pd.DataFrame.from_dict(rows, orient="index")[["rate_ratio", "ci_low", "ci_high", "p", "estimate",
                                                             "se"]]
    ev = pd.DataFrame(columns=["rate_ratio", "ci_low", "ci_high", "p", "estimate", "se", "n_units"])
    pretrend_p = np.nan
    if event_time:
        ev, pretrend_p = _event_study(df, y, e, base, unit, leads, lags, cov, zc, len(units) - 1, warnings,
                                      outcome)
    # counterfactual of the treated units: the overall model with D = 0, summed over treated units per time
    beta = m1.params.to_numpy()
    Xcf = X1.to_numpy().copy()
    Xcf[:, list(X1.columns).index("level")] = 0.0
    mu_cf = np.exp(Xcf @ beta + np.log(e))
    is_tr = df[unit].isin(treated_units.index).to_numpy()
    g = pd.DataFrame({"t": df["_t"], "time": df[time].astype(str), "observed": y, "exposure": e,
                      "fitted": m1.fittedvalues, "counterfactual": mu_cf, "after": D})[is_tr]
    series = g.groupby(["t", "time"], as_index=False).agg(observed=("observed", "sum"), exposure=("exposure", "sum"),
                                                           fitted=("fitted", "sum"),
                                                           counterfactual=("counterfactual", "sum"),
                                                           after=("after", "mean"))
    cohorts = {float(s): list(treated_units.index[treated_units == s]) for s in sorted(treated_units.unique())}
    # the verdict needs enough treated unit-months after, and months before the first start
    n_pre = int(df["_t"].lt(treated_units.min()).groupby(df[unit]).sum().max())
    n_post_unit = int((D > 0).sum())
    enough = n_pre >= MIN_SEGMENT_POINTS // 2 and n_post_unit >= MIN_SEGMENT_POINTS and n_compare >= 1
    if not enough:
        warnings.append(QualityWarning(
            "W-INT-02", "warning", f"{n_pre} months before the first start and {n_post_unit} treated branch-months "
            f"after it: too few to judge the roll-out yet (needs {MIN_SEGMENT_POINTS // 2} and "
            f"{MIN_SEGMENT_POINTS})", {"n_pre": n_pre, "n_post": n_post_unit}, subject=outcome,
            message_zh=f"首批实施前 {n_pre} 个月、实施后 {n_post_unit} 个网点月，数据尚不足以判断。"))
    verdict = verdict_code(rows["level"]["ci_low"], rows["level"]["ci_high"], direction=direction,
                           enough_points=enough)
    return StaggeredResult(effects, ev, series, pretrend_p, len(units), len(treated_units), never, cohorts,
                           confidence, direction, verdict, warnings=warnings, model=m1)


def _event_study(df, y, e, base, unit, leads, lags, cov, zc, dof, warnings, outcome):
    """Event-time coefficients (k = -1 the reference, ends binned) and the joint test of the leads."""
    import statsmodels.api as sm

    k = (df["_t"] - df["_s"]).to_numpy(dtype=float, copy=True)
    k[df["_s"].to_numpy() > df["_t"].max()] = np.nan     # starts after the data: not yet treated throughout
    kb = np.clip(k, -leads, lags)
    ev_names = []
    Xe = base.copy()
    for kk in range(-leads, lags + 1):
        if kk == -1:
            continue
        col = (~np.isnan(k)) & (kb == kk)
        if col.any():
            nm = f"k{kk:+d}"
            Xe[nm] = col.astype(float)
            ev_names.append((kk, nm))
    m2 = sm.GLM(y, Xe, family=sm.families.Poisson(), offset=np.log(e)).fit(**cov)
    ev = pd.DataFrame([{"event_time": kk, **_effect_row(float(m2.params[nm]), float(m2.bse[nm]), zc, df=dof),
                        "n_units": int(pd.Series(df.loc[Xe[nm] > 0, unit]).nunique())} for kk, nm in ev_names]
                      ).set_index("event_time")
    lead_names = [nm for kk, nm in ev_names if kk < -1]
    pretrend_p = np.nan
    # a clustered covariance has rank at most G - 1: with fewer clusters than leads there is no joint test
    if lead_names and dof >= len(lead_names):
        R = np.zeros((len(lead_names), len(m2.params)))
        for i, nm in enumerate(lead_names):
            R[i, list(m2.params.index).index(nm)] = 1.0
        pretrend_p = float(np.asarray(m2.wald_test(R, scalar=True).pvalue))
        if pretrend_p < 0.05:
            warnings.append(QualityWarning(
                "W-INT-05", "warning", f"before their start the treated branches already moved differently from "
                f"the comparison branches (leads jointly p = {pretrend_p:.3g}): parallel trends are doubtful",
                {"pretrend_p": pretrend_p}, subject=outcome,
                message_zh=f"实施前处理组与对照组走势已不同（p = {pretrend_p:.3g}），平行趋势假设存疑。"))
    return ev, pretrend_p


# =============================================================================================== register
@dataclass
class Intervention:
    """One intervention of the register, with its per-branch starts."""

    intervention_id: str
    kind: str
    name: dict
    description: dict
    step_id: str
    failure_type: str
    starts: dict          # branch -> Timestamp
    complaint_categories: list
    kpis: list
    checklist_items: list

    @property
    def staggered(self) -> bool:
        return len({s.to_period("M") for s in self.starts.values()}) > 1

    @property
    def first_start(self) -> pd.Timestamp:
        return min(self.starts.values())


def _split(value) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return []
    return [v.strip() for v in str(value).split(";") if v.strip()]


def register(interventions: pd.DataFrame, *, blueprint_steps: pd.DataFrame | None = None,
             checklist: pd.DataFrame | None = None) -> dict[str, Intervention]:
    """The intervention register as :class:`Intervention` objects keyed by id, checked for consistency.

    Checks (a :class:`~sqc.errors.DataError` naming the column, 1-based row and value): name, kind, step and
    failure type the same on every row of an id; complaint categories and KPIs known; the step declared in
    ``blueprint_steps`` and checklist items in ``checklist`` when those are given.
    """
    from .tables import COMPLAINT_CATEGORIES, KPIS, SCHEMAS

    needed = SCHEMAS["interventions"].names
    missing = [c for c in needed if c not in interventions.columns]
    if missing:
        raise DataError(f"interventions table lacks column(s) {missing}", column=missing[0],
                        expected=f"columns {needed}")
    out: dict[str, Intervention] = {}
    steps = None if blueprint_steps is None else set(blueprint_steps["step_id"])
    items = None if checklist is None else set(checklist["item_id"])
    same = ["kind", "name_en", "name_zh", "description_en", "description_zh", "step_id", "failure_type",
            "complaint_categories", "kpis", "checklist_items"]
    for iid, g in interventions.groupby("intervention_id", sort=True):
        first = g.iloc[0]
        for c in same:
            vals = g[c].astype("string").fillna("").unique()
            if len(vals) > 1:
                row = int(g.index[list(g[c].astype("string").fillna("")).index(vals[1])]) + 1
                raise DataError(f"intervention {iid!r} has different {c} on different rows", file="interventions",
                                column=c, row=row, value=vals[1], expected=f"the same value as its first row "
                                f"({vals[0]!r})")
        cats, kpis, ck = (_split(first["complaint_categories"]), _split(first["kpis"]),
                          _split(first["checklist_items"]))
        for vals, known, col in ((cats, COMPLAINT_CATEGORIES, "complaint_categories"), (kpis, KPIS, "kpis"),
                                 (ck, items, "checklist_items")):
            if known is None:
                continue
            bad = [v for v in vals if v not in known]
            if bad:
                raise DataError(f"unknown value in {col}", file="interventions", column=col,
                                row=int(g.index[0]) + 1, value=bad[0], expected=f"';'-separated values from "
                                f"{sorted(known)[:12]}")
        if steps is not None and first["step_id"] not in steps:
            raise DataError("blueprint step not declared in blueprint_steps", file="interventions", column="step_id",
                            row=int(g.index[0]) + 1, value=first["step_id"], expected=f"one of {sorted(steps)}")
        out[str(iid)] = Intervention(
            str(iid), str(first["kind"]), {"en": first["name_en"], "zh": first["name_zh"]},
            {"en": first["description_en"], "zh": first["description_zh"]}, str(first["step_id"]),
            str(first["failure_type"]), {str(b): pd.Timestamp(s) for b, s in zip(g["branch"], g["start_date"])},
            cats, kpis, ck)
    return out


# =============================================================================================== evaluate
@dataclass
class InterventionEffect(ResultData):
    """The effect of one intervention on its primary measure, from the design the data allow.

    ``design`` is ``"its"``, ``"staggered"`` or ``"before_after"``; ``effect`` is a one-row dict (rate_ratio,
    ci_low, ci_high, p) with ``n_before``/``n_after`` (months) and ``count_before``/``count_after`` (events);
    ``series`` holds observed and counterfactual counts per month (summed over the branches it applies to);
    ``result`` is the design's own result object.
    """

    intervention: Intervention
    measure: str
    design: str
    effect: dict
    verdict: str
    series: pd.DataFrame
    result: Any

    _chart = "sqc.plotting.interventions:intervention_effect_spec"

    def to_dict(self) -> dict:
        return {"intervention_id": self.intervention.intervention_id, "measure": self.measure,
                "design": self.design, "verdict": self.verdict, **self.effect}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()]).set_index("intervention_id")

    def sample_size(self) -> int:
        """Months (or treated branch-months) before and after the start."""
        return int(self.effect["n_before"] + self.effect["n_after"])

    def _summary_lines(self, lang: str = "en") -> list[str]:
        e = self.effect
        return [f"{self.intervention.intervention_id} on {self.measure} ({self.design}): RR {e['rate_ratio']:.3f} "
                f"(CI {e['ci_low']:.3f}-{e['ci_high']:.3f}), p = {e['p']:.3g}; {e['n_before']} "
                f"{e['unit'].replace('_', ' ')} before, {e['n_after']} after; verdict: {self.verdict}"]


def monthly_counts(complaints: pd.DataFrame, volumes: pd.DataFrame, categories: list[str], *, branches=None,
                   end: str | None = None) -> pd.DataFrame:
    """Complaints of ``categories`` per branch and month with the exposure (active customers): columns
    ``branch, period, count, exposure`` (months with customers and no complaint give 0)."""
    from .kpi import complaint_rates

    comp = complaints.loc[complaints["category"].isin(categories)]
    vol = volumes
    if branches is not None:
        comp = comp.loc[comp["branch"].isin(branches)]
        vol = vol.loc[vol["branch"].isin(branches)]
    if end is not None:
        vol = vol.loc[vol["period"].astype(str) <= end]
    rates = complaint_rates(comp, vol, end=end)
    rates = rates.loc[rates["branch"] != "ALL"]
    return pd.DataFrame({"branch": rates["branch"].to_numpy(), "period": rates["period"].astype(str).to_numpy(),
                         "count": rates["numerator"].to_numpy(float),
                         "exposure": rates["n"].to_numpy(float)}).sort_values(["branch", "period"],
                                                                              ignore_index=True)


def audit_failures(audit_visits: pd.DataFrame, checklist: pd.DataFrame, items: list[str], *, branches=None,
                   end: str | None = None) -> pd.DataFrame:
    """Failed audit checks of checklist ``items`` per branch and month: columns ``branch, period, count`` (checks
    scoring below the item's maximum) and ``exposure`` (applicable checks; N/A excluded). Branch-months with no
    applicable check are left out (no exposure, no rate)."""
    a = audit_visits.loc[audit_visits["item_id"].isin(items) & audit_visits["score"].notna()]
    if branches is not None:
        a = a.loc[a["branch"].isin(branches)]
    if end is not None:
        a = a.loc[a["period"].astype(str) <= end]
    a = a.merge(checklist[["item_id", "max_score"]], on="item_id", how="left")
    g = a.assign(period=a["period"].astype(str), failed=(a["score"] < a["max_score"]).astype(float)).groupby(
        ["branch", "period"], as_index=False).agg(count=("failed", "sum"), exposure=("failed", "size"))
    return g.astype({"exposure": float}).sort_values(["branch", "period"], ignore_index=True)


def _month_share_after(period: pd.Series, start: pd.Timestamp) -> np.ndarray:
    """Share of each month's days on or after ``start`` (0 before the start month, 1 after)."""
    per = pd.PeriodIndex(period.astype(str), freq="M")
    first = per.start_time
    days = per.days_in_month.to_numpy(float)
    after_days = np.clip((per.end_time.normalize() - start.normalize()).days.to_numpy(float) + 1, 0, days)
    share = after_days / days
    share[first.to_numpy() >= start.normalize().to_datetime64()] = 1.0
    return share


def evaluate(data, intervention: Intervention | str, *, as_of: str | None = None, branches=None,
             measure: str | None = None, seasonality: int | None = None,
             confidence: float = DEFAULT_CONFIDENCE) -> InterventionEffect:
    """Effect of one intervention on its primary complaint category (or ``measure``), choosing the design:

    * some branches in scope not (yet) treated → :func:`staggered` on the branch × month panel
      (difference-in-differences against the not-yet and never-treated branches; covers a staggered roll-out
      and a single start in some branches alike);
    * otherwise, with at least :data:`MIN_SEGMENT_POINTS` months before and after → :func:`its` on the monthly
      total over the branches it applies to, exposure = their active customers, seasonal terms when there are at
      least 24 months (one pair of harmonics below 36 months);
    * otherwise → :func:`before_after` (u chart, exact rate ratio, runs).

    Data after ``as_of`` (``YYYY-MM``) are ignored. The outcome is the complaints of ``measure`` (a complaint
    category; default the intervention's first) per active customer, or, when ``measure`` is an audit checklist
    item, its failed checks per applicable check (see :func:`evaluate_process_measures`); lower is better.
    """
    if isinstance(intervention, str):
        reg = register(data.interventions)
        if intervention not in reg:
            raise ParameterError(f"unknown intervention {intervention!r}; known: {sorted(reg)}")
        intervention = reg[intervention]
    cats = [measure] if measure else intervention.complaint_categories[:1]
    if not cats:
        raise DataError(f"intervention {intervention.intervention_id!r} names no complaint category to measure",
                        column="complaint_categories", expected="at least one complaint category")
    scope = list(branches) if branches is not None else None
    checklist = data.tables.get("checklist")
    if checklist is not None and cats[0] in set(checklist["item_id"]):
        # a process measure: failed audit checks per applicable check (a ratio of failure rates)
        counts = audit_failures(data.audit_visits, checklist, cats, branches=scope, end=as_of)
        if counts.empty:
            raise InsufficientDataError(f"no applicable audit checks of item {cats[0]!r} in scope", column="item_id")
    else:
        counts = monthly_counts(data.complaints, data.volumes, cats, branches=scope, end=as_of)
    return _evaluate_counts(intervention, cats[0], counts, scope, seasonality=seasonality, confidence=confidence)


def _evaluate_counts(intervention: Intervention, measure: str, counts: pd.DataFrame, scope, *,
                     seasonality: int | None, confidence: float, direction: str = "lower_is_better",
                     kind: str = "rate") -> InterventionEffect:
    """The design choice of :func:`evaluate` on a branch × month panel ``branch, period, count, exposure``.

    ``kind``: ``"rate"`` (events per exposure), ``"proportion"`` (successes per trial: the before/after fallback
    is a p chart) or ``"mean"`` (a sum of values per observation: only the model-based designs, whose quasi-Poisson
    or cluster-robust errors do not assume Poisson counts)."""
    applies = [b for b in intervention.starts if scope is None or b in scope]
    if not applies:
        raise InsufficientDataError(f"intervention {intervention.intervention_id!r} applies to none of the "
                                    f"branches in scope", column="branch")
    starts = {b: intervention.starts[b] for b in applies}
    months = sorted(counts["period"].unique())
    warnings: list[QualityWarning] = []
    start_periods = {b: s.to_period("M") for b, s in starts.items()}
    in_data = {b: p for b, p in start_periods.items() if str(p) <= months[-1]}
    never = [b for b in counts["branch"].unique() if b not in starts]
    if in_data and (never or len(set(start_periods.values())) > 1):
        # some branches are never or not yet treated: compare against them (difference-in-differences)
        panel = counts.assign(start=counts["branch"].map({b: str(p) for b, p in start_periods.items()}))
        res = staggered(panel, "count", "branch", "period", "start", offset="exposure", confidence=confidence,
                        direction=direction)
        treated = [b for units in res.cohorts.values() for b in units]
        tr = panel.loc[panel["branch"].isin(treated)]
        after = tr["period"] >= tr["start"]
        eff = dict(res.headline[["rate_ratio", "ci_low", "ci_high", "p"]])
        eff.update(n_before=int((~after).sum()), n_after=int(after.sum()), count_before=float(tr.loc[~after,
                   "count"].sum()), count_after=float(tr.loc[after, "count"].sum()), unit="branch_months")
        series = res.series.rename(columns={"time": "period"})[["period", "observed", "counterfactual", "after"]]
        return InterventionEffect(intervention, measure, "staggered", eff, res.verdict, series, res,
                                  warnings=_unique(res.warnings + warnings))
    sub = counts.loc[counts["branch"].isin(applies)]
    total = sub.groupby("period", as_index=False)[["count", "exposure"]].sum()
    start = min(starts.values())
    total["after"] = _month_share_after(total["period"], start)
    n_pre, n_post = int((total["after"] == 0).sum()), int((total["after"] > 0).sum())
    if n_pre >= MIN_SEGMENT_POINTS and n_post >= MIN_SEGMENT_POINTS:
        k = seasonality if seasonality is not None else (0 if len(total) < 24 else 1 if len(total) < 36 else 2)
        res = its(total, "count", "period", "after", offset="exposure", seasonality=k, confidence=confidence,
                  interval="t", direction=direction)
        if any(w.code == "W-INT-01" for w in res.warnings):
            # autocorrelated residuals: the model-based interval may be too narrow, and Newey-West is itself
            # optimistic in short series, so report the wider of the two
            hac = its(total, "count", "period", "after", offset="exposure", seasonality=k, confidence=confidence,
                      interval="t", cov_type="HAC", direction=direction)
            if hac.effects.loc["level", "se"] > res.effects.loc["level", "se"]:
                res = hac
        eff = dict(res.headline[["rate_ratio", "ci_low", "ci_high", "p"]])
        after = total["after"] > 0
        eff.update(n_before=n_pre, n_after=n_post, count_before=float(total.loc[~after, "count"].sum()),
                   count_after=float(total.loc[after, "count"].sum()), unit="months")
        series = res.series.rename(columns={"time": "period"})[["period", "observed", "counterfactual", "cf_low",
                                                                 "cf_high", "after"]]
        return InterventionEffect(intervention, measure, "its", eff, res.verdict, series, res,
                                  warnings=_unique(res.warnings))
    if n_pre < 1 or n_post < 1:
        raise InsufficientDataError(f"intervention {intervention.intervention_id!r}: no months "
                                    f"{'before' if n_pre < 1 else 'after'} its start in the data",
                                    column="start_date", value=str(start.date()))
    if kind == "mean":
        raise InsufficientDataError(f"intervention {intervention.intervention_id!r}: {n_pre} month(s) before and "
                                    f"{n_post} after its start; a change in a mean KPI needs the segmented "
                                    f"regression, i.e. at least {MIN_SEGMENT_POINTS} months on each side",
                                    column="start_date", value=str(start.date()))
    res = before_after(total, "count", "exposure", "period", "after", confidence=confidence, direction=direction,
                       chart="p" if kind == "proportion" else "u")
    eff = {"rate_ratio": res.rate_ratio, "ci_low": res.ci_low, "ci_high": res.ci_high, "p": res.p,
           "n_before": n_pre, "n_after": n_post, "count_before": res.before["count"],
           "count_after": res.after["count"], "unit": "months"}
    rate_before = res.before["count"] / res.before["exposure"]
    series = total.assign(observed=total["count"], counterfactual=rate_before * total["exposure"])[
        ["period", "observed", "counterfactual", "after"]]
    return InterventionEffect(intervention, measure, "before_after", eff, res.verdict, series, res,
                              warnings=_unique(res.warnings))


def evaluate_kpis(kpis: pd.DataFrame, intervention: Intervention, *, as_of: str | None = None, branches=None,
                  confidence: float = DEFAULT_CONFIDENCE
                  ) -> tuple[list[InterventionEffect], list[QualityWarning]]:
    """:func:`evaluate` on each KPI the intervention should move (the register's ``kpis``).

    The outcome of a KPI is its numerator per denominator in each branch and month, from the tidy monthly KPI
    frame of :mod:`sqc.kpi` (``branch, period, kpi, numerator, denominator``; network rows ``ALL`` are not
    used): answered-first-time contacts per contact for first-contact resolution, summed scores per answered
    survey for mean satisfaction, and so on. The effect is the ratio of the KPI after to before (for a mean, the
    ratio of means), judged in the KPI's own direction (higher is better for satisfaction and resolution).

    Parameters
    ----------
    kpis : DataFrame
        Tidy monthly KPI frame (e.g. ``sqc.kpi.network_kpis(...)`` or the scorecard's).
    intervention : Intervention
        From :func:`register`.
    as_of : "YYYY-MM", optional
        Months after it are ignored.
    branches : list, optional
        Branches in scope (default: all in the frame).

    Returns
    -------
    (effects, warnings) : a list of :class:`InterventionEffect` (``measure`` is the KPI code) and info warnings
    (W-INT-02) for KPIs that cannot be judged yet.
    """
    from .kpi import KPI_DIRECTION
    from .spc import KPI_KINDS

    out, warnings = [], []
    for kpi in intervention.kpis:
        sub = kpis.loc[(kpis["kpi"] == kpi) & (kpis["branch"] != "ALL")]
        if branches is not None:
            sub = sub.loc[sub["branch"].isin(list(branches))]
        if as_of is not None:
            sub = sub.loc[sub["period"].astype(str) <= str(as_of)]
        sub = sub.loc[sub["denominator"] > 0]
        # the models take whole counts: a mean KPI's summed seconds or scores are rounded to the unit (a change
        # of < 1 in sums of thousands), counts and successes are whole already
        counts = pd.DataFrame({"branch": sub["branch"].to_numpy(), "period": sub["period"].astype(str).to_numpy(),
                               "count": np.rint(sub["numerator"].to_numpy(float)),
                               "exposure": sub["denominator"].to_numpy(float)})
        try:
            if counts.empty:
                raise InsufficientDataError(f"no months of KPI {kpi!r} in scope", column="kpis", value=kpi)
            e = _evaluate_counts(intervention, kpi, counts, None if branches is None else list(branches),
                                 seasonality=None, confidence=confidence,
                                 direction=KPI_DIRECTION.get(kpi, "higher_is_better"),
                                 kind=KPI_KINDS.get(kpi, "rate"))
        except InsufficientDataError as exc:
            warnings.append(QualityWarning("W-INT-02", "info", f"{intervention.intervention_id} / {kpi} not "
                                           f"evaluated: {exc.reason}", {"kpi": kpi},
                                           subject=intervention.intervention_id,
                                           message_zh=f"{intervention.intervention_id} / {kpi} 暂无法评估：数据不足。"))
            continue
        e.warnings = [replace(w, subject=f"{intervention.intervention_id}/{kpi}") for w in e.warnings]
        out.append(e)
    return out, warnings


def _unique(warnings: list[QualityWarning]) -> list[QualityWarning]:
    """One warning per code, the first of each (a chart warns once per stage)."""
    first: dict = {}
    for w in warnings:
        first.setdefault(w.code, w)
    return list(first.values())


def evaluate_all(data, *, as_of: str | None = None, branches=None, confidence: float = DEFAULT_CONFIDENCE
                 ) -> tuple[list[InterventionEffect], list[QualityWarning]]:
    """:func:`evaluate` for every intervention of the register that started by ``as_of``; interventions that
    cannot be evaluated yet (no month after the start, no branch in scope) are skipped with an info warning."""
    reg = register(data.interventions, blueprint_steps=data.tables.get("blueprint_steps"),
                   checklist=data.tables.get("checklist"))
    out, warnings = [], []
    end = None if as_of is None else (pd.Period(str(as_of), freq="M") + 1).start_time
    for iid, iv in reg.items():
        if end is not None and iv.first_start >= end:
            continue                     # not started yet: nothing to judge, nothing to warn about
        try:
            e = evaluate(data, iv, as_of=as_of, branches=branches, confidence=confidence)
            e.warnings = [replace(w, subject=iid) for w in e.warnings]
            out.append(e)
        except InsufficientDataError as exc:
            warnings.append(QualityWarning("W-INT-02", "info", f"{iid} not evaluated: {exc.reason}",
                                           {"intervention_id": iid}, subject=iid,
                                           message_zh=f"{iid} 暂无法评估：干预前后数据不足。"))
    return out, warnings


def evaluate_process_measures(data, intervention: Intervention, *, as_of: str | None = None, branches=None,
                              confidence: float = DEFAULT_CONFIDENCE
                              ) -> tuple[list[InterventionEffect], list[QualityWarning]]:
    """:func:`evaluate` on each audit checklist item the intervention should improve (its process measures):
    the outcome is failed checks per applicable check, lower is better. Items that cannot be judged yet are
    skipped with an info warning."""
    out, warnings = [], []
    if "audit_visits" not in data.tables or "checklist" not in data.tables:
        return out, warnings
    for item in intervention.checklist_items:
        try:
            e = evaluate(data, intervention, as_of=as_of, branches=branches, measure=item, confidence=confidence)
        except InsufficientDataError as exc:
            warnings.append(QualityWarning("W-INT-02", "info", f"{intervention.intervention_id} / {item} not "
                                           f"evaluated: {exc.reason}", {"item_id": item},
                                           subject=intervention.intervention_id))
            continue
        e.warnings = [replace(w, subject=f"{intervention.intervention_id}/{item}") for w in e.warnings]
        out.append(e)
    return out, warnings


def effects_frame(effects: list[InterventionEffect]) -> pd.DataFrame:
    """One row per evaluated intervention: id, measure, design, rate ratio with interval, p, months and counts
    before and after, verdict code."""
    return pd.DataFrame([e.to_dict() for e in effects]).set_index("intervention_id") if effects else \
        pd.DataFrame(columns=["measure", "design", "verdict", "rate_ratio", "ci_low", "ci_high", "p"])


__all__ = ["its", "ITSResult", "before_after", "BeforeAfterResult", "staggered", "StaggeredResult", "register",
           "Intervention", "evaluate", "evaluate_all", "evaluate_process_measures", "evaluate_kpis", "InterventionEffect",
           "effects_frame", "monthly_counts", "audit_failures",
           "verdict_code", "harmonics", "VERDICTS", "DESIGNS", "FAMILIES"]
