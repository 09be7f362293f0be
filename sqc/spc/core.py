"""Chart result objects, baseline (Phase I) selection and input checks shared by every chart.

Warning codes raised by sqc.spc (``result.warnings``)
----------------------------------------------------
W-SPC-01  lag-1 autocorrelation |r1| > 0.4 in the baseline: limits too narrow/wide; chart residuals or use
          a longer subgroup interval (Montgomery & Mastrangelo 1991).
W-SPC-02  seasonality (day-of-week / month) - raised by ``check_series`` when a period index is supplied.
W-SPC-03  > 25 % of points outside p/u limits with large subgroups (n_i > 1000): overdispersion, use p′/u′.
W-SPC-04  fewer than 12 baseline points (20 recommended): limits are provisional.
W-SPC-05  strong skew (|skewness| > 1.5) in data charted on an X̄/I chart: use a log scale or a t/g chart.
W-SPC-06  σ = 0 in the baseline (all values equal): limits collapse onto the centre line.
W-SPC-07  rows excluded (missing values, iterative Phase I exclusion): counted in ``result.exclusions``.
W-SPC-08  input not in time order: sorted by the time column before charting.
W-SPC-09  subgroups of very different sizes on an X̄-R chart (R is inefficient for n > 10): prefer X̄-S.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import numpy as np
import pandas as pd

from ..diagnostics import QualityWarning
from ..errors import DataError, InsufficientDataError, ParameterError
from .rules import RULES, explain
from ..results import Result, ResultData

MIN_BASELINE = 12
RECOMMENDED_BASELINE = 20


# --------------------------------------------------------------------------------------------- results
@dataclass
class ChartResult(ResultData):
    """One control chart, computed once. Plots and summaries read it; nothing is recomputed.

    Attributes
    ----------
    chart : str
        ``"xbar"``, ``"r"``, ``"s"``, ``"i"``, ``"mr"``, ``"p"``, ``"np"``, ``"c"``, ``"u"``, ``"p_laney"``,
        ``"u_laney"``, ``"g"``, ``"t"``, ``"cusum"``, ``"ewma"``, ``"t2"``.
    statistic, center, lcl, ucl, sigma : ndarray
        Per point (Phase I then Phase II, in input order). ``sigma`` is the standard error of the plotted
        statistic used for the 1σ/2σ zones (NaN where zones are undefined).
    labels : Index
        The subgroup labels / time stamps (x axis).
    sizes : ndarray
        Subgroup size (or exposure) per point.
    phase : ndarray of str
        ``"I"`` for baseline points, ``"II"`` for monitored points.
    stage : ndarray
        Stage label per point (one stage unless ``stages=`` was given).
    flags : dict
        Rule name → boolean array (True at the point that completes the pattern).
    params : dict
        Centre, σ̂, estimator, constants mode, baseline size, L, rule lengths ... per stage.
    warnings : list of QualityWarning
    exclusions : DataFrame
        Rows/points left out and why (``reason``, ``count``).
    """

    chart: str
    statistic: np.ndarray
    center: np.ndarray
    lcl: np.ndarray
    ucl: np.ndarray
    sigma: np.ndarray
    labels: pd.Index
    sizes: np.ndarray
    phase: np.ndarray
    stage: np.ndarray
    flags: dict
    specs: list
    params: dict = field(default_factory=dict)
    exclusions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["reason", "count"]))
    annotations: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    title: str = ""
    _signals: pd.DataFrame | None = field(default=None, repr=False)

    _chart = "sqc.plotting.spc:control_spec"

    def __len__(self) -> int:
        return int(self.statistic.shape[0])

    def _title_key(self) -> str:
        return f"chart_{self.chart}"

    def annotate(self, label, text: str, text_zh: str | None = None) -> "ChartResult":
        """Attach a note to the point with this label (e.g. the process change that starts a stage); the plots
        draw it. Returns the result, so calls can be chained. An unknown label raises ParameterError."""
        labels = pd.Index(self.labels)
        hit = np.flatnonzero(labels.astype(str) == str(label))
        if not hit.size:
            raise ParameterError(f"no point labelled {label!r} to annotate")
        self.annotations[int(hit[0])] = {"label": label, "en": text, "zh": text_zh or text}
        return self

    @property
    def signal(self) -> np.ndarray:
        out = np.zeros(len(self), dtype=bool)
        for f in self.flags.values():
            out |= f
        return out

    @property
    def n_signals(self) -> int:
        return int(self.signal.sum())

    def rules_per_point(self) -> np.ndarray:
        """Comma-separated names of the rules that flag each point ('' when none)."""
        out = np.full(len(self), "", dtype=object)
        for name, f in self.flags.items():
            idx = np.flatnonzero(f)
            if idx.size:
                cur = out[idx]
                out[idx] = np.where(cur == "", name, cur + "," + name)
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per point: label, stage, phase, n, statistic, center, lcl, ucl, the 1σ/2σ zone bounds,
        signal and rules (plus chart-specific columns such as CUSUM ``upper``/``lower``)."""
        n = len(self)
        b = lambda a: np.broadcast_to(np.asarray(a, dtype=float), (n,))  # noqa: E731
        c, s = b(self.center), b(self.sigma)
        df = pd.DataFrame({
            "label": np.asarray(self.labels), "stage": np.asarray(self.stage), "phase": self.phase,
            "n": b(self.sizes), "statistic": self.statistic, "center": c, "lcl": b(self.lcl), "ucl": b(self.ucl),
            "zone_1s_low": c - s, "zone_1s_high": c + s, "zone_2s_low": c - 2 * s, "zone_2s_high": c + 2 * s,
            "signal": self.signal, "rules": self.rules_per_point(),
        })
        for k, v in self.extra.items():
            df[k] = v
        return df

    @property
    def signals(self) -> pd.DataFrame:
        """One row per (rule, flagged point): rule, index (0-based position), label, window_start, window_end
        (positions), side, explanation_en, explanation_zh."""
        if self._signals is None:
            self._signals = _signal_table(self)
        return self._signals

    def _summary_lines(self, lang: str = "en") -> list[str]:
        p = self.params
        rows = [f"{self.title or self.chart} chart: {len(self)} points "
                f"({int((self.phase == 'I').sum())} Phase I, {int((self.phase == 'II').sum())} Phase II)"]
        for st, sp in p.get("stages", {}).items():
            bits = ", ".join(f"{k}={_fmt(v)}" for k, v in sp.items())
            rows.append(f"  stage {st}: {bits}")
        rules = ", ".join(s.name for s in self.specs) or "none"
        rows.append(f"  rules: {rules}; points signalling: {self.n_signals}")
        sig = self.signals
        for _, r in sig.head(10).iterrows():
            text = r["explanation_zh"] if lang == "zh" else r["explanation_en"]
            rows.append(f"    [{r['rule']}] point {r['label']}: {text}")
        if len(sig) > 10:
            rows.append(f"    ... {len(sig) - 10} more")
        return rows

    def __repr__(self) -> str:
        return f"<ChartResult {self.chart}: {len(self)} points, {self.n_signals} signalling>"


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return f"{v:.6g}"
    return str(v)


def _signal_table(res: ChartResult) -> pd.DataFrame:
    cols = ["rule", "index", "label", "window_start", "window_end", "side", "explanation_en", "explanation_zh"]
    parts = []
    center = np.broadcast_to(np.asarray(res.center, dtype=float), (len(res),))
    for spec in res.specs:
        f = res.flags.get(spec.name)
        if f is None:
            continue
        idx = np.flatnonzero(f)
        if not idx.size:
            continue
        side = np.where(res.statistic[idx] > center[idx], "above", np.where(res.statistic[idx] < center[idx],
                                                                           "below", ""))
        if spec.kind in ("within", "beyond_both", "alternate"):
            side = np.full(idx.size, "", dtype=object)
        direction = np.full(idx.size, "", dtype=object)
        if spec.kind == "trend":
            prev = res.statistic[np.maximum(idx - 1, 0)]
            direction = np.where(res.statistic[idx] > prev, "increasing", "decreasing")
        start = idx - (spec.length - 1)
        # one explanation per distinct (side, direction) - then mapped, not formatted per row
        keys = pd.Series([f"{a}|{b}" for a, b in zip(side, direction)]) if idx.size < 50_000 else \
            pd.Series(np.char.add(np.char.add(side.astype(str), "|"), direction.astype(str)))
        texts = {k: explain(spec, *k.split("|")) for k in keys.unique()}
        en = keys.map({k: v[0] for k, v in texts.items()}).to_numpy()
        zh = keys.map({k: v[1] for k, v in texts.items()}).to_numpy()
        parts.append(pd.DataFrame({"rule": spec.name, "index": idx, "label": np.asarray(res.labels)[idx],
                                   "window_start": start, "window_end": idx, "side": side,
                                   "explanation_en": en, "explanation_zh": zh}))
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True).sort_values(["index", "rule"], kind="stable").reset_index(drop=True)


@dataclass
class PairedChart(Result):
    """A location chart and its dispersion chart (X̄–R, X̄–S, I–MR). Attribute access falls through to the
    location chart; ``.xbar``/``.r``, ``.xbar``/``.s`` or ``.i``/``.mr`` give the parts."""

    kind: str
    location: ChartResult
    dispersion: ChartResult

    _chart = "sqc.plotting.spc:control_spec"

    def _title_key(self) -> str:
        return f"chart_{self.location.chart}"

    def __getattr__(self, name):
        names = {"xbar_r": ("xbar", "r"), "xbar_s": ("xbar", "s"), "imr": ("i", "mr")}[
            object.__getattribute__(self, "kind")]
        if name == names[0]:
            return self.location
        if name == names[1]:
            return self.dispersion
        return getattr(object.__getattribute__(self, "location"), name)

    def to_frame(self) -> pd.DataFrame:
        """The location chart's frame (use ``.r``/``.s``/``.mr`` for the dispersion chart)."""
        return self.location.to_frame()

    def _summary_lines(self, lang: str = "en") -> list[str]:
        return self.location._summary_lines(lang) + self.dispersion._summary_lines(lang)

    @property
    def warnings(self):
        seen, out = set(), []
        for w in self.location.warnings + self.dispersion.warnings:
            if (w.code, w.message) not in seen:
                seen.add((w.code, w.message))
                out.append(w)
        return out

    def __repr__(self) -> str:
        return f"<PairedChart {self.kind}: {self.location!r} / {self.dispersion!r}>"


# --------------------------------------------------------------------------------------------- inputs
def require_columns(df: pd.DataFrame, *cols):
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"expected a pandas DataFrame, got {type(df).__name__}")
    for c in cols:
        if c is not None and c not in df.columns:
            raise DataError("column not found", column=c, expected=f"one of {list(df.columns)[:20]}")


def numeric_column(df: pd.DataFrame, col: str, *, allow_nan: bool = True) -> np.ndarray:
    """A float array of ``df[col]``; text or other non-numeric values raise DataError naming the first row."""
    s = df[col]
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float)
    if not pd.api.types.is_numeric_dtype(s):
        conv = pd.to_numeric(s, errors="coerce")
        bad = conv.isna().to_numpy() & s.notna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError("not a number", column=col, row=df.index[i], value=s.iloc[i], expected="a number",
                            count=int(bad.sum()))
        s = conv
    x = s.to_numpy(dtype=float, na_value=np.nan) if s.dtype != np.float64 else s.to_numpy()
    if np.isinf(x).any():
        i = int(np.flatnonzero(np.isinf(x))[0])
        raise DataError("infinite value", column=col, row=df.index[i], value=x[i], expected="a finite number")
    if not allow_nan and np.isnan(x).any():
        i = int(np.flatnonzero(np.isnan(x))[0])
        raise DataError("missing value", column=col, row=df.index[i], expected="a number",
                        count=int(np.isnan(x).sum()))
    return x


def order_by_time(df: pd.DataFrame, time: str | None, warnings: list) -> pd.DataFrame:
    """Check the time column: duplicated time stamps raise DataError; unsorted rows are sorted (W-SPC-08)."""
    if time is None:
        return df
    require_columns(df, time)
    t = df[time]
    if t.isna().any():
        i = int(np.flatnonzero(t.isna().to_numpy())[0])
        raise DataError("missing time stamp", column=time, row=df.index[i], expected="a time stamp per point")
    dup = t.duplicated(keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise DataError("duplicated time stamp: each point needs its own time (aggregate first, or give a "
                        "subgroup column)", column=time, row=df.index[i], value=t.iloc[i],
                        expected="unique time stamps", count=int(dup.sum()))
    if not t.is_monotonic_increasing:
        n_out = int((np.diff(pd.Index(t).argsort()) != 1).sum()) if len(t) > 1 else 0
        warnings.append(QualityWarning(
            "W-SPC-08", "info", f"rows were not in time order; sorted by {time!r} before charting",
            {"rows": len(t), "out_of_order_boundaries": n_out}, time, f"数据未按时间排序，已按{time}排序"))
        df = df.sort_values(time, kind="stable")
    return df


def baseline_mask(baseline, n: int, labels: pd.Index | None = None, stage_ids: np.ndarray | None = None):
    """Boolean mask of Phase I points from ``baseline``.

    * ``None``: all points (Phase I only).
    * int k: the first k points (of each stage when there are stages).
    * slice: positions (e.g. ``slice(0, 20)``).
    * boolean array/Series of length n.
    * ``(start, end)`` tuple of labels/dates: the points whose label lies in [start, end].
    """
    if baseline is None:
        return np.ones(n, dtype=bool)
    if isinstance(baseline, (bool, np.bool_)):
        raise ParameterError("baseline must be a count, a slice, a boolean mask, a (start, end) pair or None")
    if isinstance(baseline, (int, np.integer)):
        k = int(baseline)
        if k < 2:
            raise InsufficientDataError(f"a baseline needs at least 2 subgroups, got {k}", value=k,
                                        expected="baseline ≥ 2 (20 recommended)")
        if stage_ids is None:
            m = np.zeros(n, dtype=bool)
            m[:k] = True
            return m
        # first k points of every stage
        codes = pd.factorize(stage_ids)[0]
        pos = np.arange(n) - np.searchsorted(codes, codes) if np.all(np.diff(codes) >= 0) else \
            pd.Series(codes).groupby(codes).cumcount().to_numpy()
        return pos < k
    if isinstance(baseline, slice):
        m = np.zeros(n, dtype=bool)
        m[baseline] = True
        return m
    if isinstance(baseline, tuple) and len(baseline) == 2:
        if labels is None:
            raise ParameterError("a (start, end) baseline needs labels or dates")
        lab = pd.Index(labels)
        try:
            lo, hi = baseline
            if isinstance(lab, pd.DatetimeIndex):
                lo, hi = pd.Timestamp(lo), pd.Timestamp(hi)
            return np.asarray((lab >= lo) & (lab <= hi), dtype=bool)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"cannot compare baseline bounds {baseline!r} with the labels: {exc}") from exc
    arr = np.asarray(baseline)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ParameterError(f"a baseline mask must have one entry per point ({n}), got shape {arr.shape}")
        return arr.copy()
    raise ParameterError("baseline must be a count, a slice, a boolean mask, a (start, end) pair or None; "
                         f"got {type(baseline).__name__}")


def check_baseline(mask: np.ndarray, stage_ids, warnings: list, subject: str):
    """≥ 2 baseline points per stage (error) and ≥ 12 recommended (W-SPC-04)."""
    stages = np.unique(stage_ids) if stage_ids is not None else [None]
    for st in stages:
        m = mask if st is None else (mask & (stage_ids == st))
        k = int(m.sum())
        where = "" if st is None else f" in stage {st!r}"
        if k < 2:
            raise InsufficientDataError(f"the baseline{where} has {k} subgroup(s); control limits need at least 2",
                                        value=k, expected="a baseline of ≥ 2 subgroups (20 recommended)")
        if k < MIN_BASELINE:
            warnings.append(QualityWarning(
                "W-SPC-04", "warning",
                f"only {k} baseline points{where}: the limits are provisional (≥ {MIN_BASELINE}, ideally "
                f"{RECOMMENDED_BASELINE}, are recommended)", {"baseline_points": k, "minimum": MIN_BASELINE},
                subject, f"基线仅{k}个点：控制限为临时值（建议至少{MIN_BASELINE}个，最好{RECOMMENDED_BASELINE}个）"))


def stage_array(df: pd.DataFrame | None, stages, n: int):
    """Stage labels per point from a column name or an array (None → a single stage)."""
    if stages is None:
        return None
    if isinstance(stages, str):
        if df is None or stages not in df.columns:
            raise DataError("stage column not found", column=stages)
        arr = df[stages].to_numpy()
    else:
        arr = np.asarray(stages)
    if arr.shape[0] != n:
        raise ParameterError(f"stages must give one label per point ({n}), got {arr.shape[0]}")
    if pd.isna(pd.Series(arr)).any():
        raise DataError("missing stage label", column=stages if isinstance(stages, str) else None)
    # stages must be contiguous blocks in time order
    codes = pd.factorize(arr)[0]
    if np.any(np.diff(codes) < 0) or len(np.unique(codes)) != (np.count_nonzero(np.diff(codes)) + 1):
        raise DataError("stages must be contiguous blocks in time order (a stage cannot reappear later)",
                        column=stages if isinstance(stages, str) else None)
    return arr


def stage_starts(stage_ids, n: int) -> np.ndarray:
    s = np.zeros(n, dtype=bool)
    if n:
        s[0] = True
        if stage_ids is not None:
            s[1:] = stage_ids[1:] != stage_ids[:-1]
    return s


def exclusions_frame(items: list[tuple[str, int]]) -> pd.DataFrame:
    return pd.DataFrame([(r, int(c)) for r, c in items if c], columns=["reason", "count"])


def _moments(x: np.ndarray, block: int = 1 << 18):
    """n, mean, Σ(x−m)², Σ(x−m)³ and Σ(x_t−m)(x_{t+1}−m) in blocks (bounded temporary memory, one pass each)."""
    n = x.shape[0]
    m = float(np.mean(x))
    s2 = s3 = c1 = 0.0
    for a in range(0, n, block):
        d = x[a:min(n, a + block + 1)] - m       # one extra point for the lag-1 cross product
        dd = d[:block] if d.shape[0] > block else d
        # einsum, not np.dot: BLAS threads spin badly on a loaded machine for a plain 1-D reduction
        s2 += float(np.einsum("i,i->", dd, dd))
        s3 += float(np.einsum("i,i,i->", dd, dd, dd))
        c1 += float(np.einsum("i,i->", d[1:], d[:-1]))
    return n, m, s2, s3, c1


def lag1_autocorr(x: np.ndarray) -> float:
    x = x if not np.isnan(x).any() else x[~np.isnan(x)]
    if x.size < 3:
        return float("nan")
    _, _, s2, _, c1 = _moments(x)
    return float(c1 / s2) if s2 > 0 else float("nan")


def data_warnings(x: np.ndarray, subject: str, *, autocorr: bool = True, skew: bool = True) -> list:
    """W-SPC-01 (autocorrelation) and W-SPC-05 (skew) for a charted series."""
    out = []
    xx = x if not np.isnan(x).any() else x[~np.isnan(x)]
    if xx.size < 10:
        return out
    n, _, s2, s3, c1 = _moments(xx)
    if s2 <= 0:
        return out
    if autocorr:
        r1 = c1 / s2
        if abs(r1) > 0.4:
            out.append(QualityWarning(
                "W-SPC-01", "warning",
                f"lag-1 autocorrelation r1 = {r1:.2f}: successive points are not independent, so the limits "
                f"mislead; chart the residuals of a time-series model or use a longer interval",
                {"r1": round(r1, 4), "threshold": 0.4, "n": int(n)}, subject,
                f"一阶自相关 r1 = {r1:.2f}：相邻点不独立，控制限会误导；可对时间序列模型残差作图或延长间隔"))
    if skew and n >= 20:
        g1 = (s3 / n) / (s2 / n) ** 1.5          # the moment estimator, as scipy.stats.skew(bias=True)
        if abs(g1) > 1.5:
            out.append(QualityWarning(
                "W-SPC-05", "warning",
                f"strongly skewed data (skewness {g1:.2f}): symmetric 3σ limits misplace false alarms; "
                f"chart the log, or use a t chart (times) / g chart (counts between events)",
                {"skewness": round(g1, 4), "threshold": 1.5, "n": int(n)}, subject,
                f"数据严重偏斜（偏度 {g1:.2f}）：对称3σ控制限不合适；可取对数，或用t图/g图"))
    return out


def sigma_zero_warning(subject: str, stage=None) -> QualityWarning:
    where = "" if stage is None else f" (stage {stage})"
    return QualityWarning("W-SPC-06", "warning",
                          f"σ = 0 in the baseline{where}: all baseline values are equal, so the limits collapse "
                          f"onto the centre line and any change signals", {"sigma": 0.0}, subject,
                          "基线σ为0：基线值全部相同，控制限与中心线重合，任何变化都会报警")


def rule_specs_text(specs) -> str:
    return ", ".join(f"{s.name}({s.length})" for s in specs)


def finish(chart: str, stat, center, lcl, ucl, sigma, labels, sizes, phase, stage_ids, specs, *, params,
           warnings, exclusions=(), extra=None, title="", flag_rules=True) -> ChartResult:
    """Evaluate the rules and build the result."""
    from .rules import evaluate_rules

    n = stat.shape[0]
    starts = stage_starts(stage_ids, n)
    flags = evaluate_rules(stat, center, sigma, lcl, ucl, specs if flag_rules else [], starts)
    stage_out = stage_ids if stage_ids is not None else np.broadcast_to(np.array("1", dtype=object), (n,))
    return ChartResult(chart=chart, statistic=stat, center=center, lcl=lcl, ucl=ucl, sigma=sigma,
                       labels=labels, sizes=sizes, phase=phase, stage=stage_out, flags=flags,
                       specs=list(specs) if flag_rules else [], params=params, warnings=warnings,
                       exclusions=exclusions_frame(list(exclusions)), extra=extra or {}, title=title)


__all__ = ["ChartResult", "PairedChart", "RULES", "baseline_mask"]
