"""Limits that follow the process: recalculate a chart's limits when a sustained shift is established.

Rule (NHS England "Making Data Count": recalculate limits only when the process has shifted and the shift has
held; do not recalculate on a single special-cause point):

* A **shift** is a run of at least ``run_length`` consecutive points (7 in Making Data Count) on the same side of
  the current stage's centre line (a point on the centre line breaks the run) whose points lie on average at
  least ``min_shift`` σ from that centre (default 1σ; sqc's guard against runs that noise alone makes, 0 turns
  it off).
* When a shift is found, a new **stage** starts at the run's first point; the chart is recomputed with one
  centre and one set of limits per stage (each stage's limits from its own first ``baseline`` points, the
  ``stages=`` support of the sqc.spc charts), and the search goes on in the new stage, so several shifts give
  several stages. A run must start at least ``run_length`` points after the first point of the stage it
  leaves, so every stage holds at least ``run_length`` points.
* An explicit stage table (``starts``: the labels of the points where new stages begin) overrides the automatic
  rule: no search is made.

Every recalculation is recorded (:class:`StagedChart` ``.recalculations``: where, why as a rule code
``"shift"`` or ``"stage_table"``, the run length, the old and new centre) and marked on the chart: the stage
boundary is drawn by the plotting layer and a note explains it.

Points that are special causes but have not (yet) made a run of ``run_length`` stay on the earlier limits;
callers should then treat an assurance verdict as resting on earlier limits (see :mod:`sqc.scorecard`).

References
----------
NHS England / NHS Improvement (2019). *Making Data Count: Strengthening your decisions*, section on recalculating
limits. Provost, L. P. & Murray, S. K. (2011). *The Health Care Data Guide*, ch. 3 (when to extend, revise or
re-baseline limits).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ParameterError

__all__ = ["StagedChart", "staged_chart", "first_shift", "RECALC_RUN_LENGTH", "RECALC_MIN_SHIFT"]

RECALC_RUN_LENGTH = 7
RECALC_MIN_SHIFT = 1.0
_RECALC_COLUMNS = ["label", "index", "rule", "run_length", "side", "old_center", "new_center"]
_NOTE = {"shift": ("limits recalculated: {k} points in a row {side} the centre",
                   "控制限重新计算：连续 {k} 点位于中心线{side_zh}"),
         "stage_table": ("limits recalculated: stage from the stage table", "控制限重新计算：依据阶段表划分")}
_SIDE_ZH = {"above": "上方", "below": "下方"}


@dataclass
class StagedChart:
    """A chart with stages and the record of each recalculation.

    Attributes
    ----------
    chart : ChartResult or PairedChart
        The chart over all points, one centre and set of limits per stage (stage label = label of the stage's
        first point).
    recalculations : DataFrame
        One row per new stage: ``label, index`` (0-based position of the first point), ``rule`` (``"shift"`` or
        ``"stage_table"``), ``run_length`` (points in the run, or the stage's length for a stage table), ``side``
        (``"above"``/``"below"`` the old centre), ``old_center``, ``new_center``.
    """

    chart: object
    recalculations: pd.DataFrame

    @property
    def ongoing_shift(self) -> str:
        """``"above"``/``"below"`` when the current stage was set by the shift rule and every point since its start
        is still on that side of the earlier centre (the shift is under way up to the latest point), else ``""``.
        """
        rec = self.recalculations
        if not len(rec) or rec["rule"].iloc[-1] != "shift":
            return ""
        n = len(_location(self.chart))
        return str(rec["side"].iloc[-1]) if int(rec["index"].iloc[-1] + rec["run_length"].iloc[-1]) >= n else ""

    @property
    def current_stage_start(self) -> int:
        """0-based position of the first point of the current (last) stage."""
        return int(self.recalculations["index"].iloc[-1]) if len(self.recalculations) else 0


def _location(chart):
    return getattr(chart, "location", chart)


def _per_point(a, n):
    return np.broadcast_to(np.asarray(a, dtype=float), (n,))


def first_shift(stat, center, sigma, start: int = 0, run_length: int = RECALC_RUN_LENGTH,
                min_shift: float = RECALC_MIN_SHIFT):
    """First run of ≥ ``run_length`` consecutive points on one side of ``center`` that starts at least
    ``run_length`` points after ``start`` and
    whose mean lies at least ``min_shift`` σ from the centre.

    Returns ``(first, length, side)`` (side "above"/"below") or ``None``. Vectorised over run boundaries.
    """
    x = np.asarray(stat, dtype=float)
    n = x.size
    c = _per_point(center, n)
    rel = np.sign(x - c)
    rel[~np.isfinite(rel)] = 0
    # run boundaries: positions where the sign changes
    change = np.flatnonzero(np.r_[True, rel[1:] != rel[:-1], True])
    firsts, ends = change[:-1], change[1:]
    lengths = ends - firsts
    ok = (rel[firsts] != 0) & (lengths >= run_length) & (firsts >= start + run_length)
    if min_shift > 0 and ok.any():
        # mean standardised distance of each run from the centre: cumulative sums over the run's points
        z = np.r_[0.0, np.cumsum(np.abs(x - c) / _per_point(sigma, n))]
        ok &= (z[ends] - z[firsts]) / np.maximum(lengths, 1) >= min_shift
    if not ok.any():
        return None
    j = int(np.flatnonzero(ok)[0])
    return int(firsts[j]), int(lengths[j]), "above" if rel[firsts[j]] > 0 else "below"


def _check_run_length(run_length):
    if not (isinstance(run_length, (int, np.integer)) and not isinstance(run_length, bool) and run_length >= 2):
        raise ParameterError(f"run_length (points in a row on one side that establish a shift) must be an "
                             f"integer ≥ 2 (Making Data Count uses 7), got {run_length!r}")
    return int(run_length)


def staged_chart(build, labels, *, run_length: int = RECALC_RUN_LENGTH, min_shift: float = RECALC_MIN_SHIFT,
                 starts=None) -> StagedChart:
    """Build a chart whose limits are recalculated at each sustained shift (or at the given stage starts).

    Parameters
    ----------
    build : callable
        ``build(stage_ids)`` → chart result; ``stage_ids`` is None (one stage) or an array of one stage label
        per point, passed to the chart's ``stages=``.
    labels : sequence
        The chart's point labels in time order (e.g. months "2025-09"); stage labels are taken from them.
    run_length : int
        Points in a row on one side of the centre that establish a shift (Making Data Count: 7).
    min_shift : float
        The run's points must lie on average at least this many σ (the plotted statistic's σ in the stage the
        run leaves) from the centre (default 1). A run of 7 happens in pure noise more often than a manager
        would accept a change of limits (about 1 series in 4 of 35 points); a real step of ≥ 1.5σ passes.
        0 = the run alone decides.
    starts : sequence of labels, optional
        Explicit stage table: labels of the points where new stages begin. Overrides the automatic rule. A label
        that is not a point raises ParameterError; labels before the first point are ignored.

    Returns
    -------
    StagedChart
    """
    run_length = _check_run_length(run_length)
    if not (isinstance(min_shift, (int, float, np.integer, np.floating)) and np.isfinite(min_shift)
            and min_shift >= 0):
        raise ParameterError(f"min_shift must be a number of σ ≥ 0 (default 1; 0 = the run alone decides), "
                             f"got {min_shift!r}")
    lab = pd.Index(labels).astype(str)
    n = len(lab)

    def ids_from(first_positions):
        b = np.zeros(n, dtype=int)
        b[first_positions] = 1
        return lab.to_numpy()[np.r_[0, first_positions][np.cumsum(b)]]

    rows = []
    if starts is not None:
        pos = []
        for s in starts:
            hit = np.flatnonzero(lab == str(s))
            if not hit.size:
                if str(s) < str(lab[0]):
                    continue
                raise ParameterError(f"stage start {s!r} is not a point of the chart; points run "
                                     f"{lab[0]}–{lab[-1]}")
            if hit[0] > 0:
                pos.append(int(hit[0]))
        pos = sorted(set(pos))
        chart = build(ids_from(np.array(pos, dtype=int)) if pos else None)
        ca = _per_point(_location(chart).center, n)
        for k, p in enumerate(pos):
            end = pos[k + 1] if k + 1 < len(pos) else n
            side = "above" if ca[p] > ca[p - 1] else "below"
            rows.append((lab[p], p, "stage_table", end - p, side, float(ca[p - 1]), float(ca[p])))
    else:
        pos = []
        chart = build(None)
        while True:
            loc = _location(chart)
            found = first_shift(loc.statistic, loc.center, loc.sigma, pos[-1] if pos else 0, run_length,
                                min_shift)
            if found is None:
                break
            p, k, side = found
            old = float(_per_point(loc.center, n)[p])
            pos.append(p)
            chart = build(ids_from(np.array(pos, dtype=int)))
            rows.append((lab[p], p, "shift", k, side, old, float(_per_point(_location(chart).center, n)[p])))
    rec = pd.DataFrame(rows, columns=_RECALC_COLUMNS)
    for r in rec.itertuples():
        en, zh = _NOTE[r.rule]
        _location(chart).annotate(r.label, en.format(k=r.run_length, side=r.side),
                                  zh.format(k=r.run_length, side_zh=_SIDE_ZH[r.side]))
    return StagedChart(chart, rec)
