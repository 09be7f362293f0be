"""Dashboard section: KPI scorecard (network tiles with the Making Data Count icons, branch × KPI table,
composite scores, network control charts, definitions)."""
from __future__ import annotations

import html

import pandas as pd

from ..context import ComputeContext, Joined, Label, Note, ReportContext, Section, SectionResult

AREA = "scorecard"


def _fmt_value(ctx: ReportContext, kpi: str, v) -> str:
    if v is None or pd.isna(v):
        return "—"
    if kpi in ("service_level", "abandonment_rate", "fcr_rate", "csat_top2"):
        return ctx.fmt_pct(v)
    if kpi in ("asa_s", "aht_s"):
        return ctx.fmt_num(v, 0 if v >= 100 else 1)
    if kpi == "csat_mean":
        return ctx.fmt_num(v, 2)
    return ctx.fmt_num(v, 2)


def _kpi_name(ctx, kpi):
    return ctx.t(f"kpi.{kpi}")


def _tile(ctx: ReportContext, row: pd.Series, conventions: dict | None = None) -> str:
    from ...plotting.scorecard import icon_html

    kpi = row.name
    vt = row["variation_zh"] if ctx.lang == "zh" else row["variation"]
    at = row["assurance_zh"] if ctx.lang == "zh" else row["assurance"]
    n = "—" if pd.isna(row["n"]) else f"{int(row['n']):,}"
    sub = ctx.t(f"{AREA}.n_ci", n=n, lo=_fmt_value(ctx, kpi, row["ci_low"]), hi=_fmt_value(ctx, kpi, row["ci_high"]))
    extra = ""
    if kpi in ("asa_s", "aht_s") and "median" in row and pd.notna(row.get("median")):
        p90 = row.get("p90")
        text = (ctx.t(f"{AREA}.median_p90", median=ctx.fmt_num(row["median"], 0), p90=ctx.fmt_num(p90, 0))
                if pd.notna(p90) else ctx.t(f"{AREA}.median_only", median=ctx.fmt_num(row["median"], 0)))
        extra = "<div style='font-size:11px;color:#555'>" + html.escape(text) + "</div>"
    if kpi == "service_level" and conventions:
        text = ctx.t(f"{AREA}.sl_variant", t=f"{conventions.get('sl_threshold', 20):g}",
                     variant=ctx.t(f"{AREA}.slv_{conventions.get('sl_variant', 'offered')}"))
        extra = "<div style='font-size:11px;color:#555'>" + html.escape(text) + "</div>"
    if row.get("stages", 1) > 1:
        text = ctx.t(f"{AREA}.stage_since", start=ctx.fmt_period(str(row["stage_start"])))
        extra += "<div style='font-size:11px;color:#555'>" + html.escape(text) + "</div>"
    if row.get("assurance_basis") == "earlier_limits":
        provisional = ctx.t(f"{AREA}.assurance_provisional")
        at = f"{at} {provisional}"
        extra += ("<div class='sqc-assurance-provisional' style='font-size:11px;color:#8a5a00'>"
                  + html.escape(provisional) + "</div>")
    return (
        "<div style='border:1px solid #ddd;border-radius:6px;padding:8px 10px;margin:4px;width:170px;"
        "display:inline-block;vertical-align:top;background:#fff'>"
        f"<div style='font-size:12px;color:#333;height:30px'>{html.escape(_kpi_name(ctx, kpi))}</div>"
        f"<div style='font-size:22px;font-weight:bold'>{_fmt_value(ctx, kpi, row['value'])}</div>"
        f"<div style='font-size:11px;color:#555'>{html.escape(ctx.t(f'{AREA}.target'))} "
        f"{_fmt_value(ctx, kpi, row['target'])}</div>"
        f"<div style='font-size:11px;color:#555'>{html.escape(sub)}</div>{extra}"
        f"<div style='margin-top:4px'>{icon_html('variation', row['variation_code'], vt)}"
        f"{icon_html('assurance', row['assurance_code'], at)}</div></div>")


def _branch_table(ctx: ReportContext, sc) -> str:
    from ...plotting.scorecard import icon_html

    kpis = list(dict.fromkeys(sc.table["kpi"]))
    head = "".join(f"<th style='padding:3px 6px;font-size:11px'>{html.escape(_kpi_name(ctx, k))}</th>" for k in kpis)
    rows = []
    names = {}
    if hasattr(ctx.data, "branches") and "branch" in getattr(ctx.data.branches, "columns", []):
        col = "name_zh" if ctx.lang == "zh" else "name_en"
        if col in ctx.data.branches.columns:
            names = dict(zip(ctx.data.branches["branch"], ctx.data.branches[col]))
    for branch, sub in sc.table.groupby("branch", sort=False):
        sub = sub.set_index("kpi")
        label = ctx.t(f"{AREA}.network") if branch == "ALL" else f"{branch} {names.get(branch, '')}"
        cells = []
        for k in kpis:
            if k not in sub.index:
                cells.append("<td>—</td>")
                continue
            r = sub.loc[k]
            vt = r["variation_zh"] if ctx.lang == "zh" else r["variation"]
            at = r["assurance_zh"] if ctx.lang == "zh" else r["assurance"]
            if r.get("assurance_basis") == "earlier_limits":
                at = f"{at} {ctx.t(f'{AREA}.assurance_provisional')}"
            cells.append(f"<td style='padding:2px 6px;font-size:11px;white-space:nowrap'>"
                         f"{_fmt_value(ctx, k, r['value'])} {icon_html('variation', r['variation_code'], vt, 14)}"
                         f"{icon_html('assurance', r['assurance_code'], at, 14)}</td>")
        style = "font-weight:bold;background:#f4f6f8" if branch == "ALL" else ""
        rows.append(f"<tr style='{style}'><td style='padding:2px 6px;font-size:11px;white-space:nowrap'>"
                    f"{html.escape(label)}</td>{''.join(cells)}</tr>")
    # network row first
    rows = [r for r in rows if "background:#f4f6f8" in r] + [r for r in rows if "background:#f4f6f8" not in r]
    return (f"<table style='border-collapse:collapse'><thead><tr><th></th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _recalc_view(ctx: ReportContext, sc) -> pd.DataFrame:
    """Every limit recalculation (network first: "ALL" sorts before the branch ids), in this language."""
    rec = sc.recalculations
    rows = []
    for r in rec.itertuples():
        why = (ctx.t(f"{AREA}.why_shift", k=int(r.run_length), side=ctx.t(f"{AREA}.side_{r.side}"))
               if r.rule == "shift" else ctx.t(f"{AREA}.why_stage_table"))
        rows.append({ctx.t(f"{AREA}.col_branch"): ctx.t(f"{AREA}.network") if r.branch == "ALL" else r.branch,
                     ctx.t(f"{AREA}.col_kpi"): _kpi_name(ctx, r.kpi),
                     ctx.t(f"{AREA}.col_from"): ctx.fmt_period(r.period),
                     ctx.t(f"{AREA}.col_why"): why,
                     ctx.t(f"{AREA}.col_centre"): f"{_fmt_value(ctx, r.kpi, r.old_center)} → "
                                                  f"{_fmt_value(ctx, r.kpi, r.new_center)}"})
    return pd.DataFrame(rows)


def compute(ctx: ComputeContext) -> SectionResult:
    """The scorecard of the report month (shared with the SPC section through the run's cache) and its headline."""
    from ...scorecard import MIN_POINTS

    sc = ctx.scorecard()
    tiles = sc.tiles("ALL")
    br = sc.table.loc[sc.table["branch"] != "ALL"]
    comp = sc.composite.loc[sc.composite["period"] == ctx.period].sort_values("rank", na_position="first")

    def num(v):
        return None if v is None or pd.isna(v) else float(v)

    headline = {"period": ctx.period, "network": {}, "composite": {}, "concerns": {},
                "sl_definition": sc.definitions.loc[sc.definitions["kpi"] == "service_level",
                                                    "definition_en"].tolist()[:1]}
    for k, r in tiles.iterrows():
        headline["network"][k] = {"value": num(r["value"]), "ci_low": num(r["ci_low"]), "ci_high": num(r["ci_high"]),
                                  "n": None if pd.isna(r["n"]) else int(r["n"]), "target": num(r["target"]),
                                  "variation": r["variation_code"], "assurance": r["assurance_code"],
                                  "assurance_basis": r["assurance_basis"], "stage_start": r["stage_start"]}
        if k in ("asa_s", "aht_s"):
            headline["network"][k].update(median=num(r.get("median")), p90=num(r.get("p90")))
    for _, r in comp.iterrows():
        headline["composite"][r["branch"]] = {"value": num(r["composite"]), "ci_low": num(r["ci_low"]),
                                              "ci_high": num(r["ci_high"]),
                                              "rank": None if pd.isna(r["rank"]) else int(r["rank"])}
    for branch, sub in br.loc[br["variation_code"] == "concern"].groupby("branch"):
        headline["concerns"][branch] = list(sub["kpi"])
    headline["weights"] = dict(sc.weights)

    # plain-language notes: concerns by branch, network targets consistently missed, improvements
    def kpi_names(kpis):
        return Joined(tuple(Label(f"kpi.{k}") for k in kpis))

    notes = []
    concern = br.loc[br["variation_code"] == "concern"]
    # branches with the most KPIs in special-cause concern first (e.g. a waiting-time shift hits SL, ASA, abandonment)
    for branch in concern.groupby("branch").size().sort_values(ascending=False, kind="stable").index:
        notes.append(Note(f"{AREA}.note_concern", {"branch": branch,
                                                   "kpis": kpi_names(concern.loc[concern["branch"] == branch, "kpi"])}))
    settled = tiles["assurance_basis"] != "earlier_limits"
    fails = tiles.index[(tiles["assurance_code"] == "consistently_fail") & settled]
    if len(fails):
        notes.append(Note(f"{AREA}.note_network_fail", {"kpis": kpi_names(fails)}))
    provisional = tiles.index[tiles["assurance_basis"] == "earlier_limits"]
    if len(provisional):
        notes.append(Note(f"{AREA}.note_provisional", {"kpis": kpi_names(provisional)}))
    for branch, sub in br.loc[br["variation_code"] == "improvement"].groupby("branch"):
        notes.append(Note(f"{AREA}.note_improvement", {"branch": branch, "kpis": kpi_names(sub["kpi"])}))
    if (br["variation_code"] == "none").all():
        notes.insert(0, Note(f"{AREA}.no_history", {"n": MIN_POINTS}))
    elif not (br["variation_code"] == "concern").any():
        notes.insert(0, Note(f"{AREA}.no_concern"))
    return SectionResult(AREA, ctx, headline, list(sc.warnings),
                         {"scorecard": sc, "tiles": tiles, "composite": comp, "notes": notes},
                         notes=notes[:3])


def render(result: SectionResult, lang: str) -> Section:
    import panel as pn

    from ...plotting.scorecard import composite_spec, kpi_axis, kpi_panels
    from ...plotting.spec import to_bokeh
    from ..panes import panel_rows

    ctx = result.context.in_language(lang)
    sc, tiles, comp = (result.values[k] for k in ("scorecard", "tiles", "composite"))
    per = ctx.fmt_period(ctx.period)
    body = [pn.pane.Markdown(f"### {ctx.t(f'{AREA}.network_tiles', period=per)}")]
    body.append(pn.pane.HTML("<div>" + "".join(_tile(ctx, r, sc.conventions) for _, r in tiles.iterrows()) + "</div>"))
    body.append(pn.pane.Markdown(ctx.t(f"{AREA}.legend", period=per, baseline=sc.baseline)))

    notes = [ctx.note_text(n) for n in result.values["notes"]]
    body.append(pn.pane.Markdown("\n".join(f"- {n}" for n in notes)))

    panels = kpi_panels(sc, "ALL", lang=ctx.lang, labels={k: _kpi_name(ctx, k) for k in tiles.index},
                        units={k: ctx.t(kpi_axis(k)[1]) for k in tiles.index})
    body.append(pn.pane.Markdown(f"#### {ctx.t(f'{AREA}.charts_title')}"))
    body.append(panel_rows([to_bokeh(c, width=320, height=200, toolbar=False, font_size=11)
                            for c in panels.values()]))
    body.append(pn.pane.Markdown(f"### {ctx.t(f'{AREA}.branch_table', period=per)}"))
    body.append(pn.pane.HTML(_branch_table(ctx, sc)))
    if len(sc.recalculations):
        body.append(pn.pane.Markdown(f"#### {ctx.t(f'{AREA}.recalc_title')}\n{ctx.t(f'{AREA}.recalc_intro')}"))
        body.append(pn.pane.DataFrame(_recalc_view(ctx, sc), index=False, sizing_mode="stretch_width"))

    body.append(pn.pane.Markdown(f"### {ctx.t(f'{AREA}.composite_title', period=per)}"))
    weights = ", ".join(f"{_kpi_name(ctx, k)} {v:.2f}" for k, v in sc.weights.items())
    body.append(pn.pane.Markdown(ctx.t(f"{AREA}.composite_note", cap=f"{sc.cap:g}", weights=weights)))
    body.append(pn.pane.Bokeh(to_bokeh(composite_spec(
        sc, title=ctx.t(f"{AREA}.composite_title", period=per), lang=ctx.lang,
        labels={"x": ctx.t(f"{AREA}.ax_composite"), "network": ctx.t(f"{AREA}.network"),
                "rank": ctx.t(f"{AREA}.col_rank")}), width=560, height=360, toolbar=False, font_size=11)))
    comp_view = pd.DataFrame({
        ctx.t(f"{AREA}.col_branch"): [ctx.t(f"{AREA}.network") if b == "ALL" else b for b in comp["branch"]],
        ctx.t(f"{AREA}.col_composite"): comp["composite"].round(1).to_numpy(),
        ctx.t(f"{AREA}.col_ci"): [f"{lo:.1f}–{hi:.1f}" for lo, hi in zip(comp["ci_low"], comp["ci_high"])],
        ctx.t(f"{AREA}.col_rank"): ["" if pd.isna(r) else int(r) for r in comp["rank"]],
        ctx.t(f"{AREA}.col_kpis"): comp["kpis_used"].to_numpy()})
    body.append(pn.pane.DataFrame(comp_view, index=False, sizing_mode="stretch_width"))

    col = "definition_zh" if ctx.lang == "zh" else "definition_en"
    defs = sc.definitions.loc[sc.definitions["kpi"].isin(tiles.index)]
    body.append(pn.pane.Markdown(f"#### {ctx.t(f'{AREA}.definitions')}\n"
                                 + "\n".join(f"- **{_kpi_name(ctx, r['kpi'])}**: {r[col]}"
                                             for _, r in defs.iterrows())))

    return result.to_section(ctx, ctx.t(f"{AREA}.title"), pn.Column(*body, sizing_mode="stretch_width"))


def build(ctx: ReportContext) -> Section:
    """One language's section (``render(compute(ctx), ctx.lang)``)."""
    return render(compute(ctx), ctx.lang)


__all__ = ["build", "compute", "render"]
