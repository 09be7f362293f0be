"""SERVQUAL gap scores, importance weighting, SERVPERF and the data-quality warnings (Methods §1.2-1.6, §1.10).

Warning codes raised here (all :class:`sqc.diagnostics.QualityWarning`; thresholds configurable via
``score(..., thresholds={...})``):

=========  ========  =====================================================================================
code       severity  trigger
=========  ========  =====================================================================================
W-SQ-01    warning   importance allocations not summing to 100: rescaled when the sum is within ±tolerance
                     (default 95-105), otherwise excluded from the weighted score; both counted
W-SQ-02    warning   zone of tolerance: desired < adequate answers (logically inconsistent), excluded and counted
                     (raised by :func:`sqc.servqual.zone_of_tolerance`)
W-SQ-03    warning   low difference-score reliability ρ_DD < 0.70 (Lord / Peter–Churchill–Brown) for a dimension
W-SQ-04    warning   expectation ceiling: > 30 % of E answers at the scale top, or SD(E) < 0.5·SD(P)
W-SQ-05    info      E and P composites correlate > 0.5 (the difference score loses information)
W-SQ-06    warning   dimension structure not supported (CFA CFI < 0.90 or RMSEA > 0.08), from ``sqc.reliability``;
                     ``info`` note when that module is not available
W-SQ-07    warning   an item that is not declared reverse-keyed correlates negatively (r < −0.10) with the rest of its
                     dimension (negatively worded and not recoded?); or a declared one does after recoding
W-SQ-08    warning   gaps compared across segments whose expectations differ (raised by ``compare_segments``)
W-SQ-09    warning   small n: fewer than ``min_n`` (30) respondents for an item, a dimension or the overall score
W-SQ-10    info      answers set to missing (don't-know codes; invalid answers with ``on_invalid="exclude"``)
W-SQ-11    info      respondent dimension scores not computed: fewer than ``min_item_share`` of the items answered
W-SQ-12    warning   items of one dimension use different scales (a dimension mean would mix scales)
=========  ========  =====================================================================================
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..diagnostics import QualityWarning, warnings_frame
from ..errors import DataError, InsufficientDataError, ParameterError
from ..inference import _check_confidence
from .instrument import DEFAULT_DONT_KNOW, Instrument, PreparedResponses, prepare_responses
from .paired import difference_score_reliability, paired_gap_tests
from ..results import ResultData

DEFAULT_THRESHOLDS = {
    "rho_dd": 0.70,            # W-SQ-03
    "ceiling_share": 0.30,     # W-SQ-04
    "sd_ratio": 0.50,          # W-SQ-04
    "r_pe": 0.50,              # W-SQ-05
    "cfi": 0.90,               # W-SQ-06
    "rmsea": 0.08,             # W-SQ-06
    "min_n": 30,               # W-SQ-09
    "item_total_r": -0.10,     # W-SQ-07
}


@dataclass
class ServqualResult(ResultData):
    """What :func:`score` computed. Plot and summarise from this object; nothing is recomputed.

    Attributes
    ----------
    item_gaps : DataFrame
        One row per item: ``dimension, text_en, text_zh, E_mean, P_mean, mean`` (gap P−E), ``ci_low, ci_high, n,
        sd, se, t, df, p, p_adj`` (Holm within "k item gaps"), ``dz``, ``wilcoxon_p, wilcoxon_p_adj, hl, hl_low,
        hl_high, sign_p`` (+ ``boot_low, boot_high`` when bootstrapped).
    dimension_gaps : DataFrame
        Same columns per dimension, on the respondent dimension gaps G_rd (family "d dimension gaps").
    overall : float
        Unweighted SERVQUAL: mean over respondents of SQ_r = mean of the respondent's dimension gaps (PZB
        convention; each dimension counts equally). Equals the mean of the dimension means on complete data.
    weighted : float
        Importance-weighted SERVQUAL with respondent-level weights (PZB 1991); NaN without allocations.
    weighted_aggregate : float
        Σ_d (w̄_d/100)·Ḡ_d with mean allocations (the spreadsheet variant), labelled separately.
    overall_table : DataFrame
        The overall scores with ``mean, ci_low, ci_high, n, p`` and a ``label``: dimension-average SERVQUAL,
        item-average SERVQUAL, weighted (respondent), weighted (aggregate weights), SERVPERF, weighted SERVPERF.
    servperf : DataFrame
        Perception-only (SERVPERF) dimension means with t CIs and n.
    importance : DataFrame or None
        Mean 100-point allocation per dimension with t CIs and n (valid allocations only).
    psychometrics : DataFrame
        Per dimension and for all items: n complete, α of E, of P and of the gap items, r_PE of the composites,
        their SDs, ρ_DD, share of E answers at the scale top, SD(E)/SD(P).
    respondents : DataFrame
        Per respondent: ``G_<dim>``, ``E_<dim>``, ``P_<dim>`` (paired items), ``SP_<dim>`` (all P answers),
        ``SQ``, ``SQ_items``, ``WSQ``, ``SP``, ``WSP`` and the input's other columns (branch, wave ...).
    zot : ZotResult or None
        Zone of tolerance when A and D columns were present.
    item_values : dict
        ``{"E": array, "P": array}`` respondents × items after validation and recoding (for item-level IPA and
        reliability follow-ups).
    warnings : list of QualityWarning
    exclusions : DataFrame
        Answers set to missing and respondents/allocations excluded, each with a count.
    """

    _chart = "sqc.plotting.servqual:gap_spec"

    instrument: Instrument
    n: int
    item_gaps: pd.DataFrame
    dimension_gaps: pd.DataFrame
    overall: float
    weighted: float
    weighted_aggregate: float
    overall_table: pd.DataFrame
    servperf: pd.DataFrame
    importance: pd.DataFrame | None
    psychometrics: pd.DataFrame
    respondents: pd.DataFrame
    zot: Any = None
    exclusions: pd.DataFrame = field(default_factory=pd.DataFrame)
    settings: dict = field(default_factory=dict)
    predictive: pd.DataFrame | None = None
    item_values: dict = field(default_factory=dict, repr=False)

    @property
    def dimensions(self) -> list[str]:
        return self.instrument.dimensions

    def warnings_frame(self) -> pd.DataFrame:
        return warnings_frame(self.warnings)

    def to_frame(self) -> pd.DataFrame:
        """Dimension gaps followed by the overall scores, one table (``level`` column says which)."""
        d = self.dimension_gaps[["E_mean", "P_mean", "mean", "ci_low", "ci_high", "n", "p_adj"]].copy()
        d.insert(0, "level", "dimension")
        o = self.overall_table[["mean", "ci_low", "ci_high", "n", "p"]].rename(columns={"p": "p_adj"})
        o.insert(0, "level", "overall")
        return pd.concat([d, o])

    def _summary_lines(self, lang: str = "en") -> list[str]:
        s = self.settings
        lines = [f"SERVQUAL gap scores (P − E; negative = shortfall), instrument {self.instrument.name!r}, "
                 f"n = {self.n} respondents, {int(s['confidence'] * 100)}% CIs, paired tests, "
                 f"{s['adjust']} within each family"]
        lines.append("Dimension gaps (family: %s):" % self.dimension_gaps.attrs.get("family", ""))
        for dim, r in self.dimension_gaps.iterrows():
            lines.append(f"  {dim:<16} E {r['E_mean']:.2f}  P {r['P_mean']:.2f}  gap {r['mean']:+.2f} "
                         f"[{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]  n={int(r['n'])}  p_adj={r['p_adj']:.3g}")
        for key, r in self.overall_table.iterrows():
            lines.append(f"  {r['label']:<52} {r['mean']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] "
                         f"n={int(r['n']) if r['n'] == r['n'] else 0}")
        worst = self.item_gaps.sort_values("mean").head(3)
        lines.append("Largest item shortfalls: " + "; ".join(
            f"item {i} ({r['dimension']}) {r['mean']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]"
            for i, r in worst.iterrows()))
        return lines

    def __repr__(self) -> str:
        return (f"ServqualResult(n={self.n}, overall={self.overall:+.3f}, weighted={self.weighted:+.3f}, "
                f"dimensions={self.dimensions}, warnings={len(self.warnings)})")


# ---------------------------------------------------------------------------------------------- helpers
def _row_mean(x: np.ndarray, min_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Row means over non-NaN entries, NaN where fewer than ``min_count`` are present; returns (mean, count)."""
    ok = ~np.isnan(x)
    cnt = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(ok, x, 0.0).sum(axis=1) / cnt
    return np.where(cnt >= max(min_count, 1), m, np.nan), cnt


def _mean_table(x: np.ndarray, labels, confidence: float) -> pd.DataFrame:
    """t CIs of column means (NaN dropped per column)."""
    tab = paired_gap_tests(x, labels=labels, confidence=confidence, tests=("t",), adjust="none")
    return tab[["mean", "ci_low", "ci_high", "n", "sd"]]


def _resolve_weights(weights, instrument: Instrument, other: pd.DataFrame, n: int, tolerance: float):
    """Return (W (n × d) allocation array or None, fixed (bool), exclusions list, counts dict)."""
    dims = instrument.dimensions
    if weights is False or (isinstance(weights, str) and weights == "none"):
        return None, False, {}
    if weights is None:
        cols = [instrument.importance_columns.get(d, f"I_{d}") for d in dims]
        present = [c in other.columns for c in cols]
        if not any(present):
            return None, False, {}
        if not all(present):
            missing = [c for c, p in zip(cols, present) if not p]
            raise DataError("importance allocation columns are only partly present", column=missing[0],
                            expected=f"all of {cols} (or pass weights=False)")
        raw = other[cols]
    elif isinstance(weights, Mapping):
        unknown = set(weights) - set(dims)
        missing = set(dims) - set(weights)
        if unknown or missing:
            raise ParameterError(f"weights must name every dimension exactly once; unknown {sorted(unknown)}, "
                                 f"missing {sorted(missing)}; dimensions are {dims}")
        vals = [weights[d] for d in dims]
        if all(isinstance(v, str) for v in vals):
            absent = [v for v in vals if v not in other.columns]
            if absent:
                raise DataError("importance column named in weights is not in the responses", column=absent[0],
                                expected="an existing column of 100-point allocations")
            raw = other[vals]
        elif all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in vals):
            w = np.array(vals, dtype=float)
            if np.any(w < 0) or not np.isfinite(w).all():
                raise ParameterError(f"fixed weights must be finite and ≥ 0, got {dict(zip(dims, vals))}")
            if abs(w.sum() - 100) > 1e-9:
                raise ParameterError(f"fixed weights must sum to 100 (they sum to {w.sum():g}); "
                                     f"rescale them, e.g. 100*w/sum(w)")
            return np.tile(w, (n, 1)), True, {}
        else:
            raise ParameterError("weights dict values must be all column names or all numbers")
    elif isinstance(weights, pd.DataFrame):
        missing = [d for d in dims if d not in weights.columns]
        if missing:
            raise ParameterError(f"weights DataFrame needs one column per dimension; missing {missing}")
        if len(weights) != n:
            raise ParameterError(f"weights DataFrame has {len(weights)} rows but there are {n} respondents")
        raw = weights[dims]
    else:
        raise ParameterError("weights must be None (use I_<dimension> columns when present), False, a dict "
                             "{dimension: column or fixed points}, or a DataFrame with one column per dimension")
    w = raw.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    non_numeric = (np.isnan(w) & raw.notna().to_numpy()).any(axis=1)
    all_missing = np.isnan(w).all(axis=1)
    some_missing = np.isnan(w).any(axis=1) & ~all_missing
    negative = (w < 0).any(axis=1)
    total = np.nansum(w, axis=1)
    bad_base = non_numeric | some_missing | negative
    near = ~bad_base & ~all_missing & (np.abs(total - 100) > 1e-9) & (np.abs(total - 100) <= tolerance)
    far = ~bad_base & ~all_missing & (np.abs(total - 100) > tolerance)
    w = np.where(near[:, None], w * 100.0 / np.where(total > 0, total, 1)[:, None], w)
    w[bad_base | far | all_missing] = np.nan
    counts = {"rescaled": int(near.sum()), "sum_off": int(far.sum()), "incomplete_or_invalid": int(bad_base.sum()),
              "not_given": int(all_missing.sum()), "valid": int((~np.isnan(w).any(axis=1)).sum()),
              "tolerance": tolerance}
    return w, False, counts


# ---------------------------------------------------------------------------------------------- score
def score(responses: pd.DataFrame | PreparedResponses, instrument: Instrument | Mapping[str, Instrument] | None = None,
          *, weights=None, confidence: float = 0.95, adjust: str = "holm", tests=("t", "wilcoxon"),
          bootstrap: bool = False, min_item_share: float = 0.5, weight_tolerance: float = 5.0,
          dont_know=DEFAULT_DONT_KNOW, on_invalid: str = "raise", recode_reverse: bool = True,
          instrument_column: str = "instrument", zot: bool = True, inconsistent: str = "exclude",
          structure: bool | str = "auto", outcome: str | None = None, thresholds: Mapping[str, float] | None = None
          ) -> ServqualResult:
    """Score a SERVQUAL survey: item and dimension gaps with paired inference, overall and importance-weighted
    scores, SERVPERF, zone of tolerance and the data-quality warnings.

    Formulas (Methods §1.2-1.3, §1.5): for respondent r and item i, ``G_ri = P_ri − E_ri`` (only when both
    are answered; negative = shortfall). Item gap ``Ḡ_i = mean_r G_ri``. Respondent dimension gap
    ``G_rd = mean_{i∈d} G_ri``, computed only if at least ``min_item_share`` of the dimension's items have a
    paired answer (default 50 %), else missing (counted, W-SQ-11). Dimension gap ``Ḡ_d = mean_r G_rd``.
    Unweighted SERVQUAL ``SQ_r = mean_d G_rd`` (respondents with every dimension), overall = mean_r SQ_r; the
    mean of item gaps (items count equally, so 5-item dimensions weigh more) is also reported and labelled.
    Weighted ``WSQ_r = Σ_d (w_rd/100)·G_rd`` (PZB 1991) and the aggregate variant ``Σ_d (w̄_d/100)·Ḡ_d``.
    SERVPERF ``SP_r = mean_d P_rd`` over all answered P items (Cronin & Taylor 1992).

    Inference (§1.6): paired t with CI and d_z, Wilcoxon signed-rank (Pratt) with Hodges–Lehmann CI, sign test;
    Holm within each declared family ("k item gaps", "d dimension gaps"; ``adjust="bh"`` for FDR); BCa bootstrap
    CIs when ``bootstrap=True``. Never an unpaired test of P against E.

    Parameters
    ----------
    responses : DataFrame or PreparedResponses
        Wide, one row per respondent: columns ``E1..Ek``, ``P1..Pk`` (or as the instrument maps them), optional
        ``A*``/``D*`` (zone of tolerance), importance allocations ``I_<dimension>``, an outcome column and any
        grouping columns (kept in ``result.respondents``).
    instrument : Instrument, dict {version: Instrument} or None
        ``None`` = :func:`default_instrument`; a dict recodes each questionnaire version's reverse-keyed items
        (rows chosen by ``instrument_column``).
    weights : None, False, dict or DataFrame
        ``None``: use the importance columns ``I_<dimension>`` when present. ``False``: no weighting. A dict
        ``{dimension: column}`` or ``{dimension: fixed points summing to 100}``, or a DataFrame with one column
        per dimension. Respondent allocations whose sum is within ±``weight_tolerance`` of 100 are rescaled to
        100; others (or with a missing/negative/non-numeric entry) are excluded from the weighted score. Both
        are counted (W-SQ-01).
    confidence : float
        Confidence level of every interval.
    adjust : {"holm", "bh", "bonferroni", "none"}
        Multiplicity adjustment within each family.
    tests : tuple
        ``("t", "wilcoxon")`` by default; ``("t",)`` skips the rank tests.
    bootstrap : bool
        Add BCa bootstrap CIs (5 000 resamples, fixed seed) of each gap mean.
    min_item_share : float in (0, 1]
        Minimum share of a dimension's items answered (paired) for a respondent dimension score.
    dont_know, on_invalid, recode_reverse, instrument_column
        Passed to :func:`prepare_responses`.
    zot : bool
        Compute the zone of tolerance when A and D columns are present.
    inconsistent : {"exclude", "keep"}
        Zone of tolerance: what to do with desired < adequate answers.
    structure : bool or "auto"
        Check the dimension structure with ``sqc.reliability.cfa`` (W-SQ-06). ``"auto"`` runs it when the module
        exists and 100 ≤ n; a random 5 000 respondents are used above that (fixed seed).
    outcome : str, optional
        Column of an overall-quality rating: adds the SERVQUAL-vs-SERVPERF predictive-validity check (§1.5).
    thresholds : dict, optional
        Override warning thresholds (keys of ``DEFAULT_THRESHOLDS``).

    Returns
    -------
    ServqualResult

    Raises
    ------
    DataError
        Required E/P columns missing, invalid answers (with ``on_invalid="raise"``), importance columns partly
        present.
    InsufficientDataError
        No respondent with a single paired answer.

    Examples
    --------
    >>> from sqc.servqual import score, default_instrument
    >>> res = score(survey_wave)                                   # doctest: +SKIP
    >>> res.dimension_gaps[["mean", "ci_low", "ci_high", "n", "p_adj"]]  # doctest: +SKIP
    >>> print(res.summary())                                       # doctest: +SKIP
    """
    confidence = _check_confidence(confidence)
    if not (0 < float(min_item_share) <= 1):
        raise ParameterError(f"min_item_share must be in (0, 1], got {min_item_share!r}; e.g. 0.5")
    if weight_tolerance < 0:
        raise ParameterError(f"weight_tolerance must be ≥ 0 points, got {weight_tolerance!r}")
    if inconsistent not in ("exclude", "keep"):
        raise ParameterError(f"inconsistent must be 'exclude' or 'keep', got {inconsistent!r}")
    th = dict(DEFAULT_THRESHOLDS)
    if thresholds:
        unknown = set(thresholds) - set(th)
        if unknown:
            raise ParameterError(f"unknown threshold(s) {sorted(unknown)}; known: {sorted(th)}")
        th.update({k: float(v) for k, v in thresholds.items()})

    if isinstance(responses, PreparedResponses):
        prep = responses
    else:
        prep = prepare_responses(responses, instrument, components=("E", "P"), dont_know=dont_know,
                                 on_invalid=on_invalid, recode_reverse=recode_reverse,
                                 instrument_column=instrument_column)
    inst = prep.instrument
    E, P = prep.values["E"], prep.values["P"]
    n = prep.n
    G = P - E
    paired = ~np.isnan(G)
    if n == 0 or not paired.any():
        raise InsufficientDataError("no respondent has both an expectation and a perception answer for any item",
                                    expected="at least one respondent with paired E and P answers")
    warns: list[QualityWarning] = []
    excl = [prep.exclusions.assign(level="answer")] if len(prep.exclusions) else []
    dims = inst.dimensions
    items = inst.items.set_index("item")
    dim_of = inst.dimension_index

    # ---- scales: a dimension must not mix scales
    for d in dims:
        sub = items[items["dimension"] == d]
        if sub["scale_min"].nunique() > 1 or sub["scale_max"].nunique() > 1:
            warns.append(QualityWarning(
                "W-SQ-12", "warning", f"items of dimension {d!r} use different scales; its mean mixes scales - "
                f"convert to POMP or split the dimension", {"scales": sorted(set(zip(sub.scale_min, sub.scale_max)))},
                subject=d, message_zh=f"维度“{d}”的题目量表不一致，其均值混合了不同量表"))

    # ---- item gaps
    item_tab = paired_gap_tests(G, labels=inst.item_ids, confidence=confidence, adjust=adjust, tests=tests,
                                bootstrap=bootstrap, family=f"{inst.k} item gaps")
    with np.errstate(invalid="ignore"):
        e_mean = np.where(paired, E, 0).sum(0) / paired.sum(0)
        p_mean = np.where(paired, P, 0).sum(0) / paired.sum(0)
    # t CIs of the E and P item means over the paired respondents (for the expectation-perception profile)
    ep = paired_gap_tests(np.concatenate([np.where(paired, E, np.nan), np.where(paired, P, np.nan)], axis=1),
                          confidence=confidence, tests=("t",), adjust="none")
    k_ = inst.k
    item_tab.insert(0, "P_high", ep["ci_high"].to_numpy()[k_:])
    item_tab.insert(0, "P_low", ep["ci_low"].to_numpy()[k_:])
    item_tab.insert(0, "E_high", ep["ci_high"].to_numpy()[:k_])
    item_tab.insert(0, "E_low", ep["ci_low"].to_numpy()[:k_])
    item_tab.insert(0, "P_mean", p_mean)
    item_tab.insert(0, "E_mean", e_mean)
    item_tab.insert(0, "text_zh", items["text_zh"].to_numpy())
    item_tab.insert(0, "text_en", items["text_en"].to_numpy())
    item_tab.insert(0, "dimension", items["dimension"].to_numpy())
    item_tab.index.name = "item"
    # corrected item-total correlation within the dimension (weak items, keying problems; listwise per dimension)
    for comp, x in (("P", P), ("E", E)):
        itr = np.full(inst.k, np.nan)
        for j in range(len(dims)):
            cols = np.flatnonzero(dim_of == j)
            itr[cols] = _corrected_item_total(x, cols)
        item_tab[f"item_total_r_{comp}"] = itr

    # ---- respondent dimension scores
    resp = {}
    short_dims = {}
    Pok = ~np.isnan(P)
    for j, d in enumerate(dims):
        cols = np.flatnonzero(dim_of == j)
        need = math.ceil(min_item_share * cols.size - 1e-9)
        g_rd, cnt = _row_mean(G[:, cols], need)
        pe = paired[:, cols]
        with np.errstate(invalid="ignore", divide="ignore"):
            e_rd = np.where(pe, E[:, cols], 0).sum(1) / cnt
            p_rd = np.where(pe, P[:, cols], 0).sum(1) / cnt
        e_rd = np.where(np.isnan(g_rd), np.nan, e_rd)
        p_rd = np.where(np.isnan(g_rd), np.nan, p_rd)
        sp_rd, _ = _row_mean(P[:, cols], need)
        resp[f"G_{d}"], resp[f"E_{d}"], resp[f"P_{d}"], resp[f"SP_{d}"] = g_rd, e_rd, p_rd, sp_rd
        short = (cnt > 0) & (cnt < need)
        if short.any():
            short_dims[d] = int(short.sum())
    Gd = np.column_stack([resp[f"G_{d}"] for d in dims])
    SPd = np.column_stack([resp[f"SP_{d}"] for d in dims])
    if short_dims:
        warns.append(QualityWarning(
            "W-SQ-11", "info", "some respondent dimension scores were not computed because fewer than "
            f"{min_item_share:.0%} of the dimension's items were answered: " +
            ", ".join(f"{d} {c}" for d, c in short_dims.items()),
            {"min_item_share": min_item_share, "respondents_per_dimension": short_dims},
            message_zh=f"部分受访者某维度作答题目少于{min_item_share:.0%}，该维度得分未计算"))
        excl.append(pd.DataFrame([{"component": "G", "item": None, "column": f"G_{d}", "level": "respondent dimension",
                                   "reason": f"fewer than {min_item_share:.0%} of items answered", "count": c,
                                   "first_rows": [], "first_values": []} for d, c in short_dims.items()]))

    dim_tab = paired_gap_tests(Gd, labels=dims, confidence=confidence, adjust=adjust, tests=tests,
                               bootstrap=bootstrap, family=f"{len(dims)} dimension gaps")
    Ed = np.column_stack([resp[f"E_{d}"] for d in dims])
    Pd = np.column_stack([resp[f"P_{d}"] for d in dims])
    dim_tab.insert(0, "P_mean", np.nanmean(np.where(np.isnan(Gd), np.nan, Pd), axis=0))
    dim_tab.insert(0, "E_mean", np.nanmean(np.where(np.isnan(Gd), np.nan, Ed), axis=0))
    dim_tab.insert(0, "items", [", ".join(map(str, v)) for v in inst.dimension_items.values()])
    dim_tab.index.name = "dimension"

    # ---- overall scores
    all_dims = ~np.isnan(Gd).any(axis=1)
    sq_r = np.where(all_dims, np.where(np.isnan(Gd), 0.0, Gd).mean(axis=1), np.nan)
    need_items = math.ceil(min_item_share * inst.k - 1e-9)
    sq_items_r, _ = _row_mean(G, need_items)
    sp_all = ~np.isnan(SPd).any(axis=1)
    sp_r = np.where(sp_all, np.where(np.isnan(SPd), 0.0, SPd).mean(axis=1), np.nan)

    W, fixed, wcounts = _resolve_weights(weights, inst, prep.other, n, weight_tolerance)
    importance = None
    wsq_r = np.full(n, np.nan)
    wsp_r = np.full(n, np.nan)
    wsq_agg_r = np.full(n, np.nan)
    weighted_aggregate = float("nan")
    if W is not None:
        valid_w = ~np.isnan(W).any(axis=1)
        wsq_r = np.where(valid_w & all_dims, np.nansum(W / 100 * Gd, axis=1), np.nan)
        wsp_r = np.where(valid_w & sp_all, np.nansum(W / 100 * SPd, axis=1), np.nan)
        importance = _mean_table(np.where(valid_w[:, None], W, np.nan), dims, confidence)
        importance.index.name = "dimension"
        wbar = importance["mean"].to_numpy()
        weighted_aggregate = float(np.nansum(wbar / 100 * dim_tab["mean"].to_numpy()))
        wsq_agg_r = np.where(all_dims, (wbar / 100 * np.where(np.isnan(Gd), 0, Gd)).sum(axis=1), np.nan)
        for d_i, d in enumerate(dims):
            resp[f"W_{d}"] = W[:, d_i]
        if not fixed and (wcounts["rescaled"] or wcounts["sum_off"] or wcounts["incomplete_or_invalid"]):
            warns.append(QualityWarning(
                "W-SQ-01", "warning",
                f"importance allocations not summing to 100: {wcounts['rescaled']} rescaled to 100 (sum within "
                f"±{weight_tolerance:g}), {wcounts['sum_off']} excluded (sum further off), "
                f"{wcounts['incomplete_or_invalid']} excluded (missing, negative or non-numeric entry); "
                f"{wcounts['valid']} valid allocations used",
                wcounts, subject="weighted SERVQUAL",
                message_zh=f"重要性分配合计不等于100：{wcounts['rescaled']}份按比例调整为100，"
                           f"{wcounts['sum_off'] + wcounts['incomplete_or_invalid']}份被排除"))
            excl.append(pd.DataFrame([
                {"component": "I", "item": None, "column": "importance", "level": "respondent",
                 "reason": r, "count": c, "first_rows": [], "first_values": []}
                for r, c in (("allocation rescaled to 100 (kept)", wcounts["rescaled"]),
                             ("allocation sum outside tolerance (excluded)", wcounts["sum_off"]),
                             ("allocation incomplete/negative/non-numeric (excluded)",
                              wcounts["incomplete_or_invalid"])) if c]))

    rows = {
        "servqual": ("SERVQUAL (mean of dimension gaps, PZB)", sq_r),
        "servqual_items": ("SERVQUAL (mean of item gaps; larger dimensions weigh more)", sq_items_r),
        "weighted": ("Weighted SERVQUAL (respondent weights, PZB 1991)", wsq_r),
        "weighted_aggregate": ("Weighted SERVQUAL (mean weights; CI treats weights as fixed)", wsq_agg_r),
        "servperf": ("SERVPERF (mean of dimension perceptions)", sp_r),
        "weighted_servperf": ("Weighted SERVPERF (respondent weights)", wsp_r),
    }
    ov = paired_gap_tests(np.column_stack([v for _, v in rows.values()]), labels=list(rows), confidence=confidence,
                          tests=("t",), adjust="none", family="overall scores")
    ov = ov[["mean", "ci_low", "ci_high", "n", "sd", "p"]].copy()
    ov.loc[["servperf", "weighted_servperf"], "p"] = np.nan  # H0 μ = 0 is meaningless for perceptions
    ov.insert(0, "label", [lbl for lbl, _ in rows.values()])
    overall = float(ov.loc["servqual", "mean"]) if ov.loc["servqual", "n"] > 0 else float("nan")
    if W is None:
        ov = ov.drop(index=["weighted", "weighted_aggregate", "weighted_servperf"])
    servperf = _mean_table(SPd, dims, confidence)
    servperf.index.name = "dimension"

    resp.update({"SQ": sq_r, "SQ_items": sq_items_r, "WSQ": wsq_r, "SP": sp_r, "WSP": wsp_r})
    respondents = pd.DataFrame(resp, index=prep.index)
    respondents = pd.concat([prep.other, respondents], axis=1)

    # ---- psychometrics and warnings
    psych = _psychometrics(E, P, inst, th)
    warns.extend(_psychometric_warnings(psych, th))
    warns.extend(_keying_warnings(item_tab, inst, th))
    warns.extend(_small_n_warnings(item_tab, dim_tab, ov, th))
    if len(prep.exclusions):
        by_reason = prep.exclusions.groupby("reason")["count"].sum().to_dict()
        warns.append(QualityWarning(
            "W-SQ-10", "info", "answers set to missing before scoring: " +
            "; ".join(f"{c} × {r}" for r, c in by_reason.items()), {"by_reason": by_reason},
            message_zh="评分前被设为缺失的回答：" + "；".join(f"{c}个" for c in by_reason.values())))
    if structure:
        warns.extend(_structure_warnings(P, inst, th, structure))

    zot_res = None
    if zot and "A" in prep.values and "D" in prep.values and \
            (~np.isnan(prep.values["A"])).any() and (~np.isnan(prep.values["D"])).any():
        from .zot import zone_of_tolerance

        zot_res = zone_of_tolerance(prep, confidence=confidence, inconsistent=inconsistent)
        warns.extend(zot_res.warnings)

    exclusions = pd.concat(excl, ignore_index=True) if excl else pd.DataFrame(
        columns=["component", "item", "column", "level", "reason", "count", "first_rows", "first_values"])
    result = ServqualResult(
        instrument=inst, n=n, item_gaps=item_tab, dimension_gaps=dim_tab, overall=overall,
        weighted=float(ov.loc["weighted", "mean"]) if "weighted" in ov.index else float("nan"),
        weighted_aggregate=weighted_aggregate, overall_table=ov, servperf=servperf, importance=importance,
        psychometrics=psych, respondents=respondents, zot=zot_res, warnings=warns, exclusions=exclusions,
        settings={"confidence": confidence, "adjust": adjust, "tests": tuple(tests), "bootstrap": bootstrap,
                  "min_item_share": min_item_share, "weight_tolerance": weight_tolerance,
                  "weights": ("fixed" if fixed else "respondent allocations") if W is not None else "none",
                  "weight_counts": wcounts, "thresholds": th, "recoded": prep.recoded},
        item_values={"E": E, "P": P})
    if outcome is not None:
        from .validity import predictive_validity

        result.predictive = predictive_validity(result, outcome, confidence=confidence)
    return result


# ---------------------------------------------------------------------------------------------- psychometrics
def _cov_complete(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Covariance matrix (ddof 1) of the listwise-complete rows of ``x`` and their count (one matrix product)."""
    xc = x[~np.isnan(x).any(axis=1)]
    n = xc.shape[0]
    if n < 2:
        return np.full((x.shape[1], x.shape[1]), np.nan), n
    # shift by the first complete row (exact for bounded Likert data) and use the raw cross-product once
    xc = xc - xc[0]
    s1 = xc.sum(axis=0)
    return (xc.T @ xc - np.outer(s1, s1) / n) / (n - 1), n


def _alpha_from_cov(c: np.ndarray) -> float:
    """Cronbach's α = k/(k−1)·(1 − tr C / ΣC) from an item covariance matrix."""
    k = c.shape[0]
    tot = c.sum()
    return float(k / (k - 1) * (1 - np.trace(c) / tot)) if k >= 2 and tot > 0 else float("nan")


def _item_total_from_cov(c: np.ndarray) -> np.ndarray:
    """Corrected item-total correlations r(x_i, Σ_{j≠i} x_j) from a covariance matrix."""
    k = c.shape[0]
    if k < 2:
        return np.full(k, np.nan)
    row = c.sum(axis=1)
    diag = np.diag(c)
    var_rest = c.sum() - 2 * row + diag
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (row - diag) / np.sqrt(diag * var_rest)
    return np.where((diag > 0) & (var_rest > 0), r, np.nan)


def _corrected_item_total(x: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Corrected item-total correlation of each item with the sum of the other items of its group (listwise)."""
    c, n = _cov_complete(x[:, cols])
    return _item_total_from_cov(c) if n >= 3 else np.full(cols.size, np.nan)


def _psychometrics(E: np.ndarray, P: np.ndarray, inst: Instrument, th) -> pd.DataFrame:
    """α of E, P and the gap items, composite SDs and r_PE, ρ_DD (Lord) and the expectation ceiling per scope.

    All from one covariance matrix of the listwise-complete [E, P] items of the scope (sufficient statistics),
    so 100 000 respondents cost a few matrix products.
    """
    dims = inst.dimensions
    dim_of = inst.dimension_index
    smax = inst.scale_max
    groups = [(d, np.flatnonzero(dim_of == j)) for j, d in enumerate(dims)] + [("all items", np.arange(inst.k))]

    def item_sd(x):  # pairwise (per item) SDs in one pass
        ok = ~np.isnan(x)
        cnt = ok.sum(axis=0)
        xz = np.where(ok, x, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = xz.sum(axis=0) / cnt
            return np.sqrt((np.where(ok, x - m, 0.0) ** 2).sum(axis=0) / (cnt - 1))

    sd_items_all_e, sd_items_all_p = item_sd(E), item_sd(P)
    top_all = (E == smax)
    answered_all = ~np.isnan(E)
    rows = []
    for name, cols in groups:
        k = cols.size
        e, p = E[:, cols], P[:, cols]
        c, n_c = _cov_complete(np.concatenate([e, p], axis=1))
        cee, cpp, cep = c[:k, :k], c[k:, k:], c[:k, k:]
        a_e, a_p = _alpha_from_cov(cee), _alpha_from_cov(cpp)
        a_g = _alpha_from_cov(cpp + cee - cep - cep.T)
        if n_c >= 3:
            var_e, var_p = cee.sum() / k ** 2, cpp.sum() / k ** 2      # variances of the mean composites
            sd_e, sd_p = float(np.sqrt(var_e)), float(np.sqrt(var_p))
            r = float(cep.sum() / np.sqrt(cee.sum() * cpp.sum())) if var_e > 0 and var_p > 0 else float("nan")
        else:
            sd_e = sd_p = r = float("nan")
        rho = (difference_score_reliability(sd_p, sd_e, a_p, a_e, r)
               if np.isfinite([a_e, a_p, r, sd_e, sd_p]).all() else float("nan"))
        n_ans = int(answered_all[:, cols].sum())
        n_top = int(top_all[:, cols].sum())
        ceiling = n_top / n_ans if n_ans else float("nan")
        with np.errstate(invalid="ignore", divide="ignore"):
            sd_items_e = np.nanmean(sd_items_all_e[cols]) if e.shape[0] > 1 else np.nan
            sd_items_p = np.nanmean(sd_items_all_p[cols]) if p.shape[0] > 1 else np.nan
        rows.append({"scope": name, "k": int(k), "n_complete": int(n_c), "alpha_E": a_e, "alpha_P": a_p,
                     "alpha_gap_items": a_g, "r_PE": r, "sd_E": sd_e, "sd_P": sd_p, "rho_DD": rho,
                     "ceiling_share_E": ceiling, "n_top_E": n_top, "n_answers_E": n_ans, "n_cells_E": int(e.size),
                     "sd_ratio_E_P": sd_items_e / sd_items_p if sd_items_p else np.nan})
    return pd.DataFrame(rows).set_index("scope")


def _psychometric_warnings(psych: pd.DataFrame, th) -> list[QualityWarning]:
    out = []
    for scope, r in psych.iterrows():
        if r["k"] >= 2 and np.isfinite(r["rho_DD"]) and r["rho_DD"] < th["rho_dd"]:
            out.append(QualityWarning(
                "W-SQ-03", "warning",
                f"{scope}: the gap score P−E is not reliable enough (ρ_DD = {r['rho_DD']:.3f} < {th['rho_dd']:.2f}; "
                f"α_E = {r['alpha_E']:.2f}, α_P = {r['alpha_P']:.2f}, r_PE = {r['r_PE']:.2f}); α of the gap items "
                f"({r['alpha_gap_items']:.2f}) overstates it. Read P (SERVPERF) alongside the gap.",
                {"rho_dd": r["rho_DD"], "alpha_E": r["alpha_E"], "alpha_P": r["alpha_P"], "r_PE": r["r_PE"],
                 "alpha_gap_items": r["alpha_gap_items"], "n": int(r["n_complete"]), "threshold": th["rho_dd"]},
                subject=scope,
                message_zh=f"{scope}：差值分数信度偏低（ρ_DD = {r['rho_DD']:.2f} < {th['rho_dd']:.2f}），请同时参考感知得分（SERVPERF）"))
        ceil_hit = np.isfinite(r["ceiling_share_E"]) and r["ceiling_share_E"] > th["ceiling_share"]
        sd_hit = np.isfinite(r["sd_ratio_E_P"]) and r["sd_ratio_E_P"] < th["sd_ratio"]
        if ceil_hit or sd_hit:
            out.append(QualityWarning(
                "W-SQ-04", "warning",
                f"{scope}: expectations pile up at the scale top ({r['ceiling_share_E']:.1%} of E answers at the "
                f"maximum; SD(E)/SD(P) = {r['sd_ratio_E_P']:.2f}) - the gap mostly reflects P; consider SERVPERF "
                f"or the three-column (adequate/desired) format",
                {"ceiling_share": r["ceiling_share_E"], "sd_ratio": r["sd_ratio_E_P"],
                 "thresholds": {"ceiling_share": th["ceiling_share"], "sd_ratio": th["sd_ratio"]}},
                subject=scope,
                message_zh=f"{scope}：期望值集中在量表最高分（{r['ceiling_share_E']:.1%}），差距主要由感知决定，建议参考SERVPERF或三栏式量表"))
        if np.isfinite(r["r_PE"]) and r["r_PE"] > th["r_pe"]:
            out.append(QualityWarning(
                "W-SQ-05", "info",
                f"{scope}: expectation and perception composites correlate r = {r['r_PE']:.2f} (> {th['r_pe']:.2f}); "
                f"the difference score discards shared information - report P and E side by side",
                {"r_PE": r["r_PE"], "threshold": th["r_pe"], "n": int(r["n_complete"])}, subject=scope,
                message_zh=f"{scope}：期望与感知高度相关（r = {r['r_PE']:.2f}），差值损失信息，请并列展示P和E"))
    return out


def _keying_warnings(item_tab: pd.DataFrame, inst: Instrument, th) -> list[QualityWarning]:
    """W-SQ-07 from the corrected item-total correlations in ``item_tab`` (dimensions with ≥ 3 items)."""
    out = []
    sizes = pd.Series(inst.dimension_index).value_counts()
    for c, (item, row) in enumerate(item_tab.iterrows()):
        if sizes[inst.dimension_index[c]] < 3:
            continue
        for comp in ("P", "E"):
            rv = row[f"item_total_r_{comp}"]
            if np.isfinite(rv) and rv < th["item_total_r"]:
                d = row["dimension"]
                declared = bool(inst.reverse_keyed[c])
                what = ("is declared reverse-keyed and was recoded, yet still correlates negatively - check the "
                        "keying (recoded twice?)" if declared else
                        "correlates negatively with the rest of its dimension - a negatively worded item that "
                        "is not marked reverse_keyed in the instrument?")
                out.append(QualityWarning(
                    "W-SQ-07", "warning", f"item {item} ({d}, {comp}): {what} (corrected item-total r = {rv:.2f})",
                    {"item": item, "component": comp, "item_total_r": float(rv), "declared_reverse": declared},
                    subject=f"item {item}",
                    message_zh=f"题目{item}（{d}，{comp}）与本维度其他题目负相关（r = {rv:.2f}），可能是反向题未反向计分"))
    return out


def _small_n_warnings(item_tab, dim_tab, ov, th) -> list[QualityWarning]:
    out = []
    mn = int(th["min_n"])
    n_all = int(ov.loc["servqual", "n"])
    if n_all < mn:
        out.append(QualityWarning("W-SQ-09", "warning", f"only {n_all} respondents have a complete SERVQUAL score "
                                  f"(< {mn}); treat the overall score as indicative", {"n": n_all, "min_n": mn},
                                  subject="overall", message_zh=f"完整作答的受访者仅{n_all}人（少于{mn}），总体得分仅供参考"))
    small_d = dim_tab.index[dim_tab["n"] < mn].tolist()
    if small_d:
        out.append(QualityWarning("W-SQ-09", "warning", f"dimensions with fewer than {mn} respondents: {small_d}",
                                  {"n": dim_tab.loc[small_d, "n"].astype(int).to_dict(), "min_n": mn},
                                  subject="dimensions", message_zh=f"样本少于{mn}的维度：{small_d}"))
    small_i = item_tab.index[item_tab["n"] < mn].tolist()
    if small_i:
        out.append(QualityWarning("W-SQ-09", "warning", f"items with fewer than {mn} paired answers: {small_i}",
                                  {"n": item_tab.loc[small_i, "n"].astype(int).to_dict(), "min_n": mn},
                                  subject="items", message_zh=f"配对回答少于{mn}的题目：{small_i}"))
    return out


def _structure_warnings(P, inst: Instrument, th, structure) -> list[QualityWarning]:
    """W-SQ-06 from ``sqc.reliability.cfa`` (imported here: it is another module's and may be absent)."""
    try:
        from ..reliability import cfa  # noqa: WPS433
    except Exception as exc:  # module absent or broken: say so, do not fail the scoring
        return [QualityWarning("W-SQ-06", "info", "dimension structure not checked: sqc.reliability.cfa is not "
                               f"available ({exc.__class__.__name__})", {"checked": False}, subject="structure",
                               message_zh="未检验维度结构：sqc.reliability.cfa 不可用")]
    dims = inst.dimensions
    if len(dims) < 2 or any(len(v) < 2 for v in inst.dimension_items.values()):
        return []
    data = pd.DataFrame(P, columns=[f"P{i}" for i in inst.item_ids]).dropna()
    if structure == "auto" and len(data) < 100:
        return [QualityWarning("W-SQ-06", "info", f"dimension structure not checked: only {len(data)} complete "
                               "perception responses (CFA needs ≥ 100)", {"checked": False, "n": len(data)},
                               subject="structure", message_zh="完整样本不足100，未检验维度结构")]
    if len(data) > 5000:
        data = data.sample(5000, random_state=20261122)
    model = {d: [f"P{i}" for i in its] for d, its in inst.dimension_items.items()}
    try:
        fit = cfa(data, model)
    except Exception as exc:
        return [QualityWarning("W-SQ-06", "info", f"dimension structure not checked: CFA failed ({exc})",
                               {"checked": False}, subject="structure", message_zh="CFA 拟合失败，未检验维度结构")]
    idx = _fit_indices(fit)
    cfi, rmsea = idx.get("cfi", float("nan")), idx.get("rmsea", float("nan"))
    htmt_max = float("nan")
    htmt = getattr(fit, "htmt", None)
    if isinstance(htmt, pd.DataFrame) and htmt.shape[0] > 1:
        vals = htmt.to_numpy(dtype=float)
        off = vals[~np.eye(vals.shape[0], dtype=bool)]
        htmt_max = float(np.nanmax(np.abs(off))) if np.isfinite(off).any() else float("nan")
    evidence = {"cfi": cfi, "rmsea": rmsea, "htmt_max": htmt_max, "n": len(data), "checked": True,
                "thresholds": {"cfi": th["cfi"], "rmsea": th["rmsea"], "htmt": 0.90}}
    bad = (cfi < th["cfi"]) or (rmsea > th["rmsea"]) or (htmt_max > 0.90)
    if bad:
        return [QualityWarning(
            "W-SQ-06", "warning", f"the {len(dims)}-dimension structure is not supported by the perception data "
            f"(CFI = {cfi:.3f}, RMSEA = {rmsea:.3f}, max HTMT = {htmt_max:.2f}; cut-offs CFI ≥ {th['cfi']}, "
            f"RMSEA ≤ {th['rmsea']}, HTMT ≤ 0.90); read dimension scores with caution", evidence,
            subject="structure", message_zh=f"感知数据不支持{len(dims)}维结构（CFI = {cfi:.3f}，RMSEA = {rmsea:.3f}），维度得分需谨慎解读")]
    return [QualityWarning("W-SQ-06", "info", f"the {len(dims)}-dimension structure fits the perception data "
                           f"(CFI = {cfi:.3f}, RMSEA = {rmsea:.3f}, max HTMT = {htmt_max:.2f})", evidence,
                           subject="structure", message_zh=f"感知数据支持{len(dims)}维结构（CFI = {cfi:.3f}，RMSEA = {rmsea:.3f}）")]


def _fit_indices(fit) -> dict:
    """CFI/RMSEA from whatever ``sqc.reliability.cfa`` returns (attributes, a dict, or a ``fit`` table)."""
    out = {}
    for key in ("cfi", "rmsea"):
        val = None
        for holder in (fit, getattr(fit, "fit", None), getattr(fit, "fit_indices", None)):
            if holder is None:
                continue
            if isinstance(holder, Mapping) and key in holder:
                val = holder[key]
            elif isinstance(holder, Mapping) and key.upper() in holder:
                val = holder[key.upper()]
            elif isinstance(holder, pd.Series) and key in holder.index:
                val = holder[key]
            elif isinstance(holder, pd.DataFrame):
                for cand in (key, key.upper()):
                    if cand in holder.columns:
                        val = holder[cand].iloc[0]
                    elif cand in holder.index:
                        val = holder.loc[cand].iloc[0]
            elif hasattr(holder, key) and not callable(getattr(holder, key)):
                val = getattr(holder, key)
            if val is not None:
                break
        if val is not None:
            out[key] = float(val)
    return out
