"""The five-gap model as one drill-down (PZB 1985; Zeithaml, Berry & Parasuraman 1988; Methods §2).

* **Gap 5** (customer gap) from the survey: :func:`sqc.servqual.score` dimension gaps.
* **Gap 1** (knowledge gap) when managers answer the same expectation items "as customers would":
  ``Ḡ1_i = mean_M(Ê_i) − mean_C(E_i)`` with a Welch t CI, Mann–Whitney p, Holm within the items; the Spearman
  ρ of the two item-mean profiles says whether managers rank priorities like customers do.
* **Gap 3** (delivery gap) from conformance evidence: audit checklist items (a visit conforms on an item when it
  scores the item's maximum) and KPIs (a period conforms when the KPI meets its target), as conformance rates
  with Wilson CIs, pooled per dimension.

:func:`default_mapping` builds the single mapping table (Methods §2.6) that links survey items, checklist items
and KPIs to a SERVQUAL dimension and a gap: ``standard_id, source, ref, dimension, gap_no, description_en,
description_zh, target, direction``. The default checklist and KPI assignments are our judgement for the demo
telecom network (documented below); pass your own ``checklist_dimensions`` / ``kpi_dimensions`` to change them.

Warning codes: W-GAP-02 (info: gap 1 rests on fewer than 10 management answers per dimension), W-GAP-03 (info:
conformance standards not mapped to a dimension, left out of the per-dimension rates). W-GAP-01 (regressing gap 5
on gaps 1-4 across few branches) belongs to a branch-level linking model that is not implemented here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..diagnostics import QualityWarning
from ..errors import DataError, ParameterError
from ..inference import _check_confidence, adjust_pvalues, wilson_ci
from .instrument import Instrument, default_instrument, prepare_responses
from ..results import ResultData

#: Checklist section → dimension (our judgement; per-item overrides below).
CHECKLIST_SECTION_DIMENSIONS = {
    "Exterior & signage": "tangibles",
    "Hall environment": "tangibles",
    "Queuing & waiting": "responsiveness",
    "Greeting & etiquette": "assurance",
    "Business handling": "reliability",
    "Closing & follow-up": "empathy",
}
#: Item-level exceptions to the section rule.
CHECKLIST_ITEM_DIMENSIONS = {
    "QU04": "tangibles",        # enough seats: a physical facility
    "QU05": "empathy",          # priority service for older/disabled customers
    "ET01": "tangibles",        # uniform and badge: staff appearance
    "BH01": "assurance",        # identity check: security
    "BH02": "empathy",          # understanding the customer's needs
    "BH03": "empathy",          # plan fits the customer's needs
    "BH08": "responsiveness",   # clear next step and date
    "CL04": "reliability",      # follow-up done when promised
}
#: KPI → (dimension, gap). CSAT and NPS are customer outcomes (gap 5 evidence), the rest delivery (gap 3).
KPI_DIMENSIONS = {
    "service_level": ("responsiveness", 3), "asa_s": ("responsiveness", 3),
    "abandonment_rate": ("responsiveness", 3), "aht_s": ("responsiveness", 3),
    "fcr_rate": ("reliability", 3), "complaint_rate_per_1000": ("reliability", 3),
    "audit_score": ("tangibles", 3), "csat_mean": ("overall", 5), "nps": ("overall", 5),
}


def default_mapping(instrument: Instrument | None = None, checklist: pd.DataFrame | None = None,
                    targets: pd.DataFrame | None = None, *, checklist_dimensions: dict | None = None,
                    kpi_dimensions: dict | None = None) -> pd.DataFrame:
    """The gap-model mapping table: one row per survey item, checklist item and KPI.

    Checklist items get their dimension from ``checklist_dimensions`` (item id → dimension) or else from the
    section (:data:`CHECKLIST_SECTION_DIMENSIONS`, item exceptions :data:`CHECKLIST_ITEM_DIMENSIONS`); an item
    with neither is kept with ``dimension`` NaN (unmapped) so that it is visible, not dropped.
    """
    inst = instrument or default_instrument()
    rows = [{"standard_id": f"SQ{i}", "source": "survey", "ref": str(i), "dimension": d, "gap_no": 5,
             "description_en": en, "description_zh": zh, "target": np.nan, "direction": "higher_is_better"}
            for i, d, en, zh in inst.items[["item", "dimension", "text_en", "text_zh"]].itertuples(index=False)]
    if checklist is not None:
        need = {"item_id", "section", "text_en", "text_zh", "max_score"}
        if need - set(checklist.columns):
            raise DataError("checklist lacks columns", column=sorted(need - set(checklist.columns))[0],
                            expected=f"columns {sorted(need)}")
        over = dict(CHECKLIST_ITEM_DIMENSIONS)
        over.update(checklist_dimensions or {})
        for r in checklist.itertuples(index=False):
            dim = over.get(r.item_id, CHECKLIST_SECTION_DIMENSIONS.get(r.section, np.nan))
            rows.append({"standard_id": f"AU-{r.item_id}", "source": "audit", "ref": r.item_id, "dimension": dim,
                         "gap_no": 3, "description_en": r.text_en, "description_zh": r.text_zh,
                         "target": float(r.max_score), "direction": "higher_is_better"})
    if targets is not None:
        kd = dict(KPI_DIMENSIONS)
        kd.update(kpi_dimensions or {})
        for r in targets.itertuples(index=False):
            dim, gap = kd.get(r.kpi, (np.nan, 3))
            rows.append({"standard_id": f"KPI-{r.kpi}", "source": "kpi", "ref": r.kpi, "dimension": dim,
                         "gap_no": gap, "description_en": getattr(r, "definition_en", r.kpi),
                         "description_zh": getattr(r, "definition_zh", r.kpi), "target": float(r.target),
                         "direction": r.direction})
    return pd.DataFrame(rows)


def audit_conformance(audit_visits: pd.DataFrame, checklist: pd.DataFrame, mapping: pd.DataFrame | None = None
                      ) -> pd.DataFrame:
    """Conformance per checklist item: a visit conforms on an item when its score equals the item's maximum;
    N/A (null) scores are left out of the denominator. Returns ``standard_id, source, ref, dimension, successes,
    n`` ready for :func:`gap_model`."""
    need = {"item_id", "score"}
    if need - set(audit_visits.columns):
        raise DataError("audit_visits lacks columns", column=sorted(need - set(audit_visits.columns))[0],
                        expected="item_id and score")
    mapping = default_mapping(checklist=checklist) if mapping is None else mapping
    mx = checklist.set_index("item_id")["max_score"].astype(float)
    av = audit_visits.dropna(subset=["score"])
    full = av["score"].astype(float).to_numpy() >= av["item_id"].map(mx).to_numpy() - 1e-9
    agg = pd.DataFrame({"ref": av["item_id"].to_numpy(), "ok": full}).groupby("ref")["ok"].agg(["sum", "count"])
    m = mapping[mapping["source"] == "audit"].set_index("ref")
    out = pd.DataFrame({"standard_id": m.loc[agg.index, "standard_id"].to_numpy() if len(m) else agg.index,
                        "source": "audit", "ref": agg.index, "dimension": m["dimension"].reindex(agg.index).to_numpy(),
                        "successes": agg["sum"].astype(int).to_numpy(), "n": agg["count"].astype(int).to_numpy()})
    return out


def kpi_conformance(kpi_values: pd.DataFrame, targets: pd.DataFrame, mapping: pd.DataFrame | None = None
                    ) -> pd.DataFrame:
    """Conformance per KPI: share of observed periods (rows of ``kpi_values``: ``kpi, value``, e.g. one row per
    branch-month) meeting the target in its direction."""
    if {"kpi", "value"} - set(kpi_values.columns):
        raise DataError("kpi_values needs columns kpi and value", expected="columns kpi, value")
    t = targets.set_index("kpi")
    unknown = sorted(set(kpi_values["kpi"]) - set(t.index))
    if unknown:
        raise DataError("KPI without a target", column="kpi", value=unknown[0], expected=f"one of {list(t.index)}")
    mapping = default_mapping(targets=targets) if mapping is None else mapping
    v = kpi_values.dropna(subset=["value"])
    tgt = v["kpi"].map(t["target"]).astype(float)
    higher = v["kpi"].map(t["direction"]).eq("higher_is_better")
    ok = np.where(higher, v["value"] >= tgt, v["value"] <= tgt)
    agg = pd.DataFrame({"ref": v["kpi"].to_numpy(), "ok": ok}).groupby("ref")["ok"].agg(["sum", "count"])
    m = mapping[mapping["source"] == "kpi"].set_index("ref")
    return pd.DataFrame({"standard_id": [f"KPI-{k}" for k in agg.index], "source": "kpi", "ref": agg.index,
                         "dimension": m["dimension"].reindex(agg.index).to_numpy(),
                         "successes": agg["sum"].astype(int).to_numpy(), "n": agg["count"].astype(int).to_numpy()})


@dataclass
class GapModelResult(ResultData):
    """Gaps 1, 3 and 5 per dimension, plus the detail tables.

    Attributes
    ----------
    dimensions : DataFrame
        Per dimension: ``gap5, gap5_low, gap5_high, gap5_n``; ``gap1, gap1_low, gap1_high`` (when a management
        sample was given); ``conformance, conformance_low, conformance_high, conformance_n, standards`` (gap 3).
    gap1_items : DataFrame or None
    gap1_profile_rho : float
        Spearman ρ between managers' and customers' expectation item means.
    gap3 : DataFrame or None
        Per standard: conformance rate with Wilson CI.
    mapping : DataFrame
    """

    dimensions: pd.DataFrame
    gap1_items: pd.DataFrame | None
    gap1_profile_rho: float
    gap3: pd.DataFrame | None
    mapping: pd.DataFrame

    def _summary_lines(self, lang: str = "en") -> list[str]:
        lines = ["Gap model by dimension (gap 5 = P − E from the survey; gap 1 = managers' − customers' "
                 "expectations; gap 3 = conformance of audit items / KPIs with their standards)"]
        for d, r in self.dimensions.iterrows():
            s = f"  {d:<16} gap5 {r['gap5']:+.2f} [{r['gap5_low']:+.2f}, {r['gap5_high']:+.2f}]"
            if "gap1" in r and pd.notna(r.get("gap1")):
                s += f"  gap1 {r['gap1']:+.2f} [{r['gap1_low']:+.2f}, {r['gap1_high']:+.2f}]"
            if pd.notna(r.get("conformance", np.nan)):
                s += (f"  conformance {r['conformance']:.1%} [{r['conformance_low']:.1%}, "
                      f"{r['conformance_high']:.1%}] ({int(r['standards'])} standards)")
            lines.append(s)
        if np.isfinite(self.gap1_profile_rho):
            lines.append(f"  managers rank expectation items like customers: Spearman ρ = {self.gap1_profile_rho:.2f}")
        return lines


def _welch(a: np.ndarray, b: np.ndarray, confidence: float):
    from scipy import stats

    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = np.sqrt(va + vb)
    diff = a.mean() - b.mean()
    if se == 0:
        return diff, diff, diff, (1.0 if diff == 0 else 0.0)
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    q = stats.t.ppf(0.5 + confidence / 2, df)
    return diff, diff - q * se, diff + q * se, 2 * stats.t.sf(abs(diff / se), df)


def gap_model(result, *, management: pd.DataFrame | None = None, conformance: pd.DataFrame | None = None,
              mapping: pd.DataFrame | None = None, confidence: float = 0.95, adjust: str = "holm") -> GapModelResult:
    """Assemble gaps 5, 1 and 3 per dimension.

    Parameters
    ----------
    result : ServqualResult
        Gap 5 (the customers' expectations also serve as the comparison for gap 1).
    management : DataFrame, optional
        Managers' answers to the same expectation items (columns as the instrument maps E).
    conformance : DataFrame, optional
        ``standard_id, dimension, successes, n`` (e.g. from :func:`audit_conformance` and
        :func:`kpi_conformance`, concatenated).
    """
    from scipy import stats

    confidence = _check_confidence(confidence)
    inst = result.instrument
    dims = inst.dimensions
    mapping = default_mapping(inst) if mapping is None else mapping
    dg = result.dimension_gaps
    out = pd.DataFrame({"gap5": dg["mean"], "gap5_low": dg["ci_low"], "gap5_high": dg["ci_high"],
                        "gap5_n": dg["n"]}, index=pd.Index(dims, name="dimension"))
    warns: list[QualityWarning] = []
    gap1_items, rho = None, float("nan")
    if management is not None:
        prep = prepare_responses(management, inst, components=("E",), optional_components=())
        M = prep.values["E"]
        C = result.item_values["E"]
        rows = []
        for j, item in enumerate(inst.item_ids):
            a, b = M[:, j][~np.isnan(M[:, j])], C[:, j][~np.isnan(C[:, j])]
            if a.size >= 2 and b.size >= 2:
                diff, lo, hi, p = _welch(a, b, confidence)
                mw = stats.mannwhitneyu(a, b).pvalue
            else:
                diff, lo, hi, p, mw = (a.mean() - b.mean() if a.size and b.size else np.nan), np.nan, np.nan, np.nan, np.nan
            rows.append({"item": item, "dimension": inst.items["dimension"].iloc[j], "managers_mean": a.mean() if a.size else np.nan,
                         "customers_mean": b.mean() if b.size else np.nan, "gap1": diff, "ci_low": lo, "ci_high": hi,
                         "p": p, "mannwhitney_p": mw, "n_managers": a.size, "n_customers": b.size})
        gap1_items = pd.DataFrame(rows).set_index("item")
        gap1_items["p_adj"] = adjust_pvalues(gap1_items["p"].to_numpy(), adjust)
        ok = gap1_items[["managers_mean", "customers_mean"]].dropna()
        if len(ok) >= 3:
            rho = float(stats.spearmanr(ok["managers_mean"], ok["customers_mean"]).statistic)
        d_rows = []
        dim_of = inst.dimension_index
        for j, d in enumerate(dims):
            cols = np.flatnonzero(dim_of == j)
            mdim = np.nanmean(M[:, cols], axis=1)
            cdim = np.nanmean(C[:, cols], axis=1)
            a, b = mdim[~np.isnan(mdim)], cdim[~np.isnan(cdim)]
            if a.size >= 2 and b.size >= 2:
                diff, lo, hi, p = _welch(a, b, confidence)
            else:
                diff = lo = hi = p = np.nan
            d_rows.append({"gap1": diff, "gap1_low": lo, "gap1_high": hi, "gap1_p": p, "gap1_n_managers": a.size})
        g1 = pd.DataFrame(d_rows, index=out.index)
        g1["gap1_p_adj"] = adjust_pvalues(g1["gap1_p"].to_numpy(), adjust)
        out = out.join(g1)
        if g1["gap1_n_managers"].min() < 10:
            warns.append(QualityWarning("W-GAP-02", "info", f"gap 1 rests on only {int(g1['gap1_n_managers'].min())} "
                                        "management answers per dimension; treat it as indicative",
                                        {"n_managers": int(g1["gap1_n_managers"].min())}, subject="gap 1",
                                        message_zh="差距1仅基于少量管理者回答，仅供参考"))
    gap3 = None
    if conformance is not None:
        need = {"standard_id", "dimension", "successes", "n"}
        if need - set(conformance.columns):
            raise DataError("conformance table lacks columns", column=sorted(need - set(conformance.columns))[0],
                            expected=f"columns {sorted(need)}")
        gap3 = conformance.copy()
        bad = (gap3["successes"] < 0) | (gap3["successes"] > gap3["n"])
        if bad.any():
            i = gap3.index[bad][0]
            raise DataError("successes must lie between 0 and n", column="successes", row=i,
                            value=gap3.loc[i, "successes"], expected=f"0..{gap3.loc[i, 'n']}")
        gap3["rate"] = np.where(gap3["n"] > 0, gap3["successes"] / gap3["n"].where(gap3["n"] > 0, 1), np.nan)
        gap3["ci_low"], gap3["ci_high"] = wilson_ci(gap3["successes"].to_numpy(), gap3["n"].to_numpy(), confidence)
        pooled = gap3.dropna(subset=["dimension"]).groupby("dimension")[["successes", "n"]].sum()
        pooled = pooled.reindex(dims)
        lo, hi = wilson_ci(pooled["successes"].fillna(0).to_numpy(), pooled["n"].fillna(0).to_numpy(), confidence)
        out["conformance"] = (pooled["successes"] / pooled["n"]).to_numpy()
        out["conformance_low"], out["conformance_high"] = lo, hi
        out["conformance_n"] = pooled["n"].fillna(0).astype(int).to_numpy()
        out["standards"] = gap3.groupby("dimension")["standard_id"].nunique().reindex(dims).fillna(0).astype(int).to_numpy()
        unm = gap3["dimension"].isna().sum()
        if unm:
            warns.append(QualityWarning("W-GAP-03", "info", f"{unm} standard(s) are not mapped to a dimension and are "
                                        "left out of the per-dimension conformance",
                                        {"unmapped": gap3.loc[gap3["dimension"].isna(), "standard_id"].tolist()},
                                        subject="gap 3", message_zh=f"{unm}项标准未映射到维度"))
    return GapModelResult(dimensions=out, gap1_items=gap1_items, gap1_profile_rho=rho, gap3=gap3, mapping=mapping,
                          warnings=warns)
