"""NHS "Making Data Count" variation and assurance icons (Methods §7), NHSRplotthedots logic.

Variation (``variation_verdict``) looks at the *latest* point of an I chart (or any chart result with centre,
limits and σ): it is special cause if it is part of any of these patterns (NHSRplotthedots
``ptd_special_cause_flag``, which flags every point of a pattern, not only the completing one):

* ``outside_limits``: the point is beyond a control limit;
* ``shift``: part of a run of ≥ 7 consecutive points on the same side of the centre (a point on the centre
  breaks the run);
* ``trend``: part of ≥ 7 consecutive points each strictly higher (or lower) than the previous one;
* ``two_of_three``: the point is beyond 2σ (inside the limits) and at least 2 of 3 consecutive points
  containing it are beyond 2σ on the same side.

A special-cause point above the centre is an *improvement* when higher is better and a *concern* otherwise
(mirror for lower-is-better); otherwise the verdict is *common cause*. NHSRplotthedots takes the side of the
point relative to the mean for every pattern (also trends), and so does this function.

Assurance (``assurance_verdict``) compares the target with the latest limits: higher is better and
target > UCL → ``consistently_fail``; target < LCL → ``consistently_pass``; otherwise ``hit_and_miss``
(mirrored for lower is better) (NHSRplotthedots ``ptd_calculate_assurance_type``).

Differences from NHSRplotthedots: it uses 2.66·MR̄ (= 3/1.128, tabled d2); pass an I chart computed with
``constants="tabled"`` to reproduce it exactly. Its "close to limits" 2-of-3 test ignores the side in older
versions; Methods §5.2 asks for the same side, which is used here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError

__all__ = ["variation_verdict", "assurance_verdict", "Verdict", "special_cause_points", "shift_verdict"]

DIRECTIONS = ("higher_is_better", "lower_is_better")
_ALIASES = {"increase": "higher_is_better", "decrease": "lower_is_better", "higher": "higher_is_better",
            "lower": "lower_is_better"}

_TEXT = {
    "improvement": ("special cause - improvement", "特殊原因变异：改善"),
    "concern": ("special cause - concern", "特殊原因变异：需关注"),
    "common_cause": ("common cause variation only", "仅为普通原因变异"),
    "consistently_pass": ("the target is consistently met", "稳定达标"),
    "consistently_fail": ("the target is consistently missed (the process cannot meet it without change)",
                          "稳定不达标（流程不改变则无法达标）"),
    "hit_and_miss": ("the target will be met in some periods and missed in others", "时而达标时而不达标"),
}
_RULE_TEXT = {
    "outside_limits": ("the latest point is beyond a control limit", "最新点超出控制限"),
    "shift": ("the latest point is part of a run of 7 or more on one side of the average",
              "最新点处于连续7点以上位于均值同侧的序列中"),
    "trend": ("the latest point is part of 7 or more points rising or falling in a row",
              "最新点处于连续7点以上持续上升或下降的序列中"),
    "two_of_three": ("2 of the last 3 points are close to a limit (beyond 2σ) on the same side",
                     "最近3点中有2点在同侧接近控制限（超过2σ）"),
    "sustained_shift": ("the process has shifted and stayed on its new level; the limits were recalculated at the "
                        "start of the shift", "流程已发生持续偏移并保持在新水平；已在偏移开始处重新计算控制限"),
}


def _direction(direction: str) -> str:
    d = _ALIASES.get(direction, direction)
    if d not in DIRECTIONS:
        raise ParameterError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    return d


@dataclass(frozen=True)
class Verdict:
    """An icon verdict with its reasons (``rules``), the point it judges and plain-language text."""

    verdict: str
    rules: tuple = ()
    index: int | None = None
    side: str = ""
    evidence: dict = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        base = _TEXT[self.verdict][1 if lang == "zh" else 0]
        if self.rules:
            why = ("；" if lang == "zh" else "; ").join(_RULE_TEXT[r][1 if lang == "zh" else 0] for r in self.rules)
            return f"{base}（{why}）" if lang == "zh" else f"{base} ({why})"
        return base

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "rules": list(self.rules), "index": self.index, "side": self.side,
                **self.evidence}


def _runs_part_of(cond: np.ndarray, length: int) -> np.ndarray:
    """True for every point inside a run of ≥ length consecutive True values."""
    n = cond.size
    if n == 0:
        return cond.copy()
    c = cond.astype(np.int8)
    edges = np.diff(np.r_[0, c, 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = (ends - starts) >= length
    marks = np.zeros(n + 1, dtype=np.int32)
    np.add.at(marks, starts[keep], 1)
    np.add.at(marks, ends[keep], -1)
    return np.cumsum(marks[:-1]) > 0


def special_cause_points(stat, center, sigma, lcl, ucl, run_length: int = 7, trend_length: int = 7) -> dict:
    """Per-point boolean arrays of the four Making Data Count patterns (every point of a pattern flagged)."""
    x = np.asarray(stat, dtype=float)
    n = x.size
    c = np.broadcast_to(np.asarray(center, dtype=float), (n,))
    s = np.broadcast_to(np.asarray(sigma, dtype=float), (n,))
    lo = np.broadcast_to(np.asarray(lcl, dtype=float), (n,))
    hi = np.broadcast_to(np.asarray(ucl, dtype=float), (n,))
    outside = (x > hi) | (x < lo)
    rel = np.sign(x - c)
    shift = _runs_part_of(rel > 0, run_length) | _runs_part_of(rel < 0, run_length)
    dx = np.diff(x)
    # a trend of m points = m−1 consecutive increases; mark the points spanned by such runs of differences
    inc = _runs_part_of(dx > 0, trend_length - 1)
    dec = _runs_part_of(dx < 0, trend_length - 1)
    trend = np.zeros(n, dtype=bool)
    for d in (inc, dec):
        trend[:-1] |= d
        trend[1:] |= d
    close_hi = ~outside & (x > c + 2 * s)
    close_lo = ~outside & (x < c - 2 * s)
    two3 = np.zeros(n, dtype=bool)
    for close in (close_hi, close_lo):
        cnt = np.convolve(close.astype(int), np.ones(3, dtype=int))  # windows ending at i (len n+2)
        # point i is in windows ending at i, i+1, i+2
        in_window = np.zeros(n, dtype=bool)
        for shift_by in range(3):
            w = cnt[shift_by:shift_by + n] >= 2
            in_window |= w
        two3 |= close & in_window
    return {"outside_limits": outside, "shift": shift, "trend": trend, "two_of_three": two3}


def variation_verdict(chart, direction: str, *, run_length: int = 7, trend_length: int = 7) -> Verdict:
    """Making Data Count variation icon for the latest point of ``chart``.

    Parameters
    ----------
    chart : ChartResult or PairedChart
        Usually ``imr(...)`` (its ``.i`` part is used).
    direction : {"higher_is_better", "lower_is_better"} (also "increase"/"decrease")
    run_length, trend_length : int
        Lengths of the shift and trend patterns (7 in NHS guidance).

    Returns
    -------
    Verdict with ``verdict`` in {"improvement", "concern", "common_cause"} and ``rules`` naming the patterns
    the latest point belongs to.
    """
    d = _direction(direction)
    res = getattr(chart, "location", chart)
    if len(res) == 0:
        raise ParameterError("the chart has no points")
    flags = special_cause_points(res.statistic, res.center, res.sigma, res.lcl, res.ucl, run_length, trend_length)
    last = len(res) - 1
    rules = tuple(k for k, v in flags.items() if v[last])
    c = float(np.broadcast_to(np.asarray(res.center, dtype=float), (len(res),))[last])
    x = float(res.statistic[last])
    side = "above" if x > c else "below" if x < c else ""
    ev = {"value": x, "center": c, "lcl": float(np.broadcast_to(res.lcl, (len(res),))[last]),
          "ucl": float(np.broadcast_to(res.ucl, (len(res),))[last]), "n_points": len(res)}
    if not rules or not side:
        return Verdict("common_cause", (), last, side, ev)
    good = (side == "above") == (d == "higher_is_better")
    return Verdict("improvement" if good else "concern", rules, last, side, ev)


def shift_verdict(side: str, direction: str, index: int, evidence: dict | None = None) -> Verdict:
    """Variation verdict for a sustained shift that set a new stage of limits and is still under way
    (``sqc.spc.StagedChart.ongoing_shift``): improvement or concern by the side of the shift, rule
    ``"sustained_shift"``. On its own new limits such a process shows common cause; this keeps the change in
    view until the process leaves the run."""
    d = _direction(direction)
    if side not in ("above", "below"):
        raise ParameterError(f"side must be 'above' or 'below', got {side!r}")
    good = (side == "above") == (d == "higher_is_better")
    return Verdict("improvement" if good else "concern", ("sustained_shift",), index, side, dict(evidence or {}))


def assurance_verdict(chart, target: float, direction: str) -> Verdict:
    """Making Data Count assurance icon: can the process, as it is, meet ``target``?

    Compares the target with the latest point's limits (NHSRplotthedots): higher is better → target > UCL:
    ``consistently_fail``, target < LCL: ``consistently_pass``, else ``hit_and_miss``; mirrored for lower is
    better.
    """
    d = _direction(direction)
    if target is None or not np.isfinite(float(target)):
        raise ParameterError(f"target must be a finite number, got {target!r}")
    res = getattr(chart, "location", chart)
    n = len(res)
    if n == 0:
        raise ParameterError("the chart has no points")
    lcl = float(np.broadcast_to(np.asarray(res.lcl, dtype=float), (n,))[-1])
    ucl = float(np.broadcast_to(np.asarray(res.ucl, dtype=float), (n,))[-1])
    t = float(target)
    ev = {"target": t, "lcl": lcl, "ucl": ucl}
    if t > ucl:
        v = "consistently_fail" if d == "higher_is_better" else "consistently_pass"
    elif t < lcl:
        v = "consistently_pass" if d == "higher_is_better" else "consistently_fail"
    else:
        v = "hit_and_miss"
    return Verdict(v, (), n - 1, "", ev)
