"""Hotline and branch KPIs (Methods §5.1) computed from raw contact and complaint tables.

Every convention is a parameter and is printed with the numbers (``definitions(...)`` and
``frame.attrs["definitions"]``), as ISO 18295-1 asks for defined measures.

One pass: the raw hotline table is reduced to per-(branch, period) *sufficient statistics* by a single
``groupby(...).sum()`` over a handful of derived numeric columns (counts, sums and sums of squares). Every KPI
is then a ratio of those sums, so network totals are sums of the branch sums (never averages of ratios).

Where the sums are computed: a pandas frame is reduced here with numpy (the reference path); an Ibis table, or a
network whose ``data.store`` offers ``table(name)`` (see :class:`TableSource`), is reduced by :mod:`sqc.engine`
in the database that holds the rows (DuckDB by default, Spark for large networks), which returns only the small
per-(branch, day) sums. The KPIs, intervals and conventions below are then computed by the same code either way.

KPIs (``kpi`` column of the tidy result)
----------------------------------------
service_level
    Share of calls meeting the answer-time threshold ``T`` (``sl_threshold``, default 20 s). ``sl_variant``:

    * ``"offered"`` (default): answered within T / offered. Abandoned calls count as failures.
    * ``"exclude_abandoned_within_T"``: answered within T / (offered − abandoned within T). Callers who hung up
      before T are left out; abandons after T count as failures.
    * ``"exclude_short_abandons"``: answered within T / (offered − abandoned before ``short_abandon_s``).
    * ``"abandoned_within_T_as_met"``: (answered within T + abandoned within T) / offered.
    * ``"answered"``: answered within T / answered (abandons ignored entirely; flattering - shown for
      comparability only).
asa_s
    Average speed of answer: Σ wait of answered calls / answered calls (seconds). Right-skewed: pass
    ``quantiles=True`` for median, P80 and P90 (extra rows ``asa_median_s``, ``asa_p80_s``, ``asa_p90_s``).
abandonment_rate
    Abandoned / offered, optionally excluding abandons shorter than ``short_abandon_s``
    (``exclude_short_abandons=True``) from numerator and denominator.
aht_s
    Average handling time: Σ handle_s / handled calls with a recorded handle time (seconds). ``quantiles=True``
    adds ``aht_median_s``.
fcr_rate
    First-contact resolution: answered contacts flagged ``resolved_first_contact`` / answered contacts with the
    flag recorded (contact-flag based; the survey-based variant is the CSAT module's business).
csat_mean
    Mean CSAT rating (1-5) over surveyed contacts.
csat_top2
    Top-box share: ratings ≥ ``top_box_min`` (default 4, i.e. top-2-box on 1-5) / surveyed contacts.
complaint_rate_per_1000
    Complaints opened in the period / (active customers / ``rate_per``) - exposure is the customer base from the
    ``volumes`` table, never calls. For daily periods the month's customer base is the exposure of each day.

Tidy output columns: ``branch, period, kpi, numerator, denominator, value, n, sd, ci_low, ci_high``.
``numerator/denominator = value``; ``n`` is the number of observations (calls, ratings, customers) behind the
value; ``sd`` is the observation SD for means (NaN for proportions and rates). CIs: Wilson for proportions,
Student t for means, exact Poisson (Garwood) for complaint rates (sqc.inference conventions; 95 % by default).
Network totals (``total=True``) are rows with ``branch == "ALL"`` aggregated from the sums.

Example
-------
>>> from sqc.kpi import hotline_kpis
>>> k = hotline_kpis(data.hotline, freq="month", sl_threshold=20)          # doctest: +SKIP
>>> k.query("kpi == 'service_level' and branch == 'B07'")                  # doctest: +SKIP
"""
from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from .errors import DataError, ParameterError
from .inference import DEFAULT_CONFIDENCE, _check_confidence, wilson_ci

__all__ = ["hotline_kpis", "complaint_rates", "network_kpis", "definitions", "kpi_series", "SL_VARIANTS",
           "HOTLINE_KPIS", "KPI_DIRECTION", "TableSource", "table_source"]

SL_VARIANTS = ("offered", "exclude_abandoned_within_T", "exclude_short_abandons", "abandoned_within_T_as_met",
               "answered")
FREQS = {"month": "M", "day": "D"}
HOTLINE_KPIS = ("service_level", "asa_s", "abandonment_rate", "aht_s", "fcr_rate", "csat_mean", "csat_top2")
PROPORTION_KPIS = {"service_level", "abandonment_rate", "fcr_rate", "csat_top2"}
MEAN_KPIS = {"asa_s", "aht_s", "csat_mean"}
# Default improvement direction (the targets table overrides it when present).
KPI_DIRECTION = {"service_level": "higher_is_better", "asa_s": "lower_is_better",
                 "abandonment_rate": "lower_is_better", "aht_s": "lower_is_better",
                 "fcr_rate": "higher_is_better", "csat_mean": "higher_is_better", "csat_top2": "higher_is_better",
                 "complaint_rate_per_1000": "lower_is_better"}
TIDY_COLUMNS = ["branch", "period", "kpi", "numerator", "denominator", "value", "n", "sd", "ci_low", "ci_high"]
HOTLINE_COLUMNS = ("ts", "branch", "wait_s", "answered", "handle_s", "resolved_first_contact", "csat")
#: The per-(branch, period) sufficient statistics every hotline KPI is computed from (``_hotline_sums``).
SUM_COLUMNS = ("offered", "answered", "answered_within_T", "abandoned", "abandoned_within_T", "abandoned_short",
               "wait_sum", "wait_sumsq", "handle_n", "handle_sum", "handle_sumsq", "fcr_n", "fcr_yes", "csat_n",
               "csat_sum", "csat_sumsq", "csat_top")
#: Quantile rows (kpi name, raw column, probability) over answered contacts: linear interpolation between order
#: statistics (numpy/pandas default, DuckDB ``quantile_cont``, Spark ``percentile``), exact in every engine.
QUANTILE_KPIS = (("asa_median_s", "wait_s", 0.5), ("asa_p80_s", "wait_s", 0.8), ("asa_p90_s", "wait_s", 0.9),
                 ("aht_median_s", "handle_s", 0.5))


class TableSource(Protocol):
    """What a store-backed network offers as ``data.store``: ``table(name)`` returns an Ibis table of one schema
    table (same column names and meaning as the validated frames of :mod:`sqc.tables`)."""

    def table(self, name: str): ...


def table_source(data) -> TableSource | None:
    """Where ``data``'s raw rows are aggregated: its ``aggregation_source`` (an engine such as Spark) or its
    ``store`` when it is store-backed (the raw rows stay in a database), else None (plain pandas frames)."""
    for source in (getattr(data, "aggregation_source", None), getattr(data, "store", None)):
        if callable(getattr(source, "table", None)):
            return source
    return None


def _is_frame(table) -> bool:
    return isinstance(table, pd.DataFrame)


def definitions(*, sl_threshold: float = 20.0, sl_variant: str = "offered", short_abandon_s: float = 5.0,
                exclude_short_abandons: bool = False, top_box_min: int = 4, rate_per: int = 1000) -> pd.DataFrame:
    """The KPI definitions in force for a set of conventions (English and Chinese), one row per KPI."""
    t = f"{sl_threshold:g}"
    s = f"{short_abandon_s:g}"
    sl = {
        "offered": (f"calls answered within {t} s / calls offered (abandoned calls count as failures)",
                    f"{t}秒内接通的来电 / 呼入总量（放弃来电计为未达标）"),
        "exclude_abandoned_within_T": (
            f"calls answered within {t} s / (calls offered − calls abandoned within {t} s); abandons after {t} s "
            f"count as failures",
            f"{t}秒内接通的来电 /（呼入总量 − {t}秒内放弃的来电）；{t}秒后放弃计为未达标"),
        "exclude_short_abandons": (
            f"calls answered within {t} s / (calls offered − calls abandoned within {s} s)",
            f"{t}秒内接通的来电 /（呼入总量 − {s}秒内放弃的来电）"),
        "abandoned_within_T_as_met": (
            f"(calls answered within {t} s + calls abandoned within {t} s) / calls offered",
            f"（{t}秒内接通 + {t}秒内放弃的来电）/ 呼入总量"),
        "answered": (f"calls answered within {t} s / calls answered (abandoned calls ignored)",
                     f"{t}秒内接通的来电 / 接通来电（不计放弃来电）"),
    }[_check_variant(sl_variant)]
    ab = ((f"calls abandoned after {s} s or more / (calls offered − calls abandoned within {s} s)",
           f"等待{s}秒及以上后放弃的来电 /（呼入总量 − {s}秒内放弃的来电）")
          if exclude_short_abandons else ("calls abandoned / calls offered", "放弃来电 / 呼入总量"))
    rows = [
        ("service_level", f"service level SL({t}s): " + sl[0], f"服务水平 SL({t}秒)：" + sl[1]),
        ("asa_s", "average speed of answer: total wait of answered calls / answered calls (s)",
         "平均应答速度：接通来电的等待时长合计 / 接通来电数（秒）"),
        ("abandonment_rate", "abandonment rate: " + ab[0], "放弃率：" + ab[1]),
        ("aht_s", "average handling time: total handle time / handled calls (s)",
         "平均处理时长：处理时长合计 / 已处理来电数（秒）"),
        ("fcr_rate", "first-contact resolution: answered contacts resolved at first contact / answered contacts "
                     "with the flag recorded", "首次解决率：首次接触即解决的接通来电 / 有记录的接通来电"),
        ("csat_mean", "CSAT: mean rating (1-5) of surveyed contacts", "满意度：受访来电的平均评分（1-5）"),
        ("csat_top2", f"CSAT top-box share: ratings ≥ {top_box_min} / surveyed contacts",
         f"满意度高分占比：评分≥{top_box_min}的受访来电 / 受访来电"),
        ("complaint_rate_per_1000", f"complaints opened / active customers × {rate_per:,}",
         f"新增投诉 / 活跃客户数 × {rate_per:,}"),
    ]
    return pd.DataFrame(rows, columns=["kpi", "definition_en", "definition_zh"])


def _check_variant(v: str) -> str:
    if v not in SL_VARIANTS:
        raise ParameterError(f"sl_variant must be one of {SL_VARIANTS}, got {v!r}")
    return v


def _period_codes(ts: pd.Series, freq: str, column: str) -> np.ndarray:
    if freq not in FREQS:
        raise ParameterError(f"freq must be one of {sorted(FREQS)}, got {freq!r}")
    if not pd.api.types.is_datetime64_any_dtype(ts):
        try:
            ts = pd.to_datetime(ts, errors="raise")
        except (ValueError, TypeError) as exc:
            bad = pd.to_datetime(ts, errors="coerce").isna() & ts.notna()
            row = ts.index[bad.to_numpy()][0] if bad.any() else None
            raise DataError("cannot read timestamps", column=column, row=row,
                            value=None if row is None else ts.loc[row], expected="a timestamp",
                            count=int(bad.sum())) from exc
    if ts.isna().any():
        row = ts.index[ts.isna().to_numpy()][0]
        raise DataError("missing timestamp", column=column, row=row, expected="a timestamp",
                        count=int(ts.isna().sum()))
    values = ts.to_numpy()
    if getattr(ts.dt, "tz", None) is not None:
        values = ts.dt.tz_localize(None).to_numpy()
    # datetime64 truncation is vectorised and much cheaper than Series.dt.to_period on millions of rows.
    return values.astype(f"datetime64[{FREQS[freq]}]")


def _format_period(codes: np.ndarray, freq: str) -> np.ndarray:
    return np.datetime_as_string(codes, unit=FREQS[freq])


def _bool_array(s: pd.Series, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(value as float 0/1, present mask) for a nullable boolean column."""
    if s.dtype == bool:
        return s.to_numpy(dtype=float), np.ones(len(s), dtype=bool)
    if pd.api.types.is_bool_dtype(s):          # nullable "boolean": vectorised, no object round trip
        arr = s.to_numpy(dtype=float, na_value=np.nan)
        present = ~np.isnan(arr)
        return np.where(present, arr, 0.0), present
    present = s.notna().to_numpy()
    vals = s.to_numpy(dtype=object)
    ok = np.isin(vals[present], [True, False, 1, 0, np.True_, np.False_])
    if not ok.all():
        idx = np.flatnonzero(present)[~ok][0]
        raise DataError("not a true/false value", column=column, row=s.index[idx], value=vals[idx],
                        expected="true/false (or 1/0)", count=int((~ok).sum()))
    out = np.zeros(len(s))
    out[present] = vals[present].astype(float)
    return out, present


def _num_array(s: pd.Series, column: str, *, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    if not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
        conv = pd.to_numeric(s, errors="coerce")
        bad = conv.isna() & s.notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError("not a number", column=column, row=s.index[i], value=s.iloc[i], expected="a number",
                            count=int(bad.sum()))
        s = conv
    x = s.to_numpy(dtype=float, na_value=np.nan)
    for bound, cmp, text in ((lo, np.less, f"≥ {lo}"), (hi, np.greater, f"≤ {hi}")):
        if bound is not None:
            with np.errstate(invalid="ignore"):
                bad = cmp(x, bound)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DataError("value out of range", column=column, row=s.index[i], value=x[i], expected=text,
                                count=int(bad.sum()))
    return x


def _hotline_sums(hotline: pd.DataFrame, freq: str, sl_threshold: float, short_abandon_s: float,
                  top_box_min: int) -> pd.DataFrame:
    missing = [c for c in HOTLINE_COLUMNS if c not in hotline.columns]
    if missing:
        raise DataError(f"hotline table lacks column(s) {missing}", column=missing[0],
                        expected=f"columns {list(HOTLINE_COLUMNS)}")
    period = _period_codes(hotline["ts"], freq, "ts")
    wait = _num_array(hotline["wait_s"], "wait_s", lo=0)
    if np.isnan(wait).any():
        i = int(np.flatnonzero(np.isnan(wait))[0])
        raise DataError("missing waiting time", column="wait_s", row=hotline.index[i], expected="a number ≥ 0",
                        count=int(np.isnan(wait).sum()))
    answered, ans_ok = _bool_array(hotline["answered"], "answered")
    if not ans_ok.all():
        i = int(np.flatnonzero(~ans_ok)[0])
        raise DataError("missing answered flag", column="answered", row=hotline.index[i], expected="true/false",
                        count=int((~ans_ok).sum()))
    handle = _num_array(hotline["handle_s"], "handle_s", lo=0)
    csat = _num_array(hotline["csat"], "csat", lo=1, hi=5)
    fcr, fcr_ok = _bool_array(hotline["resolved_first_contact"], "resolved_first_contact")
    ans = answered > 0
    aband = ~ans
    handle_ok = ans & ~np.isnan(handle)
    fcr_ok = fcr_ok & ans
    csat_ok = ~np.isnan(csat)
    h = np.where(handle_ok, handle, 0.0)
    c = np.where(csat_ok, csat, 0.0)
    w = np.where(ans, wait, 0.0)
    cols = {
        "offered": np.ones(len(wait)),
        "answered": ans.astype(float),
        "answered_within_T": (ans & (wait <= sl_threshold)).astype(float),
        "abandoned": aband.astype(float),
        "abandoned_within_T": (aband & (wait <= sl_threshold)).astype(float),
        "abandoned_short": (aband & (wait < short_abandon_s)).astype(float),
        "wait_sum": w, "wait_sumsq": w * w,
        "handle_n": handle_ok.astype(float), "handle_sum": h, "handle_sumsq": h * h,
        "fcr_n": fcr_ok.astype(float), "fcr_yes": np.where(fcr_ok, fcr, 0.0),
        "csat_n": csat_ok.astype(float), "csat_sum": c, "csat_sumsq": c * c,
        "csat_top": (csat_ok & (csat >= top_box_min)).astype(float),
    }
    # The single pass: every row gets one (branch, period) cell code, and each sufficient statistic is summed per
    # cell with np.bincount (equivalent to one groupby-sum, without hashing strings per column).
    bcodes, branches = pd.factorize(hotline["branch"], sort=True)
    if (bcodes < 0).any():
        i = int(np.flatnonzero(bcodes < 0)[0])
        raise DataError("missing branch", column="branch", row=hotline.index[i], expected="a branch id")
    pcodes, periods = pd.factorize(period, sort=True)
    n_p = max(len(periods), 1)
    cell = bcodes.astype(np.int64) * n_p + pcodes
    used, cell_code = np.unique(cell, return_inverse=True)
    sums = pd.DataFrame({k: np.bincount(cell_code, weights=v, minlength=used.size) for k, v in cols.items()},
                        index=pd.MultiIndex.from_arrays([np.asarray(branches)[used // n_p],
                                                         np.asarray(periods)[used % n_p]],
                                                        names=["branch", "period"]))
    return sums


def _tidy_from_sums(sums: pd.DataFrame, freq: str, sl_variant: str, exclude_short_abandons: bool,
                    confidence: float) -> pd.DataFrame:
    S = sums
    if sl_variant == "offered":
        sl_num, sl_den = S.answered_within_T, S.offered
    elif sl_variant == "exclude_abandoned_within_T":
        sl_num, sl_den = S.answered_within_T, S.offered - S.abandoned_within_T
    elif sl_variant == "exclude_short_abandons":
        sl_num, sl_den = S.answered_within_T, S.offered - S.abandoned_short
    elif sl_variant == "abandoned_within_T_as_met":
        sl_num, sl_den = S.answered_within_T + S.abandoned_within_T, S.offered
    else:
        sl_num, sl_den = S.answered_within_T, S.answered
    if exclude_short_abandons:
        ab_num, ab_den = S.abandoned - S.abandoned_short, S.offered - S.abandoned_short
    else:
        ab_num, ab_den = S.abandoned, S.offered
    parts = {
        "service_level": (sl_num, sl_den, None),
        "asa_s": (S.wait_sum, S.answered, S.wait_sumsq),
        "abandonment_rate": (ab_num, ab_den, None),
        "aht_s": (S.handle_sum, S.handle_n, S.handle_sumsq),
        "fcr_rate": (S.fcr_yes, S.fcr_n, None),
        "csat_mean": (S.csat_sum, S.csat_n, S.csat_sumsq),
        "csat_top2": (S.csat_top, S.csat_n, None),
    }
    frames = []
    branch = S.index.get_level_values("branch").to_numpy()
    period = S.index.get_level_values("period")
    period = (_format_period(period.to_numpy(), freq) if pd.api.types.is_datetime64_any_dtype(period)
              else period.to_numpy(dtype=object))
    for kpi, (num, den, sumsq) in parts.items():
        num = num.to_numpy(dtype=float)
        den = den.to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        if sumsq is None:
            sd = np.full(len(num), np.nan)
            lo, hi = wilson_ci(np.clip(num, 0, den), den, confidence)
        else:
            sd, lo, hi = _mean_ci_from_sums(num, sumsq.to_numpy(dtype=float), den, confidence)
        frames.append(pd.DataFrame({"branch": branch, "period": period, "kpi": kpi, "numerator": num,
                                    "denominator": den, "value": value, "n": den.astype(np.int64), "sd": sd,
                                    "ci_low": lo, "ci_high": hi}))
    return pd.concat(frames, ignore_index=True)


def _mean_ci_from_sums(total, sumsq, n, confidence):
    """SD and t-interval of a mean from (Σx, Σx², n) - same t convention as sqc.inference.mean_ci."""
    from scipy import stats

    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        var = (sumsq - n * mean * mean) / (n - 1)
        var = np.where(n > 1, np.maximum(var, 0.0), np.nan)
        sd = np.sqrt(var)
        q = stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1))
        half = np.where(n > 1, q * sd / np.sqrt(n), np.nan)
    return sd, mean - half, mean + half


def _quantile_table(hotline: pd.DataFrame, freq: str) -> pd.DataFrame:
    """``branch, period, kpi, value, n`` of the :data:`QUANTILE_KPIS` over answered contacts (not sufficient
    statistics: a separate pass over the rows)."""
    period = _format_period(_period_codes(hotline["ts"], freq, "ts"), freq)
    ans = hotline["answered"].astype(bool).to_numpy()
    base = pd.DataFrame({"branch": hotline["branch"].to_numpy()[ans], "period": period[ans],
                         "wait_s": hotline["wait_s"].to_numpy(dtype=float)[ans],
                         "handle_s": pd.to_numeric(hotline["handle_s"]).to_numpy(dtype=float)[ans]})
    g = base.groupby(["branch", "period"], sort=True, observed=True)
    out = []
    for name, col, q in QUANTILE_KPIS:
        qs = g[col].quantile(q)
        out.append(pd.DataFrame({"branch": qs.index.get_level_values(0), "period": qs.index.get_level_values(1),
                                 "kpi": name, "value": qs.to_numpy(), "n": g[col].count().to_numpy()}))
    return pd.concat(out, ignore_index=True)


def _quantile_rows(quantiles: pd.DataFrame) -> pd.DataFrame:
    """Tidy KPI rows (no numerator, denominator or interval) from a ``branch, period, kpi, value, n`` table."""
    q = quantiles
    return pd.DataFrame({"branch": q["branch"].to_numpy(dtype=object), "period": q["period"].to_numpy(dtype=object),
                         "kpi": q["kpi"].to_numpy(dtype=object), "numerator": np.nan, "denominator": np.nan,
                         "value": q["value"].to_numpy(dtype=float), "n": q["n"].to_numpy().astype(np.int64),
                         "sd": np.nan, "ci_low": np.nan, "ci_high": np.nan})


def _check_conventions(freq, sl_variant, sl_threshold, short_abandon_s, top_box_min, confidence) -> float:
    if freq not in FREQS:
        raise ParameterError(f"freq must be one of {sorted(FREQS)}, got {freq!r}")
    _check_variant(sl_variant)
    for name, v in (("sl_threshold", sl_threshold), ("short_abandon_s", short_abandon_s)):
        if not np.isfinite(v) or v < 0:
            raise ParameterError(f"{name} must be a number of seconds ≥ 0, got {v!r}")
    if top_box_min not in (1, 2, 3, 4, 5):
        raise ParameterError(f"top_box_min must be a rating 1-5, got {top_box_min!r}")
    return _check_confidence(confidence)


def hotline_kpis(hotline, *, freq: str = "month", sl_threshold: float = 20.0,
                 sl_variant: str = "offered", short_abandon_s: float = 5.0, exclude_short_abandons: bool = False,
                 top_box_min: int = 4, start: str | None = None, end: str | None = None, total: bool = False,
                 quantiles: bool = False, confidence: float = DEFAULT_CONFIDENCE) -> pd.DataFrame:
    """Hotline KPIs per branch and period (month or day) from raw contacts, in one groupby pass.

    Parameters
    ----------
    hotline : DataFrame or Ibis table
        Raw contacts with columns ``ts, branch, wait_s, answered, handle_s, resolved_first_contact, csat``. An Ibis
        table (e.g. ``data.store.table("hotline")``) is aggregated by :mod:`sqc.engine` where it lives; a
        DataFrame is aggregated here with numpy. Both give the same result.
    freq : {"month", "day"}
    sl_threshold : float
        Service-level answer-time threshold T in seconds (calls with wait ≤ T meet it).
    sl_variant : str
        Treatment of abandoned calls in the service level; see the module docstring (``SL_VARIANTS``).
    short_abandon_s : float
        Abandons with wait < this are "short abandons" (used by the variants that exclude them).
    exclude_short_abandons : bool
        Exclude short abandons from the abandonment rate.
    top_box_min : int
        Lowest rating counted in the CSAT top-box share (4 → top-2-box on 1-5).
    start, end : "YYYY-MM" or "YYYY-MM-DD", optional
        Inclusive period range (``end="2026-10"`` keeps all of October 2026).
    total : bool
        Also return network totals (``branch == "ALL"``), computed from the summed statistics.
    quantiles : bool
        Add median / P80 / P90 waiting time and median handle time rows (a second, non-sufficient pass).
    confidence : float
        CI level (Wilson for proportions, t for means).

    Returns
    -------
    DataFrame
        Tidy: ``branch, period, kpi, numerator, denominator, value, n, sd, ci_low, ci_high``, sorted by
        kpi, branch, period. ``attrs["definitions"]`` holds the printed definitions and
        ``attrs["conventions"]`` the parameters.

    References
    ----------
    Methods §5.1; ISO 18295-1:2017 (defined customer-contact-centre measures); Gans, Koole & Mandelbaum (2003).
    """
    confidence = _check_conventions(freq, sl_variant, sl_threshold, short_abandon_s, top_box_min, confidence)
    conv = dict(freq=freq, sl_threshold=sl_threshold, sl_variant=sl_variant, short_abandon_s=short_abandon_s,
                exclude_short_abandons=exclude_short_abandons, top_box_min=top_box_min, confidence=confidence)
    if not _is_frame(hotline):
        from .engine import HotlineAggregates

        return _hotline_from_aggregates(HotlineAggregates(hotline), conv, start=start, end=end, branches=None,
                                        total=total, quantiles=quantiles)
    hotline = _restrict(hotline, "ts", start, end)
    sums = _hotline_sums(hotline, freq, sl_threshold, short_abandon_s, top_box_min)
    qtable = _quantile_table(hotline, freq) if quantiles and len(hotline) else None
    return _hotline_result(sums, qtable, conv, total)


def _hotline_from_aggregates(agg, conv: dict, *, start, end, branches, total: bool, quantiles: bool) -> pd.DataFrame:
    """:func:`hotline_kpis` from an engine's :class:`sqc.engine.HotlineAggregates` (small tables, no raw rows)."""
    sums = agg.sums(conv["freq"], start=start, end=end, branches=branches, sl_threshold=conv["sl_threshold"],
                    short_abandon_s=conv["short_abandon_s"], top_box_min=conv["top_box_min"])
    qtable = agg.quantiles(conv["freq"], start=start, end=end, branches=branches) if quantiles else None
    return _hotline_result(sums, qtable if qtable is not None and len(qtable) else None, conv, total)


def _hotline_result(sums: pd.DataFrame, qtable: pd.DataFrame | None, conv: dict, total: bool) -> pd.DataFrame:
    """The tidy KPI frame from the per-(branch, period) sums (and quantile table): totals, intervals, attrs."""
    freq = conv["freq"]
    if total and len(sums):
        tot = sums.groupby(level="period").sum()
        tot.index = pd.MultiIndex.from_arrays([np.full(len(tot), "ALL", dtype=object), tot.index],
                                              names=["branch", "period"])
        sums = pd.concat([sums, tot])
    out = _tidy_from_sums(sums, freq, conv["sl_variant"], conv["exclude_short_abandons"], conv["confidence"])
    if qtable is not None:
        out = pd.concat([out, _quantile_rows(qtable)], ignore_index=True)
    out = out.sort_values(["kpi", "branch", "period"], kind="stable").reset_index(drop=True)
    out.attrs["conventions"] = dict(conv)
    out.attrs["definitions"] = definitions(sl_threshold=conv["sl_threshold"], sl_variant=conv["sl_variant"],
                                           short_abandon_s=conv["short_abandon_s"],
                                           exclude_short_abandons=conv["exclude_short_abandons"],
                                           top_box_min=conv["top_box_min"]).to_dict("records")
    return out


def _restrict(df: pd.DataFrame, ts_col: str, start, end) -> pd.DataFrame:
    if start is None and end is None:
        return df
    if ts_col not in df.columns:
        raise DataError(f"table lacks column {ts_col!r}", column=ts_col)
    ts = pd.to_datetime(df[ts_col])
    keep = np.ones(len(df), dtype=bool)
    try:
        if start is not None:
            keep &= (ts >= pd.Period(start).start_time).to_numpy()
        if end is not None:
            keep &= (ts <= pd.Period(end).end_time).to_numpy()
    except ValueError as exc:
        raise ParameterError(f"start/end must be periods like '2026-10' or '2026-10-31': {exc}") from exc
    return df.loc[keep]


def complaint_rates(complaints, volumes: pd.DataFrame, *, freq: str = "month", rate_per: int = 1000,
                    start: str | None = None, end: str | None = None, total: bool = False,
                    category: str | None = None, confidence: float = DEFAULT_CONFIDENCE) -> pd.DataFrame:
    """Complaints per ``rate_per`` active customers per branch and period (exposure from ``volumes``).

    ``numerator`` = complaints opened, ``denominator`` = exposure in units of ``rate_per`` customers (so the
    pair feeds ``sqc.spc.u_chart(frame, "numerator", "denominator")``), ``n`` = active customers. Periods with
    customers but no complaint appear with 0. CI: exact Poisson (Garwood 1936) on the count divided by exposure.
    Periods with zero or missing exposure raise :class:`DataError` (a rate without exposure is undefined).
    ``complaints`` may be an Ibis table (counted by :mod:`sqc.engine` where it lives) or a DataFrame.
    """
    confidence = _check_confidence(confidence)
    if rate_per <= 0:
        raise ParameterError(f"rate_per must be positive, got {rate_per!r}")
    for col in ("opened_at", "branch"):
        if col not in complaints.columns:
            raise DataError(f"complaints table lacks column {col!r}", column=col)
    for col in ("branch", "period", "active_customers"):
        if col not in volumes.columns:
            raise DataError(f"volumes table lacks column {col!r}", column=col)
    if freq not in FREQS:
        raise ParameterError(f"freq must be one of {sorted(FREQS)}, got {freq!r}")
    if _is_frame(complaints):
        counts = _complaint_counts(complaints, freq, start, end, category)
    else:
        from .engine import complaint_counts

        counts = complaint_counts(complaints, freq, start=start, end=end, category=category)
    return _rates_from_counts(counts, volumes, freq=freq, rate_per=rate_per, start=start, end=end, total=total,
                              category=category, confidence=confidence)


def _complaint_counts(complaints: pd.DataFrame, freq: str, start, end, category) -> pd.Series:
    """Complaints opened per (branch, period): a Series named ``complaints`` indexed by ``branch, period``."""
    comp = complaints if category is None else complaints.loc[complaints["category"] == category]
    comp = _restrict(comp, "opened_at", start, end)
    codes = _format_period(_period_codes(comp["opened_at"], freq, "opened_at"), freq)
    return pd.DataFrame({"branch": comp["branch"].to_numpy(), "period": codes}).groupby(
        ["branch", "period"], observed=True).size().rename("complaints")


def _rates_from_counts(counts: pd.Series, volumes: pd.DataFrame, *, freq, rate_per, start, end, total, category,
                       confidence) -> pd.DataFrame:
    """Complaint rates, intervals and totals from the per-(branch, period) counts and the volumes exposure."""
    from scipy import stats

    vol = volumes[["branch", "period", "active_customers"]].copy()
    cust = _num_array(vol["active_customers"], "active_customers", lo=0)
    if (cust == 0).any() or np.isnan(cust).any():
        i = int(np.flatnonzero((cust == 0) | np.isnan(cust))[0])
        raise DataError("zero or missing exposure: a complaint rate needs customers", column="active_customers",
                        row=vol.index[i], value=cust[i], expected="a customer count > 0")
    vol["active_customers"] = cust
    vol["period"] = vol["period"].astype(str)
    if freq == "day":
        # the days with a complaint (in any kept branch) each carry their month's exposure
        codes = counts.index.get_level_values("period").to_numpy(dtype=object)
        days = pd.DataFrame({"period": np.unique(codes)}) if len(codes) else pd.DataFrame({"period": []})
        days["month"] = days["period"].str[:7]
        vol = vol.rename(columns={"period": "month"}).merge(days, on="month", how="inner").drop(columns="month")
    else:
        lo = pd.Period(start).strftime("%Y-%m") if start is not None else None
        hi = pd.Period(end).strftime("%Y-%m") if end is not None else None
        if lo:
            vol = vol[vol["period"] >= lo]
        if hi:
            vol = vol[vol["period"] <= hi]
    merged = vol.merge(counts.reset_index(), on=["branch", "period"], how="left")
    merged["complaints"] = merged["complaints"].fillna(0.0)
    unmatched = counts.index.difference(pd.MultiIndex.from_frame(merged[["branch", "period"]]))
    if len(unmatched):
        b, p = unmatched[0]
        raise DataError("complaints in a branch/period without exposure in the volumes table", column="branch",
                        value=f"{b} {p}", expected="a volumes row for every branch and month with complaints",
                        count=len(unmatched))
    if total and len(merged):
        tot = merged.groupby("period", as_index=False)[["active_customers", "complaints"]].sum()
        tot["branch"] = "ALL"
        merged = pd.concat([merged, tot], ignore_index=True)
    num = merged["complaints"].to_numpy(dtype=float)
    cust = merged["active_customers"].to_numpy(dtype=float)
    expo = cust / rate_per
    alpha = 1 - confidence
    lo = np.where(num > 0, stats.chi2.ppf(alpha / 2, 2 * num) / 2, 0.0) / expo
    hi = stats.chi2.ppf(1 - alpha / 2, 2 * num + 2) / 2 / expo
    kpi = "complaint_rate_per_1000" if rate_per == 1000 else f"complaint_rate_per_{rate_per}"
    out = pd.DataFrame({"branch": merged["branch"].to_numpy(), "period": merged["period"].to_numpy(), "kpi": kpi,
                        "numerator": num, "denominator": expo, "value": num / expo,
                        "n": cust.astype(np.int64), "sd": np.nan, "ci_low": lo, "ci_high": hi})
    out = out.sort_values(["branch", "period"], kind="stable").reset_index(drop=True)
    out.attrs["definitions"] = [r for r in definitions(rate_per=rate_per).to_dict("records")
                                if r["kpi"] == "complaint_rate_per_1000"]
    out.attrs["conventions"] = dict(freq=freq, rate_per=rate_per, category=category, confidence=confidence)
    return out


def network_kpis(data, *, freq: str = "month", start: str | None = None, end: str | None = None,
                 branches=None, total: bool = True, **conventions) -> pd.DataFrame:
    """Hotline KPIs and complaint rates for a loaded network (``data.hotline``, ``data.complaints``,
    ``data.volumes``) in one tidy frame. ``conventions`` go to :func:`hotline_kpis`; ``rate_per`` (default 1000)
    to :func:`complaint_rates`. ``branches`` restricts the branches (totals are over the kept branches).

    A store-backed network (``data.store``, see :class:`TableSource`) is aggregated in its database by
    :mod:`sqc.engine` - the raw hotline rows are never loaded - and the per-(branch, day) sums are cached on the
    store, so every section and language of a run shares one query. The result is the same as from frames."""
    rate_per = conventions.pop("rate_per", 1000)
    source = table_source(data)
    if source is not None:
        return _network_kpis_from_store(data, source, freq=freq, start=start, end=end, branches=branches,
                                        total=total, rate_per=rate_per, **conventions)
    hot, comp, vol = data.hotline, data.complaints, data.volumes
    if branches is not None:
        branches = list(branches)
        hot = hot.loc[hot["branch"].isin(branches)]
        comp = comp.loc[comp["branch"].isin(branches)]
        vol = vol.loc[vol["branch"].isin(branches)]
    a = hotline_kpis(hot, freq=freq, start=start, end=end, total=total, **conventions)
    b = complaint_rates(comp, vol, freq=freq, rate_per=rate_per, start=start, end=end, total=total)
    return _combine(a, b, rate_per)


def _network_kpis_from_store(data, source, *, freq, start, end, branches, total, rate_per, quantiles=False,
                             sl_threshold=20.0, sl_variant="offered", short_abandon_s=5.0,
                             exclude_short_abandons=False, top_box_min=4, confidence=DEFAULT_CONFIDENCE):
    from .engine import aggregates_for, store_complaint_counts

    confidence = _check_conventions(freq, sl_variant, sl_threshold, short_abandon_s, top_box_min, confidence)
    conv = dict(freq=freq, sl_threshold=sl_threshold, sl_variant=sl_variant, short_abandon_s=short_abandon_s,
                exclude_short_abandons=exclude_short_abandons, top_box_min=top_box_min, confidence=confidence)
    if rate_per <= 0:
        raise ParameterError(f"rate_per must be positive, got {rate_per!r}")
    branches = None if branches is None else list(branches)
    a = _hotline_from_aggregates(aggregates_for(source), conv, start=start, end=end, branches=branches,
                                 total=total, quantiles=quantiles)
    vol = data.volumes
    counts = store_complaint_counts(source, freq, start=start, end=end)
    if branches is not None:
        vol = vol.loc[vol["branch"].isin(branches)]
        counts = counts.loc[counts.index.get_level_values("branch").isin(branches)]
    b = _rates_from_counts(counts, vol, freq=freq, rate_per=rate_per, start=start, end=end, total=total,
                           category=None, confidence=confidence)
    return _combine(a, b, rate_per)


def _combine(a: pd.DataFrame, b: pd.DataFrame, rate_per) -> pd.DataFrame:
    out = pd.concat([a, b], ignore_index=True)
    out.attrs["definitions"] = a.attrs["definitions"] + b.attrs["definitions"]
    out.attrs["conventions"] = {**a.attrs["conventions"], "rate_per": rate_per}
    return out


def kpi_series(frame: pd.DataFrame, kpi: str, branch: str) -> pd.DataFrame:
    """One KPI for one branch from a tidy KPI frame, in period order (input to the SPC charts)."""
    if kpi not in set(frame["kpi"]):
        raise ParameterError(f"kpi {kpi!r} not in the frame; available: {sorted(set(frame['kpi']))}")
    sub = frame.loc[(frame["kpi"] == kpi) & (frame["branch"] == branch)]
    if sub.empty:
        raise ParameterError(f"branch {branch!r} has no rows for kpi {kpi!r}")
    return sub.sort_values("period").reset_index(drop=True)
