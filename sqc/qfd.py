"""QFD House of Quality (Methods §3; Akao 1990; Hauser & Clausing 1988; Cohen 1995).

Formulas
--------
Planning matrix (optional): improvement ratio ``IR_i = T_i / C_i``, raw weight ``RW_i = I_i · IR_i · SP_i``,
normalised weight ``NW_i = RW_i / Σ RW``; without a planning matrix ``NW_i = I_i / Σ I``.

Technical importance: ``TI_j = Σ_i w_i · R_ij`` with ``w = NW`` (default, ``weights="normalized"``) or the raw
importance ``I`` (``weights="importance"``); relative ``RTI_j = TI_j / Σ_j TI_j``.

Normalisations (``normalization=``):

* ``None`` — plain ``R``;
* ``"lyman"`` — Lyman (1990) row normalisation ``R'_ij = R_ij / Σ_j R_ij`` (removes the bias towards WHATs with
  many relationships);
* ``"wasserman"`` — Wasserman (1993): ``R'_ij = Σ_k R_ik γ_kj / Σ_j Σ_k R_ik γ_kj`` with the roof correlations
  ``γ`` (diagonal 1; roof symbols mapped to ``γ`` by ``roof_gamma``, default ++ 0.9, + 0.3 — the codes divided by
  10 — and negative links 0: the normalisation redistributes weight along *supporting* dependencies, and negative
  γ can make a HOW's importance negative; negative links are reported as trade-offs instead. Pass
  ``roof_gamma={-3: -0.3, -9: -0.9}`` to keep them).

Roof: the correlation among HOWs (codes 9/3/−3/−9 or the symbols "++", "+", "-", "--"). It does not enter the
plain TI formula; a negative link between two high-priority HOWs is a trade-off to resolve (``W-QFD-02``).

Sensitivity (Franceschini & Rupil 1999): RTI is recomputed with the 1-3-5 scale and with Lyman normalisation;
the rank of every HOW under each variant is reported and ``W-QFD-01`` is raised when the top-3 set changes.

Warnings
--------
* ``W-QFD-01`` (warning): top-3 HOWs change under the 1-3-5 scale or Lyman normalisation.
* ``W-QFD-02`` (warning): negative roof correlation between two HOWs that are both in the top third by RTI.
* ``W-QFD-03`` (warning): technical benchmarking contradicts the customer assessment — customers rate competitor k
  above us on WHAT i, yet on a HOW strongly related to i (R = 9) our measured value beats k's (Methods §3.6):
  a relationship may be mis-specified. Needs ``current``, ``competitors``, ``technical_benchmark`` and
  ``improvement_direction``.
* ``W-QFD-04`` (info): a WHAT has no relationship with any HOW (its importance is lost), or a HOW relates to no
  WHAT.

Golden values (Methods §3, toy service HoQ)::

    I = (5,4,3,2); C = (3,2,4,3); T = 4; SP = (1.5,1.2,1,1)
    R = [[9,1,3],[0,9,9],[1,9,0],[0,3,3]]   (staffing, training, knowledge base)
    TI (I only) = (48, 74, 57); RTI = (.2682, .4134, .3184)
    TI (NW)     = (3.6807, 5.2005, 4.9235); RTI = (.2666, .3767, .3567)
    Lyman RTI (NW) = (.2859, .3800, .3341)

Example
-------
>>> import pandas as pd
>>> from sqc.qfd import house_of_quality
>>> imp = pd.Series([5, 4, 3, 2], index=["quick", "competent", "informed", "polite"])
>>> rel = pd.DataFrame([[9, 1, 3], [0, 9, 9], [1, 9, 0], [0, 3, 3]], index=imp.index,
...                    columns=["staffing", "training", "knowledge base"])
>>> house_of_quality(imp, rel).technical_importance["absolute"].round(0).tolist()
[48.0, 74.0, 57.0]
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .diagnostics import QualityWarning
from .errors import DataError, ParameterError
from .results import ResultData

RELATIONSHIP_SCALES = {"1-3-9": {0: 0, 1: 1, 3: 3, 9: 9}, "1-3-5": {0: 0, 1: 1, 3: 3, 9: 5}}
ROOF_SYMBOLS = {"++": 9, "+": 3, "-": -3, "−": -3, "--": -9, "−−": -9, "": 0, "0": 0}
NORMALIZATIONS = (None, "lyman", "wasserman")
SALES_POINTS = (1.0, 1.2, 1.5)


@dataclass
class HouseOfQuality(ResultData):
    """Result of :func:`house_of_quality`.

    Attributes
    ----------
    importance : Series
        Customer importance ``I_i`` as given.
    relationships : DataFrame
        ``R_ij`` (WHATs × HOWs) as given (0/1/3/9).
    planning : DataFrame
        One row per WHAT: importance, current, target, sales_point, improvement_ratio, raw_weight,
        normalized_weight (planning columns are NaN when no planning matrix was given).
    technical_importance : DataFrame
        Indexed by HOW: ``absolute``, ``relative`` (0–1), ``rank`` (1 = most important).
    sensitivity : DataFrame
        Indexed by HOW: RTI and rank under the base, 1-3-5 and Lyman variants.
    roof : DataFrame or None
        Roof codes (HOW × HOW, −9..9).
    tradeoffs : DataFrame
        Negative roof pairs with both HOWs' RTI and whether both are high-priority.
    consistency : DataFrame
        Conflicts between the customer competitive assessment and the technical benchmark (W-QFD-03).
    normalization, weights : str
        Settings used (printed in the summary).
    warnings : list of QualityWarning
    """

    _frame_attr = "technical_importance"

    importance: pd.Series
    relationships: pd.DataFrame
    planning: pd.DataFrame
    technical_importance: pd.DataFrame
    sensitivity: pd.DataFrame
    roof: pd.DataFrame | None
    tradeoffs: pd.DataFrame
    normalization: str | None
    weights: str
    consistency: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())

    @property
    def ranked(self) -> pd.DataFrame:
        """HOWs ordered by technical importance (highest first)."""
        return self.technical_importance.sort_values("rank")

    def _summary_lines(self, lang: str = "en") -> list[str]:
        lines = [f"House of Quality: {len(self.importance)} customer requirements × "
                 f"{self.relationships.shape[1]} technical characteristics",
                 f"  weights: {self.weights}; normalisation: {self.normalization or 'none'}; scale 1-3-9"]
        for how, r in self.ranked.iterrows():
            lines.append(f"  {int(r['rank'])}. {how}: TI = {r['absolute']:.4g}, RTI = {r['relative']:.1%}")
        if len(self.tradeoffs):
            lines.append("  roof trade-offs (negative correlations):")
            for _, t in self.tradeoffs.iterrows():
                lines.append(f"    {t['how_1']} vs {t['how_2']} ({t['code']:+d})"
                             f"{'  ← both high priority' if t['both_high_priority'] else ''}")
        if len(self.consistency):
            lines.append(f"  benchmark conflicts: {len(self.consistency)} (see .consistency)")
        return lines


def _as_vector(x, index, name, *, positive=False) -> pd.Series:
    if x is None:
        return None
    if np.isscalar(x):
        s = pd.Series(float(x), index=index)
    elif isinstance(x, pd.Series):
        missing = [i for i in index if i not in x.index]
        if missing:
            raise DataError(f"{name} has no value for customer requirement(s) {missing}", column=name,
                            expected=f"a value for each of {list(index)}")
        s = x.reindex(index)
    else:
        arr = np.asarray(x, dtype=float)
        if arr.shape != (len(index),):
            raise ParameterError(f"{name} must have one value per customer requirement ({len(index)}), "
                                 f"got shape {arr.shape}")
        s = pd.Series(arr, index=index)
    s = pd.to_numeric(s, errors="coerce").astype(float)
    bad = ~np.isfinite(s.to_numpy()) | ((s.to_numpy() <= 0) if positive else (s.to_numpy() < 0))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(f"{name} must be a {'positive' if positive else 'non-negative'} number for every "
                        f"requirement", column=name, row=s.index[pos], value=x if np.isscalar(x) else s.iloc[pos],
                        expected="> 0" if positive else "≥ 0", count=int(bad.sum()))
    return s.rename(name)


def _roof_matrix(roof, hows) -> pd.DataFrame | None:
    if roof is None:
        return None
    if not isinstance(roof, pd.DataFrame):
        raise ParameterError("roof must be a DataFrame (HOWs × HOWs) of codes 9/3/-3/-9 or symbols ++/+/-/--")
    unknown = [h for h in list(roof.index) + list(roof.columns) if h not in hows]
    if unknown:
        raise DataError(f"roof names technical characteristic(s) not in the relationship matrix: {unknown}",
                        column="roof", expected=f"names from {list(hows)}")
    r = roof.reindex(index=hows, columns=hows)
    r = r.map(lambda v: ROOF_SYMBOLS.get(v.strip(), np.nan) if isinstance(v, str) else v)
    r = r.apply(pd.to_numeric, errors="coerce")
    # symmetric: take whichever triangle was filled
    m = r.to_numpy(dtype=float, copy=True)
    m[m == 0] = np.nan  # 0 / blank = no correlation entered in this triangle
    both = np.where(np.isnan(m), m.T, m)
    conflict = ~np.isnan(m) & ~np.isnan(m.T) & (m != m.T)
    if conflict.any():
        i, j = np.argwhere(conflict)[0]
        raise DataError(f"roof is not symmetric: {hows[i]} vs {hows[j]} coded {m[i, j]:g} and {m[j, i]:g}",
                        column="roof", expected="the same code in both triangles (or one triangle only)")
    both = np.nan_to_num(both, nan=0.0)
    np.fill_diagonal(both, 0.0)
    bad = ~np.isin(both, [-9, -3, 0, 3, 9])
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError("roof codes must be 9/3/-3/-9 (or ++/+/-/--) or empty", column="roof",
                        row=f"{hows[i]} × {hows[j]}", value=both[i, j], expected="one of 9, 3, -3, -9, 0")
    return pd.DataFrame(both.astype(int), index=hows, columns=hows)


def _ti(weights: np.ndarray, R: np.ndarray) -> np.ndarray:
    return weights @ R


def _rank(v: np.ndarray) -> np.ndarray:
    return pd.Series(v).rank(ascending=False, method="min").to_numpy(dtype=int)


def house_of_quality(importance, relationships, *, current=None, target=None, sales_point=None,
                     normalization: str | None = None, roof: pd.DataFrame | None = None,
                     weights: str = "normalized", roof_gamma: dict | None = None, top_k: int = 3,
                     competitors: pd.DataFrame | None = None, technical_benchmark: pd.DataFrame | None = None,
                     improvement_direction: pd.Series | dict | None = None) -> HouseOfQuality:
    """Build a House of Quality: planning matrix, technical importance, roof trade-offs and rank sensitivity.

    Parameters
    ----------
    importance : pandas.Series
        Customer importance ``I_i`` (1–5 rating, 100-point share or derived importance), indexed by customer
        requirement (WHAT). Must be positive.
    relationships : pandas.DataFrame
        WHATs × HOWs, values in {0, 1, 3, 9} (blank = 0). Rows must match ``importance``'s index.
    current, target : Series, sequence or scalar, optional
        Planning matrix: own current rating ``C_i`` and target ``T_i`` (same scale, > 0). Both or neither.
    sales_point : Series, sequence or scalar, optional
        ``SP_i`` (customarily 1.0, 1.2 or 1.5); default 1.
    normalization : {None, "lyman", "wasserman"}
        Relationship normalisation (see module docstring); ``"wasserman"`` needs ``roof``.
    roof : DataFrame, optional
        HOWs × HOWs correlations, codes 9/3/−3/−9 or symbols ``++ + - --`` (one triangle is enough).
    weights : {"normalized", "importance"}
        Weight each WHAT by the normalised planning weight ``NW`` (default) or by the raw importance ``I``.
    roof_gamma : dict, optional
        Code → γ for Wasserman (default ``{9: .9, 3: .3, -3: 0, -9: 0}``); keys given override the defaults.
    top_k : int
        Size of the "top" set checked for rank changes (W-QFD-01).
    competitors : DataFrame, optional
        Customer competitive assessment: WHATs × competitors, ratings on the scale of ``current``.
    technical_benchmark : DataFrame, optional
        HOWs × (``"us"`` and the competitors): measured value of each HOW.
    improvement_direction : Series or dict, optional
        HOW → ``"up"`` (more is better), ``"down"`` (less is better) or ``"target"`` (not compared).
        With the three above, the consistency check W-QFD-03 runs and ``.consistency`` lists the conflicts.

    Returns
    -------
    HouseOfQuality
        ``.technical_importance`` indexed by HOW with ``absolute``, ``relative`` and ``rank``.

    References
    ----------
    Akao (1990); Hauser & Clausing (1988); Cohen (1995); Lyman (1990); Wasserman (1993);
    Franceschini & Rupil (1999).
    """
    if normalization not in NORMALIZATIONS:
        raise ParameterError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
    if weights not in ("normalized", "importance"):
        raise ParameterError(f"weights must be 'normalized' or 'importance', got {weights!r}")
    if not isinstance(importance, pd.Series):
        raise ParameterError("importance must be a pandas Series indexed by customer requirement")
    if not isinstance(relationships, pd.DataFrame):
        raise ParameterError("relationships must be a DataFrame (customer requirements × technical characteristics)")
    if importance.index.has_duplicates or relationships.index.has_duplicates or relationships.columns.has_duplicates:
        raise DataError("customer requirements and technical characteristics must have unique names",
                        column="index", expected="no repeated names")
    whats = list(importance.index)
    if len(whats) == 0 or relationships.shape[1] == 0:
        raise DataError("a House of Quality needs at least one customer requirement and one technical "
                        "characteristic", expected="non-empty importance and relationships")
    missing = [w for w in whats if w not in relationships.index]
    extra = [w for w in relationships.index if w not in importance.index]
    if missing or extra:
        raise DataError(f"relationship rows do not match the importance index (missing {missing}, unknown {extra})",
                        column="relationships", expected=f"rows {whats}")
    hows = list(relationships.columns)
    R_df = relationships.reindex(whats).apply(pd.to_numeric, errors="coerce").fillna(0.0)
    raw = relationships.reindex(whats)
    bad = ~R_df.isin([0, 1, 3, 9]).to_numpy() | (raw.notna().to_numpy() & R_df.isna().to_numpy())
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError("relationship values must be 0, 1, 3 or 9 (none/weak/medium/strong)",
                        column=str(hows[j]), row=whats[i], value=raw.iat[i, j], expected="one of 0, 1, 3, 9",
                        count=int(bad.sum()))
    R = R_df.to_numpy(dtype=float)
    imp = _as_vector(importance, whats, "importance", positive=True)
    if (current is None) != (target is None):
        raise ParameterError("give both current and target ratings for a planning matrix, or neither")
    cur = _as_vector(current, whats, "current", positive=True)
    tgt = _as_vector(target, whats, "target", positive=True)
    sp = _as_vector(sales_point if sales_point is not None else 1.0, whats, "sales_point", positive=True)
    if cur is not None:
        ir = tgt / cur
        rw = imp * ir * sp
    else:
        ir = pd.Series(np.nan, index=whats)
        rw = imp * sp
    nw = rw / rw.sum()
    planning = pd.DataFrame({"importance": imp, "current": cur if cur is not None else np.nan,
                             "target": tgt if tgt is not None else np.nan, "sales_point": sp,
                             "improvement_ratio": ir, "raw_weight": rw, "normalized_weight": nw})
    planning.index.name = "requirement"
    w = (nw if weights == "normalized" else imp).to_numpy(dtype=float)

    roof_df = _roof_matrix(roof, hows)
    if normalization == "wasserman" and roof_df is None:
        raise ParameterError("Wasserman normalisation needs the roof correlations: pass roof=")
    gamma_map = {9: 0.9, 3: 0.3, -3: 0.0, -9: 0.0, 0: 0.0, **(roof_gamma or {})}

    def normalise(Rm: np.ndarray, how: str | None) -> np.ndarray:
        if how is None:
            return Rm
        if how == "lyman":
            rs = Rm.sum(axis=1, keepdims=True)
            return np.divide(Rm, rs, out=np.zeros_like(Rm), where=rs > 0)
        G = np.array(roof_df.map(lambda c: gamma_map.get(int(c), np.nan)), dtype=float)
        np.fill_diagonal(G, 1.0)
        RG = Rm @ G
        rs = RG.sum(axis=1, keepdims=True)
        return np.divide(RG, rs, out=np.zeros_like(RG), where=rs != 0)

    ti = _ti(w, normalise(R, normalization))
    total = ti.sum()
    rti = ti / total if total != 0 else np.full_like(ti, np.nan)
    tech = pd.DataFrame({"absolute": ti, "relative": rti, "rank": _rank(ti)},
                        index=pd.Index(hows, name="characteristic"))

    R135 = np.where(R == 9, 5.0, R)
    variants = {"base": normalise(R, normalization), "scale_1_3_5": normalise(R135, normalization),
                "lyman": normalise(R, "lyman")}
    sens = {}
    for name, Rv in variants.items():
        t = _ti(w, Rv)
        sens[f"relative_{name}"] = t / t.sum() if t.sum() else np.full_like(t, np.nan)
        sens[f"rank_{name}"] = _rank(t)
    sensitivity = pd.DataFrame(sens, index=tech.index)
    warns = []
    k = min(top_k, len(hows))
    top_base = set(sensitivity.nsmallest(k, "rank_base").index) if len(hows) > k else set(hows)
    for name in ("scale_1_3_5", "lyman"):
        top_v = set(sensitivity.nsmallest(k, f"rank_{name}").index) if len(hows) > k else set(hows)
        if top_v != top_base:
            warns.append(QualityWarning(
                "W-QFD-01", "warning", f"The top-{k} technical characteristics change under the "
                f"{'1-3-5 scale' if name == 'scale_1_3_5' else 'Lyman normalisation'} "
                f"({sorted(top_base)} → {sorted(top_v)}): priorities rest on the ordinal 1-3-9 coding.",
                {"variant": name, "base": sorted(top_base), "variant_top": sorted(top_v)}, "QFD",
                f"采用{'1-3-5 评分' if name == 'scale_1_3_5' else 'Lyman 归一化'}后前 {k} 项技术特性发生变化，"
                "优先级依赖于 1-3-9 的序数编码。"))
    # roof trade-offs
    rows = []
    if roof_df is not None:
        n_high = max(1, int(np.ceil(len(hows) / 3)))
        high = set(tech.nsmallest(n_high, "rank").index)
        for i in range(len(hows)):
            for j in range(i + 1, len(hows)):
                code = int(roof_df.iat[i, j])
                if code < 0:
                    both = hows[i] in high and hows[j] in high
                    rows.append({"how_1": hows[i], "how_2": hows[j], "code": code,
                                 "relative_1": rti[i], "relative_2": rti[j], "both_high_priority": both})
                    if both:
                        warns.append(QualityWarning(
                            "W-QFD-02", "warning", f"Trade-off: '{hows[i]}' and '{hows[j]}' are both high-priority "
                            f"but negatively correlated in the roof ({code:+d}); resolve the conflict in design.",
                            {"how_1": hows[i], "how_2": hows[j], "code": code}, "QFD",
                            f"权衡：“{hows[i]}”与“{hows[j]}”均为高优先级，但屋顶相关为负（{code:+d}），需在设计中化解。"))
    tradeoffs = pd.DataFrame(rows, columns=["how_1", "how_2", "code", "relative_1", "relative_2",
                                            "both_high_priority"])
    empty_what = [whats[i] for i in np.flatnonzero(R.sum(axis=1) == 0)]
    empty_how = [hows[j] for j in np.flatnonzero(R.sum(axis=0) == 0)]
    if empty_what or empty_how:
        warns.append(QualityWarning(
            "W-QFD-04", "info", f"Requirements with no relationship: {empty_what}; characteristics serving no "
            f"requirement: {empty_how}.", {"requirements": empty_what, "characteristics": empty_how}, "QFD",
            f"无任何关系的顾客需求：{empty_what}；不对应任何需求的技术特性：{empty_how}。"))
    consistency = _consistency(R_df, cur, competitors, technical_benchmark, improvement_direction, warns)
    if competitors is not None:
        for k in competitors.columns:
            planning[f"competitor_{k}"] = pd.to_numeric(competitors[k].reindex(whats), errors="coerce")
    return HouseOfQuality(imp, R_df.astype(int), planning, tech, sensitivity, roof_df, tradeoffs, normalization,
                          weights, warnings=warns, consistency=consistency)


CONSISTENCY_COLUMNS = ["requirement", "characteristic", "competitor", "customer_us", "customer_competitor",
                       "measured_us", "measured_competitor"]


def _consistency(R_df, cur, competitors, bench, direction, warns) -> pd.DataFrame:
    """Customer assessment vs technical benchmark (Methods §3.6) → rows of conflicts and W-QFD-03."""
    given = [x is not None for x in (competitors, bench, direction)]
    if not any(given):
        return pd.DataFrame(columns=CONSISTENCY_COLUMNS)
    if not all(given) or cur is None:
        raise ParameterError("the benchmark consistency check needs current=, competitors=, technical_benchmark= "
                             "and improvement_direction= together")
    if not isinstance(competitors, pd.DataFrame) or not isinstance(bench, pd.DataFrame):
        raise ParameterError("competitors and technical_benchmark must be DataFrames")
    whats, hows = list(R_df.index), list(R_df.columns)
    direction = pd.Series(direction, dtype=object)
    bad = [d for d in direction.to_numpy() if d not in ("up", "down", "target")]
    if bad:
        raise DataError("improvement direction must be 'up', 'down' or 'target'", column="improvement_direction",
                        value=bad[0], expected="up / down / target")
    if "us" not in bench.columns:
        raise DataError("technical_benchmark needs a column 'us' with our measured values", column="us")
    rows = []
    for k in competitors.columns:
        if k not in bench.columns:
            raise DataError(f"competitor {k!r} has no technical benchmark column", column=str(k),
                            expected=f"a column {k!r} in technical_benchmark")
        ck = pd.to_numeric(competitors[k].reindex(whats), errors="coerce")
        for i, w in enumerate(whats):
            if not (ck.iloc[i] > cur.iloc[i]):
                continue
            for j, h in enumerate(hows):
                if R_df.iat[i, j] != 9 or direction.get(h, "target") == "target" or h not in bench.index:
                    continue
                us, them = float(bench.loc[h, "us"]), float(bench.loc[h, k])
                better = us > them if direction[h] == "up" else us < them
                if better:
                    rows.append({"requirement": w, "characteristic": h, "competitor": k,
                                 "customer_us": float(cur.iloc[i]), "customer_competitor": float(ck.iloc[i]),
                                 "measured_us": us, "measured_competitor": them})
    out = pd.DataFrame(rows, columns=CONSISTENCY_COLUMNS)
    if len(out):
        pairs = "; ".join(f"{r.requirement} / {r.characteristic} vs {r.competitor}" for r in out.itertuples())
        warns.append(QualityWarning(
            "W-QFD-03", "warning", f"Customers rate a competitor above us, yet we beat it technically on a strongly "
            f"related characteristic ({pairs}): check these relationships.", {"conflicts": out.to_dict("records")},
            "QFD", f"顾客评价竞争对手优于我们，但在强相关的技术特性上我们的实测值更好（{pairs}）：请核查这些关系。"))
    return out


__all__ = ["house_of_quality", "HouseOfQuality", "RELATIONSHIP_SCALES", "ROOF_SYMBOLS"]
