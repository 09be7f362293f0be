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

from ..context import (ByLang, ComputeContext, Formatted, Joined, Label, Month, Note, ReportContext, Section,
                       SectionResult)

AREA = "servqual"
# compute reads only the tables loaded in memory (never the store): a run may compute it in a forked process
LOADED_TABLES_ONLY = True
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


def compute(ctx: ComputeContext) -> SectionResult:
    """Scores of the latest wave with n ≥ MIN_N, the change since the previous one, heat map, ZOT, IPA, gap model."""
    from ...servqual import ipa, score, segment_heatmap, trend

    survey = ctx.data.survey
    survey = survey[(survey["wave"].astype(str) <= ctx.period) & survey["branch"].isin(ctx.branches)]
    counts = survey.groupby(survey["wave"].astype(str)).size()
    waves = [w for w, c in counts.items() if c >= MIN_N]
    if not waves:
        message = Note(f"{AREA}.insufficient", {"min_n": MIN_N, "period": Month(ctx.period)})
        return SectionResult(AREA, ctx, {"wave": None}, [], {"insufficient": True, "message": message}, [message])
    wave = max(waves)
    latest = survey[survey["wave"].astype(str) == wave]
    res = score(latest, _instruments(ctx, latest), structure=False)
    dg = res.dimension_gaps
    ov = res.overall_table
    values = {"insufficient": False, "wave": wave, "score": res}

    # ---- headline numbers
    worst = dg["mean"].idxmin()
    headline = {"wave": wave, "n": int(res.n), "instrument": getattr(res.instrument, "name", "default"),
                "servqual": _est(ov.loc["servqual"]), "servperf": _est(ov.loc["servperf"]),
                "dimension_gaps": {d: _est(r) for d, r in dg.iterrows()},
                "largest_gap_dimension": worst}
    if "weighted" in ov.index:
        headline["weighted"] = _est(ov.loc["weighted"])
        headline["weighted_aggregate"] = _est(ov.loc["weighted_aggregate"])
    others = dg.drop(index=worst).sort_values("mean")
    nxt = others.index[0] if len(others) else None
    clear = nxt is not None and dg.loc[worst, "ci_high"] < others.loc[nxt, "ci_low"]
    values.update(worst=worst, others=others, next=nxt)
    headline["largest_gap_clear"] = bool(clear)
    if res.importance is not None:
        headline["importance"] = {d: _est(x) for d, x in res.importance.iterrows()}

    # weak items: corrected item-total correlation (perceptions) below 0.30
    it = res.item_gaps
    weak = it[it["item_total_r_P"] < WEAK_ITEM_R]
    values["weak_items"] = weak
    headline["weak_items"] = [{"item": str(item), "dimension": r["dimension"],
                               "item_total_r": float(r["item_total_r_P"])} for item, r in weak.iterrows()]

    # change since the previous wave (all waves up to the period, versioned instruments)
    prev_waves = [x for x in waves if x < wave]
    values["previous_wave"] = prev_waves[-1] if prev_waves else None
    if prev_waves:
        both = survey[survey["wave"].astype(str).isin([prev_waves[-1], wave])]
        tr = trend(score(both, _instruments(ctx, both), structure=False, tests=("t",), zot=False), "wave",
                   min_n=MIN_N)
        ch = tr["change"]
        values["significant_changes"] = ch[ch["p_adj"] < 0.05] if len(ch) and "p_adj" in ch else ch.iloc[0:0]
        headline["change_vs_previous"] = {d: {"diff": float(r["diff"]), "ci_low": float(r["ci_low"]),
                                              "ci_high": float(r["ci_high"]), "p_adj": float(r["p_adj"]),
                                              "previous": r["previous"]} for d, r in ch.iterrows()}

    heat = segment_heatmap(res, "branch", min_n=MIN_N)
    values["heat"] = heat
    below = heat[(heat["dimension"] == "overall") & (heat["marker"] == "below")]["segment"].astype(str).tolist()
    headline["branches_below_company"] = below
    values["has_zot"] = res.zot is not None and res.zot.dimensions["n"].sum() > 0
    if values["has_zot"]:
        headline["zot_below"] = {d: {"value": float(r["share_below"]), "ci_low": float(r["share_below_low"]),
                                     "ci_high": float(r["share_below_high"]), "n": int(r["n"])}
                                 for d, r in res.zot.dimensions.iterrows()}
    values["ipa"] = None
    if res.importance is not None:
        values["ipa"] = ipa(res, importance="stated", centre="data")
        headline["ipa_concentrate_here"] = values["ipa"].table.index[
            values["ipa"].table["quadrant"] == "concentrate here"].tolist()

    # ---- gap model drill-down: customer gap (gap 5) beside audit conformance (gap 3) per dimension
    values["gap_model"] = None
    checklist = getattr(ctx.data, "checklist", None)
    visits = getattr(ctx.data, "audit_visits", None)
    if checklist is not None and visits is not None and len(visits):
        from ...servqual import audit_conformance, default_mapping, gap_model

        visits = visits[(visits["period"].astype(str) <= ctx.period) & visits["branch"].isin(ctx.branches)]
        if len(visits):
            mapping = default_mapping(res.instrument, checklist)
            g = gap_model(res, conformance=audit_conformance(visits, checklist, mapping), mapping=mapping).dimensions
            values["gap_model"] = g
            headline["gap_model"] = {d: {"gap5": float(r["gap5"]), "conformance": float(r["conformance"]),
                                         "conformance_ci": [float(r["conformance_low"]), float(r["conformance_high"])],
                                         "observations": int(r["conformance_n"])} for d, r in g.iterrows()}
    return SectionResult(AREA, ctx, headline, list(res.warnings), values, _notes(res, values, headline))


def _notes(res, values: dict, headline: dict) -> list[Note]:
    """The plain-language findings: largest gap (and whether it is clearly separated), importance, weak items,
    change since the previous wave, branches below the company, zone of tolerance, IPA "concentrate here"."""
    def dim(d):
        return Label(f"{AREA}.dim_{d}", str(d))

    def signed(x, digits=2):
        return Formatted(x, f"+.{digits}f")

    def plain(x, digits=2):
        return Formatted(x, f".{digits}f")

    dg = res.dimension_gaps
    worst, others, nxt = values["worst"], values["others"], values["next"]
    w = dg.loc[worst]
    notes = [Note(f"{AREA}.largest_clear" if headline["largest_gap_clear"] else f"{AREA}.largest_unclear", dict(
        dim=dim(worst), gap=signed(w["mean"]), lo=signed(w["ci_low"]), hi=signed(w["ci_high"]), n=int(w["n"]),
        e=plain(w["E_mean"]), p=plain(w["P_mean"]), next=dim(nxt) if nxt is not None else "None",
        next_gap=signed(others["mean"].iloc[0]) if nxt else "—"),
        # a clear priority needs action; its size: how far perception falls short of expectation, |P / E − 1|
        severity="warning" if headline["largest_gap_clear"] else "info", effect=abs(w["P_mean"] / w["E_mean"] - 1),
        subject="servqual:largest_gap", plain_key=f"{AREA}.largest_clear_plain")]
    if res.importance is not None:
        top = res.importance["mean"].idxmax()
        r = res.importance.loc[top]
        notes.append(Note(f"{AREA}.importance_note", dict(dim=dim(top), w=plain(r["mean"], 1), lo=plain(r["ci_low"], 1),
                                                          hi=plain(r["ci_high"], 1), n=int(r["n"]))))
    it = res.item_gaps
    weak = values["weak_items"]
    for item, r in weak.iterrows():
        rest = it[(it["dimension"] == r["dimension"]) & (it.index != item)]["item_total_r_P"]
        notes.append(Note(f"{AREA}.weak_item", dict(
            item=str(item), dim=dim(r["dimension"]), text=ByLang(r["text_en"], r["text_zh"]),
            r=plain(r["item_total_r_P"]), rmin=plain(rest.min()), rmax=plain(rest.max()), gap=signed(r["mean"])),
            subject=f"item:{item}"))
    if weak.empty:
        notes.append(Note(f"{AREA}.no_weak"))
    prev = values["previous_wave"]
    if prev is not None:
        sig = values["significant_changes"]
        if sig.empty:
            notes.append(Note(f"{AREA}.change_none", {"prev": Month(prev)}))
        for d, r in sig.iterrows():
            notes.append(Note(f"{AREA}.change_sig", dict(prev=Month(prev), dim=dim(d), diff=signed(r["diff"]),
                                                         lo=signed(r["ci_low"]), hi=signed(r["ci_high"]),
                                                         p=Formatted(r["p_adj"], ".3g")),
                              severity="warning" if r["diff"] < 0 else "info", subject=f"servqual:change:{d}",
                              plain_key=f"{AREA}.change_sig_plain"))
    below = headline["branches_below_company"]
    notes.append(Note(f"{AREA}.branch_below", {"branches": ", ".join(below)}, severity="warning",
                      subject="servqual:branches_below", plain_key=f"{AREA}.branch_below_plain") if below
                 else Note(f"{AREA}.branch_none"))
    if values["has_zot"]:
        zd = res.zot.dimensions
        zw = zd["share_below"].idxmax()
        zr = zd.loc[zw]
        notes.append(Note(f"{AREA}.zot_note", dict(dim=dim(zw), below=Formatted(zr["share_below"], ".1%"),
                                                   lo=Formatted(zr["share_below_low"], ".1%"),
                                                   hi=Formatted(zr["share_below_high"], ".1%"), n=int(zr["n"]))))
    ipa_res = values["ipa"]
    if ipa_res is not None:
        conc = headline["ipa_concentrate_here"]
        notes.append(Note(f"{AREA}.ipa_note", {"centre": Label(f"{AREA}.centre_{ipa_res.centre}"),
                                               "items": Joined(tuple(dim(d) for d in conc))}) if conc
                     else Note(f"{AREA}.ipa_none"))
    return notes


def render(result: SectionResult, lang: str) -> Section:
    import panel as pn

    from ...plotting import servqual as sp
    from ..panes import message_section

    ctx = result.context.in_language(lang)
    t = ctx.t
    title = t("servqual.title")
    v = result.values
    if v["insufficient"]:
        return message_section(result, ctx, title, v["message"])
    res, wave = v["score"], v["wave"]
    names = {d: t(f"servqual.dim_{d}") for d in res.dimensions + ["overall"]}
    dg = res.dimension_gaps
    ov = res.overall_table

    notes = [ctx.note_text(n) for n in result.notes]
    gap_tab = None
    g = v["gap_model"]
    if g is not None:
        gap_tab = pd.DataFrame({
            t("servqual.col_dimension"): [names[d] for d in g.index],
            t("servqual.col_gap5"): [f"{_fmt(m)} [{_fmt(lo)}, {_fmt(hi)}]"
                                     for m, lo, hi in zip(g["gap5"], g["gap5_low"], g["gap5_high"])],
            t("servqual.col_gap3"): [f"{ctx.fmt_pct(c)} [{ctx.fmt_pct(lo)}, {ctx.fmt_pct(hi)}]"
                                     for c, lo, hi in zip(g["conformance"], g["conformance_low"],
                                                          g["conformance_high"])],
            t("servqual.col_standards"): g["standards"].astype(int).to_numpy(),
            t("servqual.col_obs"): g["conformance_n"].astype(int).to_numpy()})

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
                                        labels={"x": t("servqual.lab_gap_axis")}, lang=ctx.lang)),
             pn.pane.DataFrame(dim_tab, index=False)]
    # charts drawn by the browser (Bokeh): the reader's fonts, no image per language
    figs = [sp.profile_bokeh(res, title=t("servqual.chart_profile"),
                             labels={"E": t("servqual.lab_expect"), "P": t("servqual.lab_perceive"),
                                     "x": t("servqual.lab_item"), "y": t("servqual.lab_mean")}, names=names,
                             lang=ctx.lang)]
    if v["has_zot"]:
        figs.append(sp.zot_bokeh(res.zot, title=t("servqual.chart_zot"),
                                 labels={"zone": t("servqual.lab_zone"), "P": t("servqual.lab_perceive"),
                                         "y": t("servqual.lab_mean")}, lang=ctx.lang))
    if v["ipa"] is not None:
        figs.append(sp.ipa_bokeh(v["ipa"], title=t("servqual.chart_ipa"), names=names, lang=ctx.lang))
    parts.extend(pn.pane.Bokeh(fig) for fig in figs)
    parts.append(pn.pane.Bokeh(sp.heatmap_bokeh(v["heat"], title=t("servqual.chart_heat"), names=names, min_n=MIN_N,
                                                lang=ctx.lang, segment_label=t("charts.branch"))))
    if gap_tab is not None:
        parts.append(pn.pane.Markdown(f"#### {t('servqual.gap_model_title')}\n\n{t('servqual.gap_model_note')}"))
        parts.append(pn.pane.DataFrame(gap_tab, index=False))
    warns = result.warnings
    if warns:
        parts.append(pn.pane.Markdown(f"#### {t('servqual.warnings_title')}\n\n" +
                                      "\n".join(f"- **{w.code}** {ctx.display_names(w.text(ctx.lang))}"
                                                for w in warns)))
    parts.append(pn.pane.Markdown(f"<small>{t('servqual.method_note')}</small>"))
    return result.to_section(ctx, title, pn.Column(*parts))


def build(ctx: ReportContext) -> Section:
    """One language's section (``render(compute(ctx), ctx.lang)``)."""
    return render(compute(ctx), ctx.lang)
