"""KPI scorecard per branch and period, in the manner of NHS "Making Data Count" (Methods §5.1, §5.2, §7).

For each branch (and the network, ``branch == "ALL"``) and each KPI the scorecard shows the report month's value
with its n and CI, the target, and two verdicts computed from the KPI's control chart over the months up to the
report month:

* **variation** (``sqc.spc.variation_verdict``): special-cause improvement / special-cause concern / common cause;
* **assurance** (``sqc.spc.assurance_verdict``): target consistently met / consistently missed / hit-and-miss
  (NHSRplotthedots logic: for higher-is-better, target > UCL → consistently missed, target < LCL → consistently
  met, else hit-and-miss; mirrored for lower-is-better).

Limits follow the process (``sqc.spc.staged_chart``): a run of ``run_length`` months (Making Data Count: 7) on one
side of the current centre, on average ≥ ``min_shift`` σ from it, starts a new stage with its own limits, or the
user's ``stages`` table sets them; ``Scorecard.recalculations`` lists each one. Assurance is judged on the current
stage; when the latest month is a special cause on those limits, ``assurance_basis`` is ``"earlier_limits"`` (the
verdict is provisional). While the shift that opened the current stage is still under way, the variation verdict
keeps it (``sustained_shift``).

No colour is derived from comparing two months ("this month vs last month"): the only judgements are the two
verdicts and whether the value meets the target.

KPIs and charts (Methods §5.2)
---------------------------------
=========================  =====================================================  ==============================
KPI                        definition (printed from ``sqc.kpi.definitions``)        chart of monthly values
=========================  =====================================================  ==============================
service_level              SL(T) with its variant (``sl_variant``)                p chart (Laney p′ if over-
                                                                                   dispersed)
asa_s                      Σ wait answered / answered; median and P90 shown       I-MR (XmR)
abandonment_rate           abandoned / offered                                    p / p′
aht_s                      Σ handle / handled                                     I-MR
fcr_rate                   resolved first contact / answered with flag            p / p′
complaint_rate_per_1000    complaints / active customers × 1 000                  u chart (Laney u′ if over-
                                                                                   dispersed)
csat_mean                  mean 1-5 rating                                        I-MR
=========================  =====================================================  ==============================

KPI values come from :mod:`sqc.kpi` (never re-defined here). Targets and directions come from the ``targets``
table.

Composite score
---------------
``score_k = 100 · min(cap, attainment_k)`` with ``attainment = value / target`` (higher is better) or
``target / value`` (lower is better); ``composite = Σ_k w_k · score_k / Σ_k w_k`` over the KPIs with a value.
``weights`` (default equal) and ``cap`` (default 1.0: meeting the target earns full marks, beating it earns no
more) are parameters and are printed with the result. The composite's interval is approximate: the delta method
on each KPI's CI (half-width / z as its SE), KPIs assumed independent, the cap ignored; it says how much the
composite would move with sampling noise alone, not a formal test.

Warnings
--------
* ``W-SC-01`` (warning): a KPI has no target in the targets table (shown without assurance).
* ``W-SC-02`` (warning): fewer than ``min_points`` months up to the report month: no verdicts for that KPI.
* ``W-SC-03`` (info): special-cause concern for a KPI of a branch (the verdict in words, for the warnings panel).
* ``W-SC-04`` (warning): the target is consistently missed (assurance) for a KPI of a branch (the message says
  when the verdict is provisional).

Chart warnings (``W-SPC-*``) of the underlying charts are passed through.

Example
-------
>>> from sqc.io import load_network                       # doctest: +SKIP
>>> from sqc.scorecard import kpi_scorecard               # doctest: +SKIP
>>> sc = kpi_scorecard(load_network(), period="2026-10")  # doctest: +SKIP
>>> sc.tiles("ALL")                                       # doctest: +SKIP
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .diagnostics import QualityWarning
from .errors import DataError, InsufficientDataError, ParameterError
from .inference import DEFAULT_CONFIDENCE, _check_confidence
from .results import ResultData

if TYPE_CHECKING:  # sqc.spc is imported lazily at run time
    from .spc import ChartResult

SCORECARD_KPIS = ("service_level", "asa_s", "abandonment_rate", "aht_s", "fcr_rate", "complaint_rate_per_1000",
                  "csat_mean")
CHART_KIND = {"service_level": "p", "abandonment_rate": "p", "fcr_rate": "p", "csat_top2": "p",
              "asa_s": "i", "aht_s": "i", "csat_mean": "i", "complaint_rate_per_1000": "u"}
EXTRA_KPIS = ("asa_median_s", "asa_p90_s", "aht_median_s")
DEFAULT_BASELINE = 12
MIN_POINTS = 6

#: verdict code (sqc.spc.Verdict.verdict) → (symbol, colour) for tiles; plain unicode so the dashboard renders
#: offline. Colours follow Making Data Count: blue = improvement / reliably met, orange = concern / reliably missed,
#: grey = common cause / hit-and-miss.
VARIATION_ICONS = {"improvement": ("▲", "#1f77b4"), "concern": ("▼", "#e8710a"), "common_cause": ("●", "#7f7f7f"),
                   "none": ("–", "#bbbbbb")}
ASSURANCE_ICONS = {"consistently_pass": ("✔", "#1f77b4"), "consistently_fail": ("✘", "#e8710a"),
                   "hit_and_miss": ("≈", "#7f7f7f"), "none": ("–", "#bbbbbb")}


@dataclass
class Scorecard(ResultData):
    """Result of :func:`kpi_scorecard`.

    Attributes
    ----------
    table : DataFrame
        One row per (branch, kpi) for the report month: ``value, ci_low, ci_high, n, target, direction, unit,
        meets_target, variation[_zh], variation_code, assurance[_zh], assurance_code, assurance_basis,
        stage_start, stages, chart, points`` (``assurance_basis``: ``"current_stage"`` when the assurance is
        judged on the limits of the current stage, ``"earlier_limits"`` when the latest point is a special cause that has not
        (yet) become a new stage, so the assurance is provisional; ``stage_start``: first month of the current
        stage; ``stages``: number of stages of limits) (codes as
        ``sqc.spc.Verdict.verdict``: improvement / concern / common_cause; consistently_pass / consistently_fail
        / hit_and_miss; "none" without verdict) and, for ASA/AHT,
        ``median, p90`` (seconds).
    composite : DataFrame
        One row per (branch, period): ``composite, ci_low, ci_high, kpis_used, rank`` (rank within period among
        branches; the network row ``ALL`` is not ranked).
    history : DataFrame
        The tidy KPI rows (up to the report month) behind the charts.
    charts : dict
        (branch, kpi) → sqc.spc chart result.
    weights : dict
        Composite weights used (normalised to sum 1).
    definitions : DataFrame
        KPI definitions in force (English and Chinese), including the service-level variant.
    recalculations : DataFrame
        One row per limit recalculation: ``branch, kpi, period`` (first month of the new stage), ``index``,
        ``rule`` (``"shift"``: a run of ``run_length`` months on one side; ``"stage_table"``: from the user's
        stage table), ``run_length``, ``side``, ``old_center``, ``new_center`` (see ``sqc.spc.staged_chart``).
    """

    _frame_attr = "table"

    period: str
    table: pd.DataFrame
    composite: pd.DataFrame
    history: pd.DataFrame
    charts: dict
    weights: dict
    cap: float
    baseline: int
    definitions: pd.DataFrame
    conventions: dict
    recalculations: pd.DataFrame = None

    def tiles(self, branch: str = "ALL") -> pd.DataFrame:
        """The tile row for one branch (default the network)."""
        return self.table.loc[self.table["branch"] == branch].set_index("kpi")

    def matrix(self, values: str = "value") -> pd.DataFrame:
        """Branch × KPI table of one column (``value``, ``variation_code``, ``assurance_code``...)."""
        return self.table.pivot(index="branch", columns="kpi", values=values)

    def _summary_lines(self, lang: str = "en") -> list[str]:
        lines = [f"KPI scorecard {self.period} (variation and assurance from control charts over the months up to "
                 f"{self.period}; baseline {self.baseline} months)"]
        sl = self.definitions.loc[self.definitions["kpi"] == "service_level", "definition_en"]
        if len(sl):
            lines.append(f"  {sl.iloc[0]}")
        for _, r in self.tiles("ALL").reset_index().iterrows():
            lines.append(f"  {r['kpi']}: {_fmt(r['value'])} [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}] "
                         f"n = {int(r['n']) if pd.notna(r['n']) else '—'}; target {_fmt(r['target'])}; "
                         f"variation: {r['variation']}; assurance: {r['assurance']}"
                         + (" (provisional: on limits the process has since left)"
                            if r.get("assurance_basis") == "earlier_limits" else ""))
        rec = self.recalculations if self.recalculations is not None else pd.DataFrame()
        if len(rec):
            lines.append(f"  limits recalculated ({len(rec)}):")
            for r in rec.itertuples():
                lines.append(f"    {r.branch} {r.kpi} from {r.period}: {r.rule} ({r.run_length} months {r.side}); "
                             f"centre {_fmt(r.old_center)} → {_fmt(r.new_center)}")
        w = ", ".join(f"{k} {v:.2f}" for k, v in self.weights.items())
        lines.append(f"  composite weights: {w}; cap {self.cap:g}")
        last = self.composite.loc[self.composite["period"] == self.period].sort_values("rank")
        for _, r in last.iterrows():
            lines.append(f"    {r['branch']}: {r['composite']:.1f} [{r['ci_low']:.1f}, {r['ci_high']:.1f}]"
                         + (f" rank {int(r['rank'])}" if pd.notna(r["rank"]) else ""))
        return lines


def _fmt(v) -> str:
    if v is None or pd.isna(v):
        return "—"
    v = float(v)
    return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"


def _check_weights(weights, kpis) -> dict:
    if weights is None:
        return {k: 1.0 / len(kpis) for k in kpis}
    if not isinstance(weights, dict):
        raise ParameterError("weights must be a dict {kpi: weight}")
    unknown = [k for k in weights if k not in kpis]
    if unknown:
        raise ParameterError(f"weights name KPI(s) not on the scorecard: {unknown}; KPIs: {list(kpis)}")
    vals = np.array([float(v) for v in weights.values()], dtype=float)
    if (~np.isfinite(vals)).any() or (vals < 0).any():
        raise ParameterError(f"composite weights must be non-negative numbers, got {weights}")
    if vals.sum() <= 0:
        raise ParameterError("composite weights sum to zero: give at least one KPI a positive weight")
    total = vals.sum()
    return {k: float(weights.get(k, 0.0)) / total for k in kpis if weights.get(k, 0.0) > 0}


def _targets(targets: pd.DataFrame) -> pd.DataFrame:
    for col in ("kpi", "target", "direction"):
        if col not in targets.columns:
            raise DataError(f"targets table lacks column {col!r}", column=col)
    t = targets.copy()
    bad = ~t["direction"].isin(["higher_is_better", "lower_is_better"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError("unknown target direction", column="direction", row=t.index[i],
                        value=t["direction"].iloc[i], expected="higher_is_better or lower_is_better")
    return t.set_index("kpi")


def attribute_chart(kind: str, frame: pd.DataFrame, count: str, size: str, *, time: str, baseline,
                    laney: str = "auto", stages=None) -> "ChartResult":
    """p or u chart from sqc.spc, switching to Laney p′/u′ when ``laney="always"`` or, with ``"auto"``, when the
    plain chart reports overdispersion (sqc.spc's own W-SPC-03 rule). ``stages``: one stage label per row (each
    stage its own limits), as the sqc.spc charts take it."""
    from . import spc

    if laney not in ("auto", "always", "never"):
        raise ParameterError(f"laney must be 'auto', 'always' or 'never', got {laney!r}")
    plain, prime = (spc.p_chart, spc.laney_p) if kind == "p" else (spc.u_chart, spc.laney_u)
    if laney == "always":
        return prime(frame, count, size, time=time, baseline=baseline, stages=stages)
    chart = plain(frame, count, size, time=time, baseline=baseline, stages=stages)
    if laney == "auto" and any(w.code == "W-SPC-03" for w in chart.warnings):
        return prime(frame, count, size, time=time, baseline=baseline, stages=stages)
    return chart


def _chart(kind: str, series: pd.DataFrame, baseline: int, laney: str, stage_ids=None):
    """The control chart of one KPI series (sqc.spc does all the chart maths); ``baseline`` months per stage."""
    from . import spc

    k = min(baseline, len(series))
    if kind in ("p", "u"):
        return attribute_chart(kind, series, "numerator", "denominator", time="period", baseline=k, laney=laney,
                               stages=stage_ids)
    return spc.imr(series, "value", time="period", baseline=k, stages=stage_ids)


def _stage_table(stages) -> dict:
    """(branch, kpi) → list of stage start months, from a dict or a ``branch, kpi, start`` table (e.g. a CSV the
    user edits)."""
    if stages is None:
        return {}
    if isinstance(stages, dict):
        out = {}
        for key, starts in stages.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise ParameterError(f"stages keys must be (branch, kpi) pairs, got {key!r}")
            out[key] = [str(x) for x in ([starts] if isinstance(starts, str) else starts)]
        return out
    if isinstance(stages, pd.DataFrame):
        for col in ("branch", "kpi", "start"):
            if col not in stages.columns:
                raise DataError(f"the stage table lacks column {col!r} (expected branch, kpi, start)", column=col)
        out = {}
        for i, (b, k, st) in enumerate(zip(stages["branch"], stages["kpi"], stages["start"])):
            if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(st).strip()):
                raise DataError("stage start is not a month", column="start", row=i + 1, value=st,
                                expected="YYYY-MM")  # 1-based data row, as the user sees it in the CSV
            out.setdefault((str(b), str(k)), []).append(str(st).strip())
        return out
    raise ParameterError("stages must be a dict {(branch, kpi): [start months]} or a table with columns "
                         f"branch, kpi, start; got {type(stages).__name__}")


def stages_from_table(limit_stages: pd.DataFrame | None, *, period: str, branches, known_branches,
                      file: str = "limit_stages.csv") -> pd.DataFrame:
    """The ``branch, kpi, start`` stage table of one report from the data folder's ``limit_stages`` table.

    Rows whose ``chart`` is a declared branch outside ``branches`` (a report of some branches) and stages that
    start after ``period`` do not apply to this report and are left out; a ``chart`` that is neither ``ALL`` nor
    a declared branch is an error naming the file, the 1-based row and the value.
    """
    cols = ["branch", "kpi", "start"]
    if limit_stages is None or len(limit_stages) == 0:
        return pd.DataFrame(columns=cols)
    chart = limit_stages["chart"].astype(str).str.strip()
    known = set(map(str, known_branches)) | {"ALL"}
    bad = ~chart.isin(known)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError("the stage table names a chart that is neither a declared branch nor ALL", file=file,
                        column="chart", row=i + 1, value=chart.iloc[i],
                        expected=f"ALL or a branch id in branches.csv ({', '.join(sorted(known - {'ALL'})[:12])})")
    start = limit_stages["start"].astype(str).str.strip()
    keep = (chart.eq("ALL") | chart.isin(set(map(str, branches)))) & (start <= str(period))
    return pd.DataFrame({"branch": chart[keep].to_numpy(), "kpi": limit_stages["kpi"].astype(str)[keep].to_numpy(),
                         "start": start[keep].to_numpy()}, columns=cols)


def kpi_scorecard(data=None, *, period: str, kpis: pd.DataFrame | None = None, targets: pd.DataFrame | None = None,
                  branches=None, include: tuple = SCORECARD_KPIS, weights: dict | None = None, cap: float = 1.0,
                  baseline: int = DEFAULT_BASELINE, laney: str = "auto", min_points: int = MIN_POINTS,
                  confidence: float = DEFAULT_CONFIDENCE, recalculate: bool = True,
                  run_length: int | None = None, min_shift: float | None = None, stages=None,
                  quantile_history: bool = True, **conventions) -> Scorecard:
    """KPI scorecard per branch and the network for ``period``.

    Parameters
    ----------
    data : sqc.io.NetworkData, optional
        Loaded network; the KPIs are computed with ``sqc.kpi.network_kpis(data, ..., quantiles=True)`` unless
        ``kpis`` is given. ``data.targets`` is used unless ``targets`` is given.
    period : "YYYY-MM"
        Report month; only months up to and including it are used.
    kpis : DataFrame, optional
        A tidy KPI frame from :mod:`sqc.kpi` (``branch, period, kpi, numerator, denominator, value, n, ci_low,
        ci_high``), with network rows ``branch == "ALL"``.
    targets : DataFrame, optional
        ``kpi, target, direction[, unit]``.
    branches : list, optional
        Branches to show (network totals are then over these branches).
    include : tuple of str
        KPIs on the scorecard.
    weights : dict, optional
        Composite weights {kpi: weight ≥ 0}; default equal. Negative weights or a zero sum raise ParameterError.
    cap : float
        Highest attainment credited in the composite (1.0 = no credit for beating the target).
    baseline : int
        Months used for the control limits (Phase I), from the first month of the history.
    laney : str
        Passed to the p/u charts (``"auto"``: Laney p′/u′ when overdispersed).
    min_points : int
        Fewer months than this: no verdicts (``W-SC-02``).
    recalculate : bool
        Recalculate the limits when a sustained shift is established (``sqc.spc.staged_chart``): a run of
        ``run_length`` months (Making Data Count: 7) on one side of the current stage's centre, on average
        ``min_shift`` σ from it, starts a new stage with its own limits (first ``baseline`` months of the stage).
        False: one stage, limits from the first ``baseline`` months.
    run_length, min_shift :
        See ``recalculate``; None = ``sqc.spc.stages`` defaults (7 months, 1σ).
    stages : dict or DataFrame, optional
        Explicit stage table that overrides the automatic rule for the series it names: ``{(branch, kpi):
        ["2025-09", ...]}`` or a table with columns ``branch, kpi, start`` (months where new stages begin).
    quantile_history : bool
        With ``data``: the waiting/handle-time quantiles (median, P80, P90) of every month in ``history`` (True),
        or only of the report month, the one the scorecard shows (False: the same table and composite; exact
        quantiles need every contact of a month, so this skips most of the raw-row work at scale).
    conventions :
        KPI conventions for :func:`sqc.kpi.network_kpis` (``sl_threshold``, ``sl_variant`` ...), printed.

    Returns
    -------
    Scorecard
    """
    from . import spc
    from .kpi import KPI_DIRECTION, network_kpis
    from .kpi import definitions as kpi_definitions

    confidence = _check_confidence(confidence)
    if not (isinstance(period, str) and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period.strip())):
        raise ParameterError(f"period must be a month 'YYYY-MM', got {period!r}")
    per = period.strip()
    include = tuple(include)
    unknown = [k for k in include if k not in CHART_KIND]
    if unknown:
        raise ParameterError(f"unknown scorecard KPI(s) {unknown}; choose from {sorted(CHART_KIND)}")
    w = _check_weights(weights, include)
    if not (cap > 0 and np.isfinite(cap)):
        raise ParameterError(f"cap must be a positive number, got {cap!r}")
    if baseline < 2:
        raise ParameterError(f"baseline must be at least 2 months, got {baseline!r}")
    stage_table = _stage_table(stages)
    from .spc.stages import RECALC_MIN_SHIFT, RECALC_RUN_LENGTH
    run_length = RECALC_RUN_LENGTH if run_length is None else run_length
    min_shift = RECALC_MIN_SHIFT if min_shift is None else min_shift
    if kpis is None:
        if data is None:
            raise ParameterError("give data= (a loaded network) or kpis= (a tidy KPI frame)")
        kpis = network_kpis(data, end=per, branches=branches, total=True, quantiles=quantile_history, **conventions)
        attrs = dict(kpis.attrs)  # concat drops attrs (definitions, conventions): keep them
        parts = [kpis]
        if not quantile_history:  # the branches' quantiles of the report month only
            parts.append(_month_quantiles(data, per, branches, conventions, network=False))
        kpis = pd.concat([*parts, _month_quantiles(data, per, branches, conventions, network=True)],
                         ignore_index=True)
        kpis.attrs.update(attrs)
    if targets is None:
        if data is None:
            raise ParameterError("give targets= (kpi, target, direction) or data= with a targets table")
        targets = data.targets
    tg = _targets(targets)
    need = {"branch", "period", "kpi", "value"}
    if not need <= set(kpis.columns):
        raise DataError(f"the KPI frame lacks column(s) {sorted(need - set(kpis.columns))}",
                        column=sorted(need - set(kpis.columns))[0])
    kpi_attrs = copy.deepcopy(kpis.attrs)
    hist = kpis.loc[kpis["period"].astype(str) <= per].copy()
    # pandas deep-copies a frame's attrs (the KPI definitions) into every slice, and the loop below slices each
    # series many times: the history goes without them until it is returned
    hist.attrs = {}
    hist["period"] = hist["period"].astype(str)
    if branches is not None:
        hist = hist.loc[hist["branch"].isin(list(branches) + ["ALL"])]
    if hist.loc[hist["period"] == per].empty:
        raise InsufficientDataError(f"no KPI values for the report month {per}", value=per,
                                    expected="hotline/complaint data in the report month")
    defs = pd.DataFrame(kpi_attrs.get("definitions") or kpi_definitions(**{
        k: v for k, v in conventions.items() if k in ("sl_threshold", "sl_variant", "short_abandon_s",
                                                      "exclude_short_abandons", "top_box_min", "rate_per")}))
    defs = defs.drop_duplicates("kpi", keep="last").reset_index(drop=True)
    warnings: list = []
    known = set(map(tuple, hist[["branch", "kpi"]].drop_duplicates().to_numpy().tolist()))
    unknown_series = sorted(k for k in stage_table if k not in known or k[1] not in include)
    if unknown_series:
        raise ParameterError(f"the stage table names series not on the scorecard up to {per}: {unknown_series}; "
                             f"use a branch id (or 'ALL' for the network) and one of the KPIs {list(include)}")
    rows, charts, recalcs = [], {}, []
    short: list = []  # (branch, kpi, months) without enough history for verdicts
    extras = hist.loc[hist["kpi"].isin(EXTRA_KPIS) & (hist["period"] == per)].set_index(["branch", "kpi"])["value"]
    for (branch, kpi), s in hist.loc[hist["kpi"].isin(include)].groupby(["branch", "kpi"], sort=True):
        s = s.sort_values("period").reset_index(drop=True)
        cur = s.loc[s["period"] == per]
        if cur.empty:
            continue
        cur = cur.iloc[0]
        has_target = kpi in tg.index
        direction = tg.loc[kpi, "direction"] if has_target else KPI_DIRECTION.get(kpi, "higher_is_better")
        target = float(tg.loc[kpi, "target"]) if has_target else np.nan
        unit = tg.loc[kpi, "unit"] if has_target and "unit" in tg.columns else ""
        vcode, acode, chart_name, basis, stage_start, n_stages = "none", "none", "", "none", s["period"].iloc[0], 1
        var_text = ass_text = ("insufficient data", "数据不足")
        if len(s) >= min_points and s["value"].notna().sum() >= min_points:
            starts = stage_table.get((branch, kpi), None if recalculate else [])
            staged = spc.staged_chart(lambda ids: _chart(CHART_KIND[kpi], s, baseline, laney, ids), s["period"],
                                      run_length=run_length, min_shift=min_shift, starts=starts)
            chart = staged.chart
            charts[(branch, kpi)] = chart
            stage_start = s["period"].iloc[staged.current_stage_start]
            n_stages = 1 + len(staged.recalculations)
            if len(staged.recalculations):
                recalcs.append(staged.recalculations.assign(branch=branch, kpi=kpi))
            chart_name = chart.chart
            v = spc.variation_verdict(chart, direction)
            # a special cause on the current stage's limits that is not (yet) a new stage: the process has left
            # the limits the assurance is judged on
            basis = "earlier_limits" if v.verdict in ("improvement", "concern") else "current_stage"
            if v.verdict == "common_cause" and staged.ongoing_shift:
                v = spc.shift_verdict(staged.ongoing_shift, direction, len(s) - 1, v.evidence)
            vcode, var_text = v.verdict, (v.text("en"), v.text("zh"))
            if has_target:
                a = spc.assurance_verdict(chart, target, direction)
                acode, ass_text = a.verdict, (a.text("en"), a.text("zh"))
            else:
                ass_text = ("no target", "无目标值")
            for wq in chart.warnings:
                warnings.append(_tag(wq, f"{branch} {kpi}"))
        else:
            short.append((branch, kpi, len(s)))
        value = float(cur["value"])
        meets = (value >= target if direction == "higher_is_better" else value <= target) if has_target else None
        row = {"branch": branch, "kpi": kpi, "period": per, "value": value,
               "ci_low": float(cur.get("ci_low", np.nan)), "ci_high": float(cur.get("ci_high", np.nan)),
               "n": cur.get("n", np.nan), "target": target, "direction": direction, "unit": unit,
               "meets_target": meets, "variation": var_text[0], "variation_zh": var_text[1],
               "variation_code": vcode, "assurance": ass_text[0], "assurance_zh": ass_text[1],
               "assurance_code": acode, "assurance_basis": basis if acode != "none" else "none",
               "stage_start": stage_start, "stages": n_stages, "chart": chart_name, "points": len(s)}
        if kpi in ("asa_s", "aht_s"):
            pre = "asa" if kpi == "asa_s" else "aht"
            row["median"] = extras.get((branch, f"{pre}_median_s"), np.nan)
            row["p90"] = extras.get((branch, f"{pre}_p90_s"), np.nan)
        rows.append(row)
        if vcode == "concern":
            warnings.append(QualityWarning(
                "W-SC-03", "info", f"{branch}: {kpi} shows {var_text[0]}.",
                {"branch": branch, "kpi": kpi, "verdict": vcode}, f"{branch} {kpi}",
                f"{branch}：{kpi} {var_text[1]}。"))
        if acode == "consistently_fail":
            warnings.append(QualityWarning(
                "W-SC-04", "warning", f"{branch}: {kpi} consistently misses its target {target:g} "
                f"(the target lies outside the process limits)"
                + ("; provisional: the latest months have left those limits." if basis == "earlier_limits" else "."),
                {"branch": branch, "kpi": kpi, "target": target, "assurance_basis": basis}, f"{branch} {kpi}",
                f"{branch}：{kpi} 持续未达目标 {target:g}（目标在过程控制限之外）"
                + ("；暂定：最近数月已超出这些控制限。" if basis == "earlier_limits" else "。")))
    if short:
        months = sorted({m for _, _, m in short})
        warnings.append(QualityWarning(
            "W-SC-02", "warning", f"{len(short)} branch × KPI series have only {months[0]}–{months[-1]} months up to "
            f"{per}: no verdicts (at least {min_points} months needed).",
            {"series": [f"{b} {k}" for b, k, _ in short], "months": months, "min_points": min_points}, "scorecard",
            f"{len(short)} 个营业厅 × KPI 序列截至 {per} 仅有 {months[0]}–{months[-1]} 个月数据，不作判断"
            f"（至少需要 {min_points} 个月）。"))
    missing_t = [k for k in include if k not in tg.index]
    for k in missing_t:
        warnings.append(QualityWarning("W-SC-01", "warning", f"{k} has no target in the targets table.",
                                       {"kpi": k}, k, f"{k} 在目标表中没有目标值。"))
    table = pd.DataFrame(rows)
    order = {k: i for i, k in enumerate(include)}
    table = table.sort_values(["branch", "kpi"], key=lambda c: c.map(order) if c.name == "kpi" else c,
                              kind="stable").reset_index(drop=True)
    comp = composite_scores(hist.loc[hist["kpi"].isin(include)], tg, weights=w, cap=cap, confidence=confidence)
    conv = dict(kpi_attrs.get("conventions", {}) or conventions)
    hist.attrs = kpi_attrs
    rec_cols = ["branch", "kpi", "label", "index", "rule", "run_length", "side", "old_center", "new_center"]
    rec = (pd.concat(recalcs, ignore_index=True)[rec_cols] if recalcs else pd.DataFrame(columns=rec_cols))
    rec = rec.rename(columns={"label": "period"})
    return Scorecard(per, table, comp, hist, charts, w, float(cap), int(baseline), defs, conv, rec,
                     warnings=warnings)


def _tag(wq: QualityWarning, subject: str) -> QualityWarning:
    return QualityWarning(wq.code, wq.severity, wq.message, dict(wq.evidence), subject, wq.message_zh)


def _month_quantiles(data, period: str, branches, conventions, *, network: bool) -> pd.DataFrame:
    """Median/P80/P90 wait and median handle time of the report month: per branch (every quantile KPI, as
    ``sqc.kpi.network_kpis`` gives them), or for the network (``ALL``, the scorecard's :data:`EXTRA_KPIS`; via
    sqc.kpi on the month's contacts relabelled to one queue, as sqc.kpi computes quantiles per branch only). A
    store-backed network computes them in its engine (one query over the month, no raw rows loaded)."""
    from .kpi import QUANTILE_KPIS, _quantile_rows, hotline_kpis, table_source

    kinds = list(EXTRA_KPIS) if network else [name for name, _, _ in QUANTILE_KPIS]
    source = table_source(data)
    if source is not None:
        from .engine import aggregates_for

        q = aggregates_for(source).quantiles("month", start=period, end=period, branches=branches, network=network)
        return _quantile_rows(q.loc[q["kpi"].isin(kinds)]) if len(q) else pd.DataFrame()
    hot = data.hotline
    ts = hot["ts"]
    start = pd.Period(period, "M").start_time
    end = (pd.Period(period, "M") + 1).start_time
    month = hot.loc[((ts >= start) & (ts < end)).to_numpy()]
    if branches is not None:
        month = month.loc[month["branch"].isin(list(branches))]
    if month.empty:
        return pd.DataFrame()
    conv = {k: v for k, v in conventions.items() if k in ("sl_threshold", "sl_variant", "short_abandon_s",
                                                          "exclude_short_abandons", "top_box_min")}
    out = hotline_kpis(month.assign(branch="ALL") if network else month, quantiles=True, **conv)
    return out.loc[out["kpi"].isin(kinds)]


def composite_scores(kpis: pd.DataFrame, targets: pd.DataFrame, *, weights: dict, cap: float = 1.0,
                     confidence: float = DEFAULT_CONFIDENCE, n_draws: int = 2000,
                     seed: int = 20261201) -> pd.DataFrame:
    """Weighted composite per (branch, period) from a tidy KPI frame (see the module docstring for the formula),
    with each branch's rank and a rank interval.

    ``targets`` indexed by kpi with ``target, direction``. KPIs without a target or a value are left out of that
    row's composite (``kpis_used`` says how many entered). Returns ``branch, period, composite, ci_low, ci_high,
    kpis_used, rank, rank_low, rank_high``.

    Rank interval: ranks (1 = highest composite, ties share the best rank) are computed in ``n_draws``
    parametric draws ``composite + se · Z`` with ``Z ~ N(0, 1)`` independent per branch (``se`` the composite's
    delta-method standard error; draws clipped to ``[0, 100 · cap]`` as the composite cannot leave that range),
    from a generator seeded with ``seed`` so the table is reproducible; ``rank_low``/``rank_high`` are the
    ``(1 − confidence)/2`` and ``(1 + confidence)/2`` quantiles of a branch's ranks. Overlapping intervals give
    wide rank intervals: a rank is only as certain as the scores behind it (Goldstein & Spiegelhalter, 1996,
    "League tables and their limitations", JRSS A 159:385-443). The network row ``ALL`` is not ranked.
    """
    from scipy import stats

    from .audit import _min_rank_desc

    confidence = _check_confidence(confidence)
    if not isinstance(n_draws, (int, np.integer)) or n_draws < 100:
        raise ParameterError(f"n_draws must be an integer of at least 100 (got {n_draws!r}); 2000 is the default")
    z = stats.norm.ppf(0.5 + confidence / 2)
    columns = ["branch", "period", "composite", "ci_low", "ci_high", "kpis_used", "rank", "rank_low", "rank_high"]
    tg = targets if "kpi" not in targets.columns else targets.set_index("kpi")
    k = kpis.loc[kpis["kpi"].isin([c for c in weights if c in tg.index])].copy()
    if k.empty:
        return pd.DataFrame(columns=columns)
    tgt = k["kpi"].map(tg["target"]).astype(float)
    hib = k["kpi"].map(tg["direction"]).eq("higher_is_better").to_numpy()
    v = k["value"].astype(float).to_numpy()
    t = tgt.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        att = np.where(hib, v / t, t / v)
        # delta method: d att / d v = 1/t (higher) or -t/v² (lower)
        grad = np.where(hib, 1 / t, t / v ** 2)
        se_v = (k["ci_high"].astype(float).to_numpy() - k["ci_low"].astype(float).to_numpy()) / (2 * z)
    k["score"] = 100 * np.minimum(att, cap)
    k["score_se"] = 100 * np.abs(grad) * se_v
    k["w"] = k["kpi"].map(weights).astype(float)
    ok = np.isfinite(k["score"].to_numpy())
    k = k.loc[ok]
    g = k.assign(ws=k["w"] * k["score"], wv=(k["w"] * k["score_se"]) ** 2).groupby(["branch", "period"])
    agg = g.agg(wsum=("w", "sum"), ws=("ws", "sum"), wv=("wv", "sum"), kpis_used=("kpi", "count")).reset_index()
    agg["composite"] = agg["ws"] / agg["wsum"]
    se = np.sqrt(agg["wv"]) / agg["wsum"]
    agg["ci_low"] = np.maximum(agg["composite"] - z * se, 0.0)
    agg["ci_high"] = np.minimum(agg["composite"] + z * se, 100.0 * cap)  # cannot exceed the capped maximum
    for col in ("rank", "rank_low", "rank_high"):
        agg[col] = np.nan
    br = (agg["branch"] != "ALL").to_numpy()
    agg.loc[br, "rank"] = agg.loc[br].groupby("period")["composite"].rank(ascending=False, method="min")
    rng = np.random.default_rng(seed)
    a = (1 - confidence) / 2
    se_all = np.nan_to_num(se.to_numpy(), nan=0.0)
    for _, idx in agg.loc[br].groupby("period").groups.items():
        pos = agg.index.get_indexer(idx)
        draws = agg["composite"].to_numpy()[pos, None] + se_all[pos, None] * rng.standard_normal((len(pos), n_draws))
        ranks = _min_rank_desc(np.clip(draws, 0.0, 100.0 * cap))  # branches × draws
        agg.loc[idx, "rank_low"] = np.quantile(ranks, a, axis=1, method="lower")
        agg.loc[idx, "rank_high"] = np.quantile(ranks, 1 - a, axis=1, method="higher")
    out = agg[columns]
    out.attrs["weights"] = dict(weights)
    out.attrs["cap"] = cap
    out.attrs["rank_draws"] = {"n_draws": int(n_draws), "seed": seed}
    return out.sort_values(["period", "branch"]).reset_index(drop=True)


__all__ = ["kpi_scorecard", "Scorecard", "composite_scores", "attribute_chart", "SCORECARD_KPIS", "CHART_KIND",
           "VARIATION_ICONS",
           "ASSURANCE_ICONS"]
