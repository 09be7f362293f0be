"""Dashboard section "customer view: SERVQUAL gaps" (Methods §1, §7 item 3; issue 4).

For the latest survey wave up to ``ctx.period`` (and ``ctx.branches``): headline numbers with n and 95 % CIs
(dimension-average SERVQUAL, importance-weighted SERVQUAL, SERVPERF, the largest dimension gap), plain-language
notes (largest gap and whether it is clearly separated, importance, weak items by corrected item-total r, change
since the previous wave, branches below the company, zone of tolerance, IPA "concentrate here"), the charts (gap by
dimension, E vs P profile, zone of tolerance when the wave has A/D columns, IPA, branch × dimension heat map) and
the W-SQ warnings. Questionnaire versions are read from the data directory's ``survey_instrument_*.csv`` files
(``ctx.data.extras``) so that reverse-worded items of older waves are recoded; the CFA of the dimension structure
is left to the reliability section (``score(structure=False)``) so it is not fitted twice.
Labels: ``sqc/report/locale/servqual.json`` (en, zh).
"""
from __future__ import annotations

import pandas as pd

from ..context import ReportContext, Section

MIN_N = 30
WEAK_ITEM_R = 0.30


def _instruments(ctx: ReportContext, survey: pd.DataFrame):
    from ...servqual import Instrument, default_instrument

    extras = getattr(ctx.data, "extras", {}) or {}
    found = {}
    for stem, path in extras.items():
        if str(stem).startswith("survey_instrument_"):
            found[str(stem).replace("survey_instrument_", "")] = Instrument.from_csv(path)
    if "instrument" in survey.columns and found:
        used = set(survey["instrument"].dropna().astype(str))
        if used <= set(found):
            return {k: v for k, v in found.items() if k in used}
    return default_instrument()


def _fmt(x, d=2, sign=True):
    if x is None or pd.isna(x):
        return "—"
    return f"{x:+.{d}f}" if sign else f"{x:.{d}f}"


def _est(row, mean="mean", lo="ci_low", hi="ci_high", n="n") -> dict:
    return {"value": float(row[mean]), "ci_low": float(row[lo]), "ci_high": float(row[hi]), "n": int(row[n])}


def build(ctx: ReportContext) -> Section:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import panel as pn

    from ...plotting import servqual as sp
    from ...servqual import ipa, score, segment_heatmap, trend

    t = ctx.t
    title = t("servqual.title")
    survey = ctx.data.survey
    survey = survey[(survey["wave"].astype(str) <= ctx.period) & survey["branch"].isin(ctx.branches)]
    counts = survey.groupby(survey["wave"].astype(str)).size()
    waves = [w for w, c in counts.items() if c >= MIN_N]
    if not waves:
        msg = t("servqual.insufficient", min_n=MIN_N, period=ctx.fmt_period(ctx.period))
        return Section("servqual", title, pn.Column(pn.pane.Markdown(msg)), {"wave": None}, [], [msg])
    wave = max(waves)
    latest = survey[survey["wave"].astype(str) == wave]
    res = score(latest, _instruments(ctx, latest), structure=False)
    names = {d: t(f"servqual.dim_{d}") for d in res.dimensions + ["overall"]}
    dg = res.dimension_gaps
    ov = res.overall_table

    # ---- headline numbers
    worst = dg["mean"].idxmin()
    headline = {"wave": wave, "n": int(res.n), "instrument": getattr(res.instrument, "name", "default"),
                "servqual": _est(ov.loc["servqual"]), "servperf": _est(ov.loc["servperf"]),
                "dimension_gaps": {d: _est(r) for d, r in dg.iterrows()},
                "largest_gap_dimension": worst}
    if "weighted" in ov.index:
        headline["weighted"] = _est(ov.loc["weighted"])
        headline["weighted_aggregate"] = _est(ov.loc["weighted_aggregate"])

    notes: list[str] = []
    others = dg.drop(index=worst).sort_values("mean")
    nxt = others.index[0] if len(others) else None
    w = dg.loc[worst]
    args = dict(dim=names[worst], gap=_fmt(w["mean"]), lo=_fmt(w["ci_low"]), hi=_fmt(w["ci_high"]), n=int(w["n"]),
                e=_fmt(w["E_mean"], sign=False), p=_fmt(w["P_mean"], sign=False),
                next=names.get(nxt, nxt), next_gap=_fmt(others["mean"].iloc[0]) if nxt else "—")
    clear = nxt is not None and w["ci_high"] < others.loc[nxt, "ci_low"]
    notes.append(t("servqual.largest_clear" if clear else "servqual.largest_unclear", **args))
    headline["largest_gap_clear"] = bool(clear)
    if res.importance is not None:
        top = res.importance["mean"].idxmax()
        r = res.importance.loc[top]
        notes.append(t("servqual.importance_note", dim=names[top], w=_fmt(r["mean"], 1, False),
                       lo=_fmt(r["ci_low"], 1, False), hi=_fmt(r["ci_high"], 1, False), n=int(r["n"])))
        headline["importance"] = {d: _est(x) for d, x in res.importance.iterrows()}

    # weak items: corrected item-total correlation (perceptions) below 0.30
    it = res.item_gaps
    weak = it[it["item_total_r_P"] < WEAK_ITEM_R]
    headline["weak_items"] = []
    for item, r in weak.iterrows():
        rest = it[(it["dimension"] == r["dimension"]) & (it.index != item)]["item_total_r_P"]
        notes.append(t("servqual.weak_item", item=item, dim=names[r["dimension"]],
                       text=r["text_zh" if ctx.lang == "zh" else "text_en"], r=_fmt(r["item_total_r_P"], sign=False),
                       rmin=_fmt(rest.min(), sign=False), rmax=_fmt(rest.max(), sign=False), gap=_fmt(r["mean"])))
        headline["weak_items"].append({"item": str(item), "dimension": r["dimension"],
                                       "item_total_r": float(r["item_total_r_P"])})
    if weak.empty:
        notes.append(t("servqual.no_weak"))

    # change since the previous wave (all waves up to the period, versioned instruments)
    prev_waves = [x for x in waves if x < wave]
    if prev_waves:
        both = survey[survey["wave"].astype(str).isin([prev_waves[-1], wave])]
        tr = trend(score(both, _instruments(ctx, both), structure=False, tests=("t",), zot=False), "wave",
                   min_n=MIN_N)
        ch = tr["change"]
        sig = ch[ch["p_adj"] < 0.05] if len(ch) and "p_adj" in ch else ch.iloc[0:0]
        headline["change_vs_previous"] = {d: {"diff": float(r["diff"]), "ci_low": float(r["ci_low"]),
                                              "ci_high": float(r["ci_high"]), "p_adj": float(r["p_adj"]),
                                              "previous": r["previous"]} for d, r in ch.iterrows()}
        if sig.empty:
            notes.append(t("servqual.change_none", prev=ctx.fmt_period(prev_waves[-1])))
        for d, r in sig.iterrows():
            notes.append(t("servqual.change_sig", prev=ctx.fmt_period(prev_waves[-1]), dim=names.get(d, d),
                           diff=_fmt(r["diff"]), lo=_fmt(r["ci_low"]), hi=_fmt(r["ci_high"]),
                           p=f"{r['p_adj']:.3g}"))

    heat = segment_heatmap(res, "branch", min_n=MIN_N)
    below = heat[(heat["dimension"] == "overall") & (heat["marker"] == "below")]["segment"].astype(str).tolist()
    notes.append(t("servqual.branch_below", branches=", ".join(below)) if below else t("servqual.branch_none"))
    headline["branches_below_company"] = below

    if res.zot is not None and res.zot.dimensions["n"].sum() > 0:
        zd = res.zot.dimensions
        zw = zd["share_below"].idxmax()
        zr = zd.loc[zw]
        notes.append(t("servqual.zot_note", dim=names[zw], below=ctx.fmt_pct(zr["share_below"]),
                       lo=ctx.fmt_pct(zr["share_below_low"]), hi=ctx.fmt_pct(zr["share_below_high"]), n=int(zr["n"])))
        headline["zot_below"] = {d: {"value": float(r["share_below"]), "ci_low": float(r["share_below_low"]),
                                     "ci_high": float(r["share_below_high"]), "n": int(r["n"])}
                                 for d, r in zd.iterrows()}
    ipa_res = None
    if res.importance is not None:
        ipa_res = ipa(res, importance="stated", centre="data")
        conc = ipa_res.table.index[ipa_res.table["quadrant"] == "concentrate here"].tolist()
        notes.append(t("servqual.ipa_note", centre=t(f"servqual.centre_{ipa_res.centre}"),
                       items=", ".join(names[d] for d in conc)) if conc else t("servqual.ipa_none"))
        headline["ipa_concentrate_here"] = conc

    # ---- gap model drill-down: customer gap (gap 5) beside audit conformance (gap 3) per dimension
    gap_tab = None
    checklist = getattr(ctx.data, "checklist", None)
    visits = getattr(ctx.data, "audit_visits", None)
    if checklist is not None and visits is not None and len(visits):
        from ...servqual import audit_conformance, default_mapping, gap_model

        visits = visits[(visits["period"].astype(str) <= ctx.period) & visits["branch"].isin(ctx.branches)]
        if len(visits):
            mapping = default_mapping(res.instrument, checklist)
            gm = gap_model(res, conformance=audit_conformance(visits, checklist, mapping), mapping=mapping)
            g = gm.dimensions
            gap_tab = pd.DataFrame({
                t("servqual.col_dimension"): [names[d] for d in g.index],
                t("servqual.col_gap5"): [f"{_fmt(m)} [{_fmt(lo)}, {_fmt(hi)}]"
                                         for m, lo, hi in zip(g["gap5"], g["gap5_low"], g["gap5_high"])],
                t("servqual.col_gap3"): [f"{ctx.fmt_pct(c)} [{ctx.fmt_pct(lo)}, {ctx.fmt_pct(hi)}]"
                                         for c, lo, hi in zip(g["conformance"], g["conformance_low"],
                                                              g["conformance_high"])],
                t("servqual.col_standards"): g["standards"].astype(int).to_numpy(),
                t("servqual.col_obs"): g["conformance_n"].astype(int).to_numpy()})
            headline["gap_model"] = {d: {"gap5": float(r["gap5"]), "conformance": float(r["conformance"]),
                                         "conformance_ci": [float(r["conformance_low"]), float(r["conformance_high"])],
                                         "observations": int(r["conformance_n"])} for d, r in g.iterrows()}

    # ---- layout: headline table, charts, notes, warnings
    rows = [{t("servqual.col_dimension"): t("servqual.h_overall"),
             t("servqual.col_gap"): f"{_fmt(ov.loc['servqual', 'mean'])} [{_fmt(ov.loc['servqual', 'ci_low'])}, "
                                    f"{_fmt(ov.loc['servqual', 'ci_high'])}]",
             t("servqual.col_n"): int(ov.loc["servqual", "n"])}]
    if "weighted" in ov.index:
        rows.append({t("servqual.col_dimension"): t("servqual.h_weighted"),
                     t("servqual.col_gap"): f"{_fmt(ov.loc['weighted', 'mean'])} [{_fmt(ov.loc['weighted', 'ci_low'])}, "
                                            f"{_fmt(ov.loc['weighted', 'ci_high'])}]",
                     t("servqual.col_n"): int(ov.loc["weighted", "n"])})
    rows.append({t("servqual.col_dimension"): t("servqual.h_servperf"),
                 t("servqual.col_gap"): f"{_fmt(ov.loc['servperf', 'mean'], sign=False)} "
                                        f"[{_fmt(ov.loc['servperf', 'ci_low'], sign=False)}, "
                                        f"{_fmt(ov.loc['servperf', 'ci_high'], sign=False)}]",
                 t("servqual.col_n"): int(ov.loc["servperf", "n"])})
    head_tab = pd.DataFrame(rows)
    dim_tab = pd.DataFrame({
        t("servqual.col_dimension"): [names[d] for d in dg.index],
        t("servqual.col_e"): [_fmt(x, sign=False) for x in dg["E_mean"]],
        t("servqual.col_p"): [_fmt(x, sign=False) for x in dg["P_mean"]],
        t("servqual.col_gap"): [f"{_fmt(m)} [{_fmt(lo)}, {_fmt(hi)}]" for m, lo, hi in
                                zip(dg["mean"], dg["ci_low"], dg["ci_high"])],
        t("servqual.col_n"): dg["n"].astype(int).to_numpy(),
        t("servqual.col_padj"): [f"{p:.2g}" for p in dg["p_adj"]]})

    parts = [pn.pane.Markdown(f"### {title}\n\n" + t("servqual.intro", wave=ctx.fmt_period(wave),
                                                        period=ctx.fmt_period(ctx.period), n=res.n)),
             pn.pane.DataFrame(head_tab, index=False),
             pn.pane.Markdown("\n\n".join(f"- {x}" for x in notes)),
             pn.pane.Bokeh(sp.gap_bokeh(res, title=t("servqual.chart_gaps"), names=names,
                                        labels={"x": t("servqual.lab_gap_axis")})),
             pn.pane.DataFrame(dim_tab, index=False)]
    figs = [sp.profile_figure(res, title=t("servqual.chart_profile"),
                              labels={"E": t("servqual.lab_expect"), "P": t("servqual.lab_perceive"),
                                      "x": t("servqual.lab_item"), "y": t("servqual.lab_mean")}, names=names)]
    if res.zot is not None and res.zot.dimensions["n"].sum() > 0:
        figs.append(sp.zot_figure(res.zot, title=t("servqual.chart_zot"),
                                  labels={"zone": t("servqual.lab_zone"), "P": t("servqual.lab_perceive"),
                                          "y": t("servqual.lab_mean")}))
    if ipa_res is not None:
        figs.append(sp.ipa_figure(ipa_res, title=t("servqual.chart_ipa"), names=names))
    for fig in figs:
        parts.append(pn.pane.Matplotlib(fig, format="png", tight=True, dpi=110))
        plt.close(fig)
    parts.append(pn.pane.Bokeh(sp.heatmap_bokeh(heat, title=t("servqual.chart_heat"), names=names, min_n=MIN_N)))
    if gap_tab is not None:
        parts.append(pn.pane.Markdown(f"#### {t('servqual.gap_model_title')}\n\n{t('servqual.gap_model_note')}"))
        parts.append(pn.pane.DataFrame(gap_tab, index=False))
    warns = list(res.warnings)
    if warns:
        parts.append(pn.pane.Markdown(f"#### {t('servqual.warnings_title')}\n\n" +
                                      "\n".join(f"- **{w.code}** {w.text(ctx.lang)}" for w in warns)))
    parts.append(pn.pane.Markdown(f"<small>{t('servqual.method_note')}</small>"))
    return Section("servqual", title, pn.Column(*parts), headline, warns, notes)
