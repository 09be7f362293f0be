"""Importance–performance analysis (Martilla & James 1977; Methods §1.8) with uncertainty.

Importance is *stated* (mean 100-point allocation per dimension, t CI) or *derived* (Pearson correlation of the
attribute's perception with an overall rating, Fisher-z CI; Oh 2001, Matzler et al. 2004). Performance is the
mean perception (SERVPERF) or the SERVQUAL gap, with its t CI. Cross-hairs are data-centred (means of the plotted
importances and performances; default) or scale-centred (scale mid-point for perceptions, 0 for gaps, equal share
100/d for stated importance); the choice is a parameter and is printed (Bacon 2003: they give different
quadrants). An attribute whose CI straddles a cross-hair is left "unclassified" rather than forced into a
quadrant (W-IPA-01). The continuous priority index ``PI = z(I) − z(P)`` (Slack 1994; Bacon 2003) ranks attributes.
The data-centred cross-hairs are themselves estimates; their uncertainty is not propagated (documented).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..diagnostics import QualityWarning
from ..errors import DataError, ParameterError
from ..inference import _check_confidence
from ..results import ResultData, row_lines

QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}
QUADRANTS_ZH = {"concentrate here": "重点改进", "keep up the good work": "继续保持", "low priority": "次要改进",
                "possible overkill": "可能过度", "unclassified": "无法归类"}


@dataclass
class IpaResult(ResultData):
    """IPA table and settings.

    Attributes
    ----------
    table : DataFrame
        Per attribute: ``importance, imp_low, imp_high, performance, perf_low, perf_high, n, quadrant, priority``.
    crosshair : dict
        ``{"importance": float, "performance": float}``.
    centre : {"data", "scale", "given"}
    importance_kind : {"stated", "derived"}
    performance_kind : {"perception", "gap"}
    """

    _frame_attr = "table"

    _chart = "sqc.plotting.servqual:ipa_spec"

    table: pd.DataFrame
    crosshair: dict
    centre: str
    importance_kind: str
    performance_kind: str
    level: str
    confidence: float

    def _summary_lines(self, lang: str = "en") -> list[str]:
        return row_lines(
            f"IPA ({self.level}s; {self.importance_kind} importance vs {self.performance_kind}); "
            f"{self.centre}-centred cross-hairs: importance = {self.crosshair['importance']:.3f}, "
            f"performance = {self.crosshair['performance']:.3f}; attributes whose {self.confidence:.0%} CI "
            f"straddles a cross-hair are unclassified", self.table.sort_values("priority", ascending=False),
            lambda a, r: f"{str(a):<16} I {r['importance']:.3f} [{r['imp_low']:.3f}, {r['imp_high']:.3f}]  "
            f"P {r['performance']:+.2f} [{r['perf_low']:+.2f}, {r['perf_high']:+.2f}]  -> {r['quadrant']}"
            f"  (priority {r['priority']:+.2f})")


def _fisher_ci(r, n, confidence):
    from scipy import stats

    z = np.arctanh(np.clip(r, -0.999999, 0.999999))
    se = 1 / np.sqrt(np.maximum(n - 3, 1))
    q = stats.norm.ppf(0.5 + confidence / 2)
    return np.tanh(z - q * se), np.tanh(z + q * se)


def ipa(result, *, importance: str = "stated", performance: str = "perception", level: str = "dimension",
        centre: str = "data", outcome: str | None = None, crosshair: tuple[float, float] | None = None,
        confidence: float = 0.95) -> IpaResult:
    """Importance–performance analysis from a :class:`~sqc.servqual.ServqualResult`.

    Parameters
    ----------
    importance : {"stated", "derived"}
        Stated = mean 100-point allocation (dimension level only); derived = correlation of perception with
        ``outcome`` (dimension or item level).
    performance : {"perception", "gap"}
        Mean perception (SERVPERF) or SERVQUAL gap (gap-based IPA).
    level : {"dimension", "item"}
    centre : {"data", "scale"}
        Cross-hair placement; ignored when ``crosshair=(importance, performance)`` is given.
    outcome : str
        Overall rating column (needed for derived importance).

    Examples
    --------
    >>> res_ipa = ipa(res, importance="stated", centre="data")   # doctest: +SKIP
    >>> print(res_ipa.summary())                                  # doctest: +SKIP
    """
    from scipy import stats

    confidence = _check_confidence(confidence)
    if importance not in ("stated", "derived"):
        raise ParameterError(f"importance must be 'stated' or 'derived', got {importance!r}")
    if performance not in ("perception", "gap"):
        raise ParameterError(f"performance must be 'perception' or 'gap', got {performance!r}")
    if level not in ("dimension", "item"):
        raise ParameterError(f"level must be 'dimension' or 'item', got {level!r}")
    if centre not in ("data", "scale"):
        raise ParameterError(f"centre must be 'data' or 'scale', got {centre!r}")
    resp = result.respondents
    inst = result.instrument
    if level == "dimension":
        attrs = result.dimensions
        if performance == "gap":
            perf = result.dimension_gaps[["mean", "ci_low", "ci_high", "n"]]
        else:
            perf = result.servperf[["mean", "ci_low", "ci_high", "n"]]
        pcols = [f"SP_{d}" for d in attrs]
    else:
        attrs = inst.item_ids
        if performance == "gap":
            perf = result.item_gaps[["mean", "ci_low", "ci_high", "n"]]
        else:
            from .paired import paired_gap_tests

            pv = result.item_values["P"]
            perf = paired_gap_tests(pv, labels=attrs, tests=("t",), adjust="none",
                                    confidence=confidence)[["mean", "ci_low", "ci_high", "n"]]
        pcols = None
    if importance == "stated":
        if level != "dimension":
            raise ParameterError("stated importance is a 100-point allocation over dimensions; use "
                                 "level='dimension' or importance='derived' with an outcome column")
        if result.importance is None:
            raise DataError("no importance allocations in the responses (I_<dimension> columns)",
                            expected="importance columns, or importance='derived' with an outcome column")
        imp = result.importance[["mean", "ci_low", "ci_high"]].rename(
            columns={"mean": "importance", "ci_low": "imp_low", "ci_high": "imp_high"})
    else:
        if outcome is None:
            raise ParameterError("derived importance needs outcome=<column of the overall rating>")
        if outcome not in resp.columns:
            raise DataError("outcome column not found", column=outcome, expected="an overall rating column")
        y = pd.to_numeric(resp[outcome], errors="coerce").to_numpy(float)
        X = resp[pcols].to_numpy(float) if pcols else result.item_values["P"]
        rows = []
        for j, a in enumerate(attrs):
            ok = ~(np.isnan(y) | np.isnan(X[:, j]))
            if ok.sum() >= 4 and np.std(X[ok, j]) > 0 and np.std(y[ok]) > 0:
                r = stats.pearsonr(X[ok, j], y[ok]).statistic
                lo, hi = _fisher_ci(r, ok.sum(), confidence)
            else:
                r = lo = hi = np.nan
            rows.append({"importance": r, "imp_low": lo, "imp_high": hi})
        imp = pd.DataFrame(rows, index=pd.Index(attrs))
    tab = pd.concat([imp, perf.rename(columns={"mean": "performance", "ci_low": "perf_low",
                                               "ci_high": "perf_high"})], axis=1)
    if crosshair is not None:
        ci_, cp = map(float, crosshair)
        used = "given"
    elif centre == "data":
        ci_, cp = float(tab["importance"].mean()), float(tab["performance"].mean())
        used = "data"
    else:
        used = "scale"
        if importance == "stated":
            ci_ = 100.0 / len(attrs)
        else:
            raise ParameterError("a scale-centred cross-hair is not defined for derived importance (a correlation "
                                 "has no scale mid-point); use centre='data' or crosshair=(importance, performance)")
        if performance == "gap":
            cp = 0.0
        else:
            sc = inst.common_scale
            if sc is None:
                raise ParameterError("items use different scales; give crosshair=(importance, performance)")
            cp = (sc[0] + sc[1]) / 2
    hi_i = tab["importance"] > ci_
    hi_p = tab["performance"] > cp
    straddle = ((tab["imp_low"] <= ci_) & (tab["imp_high"] >= ci_)) | ((tab["perf_low"] <= cp) & (tab["perf_high"] >= cp))
    tab["quadrant"] = [("unclassified" if s else QUADRANTS[(bool(a), bool(b))])
                       for a, b, s in zip(hi_i, hi_p, straddle)]
    tab["quadrant_zh"] = tab["quadrant"].map(QUADRANTS_ZH)
    zi = (tab["importance"] - tab["importance"].mean()) / tab["importance"].std(ddof=1)
    zp = (tab["performance"] - tab["performance"].mean()) / tab["performance"].std(ddof=1)
    tab["priority"] = zi - zp
    tab.index.name = level
    warns = []
    unc = tab.index[tab["quadrant"] == "unclassified"].tolist()
    if unc:
        warns.append(QualityWarning(
            "W-IPA-01", "info", f"{len(unc)} attribute(s) not placed in a quadrant because their {confidence:.0%} CI "
            f"straddles a cross-hair: {unc}", {"unclassified": unc, "crosshair": {"importance": ci_,
                                                                                   "performance": cp}},
            subject="IPA", message_zh=f"{len(unc)}个属性的置信区间跨越分界线，未归入象限：{unc}"))
    return IpaResult(table=tab, crosshair={"importance": ci_, "performance": cp}, centre=used,
                     importance_kind=importance, performance_kind=performance, level=level, confidence=confidence,
                     warnings=warns)
