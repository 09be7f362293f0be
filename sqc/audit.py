"""Walk-through audit and mystery-shopper scoring (Methods §4).

Pipeline (each step a function returning a result object; plots and the dashboard read the objects):

1. :class:`Checklist` — sections, items, max score, item weights, section weights, critical items with a configurable
   consequence, N/A rules (§4.1).
2. :func:`score_visits` — section and total scores on 0–100 per visit; N/A items leave the denominator, a section
   with no applicable item is dropped and the section weights are re-normalised; effective weights are recorded
   (§4.2).
3. :func:`combine_assessors` — per branch-month body means combined with configurable weights (50/50 by default),
   with an "adjudicate" flag when the bodies disagree by more than a margin (§4.4).
4. :func:`quarterly_scores` — monthly → quarterly roll-up, fixed deductions per incident and veto incidents, with the
   order of operations an explicit parameter that is printed with the result (§4.3, §4.5); grade bands.
5. :func:`rank_branches` — ranks (ties share the minimum rank) with bootstrap rank intervals (§4.8), grade bands and
   empirical-Bayes shrunken scores.
6. :func:`funnel_data` — branch mean vs number of visits with 95 % / 99.8 % limits (Spiegelhalter 2005).
7. :func:`g_study` — generalizability coefficient of branch means and the number of visits needed (§4.7).
8. :func:`assessor_bias` — Bland–Altman bias and ICC between assessor bodies on the same branch-months (§4.6).
9. :func:`item_agreement` — per-item p_o, kappa, Gwet's AC1 and mean difference between the bodies (§4.4, §4.6).

``sqc.audit.nps`` is :func:`sqc.nps.nps` (re-exported: issue 6 fixes this public name).

Agreement statistics live in :mod:`sqc.agreement` (re-exported here for convenience).

Warnings (``result.warnings``)
------------------------------
* W-MS-01  generalizability coefficient of the branch score below the target (0.7): ranking not dependable.
* W-MS-02  systematic assessor-body bias: one body scores higher than the other (bias CI excludes 0).
* W-MS-03  branch-months where the assessor bodies disagree by more than the margin ("adjudicate").
* W-MS-04  branch-months (or quarters) scored by one body only (the other body's visit is missing).
* W-MS-05  rows or visits excluded from scoring (unknown items, scores out of range, all items N/A ...), with counts.
* W-MS-06  unstable ranks: the median width of the 95 % rank intervals is at least a third of the branches; publish
  grade bands rather than fine ranks.
* W-MS-07  fewer visits than the small-cell minimum (default 10 per quarter, Methods §0.3) behind a branch score.
* W-MS-08  critical (knock-out) item failed on a visit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .agreement import (bland_altman, fleiss_kappa, gwet_ac1, icc, kappa,  # noqa: F401  (re-exported)
                        koo_li_band, krippendorff_alpha)
from .diagnostics import QualityWarning
from .errors import DataError, InsufficientDataError, ParameterError
from .inference import mean_ci
from .results import ResultData

__all__ = ["nps", "item_agreement", "ItemAgreementResult", "Checklist", "score_visits", "combine_assessors", "quarterly_scores", "rank_branches", "funnel_data",
           "g_study", "g_coefficient", "visits_needed", "assessor_bias", "assign_grades", "DEFAULT_GRADE_BANDS",
           "VisitScores", "CombinedScores", "QuarterlyScores", "RankResult", "FunnelResult", "GStudyResult",
           "AssessorBiasResult", "icc", "kappa", "fleiss_kappa", "gwet_ac1", "krippendorff_alpha", "bland_altman"]

DEFAULT_GRADE_BANDS: tuple[tuple[str, float], ...] = (("A", 90.0), ("B", 80.0), ("C", 70.0), ("D", 60.0), ("E", 0.0))
CRITICAL_CONSEQUENCES = ("flag", "zero_section", "cap_total")
# how each consequence reads in a warning (the code stays in the evidence)
_CONSEQUENCE_TEXT = {"flag": ("flagged, score kept", "仅标记，得分不变"),
                     "zero_section": ("its section scored zero", "所在部分记零分"),
                     "cap_total": ("total score capped", "总分封顶")}
ORDERS = ("monthly", "quarterly")
ORDER_TEXT = {
    "monthly": ("Deductions are subtracted from each month's combined score (clipped to [{floor:g}, 100]) and the "
                "deducted monthly scores are then averaged over the quarter; a veto incident sets the quarter to "
                "{floor:g} and the lowest grade."),
    "quarterly": ("Monthly combined scores are averaged over the quarter first; the quarter's total deductions are "
                  "then subtracted (clipped to [{floor:g}, 100]); a veto incident sets the quarter to {floor:g} and "
                  "the lowest grade."),
}
ORDER_TEXT_ZH = {
    "monthly": "扣分在每月综合得分上扣除（限制在 [{floor:g}, 100]），再对季度内各月扣分后得分取平均；一票否决事件使该季度得分为 {floor:g}、等级为最低。",
    "quarterly": "先对季度内各月综合得分取平均，再扣除该季度全部扣分（限制在 [{floor:g}, 100]）；一票否决事件使该季度得分为 {floor:g}、等级为最低。",
}


def _warn(code, severity, message, evidence=None, subject=None, message_zh=None) -> QualityWarning:
    return QualityWarning(code, severity, message, evidence or {}, subject, message_zh)


_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", ""}


def _as_bool(values: pd.Series, column: str, default: bool) -> pd.Series:
    """Booleans from bool/0-1/"True"-"False" columns (a CSV export may carry strings); missing → ``default``."""
    if values.dtype == bool:
        return values
    out = pd.Series(default, index=values.index, dtype=bool)
    present = values.notna()
    text = values[present].astype(str).str.strip().str.lower()
    bad = ~text.isin(_TRUE | _FALSE)
    if bad.any():
        row = bad.idxmax()
        raise DataError("not a yes/no value", column=column, row=row, value=values[row],
                        expected="True/False (or 1/0, yes/no)", count=int(bad.sum()))
    out[present] = text.isin(_TRUE).to_numpy()
    return out


def _quarter_of(period: pd.Series) -> pd.Series:
    """"YYYY-MM" → "YYYYQn"."""
    p = pd.PeriodIndex(period.astype(str), freq="M")
    return pd.Series(p.asfreq("Q").astype(str), index=period.index)


# ---------------------------------------------------------------------------------------------------------------
# 1. checklist
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Checklist:
    """An audit checklist (Methods §4.1).

    Parameters
    ----------
    items : DataFrame
        One row per item: ``item_id``, ``section``, ``max_score`` (> 0), ``weight`` (≥ 0, item weight w_i),
        ``critical`` (bool, optional, default False), ``na_allowed`` (bool, optional, default True).
    section_weights : mapping section → weight, optional
        W_s in T = Σ W_s S_s / Σ W_s. Default: each section's share of the weighted maximum points Σ w_i max_i, so
        the total equals the pooled points score when nothing is N/A.
    critical_consequence : {"flag", "zero_section", "cap_total"}
        What a failed critical item (see ``critical_fail``) does: flag the visit as failed whatever its score,
        set its section score to 0, or cap the visit total at ``critical_cap``. A failed critical item is always
        flagged (``critical_failed``) in addition.
    critical_cap : float
        The cap for ``"cap_total"`` (0–100).
    critical_fail : {"zero", "below_max"}
        When a critical item counts as failed: scored 0 (default, the data contract's knock-out rule) or scored
        below its maximum.

    Use :meth:`from_frame` to build one from the ``checklist`` table of the data contract.
    """

    items: pd.DataFrame
    section_weights: Mapping[str, float] | None = None
    critical_consequence: str = "flag"
    critical_cap: float = 50.0
    critical_fail: str = "zero"

    def __post_init__(self):
        items = self.items.copy()
        need = ["item_id", "section", "max_score", "weight"]
        missing = [c for c in need if c not in items.columns]
        if missing:
            raise DataError("checklist lacks required columns", column=missing[0], expected=f"columns {need}")
        if items["item_id"].duplicated().any():
            dup = items.loc[items["item_id"].duplicated(), "item_id"].iloc[0]
            raise DataError("item id appears twice in the checklist", column="item_id", value=dup,
                            expected="unique item ids")
        for col, lo, strict in (("max_score", 0, True), ("weight", 0, False)):
            vals = pd.to_numeric(items[col], errors="coerce")
            bad = vals.isna() | ((vals <= lo) if strict else (vals < lo))
            if bad.any():
                idx = bad.idxmax()
                raise ParameterError(f"checklist {col} of item {items.loc[idx, 'item_id']!r} is "
                                     f"{items.loc[idx, col]!r}; {col} must be a number "
                                     f"{'> 0' if strict else '≥ 0'}")
            items[col] = vals.astype(float)
        items["critical"] = _as_bool(items["critical"], "critical", False) if "critical" in items else False
        items["na_allowed"] = _as_bool(items["na_allowed"], "na_allowed", True) if "na_allowed" in items else True
        sec_points = (items["weight"] * items["max_score"]).groupby(items["section"], sort=False).sum()
        if (sec_points <= 0).any():
            raise ParameterError(f"section {sec_points.index[sec_points <= 0][0]!r} has item weights summing to "
                                 "zero; give at least one item a positive weight")
        if self.section_weights is None:
            sw = sec_points.astype(float)
        else:
            sw = pd.Series(dict(self.section_weights), dtype=float)
            unknown = sorted(set(sw.index) - set(sec_points.index))
            absent = sorted(set(sec_points.index) - set(sw.index))
            if unknown or absent:
                raise ParameterError(f"section_weights must name every checklist section exactly "
                                     f"(unknown: {unknown}, missing: {absent})")
            sw = sw.reindex(sec_points.index)
        if sw.isna().any() or (sw < 0).any() or sw.sum() <= 0:
            raise ParameterError(f"section weights must be ≥ 0 and sum to more than 0, got {sw.to_dict()}")
        if self.critical_consequence not in CRITICAL_CONSEQUENCES:
            raise ParameterError(f"critical_consequence must be one of {CRITICAL_CONSEQUENCES}, "
                                 f"got {self.critical_consequence!r}")
        if self.critical_fail not in ("zero", "below_max"):
            raise ParameterError(f"critical_fail must be 'zero' or 'below_max', got {self.critical_fail!r}")
        if not 0 <= float(self.critical_cap) <= 100:
            raise ParameterError("critical_cap must lie in [0, 100]")
        self.items = items.reset_index(drop=True)
        self.section_weights = sw

    @classmethod
    def from_frame(cls, checklist: pd.DataFrame, **kwargs) -> "Checklist":
        """Build from the data-contract ``checklist`` table (item_id, section, max_score, weight, critical,
        na_allowed, text_en, text_zh)."""
        return cls(checklist, **kwargs)

    @property
    def sections(self) -> list[str]:
        return list(self.section_weights.index)

    def summary(self) -> str:
        sw = self.section_weights / self.section_weights.sum() * 100
        lines = [f"Checklist: {len(self.items)} items in {len(sw)} sections; critical consequence: "
                 f"{self.critical_consequence}" + (f" (cap {self.critical_cap:g})"
                                                   if self.critical_consequence == "cap_total" else "")]
        for s, w in sw.items():
            it = self.items[self.items["section"] == s]
            lines.append(f"  {s}: weight {w:.1f}%, {len(it)} items, max {it['max_score'].sum():g} points, "
                         f"{int(it['critical'].sum())} critical")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# 2. visit scores
# ---------------------------------------------------------------------------------------------------------------

VISIT_KEYS = ("visit_id", "branch", "period", "assessor_body", "assessor_id", "visit_date")


@dataclass
class VisitScores(ResultData):
    """Scores of each audit visit.

    Attributes
    ----------
    visits : DataFrame
        One row per scored visit: the visit keys present in the input (visit_id, branch, period, assessor_body,
        assessor_id, visit_date), ``total`` (0–100 after any critical consequence), ``total_raw`` (before it),
        ``n_items``, ``n_na``, ``n_sections``, ``effective_weight`` (share of the nominal section weight that was
        applicable, 100 = no section dropped), ``critical_failed`` (bool), ``status`` ("pass"/"fail").
    sections : DataFrame
        One row per visit × section: ``section``, ``score`` (NaN when the section had no applicable item),
        ``points``, ``max_points``, ``n_items``, ``n_na``, ``weight_nominal`` (%), ``weight_effective`` (%).
    items : DataFrame
        The input rows used, joined with the checklist (for item-level analysis).
    exclusions : DataFrame
        ``reason``, ``n_rows``, ``n_visits`` for everything left out (empty when nothing was).
    """

    _frame_attr = "visits"

    _chart = "sqc.plotting.audit:section_profile_spec"

    visits: pd.DataFrame
    sections: pd.DataFrame
    items: pd.DataFrame
    checklist: Checklist
    exclusions: pd.DataFrame

    def section_profile(self, by: str | Sequence[str] = "branch") -> pd.DataFrame:
        """Mean section scores (rows: ``by``; columns: sections), N/A sections excluded per visit."""
        by = [by] if isinstance(by, str) else list(by)
        df = self.sections.merge(self.visits[["visit_id", *by]], on="visit_id")
        return df.pivot_table(index=by, columns="section", values="score", aggfunc="mean")[self.checklist.sections]

    def _summary_lines(self, lang: str = "en") -> list[str]:
        v = self.visits
        lines = [f"{len(v)} visits scored; mean total {v['total'].mean():.1f} (SD {v['total'].std():.1f}); "
                 f"{int(v['critical_failed'].sum())} with a failed critical item; "
                 f"{int((v['effective_weight'] < 100 - 1e-9).sum())} with a section dropped as N/A"]
        if len(self.exclusions):
            for _, r in self.exclusions.iterrows():
                lines.append(f"  excluded: {r['reason']} ({r['n_rows']} rows, {r['n_visits']} visits)")
        return lines


def score_visits(visits: pd.DataFrame, checklist: Checklist | pd.DataFrame, *, on_error: str = "raise",
                 missing_items: str = "na", **checklist_kwargs) -> VisitScores:
    """Section and total scores per visit (Methods §4.2).

    section score  S_s = 100 · Σ_{i∈s, x_i≠NA} w_i x_i / Σ_{i∈s, x_i≠NA} w_i max_i
    total          T   = Σ_{s applicable} W_s S_s / Σ_{s applicable} W_s

    N/A items (score null) leave the denominator; a section with no applicable item is dropped and the remaining
    section weights re-normalise (the applicable share is recorded as ``effective_weight``). Critical items are
    failed per ``checklist.critical_fail``; the consequence is ``checklist.critical_consequence``.

    Parameters
    ----------
    visits : DataFrame
        Long: one row per visit × item with ``visit_id``, ``item_id``, ``score`` (null = N/A) and the visit keys
        (``branch``, ``period``, ``assessor_body``, ``assessor_id``, ``visit_date`` — those present are carried).
    checklist : Checklist or DataFrame
        A DataFrame is turned into a :class:`Checklist` with ``checklist_kwargs``.
    on_error : {"raise", "exclude"}
        Unknown item ids, scores below 0 or above the item maximum, N/A where the checklist forbids it, duplicate
        visit × item rows, and visits with every item N/A: raise :class:`DataError`, or leave the offending rows
        (visits) out and count them in ``exclusions`` (and a W-MS-05 warning).
    missing_items : {"na", "raise"}
        A checklist item with no row for a visit counts as N/A (default) or is an error.

    Returns
    -------
    VisitScores

    Examples
    --------
    Methods §4.5 golden toy: sections Greeting (30; w 1,1,2; max 1), Needs (50; w 2,2,1; max 2,2,1), Facility
    (20; w 1,1; max 1); scores (1,0,1 | 2,1,NA | 1,1) → 75, 75, 100, total 80.
    """
    if on_error not in ("raise", "exclude"):
        raise ParameterError(f"on_error must be 'raise' or 'exclude', got {on_error!r}")
    if missing_items not in ("na", "raise"):
        raise ParameterError(f"missing_items must be 'na' or 'raise', got {missing_items!r}")
    cl = checklist if isinstance(checklist, Checklist) else Checklist(checklist, **checklist_kwargs)
    for col in ("visit_id", "item_id", "score"):
        if col not in visits.columns:
            raise DataError("audit visits table lacks a required column", column=col,
                            expected="visit_id, item_id, score (+ branch, period, assessor_body ...)")
    keys = [k for k in VISIT_KEYS if k in visits.columns]
    df = visits[[*keys, "item_id", "score"]].copy()
    raw_score = df["score"]
    df["score"] = pd.to_numeric(raw_score, errors="coerce")
    item_info = cl.items.set_index("item_id")[["section", "max_score", "weight", "critical", "na_allowed"]]
    df = df.join(item_info, on="item_id")

    exclusions: list[dict] = []
    bad_rows = pd.Series(False, index=df.index)

    def check(mask: pd.Series, reason: str, column: str, expected: str):
        nonlocal bad_rows
        mask = mask & ~bad_rows
        if not mask.any():
            return
        if on_error == "raise":
            row = mask.idxmax()
            raise DataError(reason, column=column, row=row, value=visits.loc[row, column], expected=expected,
                            count=int(mask.sum()))
        exclusions.append({"reason": reason, "n_rows": int(mask.sum()),
                           "n_visits": int(df.loc[mask, "visit_id"].nunique())})
        bad_rows = bad_rows | mask

    check(df["section"].isna(), "unknown item id", "item_id", "an item_id of the checklist")
    check(df["score"].isna() & raw_score.notna(), "score is not a number", "score", "a number or null (N/A)")
    check(df["score"] < 0, "score below 0", "score", "0 ≤ score ≤ the item's max_score")
    check(df["score"] > df["max_score"] + 1e-9, "score above the item's maximum", "score",
          "0 ≤ score ≤ the item's max_score")
    check(df["score"].isna() & ~df["na_allowed"].fillna(True).astype(bool), "N/A where the checklist forbids it",
          "score", "a score (this item does not allow N/A)")
    check(df.duplicated(["visit_id", "item_id"], keep="first"), "duplicate visit × item row", "item_id",
          "one row per visit and item")
    for key in ("branch", "period", "assessor_body"):
        if key in df.columns:
            # a visit belongs to one branch, month and body: rows that contradict the visit's first row are bad
            first = df.groupby("visit_id", sort=False)[key].transform("first")
            check(df[key].astype(str) != first.astype(str), f"visit has more than one {key}", key,
                  f"the same {key} on every row of a visit")
    if on_error == "exclude" and bad_rows.any():
        # a visit with a bad row is dropped whole: scoring it without the row would change its denominator
        bad_visits = df.loc[bad_rows, "visit_id"].unique()
        drop = df["visit_id"].isin(bad_visits)
        df = df.loc[~drop]
    if missing_items == "raise":
        n_items = df.groupby("visit_id")["item_id"].nunique()
        short = n_items[n_items < len(cl.items)]
        if len(short):
            raise DataError("visit lacks rows for some checklist items", column="visit_id", value=short.index[0],
                            expected=f"{len(cl.items)} items per visit (or missing_items='na')", count=len(short))
    if df.empty:
        raise InsufficientDataError("no audit visit rows left to score", expected="at least one valid visit")

    applicable = df["score"].notna()
    df["w_points"] = np.where(applicable, df["weight"] * df["score"], 0.0)
    df["w_max"] = np.where(applicable, df["weight"] * df["max_score"], 0.0)
    df["is_na"] = ~applicable
    fail_below = df["max_score"] - 1e-9 if cl.critical_fail == "below_max" else 1e-9
    df["crit_fail"] = df["critical"].fillna(False).astype(bool) & applicable & (df["score"] < fail_below)

    sec = df.groupby(["visit_id", "section"], sort=False).agg(
        points=("w_points", "sum"), max_points=("w_max", "sum"), n_items=("item_id", "size"),
        n_na=("is_na", "sum"), crit_fail=("crit_fail", "any")).reset_index()
    sec["score"] = np.where(sec["max_points"] > 0, 100 * sec["points"] / sec["max_points"].where(
        sec["max_points"] > 0, 1.0), np.nan)
    sw = cl.section_weights
    sec["weight_nominal"] = sec["section"].map(sw / sw.sum() * 100)
    sec["applicable"] = sec["max_points"] > 0
    if cl.critical_consequence == "zero_section":
        sec.loc[sec["crit_fail"], "score"] = 0.0
    sec["W"] = np.where(sec["applicable"], sec["section"].map(sw), 0.0)
    sec["WS"] = np.where(sec["applicable"], sec["W"] * sec["score"].fillna(0), 0.0)

    tot = sec.groupby("visit_id", sort=False).agg(W=("W", "sum"), WS=("WS", "sum"), n_items=("n_items", "sum"),
                                                   n_na=("n_na", "sum"), n_sections=("applicable", "sum"),
                                                   critical_failed=("crit_fail", "any"))
    all_na = tot["W"] <= 0
    if all_na.any():
        if on_error == "raise":
            raise DataError("every item of the visit is N/A, so it has no score", column="visit_id",
                            value=all_na.idxmax(), expected="at least one applicable item per visit",
                            count=int(all_na.sum()))
        exclusions.append({"reason": "every item N/A", "n_rows": int(tot.loc[all_na, "n_items"].sum()),
                           "n_visits": int(all_na.sum())})
        tot = tot.loc[~all_na]
        sec = sec[sec["visit_id"].isin(tot.index)]
        df = df[df["visit_id"].isin(tot.index)]
        if tot.empty:
            raise InsufficientDataError("every visit has all items N/A", expected="scorable visits")
    tot["total_raw"] = (tot["WS"] / tot["W"]).clip(0, 100)  # clip: floating round-off only
    tot["effective_weight"] = 100 * tot["W"] / sw.sum()
    tot["total"] = tot["total_raw"]  # with "zero_section" the zeroed section already entered WS
    if cl.critical_consequence == "cap_total":
        tot.loc[tot["critical_failed"], "total"] = np.minimum(tot.loc[tot["critical_failed"], "total"],
                                                               cl.critical_cap)
    tot["status"] = np.where(tot["critical_failed"], "fail", "pass")
    if cl.critical_consequence == "zero_section":
        # total_raw is the score before the critical consequence: recompute with the raw section scores
        raw_sec = np.where(sec["applicable"], sec["W"] * 100 * sec["points"] / sec["max_points"].where(
            sec["max_points"] > 0, 1.0), 0.0)
        tot["total_raw"] = pd.Series(raw_sec, index=sec.index).groupby(sec["visit_id"]).sum() / tot["W"]
    sec["weight_effective"] = np.where(sec["applicable"], 100 * sec["W"] / sec["visit_id"].map(tot["W"]), 0.0)

    meta = df.drop_duplicates("visit_id").set_index("visit_id")[[k for k in keys if k != "visit_id"]]
    out = meta.join(tot[["total", "total_raw", "n_items", "n_na", "n_sections", "effective_weight",
                         "critical_failed", "status"]], how="inner").reset_index()
    out["n_items"] = out["n_items"].astype(int)
    out["n_na"] = out["n_na"].astype(int)
    out["n_sections"] = out["n_sections"].astype(int)
    sections = sec[["visit_id", "section", "score", "points", "max_points", "n_items", "n_na", "weight_nominal",
                    "weight_effective"]].reset_index(drop=True)
    excl = pd.DataFrame(exclusions, columns=["reason", "n_rows", "n_visits"])
    warns = []
    if len(excl):
        warns.append(_warn("W-MS-05", "warning",
                           f"{int(excl['n_visits'].sum())} audit visits excluded from scoring: "
                           + "; ".join(f"{r.reason} ({r.n_rows} rows)" for r in excl.itertuples()),
                           {"exclusions": excl.to_dict("records")}, "audit visits",
                           f"{int(excl['n_visits'].sum())} 次检查访问因数据问题未计分。"))
    n_crit = int(out["critical_failed"].sum())
    if n_crit:
        en, zh = _CONSEQUENCE_TEXT[cl.critical_consequence]
        warns.append(_warn("W-MS-08", "info", f"{n_crit} visits failed a critical (knock-out) item "
                           f"(consequence: {en}).", {"n_visits": n_crit,
                                                      "consequence": cl.critical_consequence}, "audit visits",
                           f"{n_crit} 次访问关键项不合格（处理方式：{zh}）。"))
    return VisitScores(out, sections, df.reset_index(drop=True), cl, excl, warnings=warns)


# ---------------------------------------------------------------------------------------------------------------
# 3. combine assessor bodies
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class CombinedScores(ResultData):
    """Branch-month scores combined over assessor bodies (Methods §4.4).

    Attributes
    ----------
    table : DataFrame
        One row per branch × period: one ``score_<body>`` and ``n_<body>`` column per body, ``score`` (combined),
        ``n_visits``, ``bodies_present``, ``difference`` (first body − second body, in the order of ``weights``),
        ``adjudicate`` (absolute difference > margin), ``single_body`` (one body missing).
    weights : dict
        The body weights used.
    margin : float
        The disagreement margin in points.
    body_means : DataFrame
        Long per branch × period × body: ``mean``, ``n`` (the visit means that were combined).
    """

    _frame_attr = "table"

    table: pd.DataFrame
    weights: dict
    margin: float
    margin_rule: str
    missing_body: str
    body_means: pd.DataFrame

    def _summary_lines(self, lang: str = "en") -> list[str]:
        t = self.table
        w = ", ".join(f"{b} {v:.0%}" for b, v in self.weights.items())
        lines = [f"{len(t)} branch-months combined with weights {w}; margin {self.margin:.2f} points "
                 f"({self.margin_rule}); {int(t['adjudicate'].sum())} to adjudicate, "
                 f"{int(t['single_body'].sum())} with one body only (missing body: {self.missing_body})"]
        return lines


def _check_weights(weights: Mapping[str, float], what: str = "weights") -> dict:
    if not isinstance(weights, Mapping) or not weights:
        raise ParameterError(f"{what} must be a non-empty mapping like {{'provincial': 0.5, 'city': 0.5}}")
    w = {str(k): float(v) for k, v in weights.items()}
    neg = {k: v for k, v in w.items() if not np.isfinite(v) or v < 0}
    if neg:
        raise ParameterError(f"{what} must be finite and ≥ 0, got {neg}")
    if sum(w.values()) <= 0:
        raise ParameterError(f"{what} sum to zero; give at least one a positive weight")
    return w


def _visit_frame(scores) -> pd.DataFrame:
    df = scores.visits if isinstance(scores, VisitScores) else scores
    need = ["branch", "period", "assessor_body", "total"]
    for c in need:
        if c not in df.columns:
            raise DataError("visit scores lack a required column", column=c, expected=f"columns {need}")
    return df


def combine_assessors(scores: VisitScores | pd.DataFrame, *, weights: Mapping[str, float] | None = None,
                      disagreement_margin: float | str = 10.0, missing_body: str = "renormalise") -> CombinedScores:
    """Combine assessor bodies per branch-month with fixed weights (Methods §4.4).

    T_bm = Σ_body w_body · T̄_bm,body / Σ_{bodies present} w_body, where T̄ is the mean visit total of the body in
    that branch-month. If a body is missing, the present bodies' weights re-normalise (``missing_body=
    "renormalise"``) and the row is flagged ``single_body``; with ``missing_body="exclude"`` the branch-month is
    dropped and counted. The row is flagged ``adjudicate`` when ``|T̄_A − T̄_B|`` exceeds ``disagreement_margin``:
    a number of points, or ``"sem"`` for 1.96·√2·SEM with SEM = SD·√(1 − ICC(A,1)) from the paired body means.

    Parameters
    ----------
    scores : VisitScores or DataFrame (branch, period, assessor_body, total)
    weights : mapping body → weight
        Default ``{"provincial": 0.5, "city": 0.5}``. Negative weights or weights summing to 0 raise
        :class:`ParameterError`; a body in the data without a weight raises too.
    disagreement_margin : float or "sem"
    missing_body : {"renormalise", "exclude"}

    Returns
    -------
    CombinedScores
    """
    weights = _check_weights(weights if weights is not None else {"provincial": 0.5, "city": 0.5})
    if missing_body not in ("renormalise", "exclude"):
        raise ParameterError(f"missing_body must be 'renormalise' or 'exclude', got {missing_body!r}")
    df = _visit_frame(scores)
    unknown = sorted(set(df["assessor_body"].astype(str)) - set(weights))
    if unknown:
        raise ParameterError(f"assessor bodies {unknown} appear in the data but have no weight; "
                             f"weights given for {sorted(weights)}")
    bm = df.groupby(["branch", "period", "assessor_body"], sort=True, observed=True)["total"].agg(
        mean="mean", n="size", sd="std").reset_index()
    bm["assessor_body"] = bm["assessor_body"].astype(str)
    wide = bm.pivot(index=["branch", "period"], columns="assessor_body", values="mean")
    nwide = bm.pivot(index=["branch", "period"], columns="assessor_body", values="n")
    bodies = list(weights)
    wide = wide.reindex(columns=bodies)
    nwide = nwide.reindex(columns=bodies).fillna(0).astype(int)
    wvec = pd.Series(weights)
    present = wide.notna()
    wsum = (present * wvec).sum(axis=1)
    combined = (wide.fillna(0) * wvec).sum(axis=1) / wsum.where(wsum > 0)
    table = pd.DataFrame(index=wide.index)
    for b in bodies:
        table[f"score_{b}"] = wide[b]
        table[f"n_{b}"] = nwide[b]
    table["score"] = combined
    table["n_visits"] = nwide.sum(axis=1)
    table["bodies_present"] = present.sum(axis=1)
    weighted_bodies = [b for b in bodies if weights[b] > 0]
    table["single_body"] = present[weighted_bodies].sum(axis=1) < len(weighted_bodies)
    if len(bodies) >= 2:
        table["difference"] = wide[bodies[0]] - wide[bodies[1]]
    else:
        table["difference"] = np.nan
    margin_rule = "fixed"
    if isinstance(disagreement_margin, str):
        if disagreement_margin != "sem":
            raise ParameterError("disagreement_margin must be a number of points or 'sem'")
        if len(bodies) < 2:
            raise ParameterError("disagreement_margin='sem' needs two assessor bodies")
        pairs = wide[bodies[:2]].dropna()
        if len(pairs) < 3:
            raise InsufficientDataError("too few branch-months scored by both bodies to estimate the SEM",
                                        value=len(pairs), expected="≥ 3 paired branch-months")
        long = pairs.stack().rename("y").reset_index()
        long["target"] = long["branch"].astype(str) + "|" + long["period"].astype(str)
        r = icc(long, "target", "assessor_body", "y").set_index("form").loc["ICC(A,1)", "ICC"]
        sd = float(np.sqrt(pairs.var(ddof=1).mean()))
        margin = float(1.96 * np.sqrt(2) * sd * np.sqrt(max(0.0, 1 - r)))
        margin_rule = f"1.96·√2·SEM, SEM = SD·√(1−ICC(A,1)) = {sd:.2f}·√(1−{r:.3f})"
    else:
        margin = float(disagreement_margin)
        if not np.isfinite(margin) or margin < 0:
            raise ParameterError("disagreement_margin must be ≥ 0 points")
    table["adjudicate"] = table["difference"].abs() > margin
    warns = []
    n_single = int(table["single_body"].sum())
    if missing_body == "exclude" and n_single:
        table = table[~table["single_body"]]
    table = table.reset_index()
    if n_single:
        warns.append(_warn("W-MS-04", "info",
                           f"{n_single} branch-months were scored by one assessor body only "
                           f"({'weights re-normalised' if missing_body == 'renormalise' else 'excluded'}).",
                           {"n_branch_months": n_single, "policy": missing_body}, "assessor bodies",
                           f"{n_single} 个网点-月份仅有一个评审机构的评分。"))
    n_adj = int(table["adjudicate"].sum())
    if n_adj:
        worst = table.loc[table["difference"].abs().idxmax()]
        warns.append(_warn("W-MS-03", "warning",
                           f"{n_adj} branch-months where the assessor bodies differ by more than {margin:.1f} points "
                           f"need adjudication (largest: {worst['branch']} {worst['period']}, "
                           f"{worst['difference']:+.1f}).",
                           {"n_branch_months": n_adj, "margin": margin}, "assessor bodies",
                           f"{n_adj} 个网点-月份两评审机构分差超过 {margin:.1f} 分，需要复核。"))
    return CombinedScores(table, weights, margin, margin_rule, missing_body, bm, warnings=warns)


# ---------------------------------------------------------------------------------------------------------------
# 4. deductions, roll-up, grades
# ---------------------------------------------------------------------------------------------------------------

def assign_grades(scores, bands: Sequence[tuple[str, float]] = DEFAULT_GRADE_BANDS) -> pd.Series:
    """Grade bands: the first band whose lower bound the score reaches (bands sorted high → low).

    Default A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, E below. NaN scores get no grade (None).
    """
    bands = sorted(((str(g), float(lo)) for g, lo in bands), key=lambda x: -x[1])
    if not bands:
        raise ParameterError("grade bands must not be empty")
    s = pd.Series(scores, dtype=float)
    out = pd.Series([None] * len(s), index=s.index, dtype=object)
    for g, lo in reversed(bands):
        out[s >= lo] = g
    out[s.notna() & out.isna()] = bands[-1][0]
    return out


@dataclass
class QuarterlyScores(ResultData):
    """Quarterly branch scores after deductions and veto (Methods §4.3, §4.5).

    ``table`` has one row per branch × quarter: ``n_months``, ``n_visits``, ``score_before_deductions`` (weighted
    mean of monthly combined scores), ``deductions`` (points charged, as entered; after any cap), ``n_incidents``,
    ``veto``, ``final`` and ``grade``. ``monthly`` holds the monthly rows (combined score, deductions, deducted
    score). ``order`` is the order of operations and ``order_text`` says it in words (printed on every report).
    """

    _frame_attr = "table"

    table: pd.DataFrame
    monthly: pd.DataFrame
    order: str
    floor: float
    deduction_cap: float | None
    month_weights: str
    grade_bands: tuple
    order_text: str
    order_text_zh: str

    def _summary_lines(self, lang: str = "en") -> list[str]:
        lines = [f"Order of operations: {self.order}. {self.order_text}",
                 f"month weights: {self.month_weights}; deduction cap: {self.deduction_cap}; "
                 f"grades: " + ", ".join(f"{g} ≥ {lo:g}" for g, lo in self.grade_bands)]
        lines.append(self.table.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
        return lines


def _incident_frame(incidents: pd.DataFrame | None, deduction_points: Mapping[str, float] | None) -> pd.DataFrame:
    cols = ["branch", "period", "deduction", "veto"]
    if incidents is None or len(incidents) == 0:
        return pd.DataFrame(columns=cols)
    inc = incidents.copy()
    for c in ("branch", "period"):
        if c not in inc.columns:
            raise DataError("incidents table lacks a required column", column=c, expected="branch, period")
    if deduction_points is not None:
        if "type" not in inc.columns:
            raise DataError("incidents need a 'type' column to apply deduction_points", column="type")
        pts = {str(k): float(v) for k, v in deduction_points.items()}
        if any(v < 0 for v in pts.values()):
            raise ParameterError("deduction_points must be ≥ 0 points per incident")
        unknown = sorted(set(inc["type"].astype(str)) - set(pts))
        if unknown:
            raise ParameterError(f"incident types {unknown} have no entry in deduction_points")
        inc["deduction"] = inc["type"].astype(str).map(pts)
    if "deduction" not in inc.columns:
        raise DataError("incidents lack a 'deduction' column (or pass deduction_points)", column="deduction")
    inc["deduction"] = pd.to_numeric(inc["deduction"], errors="coerce")
    bad = inc["deduction"].isna() | (inc["deduction"] < 0)
    if bad.any():
        row = bad.idxmax()
        raise DataError("deduction must be a number ≥ 0 points", column="deduction", row=row,
                        value=incidents.loc[row, "deduction"] if "deduction" in incidents else None,
                        expected="points ≥ 0", count=int(bad.sum()))
    inc["veto"] = _as_bool(inc["veto"], "veto", False) if "veto" in inc.columns else False
    inc["period"] = inc["period"].astype(str)
    return inc[cols]


def _rollup(combined_cols: pd.DataFrame, month_w: pd.Series, ded_month: pd.Series, veto_q: pd.Series,
            ded_quarter: pd.Series, order: str, floor: float) -> pd.DataFrame:
    """Core arithmetic on a (branch, period) × replicates frame → (branch, quarter) × replicates of finals.

    Shared by :func:`quarterly_scores` (one column) and the rank bootstrap (many columns).
    """
    idx = combined_cols.index
    quarter = pd.Series(pd.PeriodIndex(idx.get_level_values("period").astype(str), freq="M").asfreq("Q").astype(str),
                        index=idx)
    keys = [idx.get_level_values("branch"), quarter.to_numpy()]
    w = month_w.reindex(idx).to_numpy()[:, None]
    if order == "monthly":
        dm = ded_month.reindex(idx).fillna(0).to_numpy()[:, None]
        vals = np.clip(combined_cols.to_numpy() - dm, floor, 100)
    else:
        vals = combined_cols.to_numpy()
    num = pd.DataFrame(vals * w, index=idx).groupby(keys).sum()
    den = pd.Series(w[:, 0], index=idx).groupby(keys).sum()
    q = num.div(den, axis=0)
    q.index = q.index.set_names(["branch", "quarter"])
    if order == "quarterly":
        dq = ded_quarter.reindex(q.index).fillna(0).to_numpy()[:, None]
        q = pd.DataFrame(np.clip(q.to_numpy() - dq, floor, 100), index=q.index)
    v = veto_q.reindex(q.index).fillna(False).astype(bool).to_numpy()
    q.loc[v] = floor
    return q


def quarterly_scores(combined: CombinedScores | pd.DataFrame, incidents: pd.DataFrame | None = None, *,
                     order: str = "monthly", floor: float = 0.0, deduction_cap: float | None = None,
                     deduction_points: Mapping[str, float] | None = None, month_weights: str = "equal",
                     grade_bands: Sequence[tuple[str, float]] = DEFAULT_GRADE_BANDS) -> QuarterlyScores:
    """Monthly → quarterly roll-up with fixed deductions and veto incidents (Methods §4.3, §4.5).

    D = Σ_k d_k n_k (points per incident × incidents; optionally capped at ``deduction_cap`` per month or per
    quarter, following ``order``). Q_b = Σ_m v_m X_bm / Σ_m v_m with v_m = 1 (``month_weights="equal"``) or the
    month's number of visits (``"visits"``), where

    * ``order="monthly"``:   X_bm = clip(T_bm − D_bm, floor, 100) and F_b = Q_b;
    * ``order="quarterly"``: X_bm = T_bm and F_b = clip(Q_b − Σ_m D_bm, floor, 100).

    With equal month weights, deducting monthly spreads each incident's points over the quarter's months (it
    costs d/3 on the quarter), deducting quarterly charges the full d: the order must be a conscious choice and
    is printed (``order_text``). A veto incident anywhere in the quarter sets F_b to ``floor`` and the lowest grade.
    Incidents in months without an audit score still count in the quarterly order; in the monthly order they
    cannot be charged and are reported in a warning.

    Parameters
    ----------
    combined : CombinedScores or DataFrame with branch, period, score (and n_visits for ``"visits"`` weights)
    incidents : DataFrame with branch, period, deduction (points ≥ 0), veto (bool), optional type
    order : {"monthly", "quarterly"}
    floor : float
    deduction_cap : float, optional
    deduction_points : mapping incident type → points, optional (overrides the ``deduction`` column)
    month_weights : {"equal", "visits"}
    grade_bands : sequence of (grade, lower bound)

    Examples
    --------
    Methods §4.5: combined 73.889 with two incidents of 3 points in the same (single) month and
    ``order="quarterly"`` gives 67.889.
    """
    if order not in ORDERS:
        raise ParameterError(f"order must be 'monthly' (deduct each month, then average) or 'quarterly' "
                             f"(average, then deduct), got {order!r}")
    if month_weights not in ("equal", "visits"):
        raise ParameterError("month_weights must be 'equal' or 'visits'")
    if not np.isfinite(floor) or not 0 <= floor < 100:
        raise ParameterError("floor must lie in [0, 100)")
    if deduction_cap is not None and (not np.isfinite(deduction_cap) or deduction_cap < 0):
        raise ParameterError("deduction_cap must be ≥ 0 points (or None for no cap)")
    tab = combined.table if isinstance(combined, CombinedScores) else combined
    for c in ("branch", "period", "score"):
        if c not in tab.columns:
            raise DataError("combined scores lack a required column", column=c, expected="branch, period, score")
    m = tab.copy()
    m["period"] = m["period"].astype(str)
    m = m[m["score"].notna()]
    if m.empty:
        raise InsufficientDataError("no branch-month has a score to roll up", expected="combined scores")
    m = m.set_index(["branch", "period"]).sort_index()
    if month_weights == "visits":
        if "n_visits" not in m.columns:
            raise DataError("month_weights='visits' needs an n_visits column", column="n_visits")
        mw = m["n_visits"].astype(float)
    else:
        mw = pd.Series(1.0, index=m.index)

    inc = _incident_frame(incidents, deduction_points)
    inc["quarter"] = _quarter_of(inc["period"]) if len(inc) else pd.Series(dtype=str)
    ded_m = inc.groupby(["branch", "period"])["deduction"].sum() if len(inc) else pd.Series(dtype=float)
    n_m = inc.groupby(["branch", "period"]).size() if len(inc) else pd.Series(dtype=float)
    ded_q = inc.groupby(["branch", "quarter"])["deduction"].sum() if len(inc) else pd.Series(dtype=float)
    n_q = inc.groupby(["branch", "quarter"]).size() if len(inc) else pd.Series(dtype=float)
    veto_q = inc.groupby(["branch", "quarter"])["veto"].any() if len(inc) else pd.Series(dtype=bool)
    if deduction_cap is not None:
        ded_m = ded_m.clip(upper=deduction_cap)
        ded_q = ded_q.clip(upper=deduction_cap)

    warns = []
    if order == "monthly" and len(ded_m):
        unmatched = ded_m[~ded_m.index.isin(m.index)]
        unmatched = unmatched[unmatched > 0]
        if len(unmatched):
            warns.append(_warn("W-MS-05", "warning",
                               f"{len(unmatched)} branch-months have deductions ({unmatched.sum():g} points) but no "
                               "audit score, so monthly-order deductions could not be charged there.",
                               {"branch_months": [f"{b} {p}" for b, p in unmatched.index]}, "deductions",
                               f"{len(unmatched)} 个网点-月份有扣分但无检查得分，按月扣分无法扣除。"))
    final = _rollup(m[["score"]], mw, ded_m, veto_q, ded_q, order, floor)[0]
    num = (m["score"] * mw).groupby([m.index.get_level_values("branch"),
                                     _quarter_of(m.index.get_level_values("period").to_series()).to_numpy()]).sum()
    den = mw.groupby([m.index.get_level_values("branch"),
                      _quarter_of(m.index.get_level_values("period").to_series()).to_numpy()]).sum()
    before = (num / den)
    before.index = before.index.set_names(["branch", "quarter"])
    qt = pd.DataFrame({"score_before_deductions": before})
    qkey = [m.index.get_level_values("branch"),
            _quarter_of(m.index.get_level_values("period").to_series()).to_numpy()]
    qt["n_months"] = m["score"].groupby(qkey).size().to_numpy()
    if "n_visits" in m.columns:
        qt["n_visits"] = m["n_visits"].groupby(qkey).sum().to_numpy().astype(int)
    if order == "monthly":
        charged = ded_m.reindex(m.index).fillna(0)
        qt["deductions"] = charged.groupby(qkey).sum().to_numpy()
        qt["n_incidents"] = n_m.reindex(m.index).fillna(0).groupby(qkey).sum().to_numpy().astype(int)
    else:
        qt["deductions"] = ded_q.reindex(qt.index).fillna(0).to_numpy()
        qt["n_incidents"] = n_q.reindex(qt.index).fillna(0).to_numpy().astype(int)
    qt["veto"] = veto_q.reindex(qt.index).fillna(False).astype(bool).to_numpy()
    qt["final"] = final.reindex(qt.index).to_numpy()
    bands = tuple(sorted(((str(g), float(lo)) for g, lo in grade_bands), key=lambda x: -x[1]))
    qt["grade"] = assign_grades(qt["final"], bands).to_numpy()
    qt.loc[qt["veto"], "grade"] = bands[-1][0]
    monthly = m.reset_index()
    monthly["deductions"] = ded_m.reindex(m.index).fillna(0).to_numpy()
    monthly["n_incidents"] = n_m.reindex(m.index).fillna(0).to_numpy().astype(int)
    monthly["score_after_deductions"] = np.clip(monthly["score"] - monthly["deductions"], floor, 100)
    n_veto = int(qt["veto"].sum())
    if n_veto:
        warns.append(_warn("W-MS-05", "info", f"{n_veto} branch-quarters vetoed (score set to {floor:g}).",
                           {"vetoed": [f"{b} {q}" for b, q in qt.index[qt["veto"]]]}, "veto",
                           f"{n_veto} 个网点-季度被一票否决。"))
    return QuarterlyScores(qt.reset_index(), monthly, order, float(floor), deduction_cap, month_weights, bands,
                           ORDER_TEXT[order].format(floor=floor), ORDER_TEXT_ZH[order].format(floor=floor), warnings=warns)


# ---------------------------------------------------------------------------------------------------------------
# 5. G-study (needed before ranking for the shrinkage)
# ---------------------------------------------------------------------------------------------------------------

def g_coefficient(var_branch: float, var_error: float, n_visits) -> np.ndarray | float:
    """Generalizability coefficient of a branch mean over n visits: Eρ² = σ²_b / (σ²_b + σ²_e / n).

    Finn & Kayandé (1999); Cronbach et al. (1972). Golden (Methods §4.7): σ²_b = 25, σ²_e = 100 → .20 (1
    visit), .50 (4), .75 (12), .80 (16).
    """
    if var_branch < 0 or var_error < 0:
        raise ParameterError("variance components must be ≥ 0")
    n = np.asarray(n_visits, dtype=float)
    if np.any(n <= 0):
        raise ParameterError("n_visits must be > 0")
    denom = var_branch + var_error / n
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(denom > 0, var_branch / np.where(denom > 0, denom, 1), np.nan)
    return float(out) if out.ndim == 0 else out


def visits_needed(var_branch: float, var_error: float, target: float = 0.7) -> float:
    """Visits per branch for a target Eρ²: n = (ρ*/(1−ρ*)) · σ²_e/σ²_b (rounded up by callers; inf if σ²_b = 0)."""
    if not 0 < target < 1:
        raise ParameterError("target must lie strictly between 0 and 1")
    if var_branch < 0 or var_error < 0:
        raise ParameterError("variance components must be ≥ 0")
    if var_branch == 0:
        return float("inf")
    return float(target / (1 - target) * var_error / var_branch)


@dataclass
class GStudyResult(ResultData):
    """Variance components of visit totals and the dependability of branch means (Methods §4.7).

    ``table``: one row per group (quarter, or "all"): ``var_branch``, ``var_error``, ``n_branches``, ``n_visits``,
    ``visits_per_branch`` (harmonic mean), ``g_coefficient`` (Eρ² at the current visits per branch),
    ``visits_needed`` (for ``target``), ``icc1`` (one visit).
    """

    _frame_attr = "table"

    table: pd.DataFrame
    target: float
    adjusted_for_body: bool

    def curve(self, n_max: int = 30, row: int = -1) -> pd.DataFrame:
        r = self.table.iloc[row]
        n = np.arange(1, n_max + 1)
        return pd.DataFrame({"n_visits": n, "g_coefficient": g_coefficient(r["var_branch"], r["var_error"], n)})

    def _summary_lines(self, lang: str = "en") -> list[str]:
        lines = [f"G-study of branch means (target Eρ² {self.target:g}; "
                 f"{'assessor-body means removed' if self.adjusted_for_body else 'raw totals'})",
                 self.table.to_string(index=False, float_format=lambda x: f"{x:.3f}")]
        return lines


def _variance_components(y: np.ndarray, groups: np.ndarray) -> tuple[float, float, int, int, float]:
    """One-way random-effects ANOVA (unbalanced, n0 of Searle): σ²_b = max(0, (MSB − MSW)/n0), σ²_e = MSW."""
    codes, uniq = pd.factorize(groups)
    a = len(uniq)
    N = len(y)
    n_i = np.bincount(codes).astype(float)
    mean_i = np.bincount(codes, weights=y) / n_i
    grand = y.mean()
    ssb = (n_i * (mean_i - grand) ** 2).sum()
    ssw = ((y - mean_i[codes]) ** 2).sum()
    if a < 2 or N - a < 1:
        return float("nan"), float("nan"), a, N, float("nan")
    msb, msw = ssb / (a - 1), ssw / (N - a)
    n0 = (N - (n_i ** 2).sum() / N) / (a - 1)
    var_b = max(0.0, (msb - msw) / n0)
    harmonic = a / (1 / n_i).sum()
    return float(var_b), float(msw), a, N, float(harmonic)


def g_study(scores: VisitScores | pd.DataFrame, *, by: str | None = "quarter", target: float = 0.7,
            adjust_for_body: bool = True) -> GStudyResult:
    """How many visits make a dependable branch score (generalizability theory, Methods §4.7).

    Per group (default: quarter), a one-way random-effects ANOVA of visit totals on branch gives σ²_b (between
    branches) and σ²_e (visits within branch, shopper and occasion included). With n̄ the harmonic mean of visits
    per branch, Eρ²(n̄) = σ²_b/(σ²_b + σ²_e/n̄) and n needed = (ρ*/(1−ρ*)) σ²_e/σ²_b. When ``adjust_for_body`` the
    assessor-body means are removed first (a fixed body effect must not count as branch-level noise). W-MS-01 is
    raised when Eρ² < ``target``.
    """
    if not 0 < target < 1:
        raise ParameterError("target must lie strictly between 0 and 1")
    df = _visit_frame(scores).copy()
    df["period"] = df["period"].astype(str)
    if by == "quarter":
        df["group"] = _quarter_of(df["period"])
    elif by is None:
        df["group"] = "all"
    else:
        if by not in df.columns:
            raise ParameterError(f"by={by!r} is not a column of the visit scores; use 'quarter', None or a column")
        df["group"] = df[by].astype(str)
    rows, warns = [], []
    for g, d in df.groupby("group", sort=True):
        y = d["total"].to_numpy(float)
        if adjust_for_body and d["assessor_body"].nunique() > 1:
            y = y - d.groupby("assessor_body")["total"].transform("mean").to_numpy() + y.mean()
        vb, ve, a, N, nbar = _variance_components(y, d["branch"].to_numpy())
        if not np.isfinite(vb):
            continue
        g_now = g_coefficient(vb, ve, nbar) if nbar > 0 else float("nan")
        rows.append({"group": g, "n_branches": a, "n_visits": N, "visits_per_branch": nbar, "var_branch": vb,
                     "var_error": ve, "icc1": vb / (vb + ve) if vb + ve > 0 else float("nan"),
                     "g_coefficient": g_now, "visits_needed": visits_needed(vb, ve, target)})
    if not rows:
        raise InsufficientDataError("a G-study needs at least two branches with repeated visits in some group",
                                    expected="≥ 2 branches and more visits than branches")
    table = pd.DataFrame(rows)
    last = table.iloc[-1]
    if not last["g_coefficient"] >= target:
        need = last["visits_needed"]
        need_txt = "no number of visits" if not np.isfinite(need) else f"about {int(np.ceil(need))} visits"
        warns.append(_warn(
            "W-MS-01", "warning",
            f"Branch audit scores for {last['group']} are not dependable enough to rank: generalizability "
            f"coefficient {last['g_coefficient']:.2f} with {last['visits_per_branch']:.1f} visits per branch "
            f"(target {target:g}); {need_txt} per branch would be needed.",
            {"g_coefficient": float(last["g_coefficient"]), "visits_per_branch": float(last["visits_per_branch"]),
             "visits_needed": float(need), "target": target}, "branch ranking",
            f"{last['group']} 网点检查得分不足以可靠排名：概化系数 {last['g_coefficient']:.2f}（每网点 "
            f"{last['visits_per_branch']:.1f} 次访问，目标 {target:g}）。"))
    return GStudyResult(table, target, adjust_for_body, warnings=warns)


# ---------------------------------------------------------------------------------------------------------------
# 6. ranks with bootstrap intervals
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class RankResult(ResultData):
    """Branch league for one quarter (Methods §4.8).

    ``table``: branch, ``final`` (score after deductions), ``grade``, ``rank`` (1 = best, ties share the minimum
    rank), ``rank_low``/``rank_high`` (bootstrap interval), ``score_ci_low``/``score_ci_high`` (bootstrap
    percentile), ``shrunken`` (empirical-Bayes score, before deductions), ``n_visits``, ``deductions``, ``veto``.
    """

    _frame_attr = "table"

    _chart = "sqc.plotting.audit:league_spec"

    table: pd.DataFrame
    quarter: str
    n_boot: int
    confidence: float
    quarterly: QuarterlyScores
    rank_draws: np.ndarray

    def _summary_lines(self, lang: str = "en") -> list[str]:
        lines = [f"Branch league {self.quarter} ({self.n_boot} bootstrap resamples of visits within branch × body; "
                 f"{100 * self.confidence:.0f}% rank intervals). Order of operations: "
                 f"{self.quarterly.order} — {self.quarterly.order_text}",
                 self.table.to_string(index=False, float_format=lambda x: f"{x:.1f}")]
        return lines


def _min_rank_desc(values: np.ndarray) -> np.ndarray:
    """Ranks along axis 0, 1 = highest, ties share the minimum rank (scipy rankdata 'min')."""
    from scipy.stats import rankdata

    return rankdata(-values, method="min", axis=0)


def rank_branches(scores: VisitScores | pd.DataFrame, incidents: pd.DataFrame | None = None, *,
                  quarter: str | None = None, weights: Mapping[str, float] | None = None, order: str = "monthly",
                  floor: float = 0.0, deduction_cap: float | None = None, month_weights: str = "equal",
                  grade_bands: Sequence[tuple[str, float]] = DEFAULT_GRADE_BANDS, n_boot: int = 2000,
                  seed: int = 20261122, confidence: float = 0.95, min_visits: int = 10) -> RankResult:
    """Rank branches on the quarterly final score with bootstrap rank intervals (Methods §4.8).

    The point estimate runs the full pipeline (body means → :func:`combine_assessors` weights →
    :func:`quarterly_scores` with deductions, ``order`` and veto). The bootstrap resamples, within each branch ×
    assessor body, the quarter's visits with replacement into the original month slots, reruns the same
    arithmetic (deductions held fixed) and ranks the
    branches in every replicate; the rank interval is the central ``confidence`` range of the replicate ranks
    (Goldstein & Spiegelhalter 1996; Marshall & Spiegelhalter 1998). Ties share the minimum rank.
    ``shrunken`` is the empirical-Bayes mean μ̂ + λ_b(ȳ_b − μ̂), λ_b = σ̂²_b/(σ̂²_b + σ̂²_e/n_b), from the quarter's
    G-study components (for information: the league ranks on ``final``).

    Parameters
    ----------
    quarter : "YYYYQn", optional
        Default: the latest quarter in the data.
    min_visits : int
        Small-cell minimum (Methods §0.3): W-MS-07 for branches with fewer visits in the quarter.
    """
    if n_boot < 0:
        raise ParameterError("n_boot must be ≥ 0")
    if not 0 < confidence < 1:
        raise ParameterError("confidence must lie strictly between 0 and 1")
    df = _visit_frame(scores).copy()
    df["period"] = df["period"].astype(str)
    df["assessor_body"] = df["assessor_body"].astype(str)
    df["quarter"] = _quarter_of(df["period"])
    if quarter is None:
        quarter = str(df["quarter"].max())
    d = df[df["quarter"] == quarter]
    if d.empty:
        raise InsufficientDataError(f"no audit visits in quarter {quarter}", value=quarter,
                                    expected=f"one of {sorted(df['quarter'].unique())}")
    if d["branch"].nunique() < 2:
        raise InsufficientDataError("ranking needs at least two branches", value=d["branch"].nunique(),
                                    expected="≥ 2 branches")
    comb = combine_assessors(d, weights=weights)
    if incidents is not None and len(incidents):
        incidents = incidents[_quarter_of(incidents["period"].astype(str)) == quarter]
    q = quarterly_scores(comb, incidents, order=order, floor=floor, deduction_cap=deduction_cap,
                         month_weights=month_weights, grade_bands=grade_bands)
    qt = q.table[q.table["quarter"] == quarter].set_index("branch")
    wvec = pd.Series(comb.weights)

    # bootstrap: within each branch × body, the quarter's visits are resampled with replacement into the
    # original month slots (one body often visits once a month, so a branch × body × month cell alone has no spread)
    d = d.sort_values(["branch", "assessor_body", "period"])
    rng = np.random.default_rng(seed)
    cell_index, draws = [], []
    for (branch, body), g in d.groupby(["branch", "assessor_body"], sort=True):
        v = g["total"].to_numpy(float)
        per = g["period"].to_numpy()
        if n_boot:
            sample = np.vstack([v, v[rng.integers(0, v.size, (n_boot, v.size))]])  # row 0 = observed
        else:
            sample = v[None, :]
        for p in np.unique(per):
            cell_index.append((branch, p, body))
            draws.append(sample[:, per == p].mean(axis=1))
    cm = pd.DataFrame(np.vstack(draws),
                      index=pd.MultiIndex.from_tuples(cell_index, names=["branch", "period", "assessor_body"]))
    body_w = wvec.reindex(cm.index.get_level_values("assessor_body")).to_numpy()[:, None]
    grp = [cm.index.get_level_values("branch"), cm.index.get_level_values("period")]
    comb_rep = pd.DataFrame(cm.to_numpy() * body_w, index=cm.index).groupby(grp).sum().div(
        pd.Series(body_w[:, 0], index=cm.index).groupby(grp).sum(), axis=0)
    comb_rep.index = comb_rep.index.set_names(["branch", "period"])
    mtab = q.monthly.set_index(["branch", "period"])
    mw = (mtab["n_visits"].astype(float) if month_weights == "visits" else pd.Series(1.0, index=mtab.index))
    ded_m = mtab["deductions"]
    ded_q = q.table.set_index(["branch", "quarter"])["deductions"]
    veto_q = q.table.set_index(["branch", "quarter"])["veto"]
    if order == "monthly":
        ded_q = ded_q * 0
    reps = _rollup(comb_rep, mw, ded_m, veto_q, ded_q, order, floor)
    reps = reps.xs(quarter, level="quarter")
    branches = list(reps.index)
    vals = reps.to_numpy()
    ranks = _min_rank_desc(vals)
    a = (1 - confidence) / 2
    boot = ranks[:, 1:] if n_boot else ranks
    bvals = vals[:, 1:] if n_boot else vals
    table = pd.DataFrame({"branch": branches}).set_index("branch")
    table["final"] = qt["final"].reindex(branches)
    table["grade"] = qt["grade"].reindex(branches)
    table["rank"] = _min_rank_desc(table["final"].to_numpy()[:, None])[:, 0].astype(int)
    table["rank_low"] = np.floor(np.quantile(boot, a, axis=1, method="lower")).astype(int)
    table["rank_high"] = np.ceil(np.quantile(boot, 1 - a, axis=1, method="higher")).astype(int)
    table["score_ci_low"] = np.quantile(bvals, a, axis=1)
    table["score_ci_high"] = np.quantile(bvals, 1 - a, axis=1)
    table["score_before_deductions"] = qt["score_before_deductions"].reindex(branches)
    table["deductions"] = qt["deductions"].reindex(branches)
    table["veto"] = qt["veto"].reindex(branches)
    nv = d.groupby("branch").size()
    table["n_visits"] = nv.reindex(branches).astype(int)
    warns = list(comb.warnings) + list(q.warnings)
    try:
        gs = g_study(d, by="quarter")
        r = gs.table.iloc[0]
        ybar = d.groupby("branch")["total"].mean()
        mu = d["total"].mean()
        lam = r["var_branch"] / (r["var_branch"] + r["var_error"] / nv)
        table["shrunken"] = (mu + lam * (ybar - mu)).reindex(branches)
        warns += gs.warnings
    except InsufficientDataError:
        table["shrunken"] = np.nan
    table = table.reset_index().sort_values(["rank", "branch"]).reset_index(drop=True)
    nb = len(branches)
    width = (table["rank_high"] - table["rank_low"]).median()
    if n_boot and width >= nb / 3:
        warns.append(_warn("W-MS-06", "warning",
                           f"Ranks are unstable: the median 95% rank interval spans {width:.0f} places among {nb} "
                           "branches; publish grade bands rather than fine ranks.",
                           {"median_rank_interval_width": float(width), "n_branches": nb}, "branch ranking",
                           f"排名不稳定：95% 排名区间中位宽度为 {width:.0f} 位（共 {nb} 个网点）；建议公布等级而非精确名次。"))
    small = table.loc[table["n_visits"] < min_visits, "branch"].tolist()
    if small:
        warns.append(_warn("W-MS-07", "info",
                           f"{len(small)} branches have fewer than {min_visits} audit visits in {quarter}; their "
                           "scores are uncertain (see the rank intervals).",
                           {"branches": small, "min_visits": min_visits}, "branch ranking",
                           f"{len(small)} 个网点在 {quarter} 的检查访问少于 {min_visits} 次，得分不确定。"))
    return RankResult(table, quarter, n_boot, confidence, q, ranks, warnings=warns)


# ---------------------------------------------------------------------------------------------------------------
# 7. funnel plot data
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class FunnelResult(ResultData):
    """Funnel plot of branch mean visit scores against their number of visits (Spiegelhalter 2005).

    ``points``: branch, n, mean, z, ``outside_95``, ``outside_998`` (direction "above"/"below"/"within").
    ``limits``: n grid with ``lo95``, ``hi95``, ``lo998``, ``hi998`` around ``target`` using SE = σ/√n, σ the
    pooled within-branch SD of visit totals.
    """

    _frame_attr = "points"

    _chart = "sqc.plotting.audit:funnel_spec"

    points: pd.DataFrame
    limits: pd.DataFrame
    target: float
    sigma: float
    group: str

    def _summary_lines(self, lang: str = "en") -> list[str]:
        out = self.points[self.points["signal"] != "within"]
        lines = [f"Funnel ({self.group}): company mean {self.target:.2f}, within-branch SD {self.sigma:.2f}; "
                 f"{len(out)} branch(es) outside the 95% limits"]
        lines.append(self.points.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
        return lines


def funnel_data(scores: VisitScores | pd.DataFrame, *, quarter: str | None = None, adjust_for_body: bool = True,
                target: float | None = None, n_grid: int = 100) -> FunnelResult:
    """Funnel plot data: branch mean visit total ȳ_b vs n_b with limits target ± z·σ/√n (z = 1.96, 3.09).

    The target is the visit-weighted company mean (or ``target``), σ the pooled within-branch SD (one-way ANOVA
    residual). With ``adjust_for_body`` the assessor-body means are removed first so a lenient body visiting some
    branches more often does not move them. ``signal`` is "above"/"below" when outside the 99.8 % limits,
    "above (95%)"/"below (95%)" when only outside 95 %.
    """
    df = _visit_frame(scores).copy()
    df["period"] = df["period"].astype(str)
    df["quarter"] = _quarter_of(df["period"])
    group = "all periods"
    if quarter is not None:
        df = df[df["quarter"] == quarter]
        group = quarter
        if df.empty:
            raise InsufficientDataError(f"no audit visits in quarter {quarter}", value=quarter)
    y = df["total"].astype(float)
    if adjust_for_body and df["assessor_body"].nunique() > 1:
        y = y - df.groupby("assessor_body")["total"].transform("mean") + y.mean()
    g = y.groupby(df["branch"])
    pts = pd.DataFrame({"n": g.size(), "mean": g.mean()})
    N, a = len(y), len(pts)
    if a < 2 or N - a < 1:
        raise InsufficientDataError("a funnel plot needs at least two branches with repeated visits",
                                    expected="≥ 2 branches, more visits than branches")
    sigma = float(np.sqrt(((y - g.transform("mean")) ** 2).sum() / (N - a)))
    tgt = float(y.mean()) if target is None else float(target)
    se = sigma / np.sqrt(pts["n"])
    pts["z"] = (pts["mean"] - tgt) / se
    pts["signal"] = np.select([pts["z"] > 3.09, pts["z"] < -3.09, pts["z"] > 1.96, pts["z"] < -1.96],
                              ["above", "below", "above (95%)", "below (95%)"], "within")
    nmax = max(int(pts["n"].max() * 1.2), 2)
    n = np.linspace(1, nmax, n_grid)
    lim = pd.DataFrame({"n": n})
    for name, z in (("95", 1.959964), ("998", 3.090232)):
        lim[f"lo{name}"] = tgt - z * sigma / np.sqrt(n)
        lim[f"hi{name}"] = tgt + z * sigma / np.sqrt(n)
    return FunnelResult(pts.reset_index(), lim, tgt, sigma, group)


# ---------------------------------------------------------------------------------------------------------------
# 8. assessor-body bias
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class AssessorBiasResult(ResultData):
    """Agreement between two assessor bodies on the same branch-months.

    ``pairs``: branch, period, mean of each body, difference. ``bland_altman``: :class:`BlandAltmanResult` of
    ``body_a − body_b``. ``icc``: the six-form ICC table (targets = branch-months, raters = bodies).
    ``sentence`` / ``sentence_zh``: the plain statement for managers.
    """

    _chart = "sqc.plotting.audit:bland_altman_spec"

    pairs: pd.DataFrame
    body_a: str
    body_b: str
    bland_altman: Any
    icc: pd.DataFrame
    sentence: str
    sentence_zh: str

    @property
    def bias(self) -> float:
        return self.bland_altman.bias

    def to_frame(self) -> pd.DataFrame:
        return self.bland_altman.to_frame()

    def _summary_lines(self, lang: str = "en") -> list[str]:
        ia = self.icc.set_index("form").loc[["ICC(A,1)", "ICC(A,k)"]]
        return ["\n".join([self.sentence, self.bland_altman.summary(),
                          ia[["ICC", "ci_low", "ci_high", "band"]].to_string(float_format=lambda x: f"{x:.3f}")])]


def assessor_bias(scores: VisitScores | pd.DataFrame, *, body_a: str = "city", body_b: str = "provincial",
                  confidence: float = 0.95) -> AssessorBiasResult:
    """Systematic difference between two assessor bodies (Bland & Altman 1986) on the branch-months both scored.

    Pairs are the body means of visit totals per branch × month. The bias d̄ = mean(T_a − T_b) has a t interval;
    W-MS-02 is raised when it excludes 0. The ICC table (two-way random, absolute agreement: ICC(A,1) for one body,
    ICC(A,k) for the combined score) quantifies agreement beyond the shift.
    """
    df = _visit_frame(scores).copy()
    df["assessor_body"] = df["assessor_body"].astype(str)
    bodies = set(df["assessor_body"].unique())
    for b in (body_a, body_b):
        if b not in bodies:
            raise ParameterError(f"assessor body {b!r} not found in the data; bodies present: {sorted(bodies)}")
    m = df.groupby(["branch", "period", "assessor_body"])["total"].mean().unstack("assessor_body")
    pairs = m[[body_a, body_b]].dropna().reset_index()
    if len(pairs) < 3:
        raise InsufficientDataError("too few branch-months scored by both bodies", value=len(pairs),
                                    expected="≥ 3 paired branch-months")
    pairs["difference"] = pairs[body_a] - pairs[body_b]
    ba = bland_altman(pairs[body_a], pairs[body_b], confidence=confidence, labels=(body_a, body_b))
    long = pairs.melt(id_vars=["branch", "period"], value_vars=[body_a, body_b], var_name="body",
                      value_name="audit total")
    long["target"] = long["branch"].astype(str) + "|" + long["period"].astype(str)
    icc_tab = icc(long, "target", "body", "audit total", confidence=confidence)
    lo, hi = ba.bias_ci
    c = f"{100 * confidence:.0f}%"
    if ba.bias_significant:
        more, less = (body_a, body_b) if ba.bias > 0 else (body_b, body_a)
        sentence = (f"The {more} body scores {abs(ba.bias):.1f} points higher than the {less} body "
                    f"({c} CI {min(abs(lo), abs(hi)):.1f} to {max(abs(lo), abs(hi)):.1f}; "
                    f"n = {ba.n} branch-months scored by both).")
        sentence_zh = (f"{more} 评审机构的评分比 {less} 评审机构平均高 {abs(ba.bias):.1f} 分"
                       f"（{c} 置信区间 {min(abs(lo), abs(hi)):.1f} 至 {max(abs(lo), abs(hi)):.1f}；"
                       f"n = {ba.n} 个双方均评分的网点-月份）。")
    else:
        sentence = (f"No systematic difference between the {body_a} and {body_b} bodies: {body_a} − {body_b} = "
                    f"{ba.bias:+.1f} points ({c} CI {lo:+.1f} to {hi:+.1f}; n = {ba.n} branch-months).")
        sentence_zh = (f"{body_a} 与 {body_b} 评审机构之间无系统性差异：差值 {ba.bias:+.1f} 分"
                       f"（{c} 置信区间 {lo:+.1f} 至 {hi:+.1f}；n = {ba.n}）。")
    warns = list(ba.warnings) + list(icc_tab.attrs.get("warnings", []))
    if ba.bias_significant:
        warns.append(_warn("W-MS-02", "warning", sentence + " Combined scores inherit half of this shift wherever "
                           "one body is missing; consider calibrating the bodies.",
                           {"bias": ba.bias, "ci_low": lo, "ci_high": hi, "n": ba.n, "body_a": body_a,
                            "body_b": body_b}, "assessor bodies", sentence_zh))
    return AssessorBiasResult(pairs, body_a, body_b, ba, icc_tab, sentence, sentence_zh, warnings=warns)



# ---------------------------------------------------------------------------------------------------------------
# 9. item-level agreement between bodies
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class ItemAgreementResult(ResultData):
    """Per-item agreement between two assessor bodies on the same branch-months (Methods §4.4, §4.6).

    ``table``: one row per checklist item with ``n_pairs``, ``p_observed``, ``kappa`` (quadratic-weighted for graded
    items, unweighted for yes/no items) with ``kappa_ci_low/high``, ``ac1`` (Gwet) with its CI, ``mean_a``,
    ``mean_b`` and ``difference`` (a − b in item points, with its t interval ``difference_ci_low/high``, and in %
    of the item maximum as ``difference_pct``), sorted by ``difference_pct``.
    ``exclusions`` counts branch-months not paired (a body with several visits in the month, or the item N/A).
    """

    _frame_attr = "table"

    table: pd.DataFrame
    body_a: str
    body_b: str
    exclusions: dict

    def _summary_lines(self, lang: str = "en") -> list[str]:
        cols = ["item_id", "section", "n_pairs", "p_observed", "kappa", "ac1", "difference_pct"]
        return ["\n".join([f"Item agreement {self.body_a} vs {self.body_b} (exclusions: {self.exclusions})",
                          self.table[cols].to_string(index=False, float_format=lambda x: f"{x:.3f}")])]


def item_agreement(scores: VisitScores, *, body_a: str = "city", body_b: str = "provincial",
                   min_pairs: int = 10) -> ItemAgreementResult:
    """Agreement of two assessor bodies item by item, pairing their visits to the same branch in the same month.

    The two visits are different occasions, so this agreement mixes assessor and occasion differences (it is a
    lower bound for pure inter-rater agreement). For each item: p_o, Cohen's kappa (quadratic weights for graded
    items), Gwet's AC1 (robust to the mostly-"yes" prevalence of audit items; W-AG-01 flags the kappa paradox) and
    the mean difference. Branch-months where a body made more than one visit are excluded and counted; items with
    fewer than ``min_pairs`` pairs get NaN statistics.
    """
    if not isinstance(scores, VisitScores):
        raise ParameterError("item_agreement needs the VisitScores returned by score_visits (item rows are used)")
    it = scores.items
    for c in ("branch", "period", "assessor_body"):
        if c not in it.columns:
            raise DataError("item rows lack a column needed to pair visits", column=c)
    it = it.assign(assessor_body=it["assessor_body"].astype(str), period=it["period"].astype(str))
    bodies = set(it["assessor_body"].unique())
    for b in (body_a, body_b):
        if b not in bodies:
            raise ParameterError(f"assessor body {b!r} not found in the data; bodies present: {sorted(bodies)}")
    it = it[it["assessor_body"].isin([body_a, body_b])]
    n_vis = it.groupby(["branch", "period", "assessor_body"])["visit_id"].nunique()
    multi = n_vis[n_vis > 1]
    keep = ~it.set_index(["branch", "period", "assessor_body"]).index.isin(multi.index)
    it = it[keep]
    wide = it.pivot_table(index=["branch", "period", "item_id"], columns="assessor_body", values="score",
                          aggfunc="first")
    wide = wide.reindex(columns=[body_a, body_b])
    both = wide.dropna()
    info = scores.checklist.items.set_index("item_id")
    rows, warns = [], []
    for item_id, g in both.groupby(level="item_id", sort=False):
        a, b = g[body_a].to_numpy(), g[body_b].to_numpy()
        mx = float(info.loc[item_id, "max_score"])
        row = {"item_id": item_id, "section": info.loc[item_id, "section"], "max_score": mx, "n_pairs": len(g),
               "mean_a": a.mean(), "mean_b": b.mean(), "difference": (a - b).mean(),
               "difference_pct": 100 * (a - b).mean() / mx, "p_observed": float((a == b).mean())}
        d_ci = mean_ci(a - b)
        row.update(difference_ci_low=d_ci.ci_low, difference_ci_high=d_ci.ci_high)
        stats_ = dict(kappa=np.nan, kappa_ci_low=np.nan, kappa_ci_high=np.nan, ac1=np.nan, ac1_ci_low=np.nan,
                      ac1_ci_high=np.nan)
        if len(g) >= min_pairs:
            cats = list(np.arange(0, mx + 1))
            try:
                k = kappa(a, b, weights="quadratic" if mx > 1 else None, categories=cats)
                stats_.update(kappa=k.kappa, kappa_ci_low=k.ci_low, kappa_ci_high=k.ci_high)
                ac = gwet_ac1(np.c_[a, b], categories=cats)
                stats_.update(ac1=ac.value, ac1_ci_low=ac.ci_low, ac1_ci_high=ac.ci_high)
            except (InsufficientDataError, DataError) as exc:
                # e.g. a non-integer score on a graded item: statistics stay NaN, the means are still shown
                row["note"] = str(exc)
            if row["p_observed"] >= 0.85 and stats_["kappa"] < 0.6:
                warns.append(_warn("W-AG-01", "info",
                                   f"Item {item_id}: bodies agree on {100 * row['p_observed']:.0f}% of branch-months "
                                   f"but kappa is {stats_['kappa']:.2f} (high-prevalence paradox); read AC1 "
                                   f"{stats_['ac1']:.2f}.", {"p_observed": row["p_observed"],
                                                              "kappa": stats_["kappa"], "ac1": stats_["ac1"]},
                                   f"item {item_id}"))
        rows.append({**row, **stats_})
    if not rows:
        raise InsufficientDataError("no branch-month has one visit from each body with the same item scored",
                                    expected="paired visits of both bodies")
    table = pd.DataFrame(rows).sort_values("difference_pct", ascending=False).reset_index(drop=True)
    if "note" not in table:
        table["note"] = ""
    table["note"] = table["note"].fillna("")
    excl = {"branch_months_with_several_visits_of_a_body": int(len(multi)),
            "item_pairs_with_na_or_one_body": int(len(wide) - len(both))}
    return ItemAgreementResult(table, body_a, body_b, excl, warnings=warns)


# NPS lives in sqc.nps; issue 6 fixes the public name sqc.audit.nps (0–10 ratings → .nps, .ci, .n).
from .nps import nps  # noqa: E402
