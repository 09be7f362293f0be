"""Dashboard section "can this score be trusted" (Methods §1.9-1.10, issue 5).

For the latest survey wave up to ``ctx.period`` (and ``ctx.branches``): Cronbach's alpha with its Feldt 95 % CI and
n for each SERVQUAL dimension, perceptions (P) and expectations (E); a CFA of the five-dimension structure on the
perceptions (lavaan-style ML, listwise) with a plain verdict; weak items (corrected item–total r < 0.30) named in
plain words with their questionnaire text. Reverse-worded items of the v1 questionnaire are reverse-keyed.
Labels: ``sqc/report/locale/reliability.json`` (en, zh).
"""
from __future__ import annotations

import pandas as pd

from ...reliability import alpha, cfa
from ..panes import message_section
from ..context import (ByLang, ComputeContext, Formatted, Label, Month, Note, ReportContext, Section, SectionResult,
                       translate)

AREA = "reliability"
# compute reads only the tables loaded in memory (never the store): a run may compute it in a forked process
LOADED_TABLES_ONLY = True
DIMENSIONS = {"tangibles": [1, 2, 3, 4], "reliability": [5, 6, 7, 8, 9], "responsiveness": [10, 11, 12, 13],
              "assurance": [14, 15, 16, 17], "empathy": [18, 19, 20, 21, 22]}
V1_REVERSED = (11, 20)  # data contract: instrument "v1" has items 11 and 20 negatively worded
MIN_N = 30
SCALE = (1, 7)


def _instrument_text(lang: str) -> dict:
    try:
        from ...servqual import default_instrument

        items = default_instrument().items
        col = "text_zh" if lang == "zh" else "text_en"
        return {int(r.item): str(getattr(r, col)) for r in items.itertuples()}
    except Exception:  # the text is a nicety; the numbers do not depend on it
        return {}


def _dimensions():
    try:
        from ...servqual import default_instrument

        return {d: list(v) for d, v in default_instrument().dimension_items.items()}
    except Exception:
        return DIMENSIONS


def compute(ctx: ComputeContext) -> SectionResult:
    """Alpha per dimension (P and E), the CFA of the perceptions and the weak items of the latest wave."""
    survey = ctx.data.survey
    survey = survey[(survey["wave"].astype(str) <= ctx.period) & survey["branch"].isin(ctx.branches)]
    message = Note(f"{AREA}.insufficient", {"period": Month(ctx.period)})
    if survey.empty:
        return SectionResult(AREA, ctx, {"wave": None}, [], {"insufficient": True, "message": message}, [message])
    wave = str(survey["wave"].astype(str).max())
    latest = survey[survey["wave"].astype(str) == wave]
    if len(latest) < MIN_N:
        return SectionResult(AREA, ctx, {"wave": wave, "n": len(latest)}, [],
                             {"insufficient": True, "message": message}, [message])
    # one questionnaire version per analysis: the most common one in the wave
    instrument = str(latest["instrument"].mode().iloc[0]) if "instrument" in latest else "v2"
    latest = latest[latest["instrument"].astype(str) == instrument] if "instrument" in latest else latest
    reversed_items = V1_REVERSED if instrument == "v1" else ()
    dims = _dimensions()

    results: dict[str, dict] = {"P": {}, "E": {}}
    warnings = []
    for comp in ("P", "E"):
        for d, items in dims.items():
            cols = [f"{comp}{i}" for i in items if f"{comp}{i}" in latest]
            if len(cols) < 2 or latest[cols].notna().sum().min() < MIN_N:
                continue
            keys = [f"{comp}{i}" for i in reversed_items if i in items]
            res = alpha(latest[cols], keys=keys, scale=SCALE)
            results[comp][d] = res
            en, zh = (translate(f"{AREA}.dim_{d}", lang) for lang in ("en", "zh"))
            for w in res.warnings:
                warnings.append(type(w)(w.code, w.severity, f"{comp} {en}: {w.message}", w.evidence,
                                        w.subject or f"{comp}:{d}", w.message_zh and f"{comp} {zh}：{w.message_zh}"))

    headline = {"wave": wave, "instrument": instrument, "alpha": {}, "cfa": None, "weak_items": []}
    for d in dims:
        rp, re_ = results["P"].get(d), results["E"].get(d)
        headline["alpha"][d] = {comp: {"value": r.alpha, "ci_low": r.ci[0], "ci_high": r.ci[1], "n": r.n,
                                       "method": "Feldt"}
                                for comp, r in (("P", rp), ("E", re_)) if r is not None}
    for d, res in results["P"].items():
        s = res.item_stats
        for item, row in s[s["r_drop"] < 0.30].iterrows():
            headline["weak_items"].append({"item": str(item), "dimension": d, "r_drop": float(row["r_drop"]),
                                           "alpha": res.alpha, "alpha_if_deleted": float(row["alpha_if_deleted"]),
                                           "n": int(row["n"])})

    # CFA of the five-dimension structure on perceptions
    model = {d: [f"P{i}" for i in items] for d, items in dims.items()}
    cfa_error = None
    try:
        data = latest[[c for cols in model.values() for c in cols]].copy()
        for i in reversed_items:
            data[f"P{i}"] = SCALE[0] + SCALE[1] - data[f"P{i}"]
        fit = cfa(data, model)
        f = fit.fit
        headline["cfa"] = {"chisq": f["chisq"], "df": f["df"], "cfi": f["cfi"], "tli": f["tli"], "rmsea": f["rmsea"],
                           "rmsea_ci_low": f["rmsea_ci_lower"], "rmsea_ci_high": f["rmsea_ci_upper"],
                           "srmr": f["srmr"], "n": fit.n, "fit_ok": fit.fit_ok}
        warnings.extend(fit.warnings)
    except Exception as exc:  # reported, not hidden: the panel says why the structure was not checked
        cfa_error = str(exc)
    # the weak items (perceptions) in plain words with their questionnaire text, and the CFA verdict
    texts = {lang: _instrument_text(lang) for lang in ("en", "zh")}
    weak = [Note(f"{AREA}.weak_item", {
        "item": int(w["item"][1:]), "dimension": Label(f"{AREA}.dim_{w['dimension']}"),
        "text": ByLang(*(texts[lang].get(int(w["item"][1:]), w["item"]) for lang in ("en", "zh"))),
        "r": Formatted(w["r_drop"], ".2f"), "alpha_without": Formatted(w["alpha_if_deleted"], ".2f"),
        "alpha": Formatted(w["alpha"], ".2f")}, subject=f"item:{int(w['item'][1:])}") for w in headline["weak_items"]]
    f = headline["cfa"]
    if f is None:
        cfa_note = Note(f"{AREA}.cfa_failed", {"reason": cfa_error})
    else:
        cfa_note = Note(f"{AREA}.cfa_ok" if f["fit_ok"] else f"{AREA}.cfa_bad", {
            "cfi": Formatted(f["cfi"], ".3f"), "rmsea": Formatted(f["rmsea"], ".3f"),
            "lo": Formatted(f["rmsea_ci_low"], ".3f"), "hi": Formatted(f["rmsea_ci_high"], ".3f"),
            "srmr": Formatted(f["srmr"], ".3f"), "n": f["n"]})
    notes = weak + ([] if fit_ok_in(headline) else [cfa_note])
    return SectionResult(AREA, ctx, headline, warnings, {
        "insufficient": False, "wave": wave, "dims": dims, "reversed": reversed_items, "alpha": results,
        "weak": weak, "cfa": cfa_note}, notes)


def render(result: SectionResult, lang: str) -> Section:
    ctx = result.context.in_language(lang)
    t = ctx.t
    title = t("reliability.title")
    if result.values["insufficient"]:
        return message_section(result, ctx, title, result.values["message"])
    import panel as pn

    from ...plotting import reliability as rplot

    v = result.values
    wave, dims, results = v["wave"], v["dims"], v["alpha"]
    dim_label = {d: t(f"reliability.dim_{d}") for d in dims}

    def fmt(res):
        if res is None:
            return "—"
        return f"{res.alpha:.2f} [{res.ci[0]:.2f}, {res.ci[1]:.2f}]"

    rows = []
    for d in dims:
        rp, re_ = results["P"].get(d), results["E"].get(d)
        rows.append({t("reliability.col_dimension"): dim_label[d], t("reliability.col_alpha_p"): fmt(rp),
                     t("reliability.col_alpha_e"): fmt(re_), t("reliability.col_n"): rp.n if rp else 0,
                     t("reliability.col_verdict"): t("reliability.verdict_ok") if rp and rp.alpha >= 0.7
                     else t("reliability.verdict_low")})
    table = pd.DataFrame(rows)

    weak_lines = [ctx.note_text(n) for n in v["weak"]]
    cfa_text = ctx.note_text(v["cfa"])

    # layout: headline table, chart, plain-language notes, warnings
    parts = [pn.pane.Markdown(f"### {title}\n\n" + t("reliability.intro", wave=ctx.fmt_period(wave),
                                                              period=ctx.fmt_period(ctx.period)))]
    if v["reversed"]:
        parts.append(pn.pane.Markdown(t("reliability.reverse_note")))
    parts.append(pn.pane.DataFrame(table, index=False))
    if results["P"]:
        parts.append(pn.pane.Bokeh(rplot.alpha_by_scale_bokeh(results["P"], title=t("reliability.chart_title"),
                                                              labels=dim_label, lang=ctx.lang)))
        worst = min(results["P"], key=lambda d: results["P"][d].item_stats["r_drop"].min())
        parts.append(pn.pane.Bokeh(rplot.item_total_bokeh(
            results["P"][worst], title=t("reliability.items_title", dimension=dim_label[worst]), lang=ctx.lang)))
    parts.append(pn.pane.Markdown("\n\n".join([cfa_text] + (weak_lines or [t("reliability.no_weak")]))))
    return result.to_section(ctx, title, pn.Column(*parts))


def build(ctx: ReportContext) -> Section:
    """One language's section (``render(compute(ctx), ctx.lang)``)."""
    return render(compute(ctx), ctx.lang)


def fit_ok_in(headline: dict) -> bool:
    return bool(headline.get("cfa") and headline["cfa"].get("fit_ok"))
