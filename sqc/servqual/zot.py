"""Zone of tolerance, three-column format (PZB 1994a; Zeithaml, Berry & Parasuraman 1993; Methods §1.4).

Per respondent r and item i with adequate A, desired D and perceived P on the same scale::

    MSA_ri = P_ri − A_ri      measure of service adequacy    (≥ 0: at least adequate)
    MSS_ri = P_ri − D_ri      measure of service superiority (≥ 0: meets or exceeds desired)
    width_ri = D_ri − A_ri    zone-of-tolerance width
    position: below the zone if P < A; inside if A ≤ P ≤ D; above if P > D

Answers with D < A are logically inconsistent: they are counted, flagged (W-SQ-02) and excluded from MSA/MSS,
width and positions by default (``inconsistent="exclude"``). MSA and MSS get paired t CIs and Holm-adjusted
p-values within the family of items (and of dimensions); the shares below/inside/above get Wilson CIs
(``sqc.inference.wilson_ci``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..diagnostics import QualityWarning
from ..errors import DataError, ParameterError
from ..inference import _check_confidence, wilson_ci
from .instrument import DEFAULT_DONT_KNOW, Instrument, PreparedResponses, prepare_responses
from .paired import paired_gap_tests
from ..results import ResultData, row_lines


@dataclass
class ZotResult(ResultData):
    """Zone-of-tolerance results.

    Attributes
    ----------
    items, dimensions : DataFrame
        ``A_mean, D_mean, P_mean, width`` (+ CI), ``msa, msa_low, msa_high, msa_p_adj``, ``mss, mss_low, mss_high,
        mss_p_adj``, ``n``, ``n_inconsistent``, ``share_below/inside/above`` each with ``_low``/``_high`` Wilson
        bounds. Dimension rows use the respondent dimension means (≥ ``min_item_share`` of the items valid).
    n_inconsistent : int
        Respondent-item answers with desired < adequate.
    inconsistent : {"exclude", "keep"}
    """

    _frame_attr = "items"

    _chart = "sqc.plotting.servqual:zot_spec"

    items: pd.DataFrame
    dimensions: pd.DataFrame
    n_inconsistent: int
    n_answers: int
    inconsistent: str
    confidence: float

    def _summary_lines(self, lang: str = "en") -> list[str]:
        return row_lines(
            f"Zone of tolerance ({self.confidence:.0%} CIs); inconsistent answers (desired < adequate): "
            f"{self.n_inconsistent} of {self.n_answers} ({self.inconsistent}d)", self.dimensions,
            lambda d, r: f"{d:<16} A {r['A_mean']:.2f}  D {r['D_mean']:.2f}  P {r['P_mean']:.2f}  "
            f"MSA {r['msa']:+.2f} [{r['msa_low']:+.2f}, {r['msa_high']:+.2f}]  "
            f"MSS {r['mss']:+.2f} [{r['mss_low']:+.2f}, {r['mss_high']:+.2f}]  "
            f"below {r['share_below']:.0%} inside {r['share_inside']:.0%} above {r['share_above']:.0%}"
            f"  n={int(r['n'])}")


def _table(Pm, Am, Dm, valid, labels, confidence, adjust, family):
    MSA = np.where(valid, Pm - Am, np.nan)
    MSS = np.where(valid, Pm - Dm, np.nan)
    width = np.where(valid, Dm - Am, np.nan)
    ta = paired_gap_tests(MSA, labels=labels, confidence=confidence, adjust=adjust, tests=("t",), family=family)
    ts = paired_gap_tests(MSS, labels=labels, confidence=confidence, adjust=adjust, tests=("t",), family=family)
    tw = paired_gap_tests(width, labels=labels, confidence=confidence, adjust="none", tests=("t",))
    n = valid.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({
            "A_mean": np.where(valid, Am, 0).sum(0) / n, "D_mean": np.where(valid, Dm, 0).sum(0) / n,
            "P_mean": np.where(valid, Pm, 0).sum(0) / n,
            "width": tw["mean"].to_numpy(), "width_low": tw["ci_low"].to_numpy(), "width_high": tw["ci_high"].to_numpy(),
            "msa": ta["mean"].to_numpy(), "msa_low": ta["ci_low"].to_numpy(), "msa_high": ta["ci_high"].to_numpy(),
            "msa_p_adj": ta["p_adj"].to_numpy(),
            "mss": ts["mean"].to_numpy(), "mss_low": ts["ci_low"].to_numpy(), "mss_high": ts["ci_high"].to_numpy(),
            "mss_p_adj": ts["p_adj"].to_numpy(), "n": n.astype(int)}, index=pd.Index(labels))
    below = (valid & (Pm < Am)).sum(0)
    above = (valid & (Pm > Dm)).sum(0)
    inside = n - below - above
    for name, cnt in (("below", below), ("inside", inside), ("above", above)):
        lo, hi = wilson_ci(cnt, n, confidence)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"share_{name}"] = np.where(n > 0, cnt / np.where(n > 0, n, 1), np.nan)
        out[f"share_{name}_low"], out[f"share_{name}_high"] = lo, hi
    return out


def zone_of_tolerance(responses: pd.DataFrame | PreparedResponses, instrument: Instrument | None = None, *,
                      confidence: float = 0.95, inconsistent: str = "exclude", adjust: str = "holm",
                      min_item_share: float = 0.5, dont_know=DEFAULT_DONT_KNOW, on_invalid: str = "raise"
                      ) -> ZotResult:
    """Zone of tolerance per item and dimension from adequate (A), desired (D) and perceived (P) answers.

    Parameters
    ----------
    responses : DataFrame or PreparedResponses
        Wide export with ``A*``, ``D*`` and ``P*`` columns as mapped by the instrument.
    inconsistent : {"exclude", "keep"}
        Desired < adequate answers are excluded (default) or kept; they are always counted (W-SQ-02).
    adjust : str
        Multiplicity adjustment of the MSA/MSS tests within the item family and within the dimension family.
    min_item_share : float
        Minimum share of a dimension's items with a valid (A, D, P) answer for a respondent dimension score.

    Returns
    -------
    ZotResult

    Examples
    --------
    >>> import pandas as pd
    >>> from sqc.servqual import Instrument, zone_of_tolerance
    >>> inst = Instrument.from_frame(pd.DataFrame({"item": [1, 2], "dimension": ["x", "x"], "reverse_keyed": False,
    ...     "scale_min": 1, "scale_max": 9, "text_en": "", "text_zh": ""}))
    >>> df = pd.DataFrame({"A1": [4, 5, 6], "D1": [8, 7, 5], "P1": [6, 4, 7],
    ...                    "A2": [3, 3, 3], "D2": [9, 9, 9], "P2": [5, 5, 5]})
    >>> z = zone_of_tolerance(df, inst)
    >>> z.n_inconsistent, round(z.items.loc[1, "msa"], 2)
    (1, 0.5)
    """
    confidence = _check_confidence(confidence)
    if inconsistent not in ("exclude", "keep"):
        raise ParameterError(f"inconsistent must be 'exclude' or 'keep', got {inconsistent!r}")
    if isinstance(responses, PreparedResponses):
        prep = responses
        missing = [c for c in ("A", "D", "P") if c not in prep.values]
        if missing:
            raise DataError(f"zone of tolerance needs adequate (A), desired (D) and perceived (P) answers; "
                            f"missing component(s) {missing}", expected="A*, D* and P* columns")
    else:
        prep = prepare_responses(responses, instrument, components=("A", "D", "P"), optional_components=(),
                                 dont_know=dont_know, on_invalid=on_invalid)
    inst = prep.instrument
    A, D, P = prep.values["A"], prep.values["D"], prep.values["P"]
    present = ~(np.isnan(A) | np.isnan(D) | np.isnan(P))
    bad = present & (D < A)
    valid = present & ~bad if inconsistent == "exclude" else present
    items = _table(P, A, D, valid, inst.item_ids, confidence, adjust, f"{inst.k} items")
    items["n_inconsistent"] = bad.sum(0).astype(int)
    items.insert(0, "dimension", inst.items["dimension"].to_numpy())
    items.index.name = "item"

    dims = inst.dimensions
    dim_of = inst.dimension_index
    cols_A, cols_D, cols_P, valid_d = [], [], [], []
    for j, d in enumerate(dims):
        cols = np.flatnonzero(dim_of == j)
        need = max(math.ceil(min_item_share * cols.size - 1e-9), 1)
        v = valid[:, cols]
        cnt = v.sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols_A.append(np.where(v, A[:, cols], 0).sum(1) / cnt)
            cols_D.append(np.where(v, D[:, cols], 0).sum(1) / cnt)
            cols_P.append(np.where(v, P[:, cols], 0).sum(1) / cnt)
        valid_d.append(cnt >= need)
    dim_tab = _table(np.column_stack(cols_P), np.column_stack(cols_A), np.column_stack(cols_D),
                     np.column_stack(valid_d), dims, confidence, adjust, f"{len(dims)} dimensions")
    dim_tab["n_inconsistent"] = [int(bad[:, dim_of == j].sum()) for j in range(len(dims))]
    dim_tab.index.name = "dimension"

    n_bad, n_ans = int(bad.sum()), int(present.sum())
    warns = []
    if n_bad:
        warns.append(QualityWarning(
            "W-SQ-02", "warning",
            f"{n_bad} of {n_ans} zone-of-tolerance answers ({n_bad / n_ans:.1%}) rate desired service below adequate "
            f"service (logically inconsistent); {'excluded' if inconsistent == 'exclude' else 'kept'} - check the "
            f"questionnaire instructions", {"n_inconsistent": n_bad, "n_answers": n_ans,
                                            "respondents": int(bad.any(1).sum()), "handling": inconsistent,
                                            "by_item": items["n_inconsistent"][items["n_inconsistent"] > 0].to_dict()},
            subject="zone of tolerance",
            message_zh=f"{n_bad}个容忍区回答的“理想服务”低于“合格服务”（逻辑矛盾），已"
                       f"{'剔除' if inconsistent == 'exclude' else '保留'}"))
    return ZotResult(items=items, dimensions=dim_tab, n_inconsistent=n_bad, n_answers=n_ans,
                     inconsistent=inconsistent, confidence=confidence, warnings=warns)
