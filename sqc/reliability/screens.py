"""Response-quality screens (Methods §1.9): straight-lining, ceiling/floor shares, items with too little variance.

* Straight-lining: for each respondent, the longest run of identical consecutive answers ("longest string",
  Johnson 2005) and whether every answered item has the same value (with at least ``min_answered`` answers).
* Ceiling / floor: share of answers at the scale maximum / minimum per item, with Wilson 95 % CIs
  (sqc.inference.wilson_ci) and n.
* Low variance: items whose SD is below ``min_sd`` or whose most frequent answer takes more than ``max_modal_share``
  of the answers — such items cannot discriminate between respondents and depress correlations.

Warning codes: W-REL-16 straight-lining share above ``max_straightline_share``; W-REL-17 ceiling share above
``max_ceiling_share`` (0.30, Methods §1.10, W-SQ-04) or floor share above it; W-REL-18 low-variance item.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..diagnostics import QualityWarning
from ..errors import ParameterError
from ..inference import proportion, wilson_ci
from ._data import as_item_frame
from ..results import ResultData


@dataclass
class ScreenResult(ResultData):
    """Response-quality screens (see :func:`response_screens`)."""

    _frame_attr = "items"

    respondents: pd.DataFrame
    items: pd.DataFrame
    straightline_share: object  # sqc.inference.Estimate
    scale: tuple
    n: int

    def _summary_lines(self, lang: str = "en") -> list[str]:
        s = self.straightline_share
        lines = [f"Response-quality screens (N = {self.n}, scale {self.scale[0]}-{self.scale[1]})",
                 f"  straight-lining: {s.value:.1%} of respondents (95% CI {s.ci_low:.1%}-{s.ci_high:.1%}, n = {s.n})",
                 self.items.round(3).to_string()]
        return lines


def _longest_run(values: np.ndarray) -> np.ndarray:
    """Longest run of identical consecutive non-missing answers per row (missing answers are skipped)."""
    n, k = values.shape
    best = np.zeros(n, dtype=int)
    for i in range(n):
        row = values[i][~np.isnan(values[i])]
        if row.size == 0:
            continue
        change = np.flatnonzero(np.diff(row) != 0)
        edges = np.concatenate([[-1], change, [row.size - 1]])
        best[i] = int(np.max(np.diff(edges)))
    return best


def response_screens(items, scale=None, *, min_answered: int = 5, max_straightline_share: float = 0.05,
                     max_ceiling_share: float = 0.30, min_sd: float = 0.5, max_modal_share: float = 0.90,
                     ci: float = 0.95) -> ScreenResult:
    """Screen survey answers for straight-lining, ceiling/floor effects and low-variance items.

    Parameters
    ----------
    items : DataFrame (respondents × items), in questionnaire order (straight-lining runs follow column order)
    scale : (min, max), optional
        Response scale; defaults to the smallest and largest answer observed. Out-of-scale answers raise DataError.
    min_answered : int
        A respondent is a straight-liner when at least this many items are answered and all answers are equal.

    Returns
    -------
    ScreenResult with ``respondents`` (n_answered, longest_string, straightlined), ``items`` (n, mean, sd,
    ceiling_share + CI, floor_share + CI, modal_share, low_variance) and ``straightline_share`` (Estimate, Wilson CI).
    """
    for nm, v in (("max_straightline_share", max_straightline_share), ("max_ceiling_share", max_ceiling_share),
                  ("max_modal_share", max_modal_share)):
        if not 0 < v <= 1:
            raise ParameterError(f"{nm} must be in (0, 1], got {v}")
    if min_answered < 2:
        raise ParameterError(f"min_answered must be at least 2, got {min_answered}")
    frame = as_item_frame(items, scale=scale)
    values = frame.to_numpy(dtype=float)
    if scale is None:
        scale = (float(np.nanmin(values)), float(np.nanmax(values)))
    lo, hi = scale
    present = ~np.isnan(values)
    n_answered = present.sum(1)
    rmin = np.where(present, values, np.inf).min(1)
    rmax = np.where(present, values, -np.inf).max(1)
    straight = (n_answered >= min_answered) & (rmin == rmax)
    respondents = pd.DataFrame({"n_answered": n_answered, "longest_string": _longest_run(values),
                                "straightlined": straight}, index=frame.index)
    eligible = int((n_answered >= min_answered).sum())
    sl = proportion(int(straight.sum()), eligible, ci)
    n_i = present.sum(0)
    ceil = np.sum(values == hi, axis=0)
    floor = np.sum(values == lo, axis=0)
    c_lo, c_hi = wilson_ci(ceil, n_i, ci)
    f_lo, f_hi = wilson_ci(floor, n_i, ci)
    modal = []
    for j in range(values.shape[1]):
        col = values[present[:, j], j]
        modal.append(np.unique(col, return_counts=True)[1].max() / col.size if col.size else np.nan)
    modal = np.array(modal)
    with np.errstate(invalid="ignore"):
        sd = np.array([np.std(values[present[:, j], j], ddof=1) if n_i[j] > 1 else np.nan
                       for j in range(values.shape[1])])
        mean = np.array([values[present[:, j], j].mean() if n_i[j] else np.nan for j in range(values.shape[1])])
    low_var = (sd < min_sd) | (modal > max_modal_share)
    with np.errstate(invalid="ignore", divide="ignore"):
        item_df = pd.DataFrame({"n": n_i, "mean": mean, "sd": sd, "ceiling_share": ceil / n_i, "ceiling_ci_low": c_lo,
                                "ceiling_ci_high": c_hi, "floor_share": floor / n_i, "floor_ci_low": f_lo,
                                "floor_ci_high": f_hi, "modal_share": modal, "low_variance": low_var},
                               index=pd.Index([str(c) for c in frame.columns], name="item"))
    warns = []
    if eligible and sl.value > max_straightline_share:
        warns.append(QualityWarning(
            "W-REL-16", "warning", f"{sl.value:.1%} of respondents gave the same answer to every item (straight-lining; "
            f"95% CI {sl.ci_low:.1%}-{sl.ci_high:.1%}, n = {sl.n}); consider excluding them.",
            evidence={**sl.as_dict(), "threshold": max_straightline_share},
            message_zh=f"{sl.value:.1%} 的受访者对所有题项给出相同答案（直线作答），可考虑剔除。"))
    hi_ceil = item_df.index[item_df["ceiling_share"] > max_ceiling_share].tolist()
    if hi_ceil:
        warns.append(QualityWarning(
            "W-REL-17", "info", f"Ceiling effect: more than {max_ceiling_share:.0%} of answers at the scale top ({hi:g}) "
            f"for {', '.join(hi_ceil)}; differences near the top cannot be measured.",
            evidence={i: float(item_df.loc[i, "ceiling_share"]) for i in hi_ceil}, subject=",".join(hi_ceil),
            message_zh=f"天花板效应：{', '.join(hi_ceil)} 超过 {max_ceiling_share:.0%} 的答案为最高分。"))
    hi_floor = item_df.index[item_df["floor_share"] > max_ceiling_share].tolist()
    if hi_floor:
        warns.append(QualityWarning(
            "W-REL-17", "info", f"Floor effect: more than {max_ceiling_share:.0%} of answers at the scale bottom "
            f"({lo:g}) for {', '.join(hi_floor)}.", evidence={i: float(item_df.loc[i, "floor_share"]) for i in hi_floor},
            subject=",".join(hi_floor), message_zh=f"地板效应：{', '.join(hi_floor)} 超过 {max_ceiling_share:.0%} 的答案为最低分。"))
    lv = item_df.index[item_df["low_variance"]].tolist()
    if lv:
        warns.append(QualityWarning(
            "W-REL-18", "warning", f"Item(s) {', '.join(lv)} vary too little (SD < {min_sd} or one answer > "
            f"{max_modal_share:.0%}): they cannot discriminate between respondents.",
            evidence={i: {"sd": float(item_df.loc[i, "sd"]), "modal_share": float(item_df.loc[i, "modal_share"])}
                      for i in lv}, subject=",".join(lv),
            message_zh=f"题项 {', '.join(lv)} 变异过小，无法区分受访者。"))
    return ScreenResult(respondents, item_df, sl, (lo, hi), int(values.shape[0]), warnings=warns)
