"""Dashboard section: KPI scorecard (network tiles with the Making Data Count icons, branch × KPI table,
composite scores, network control charts, definitions)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..templates import render as render_template, stylesheet
from ..context import ComputeContext, Joined, Label, Note, ReportContext, Section, SectionResult

AREA = "scorecard"


def fmt_kpi_value(ctx: ReportContext, kpi: str, v) -> str:
    """A KPI value as readers see it: proportions as percentages, seconds without decimals from 100 s on."""
    from ...plotting.scorecard import kpi_axis

    if v is None or pd.isna(v):
        return "—"
    if kpi_axis(kpi)[0] == "percent":
        return ctx.fmt_pct(v)
    if kpi in ("asa_s", "aht_s"):
        return ctx.fmt_num(v, 0 if v >= 100 else 1)
    return ctx.fmt_num(v, 2)


def _kpi_name(ctx, kpi):
    return ctx.t(f"kpi.{kpi}")


def branch_label(ctx: ReportContext, branch: str) -> str:
    """"B07 Xinhua Road" in the reader's language (the branch id alone when the data has no name for it)."""
    if branch == "ALL":
        return ctx.t(f"{AREA}.network")
    names = ctx.shared(f"branch_names_{ctx.lang}", lambda: _branch_names(ctx))
    return f"{branch} {names.get(branch, '')}".strip()


def _branch_names(ctx: ReportContext) -> dict:
    table = getattr(ctx.data, "branches", None)
    col = "name_zh" if ctx.lang == "zh" else "name_en"
    if table is None or "branch" not in getattr(table, "columns", []) or col not in table.columns:
        return {}
    return dict(zip(table["branch"], table[col]))


def _verdict_words(ctx: ReportContext, row) -> tuple[str, str]:
    """The variation and assurance verdicts in words (icon tooltips), the assurance marked when provisional."""
    zh = ctx.lang == "zh"
    variation = row["variation_zh"] if zh else row["variation"]
    assurance = row["assurance_zh"] if zh else row["assurance"]
    if row.get("assurance_basis") == "earlier_limits":
        assurance = f"{assurance} {ctx.t(f'{AREA}.assurance_provisional')}"
    return variation, assurance


def _n_ci(ctx: ReportContext, kpi: str, row) -> str:
    n = "—" if pd.isna(row["n"]) else f"{int(row['n']):,}"
    return ctx.t("summary.n_ci", n=n, lo=fmt_kpi_value(ctx, kpi, row["ci_low"]), hi=fmt_kpi_value(ctx, kpi, row["ci_high"]))


def _tiles_html(ctx: ReportContext, tiles: pd.DataFrame, conventions: dict | None = None) -> str:
    from markupsafe import Markup

    from ...plotting.scorecard import icon_html

    out = []
    for kpi, row in tiles.iterrows():
        vt, at = _verdict_words(ctx, row)
        n = "—" if pd.isna(row["n"]) else f"{int(row['n']):,}"
        extra = []
        if kpi in ("asa_s", "aht_s") and "median" in row and pd.notna(row.get("median")):
            p90 = row.get("p90")
            extra.append(ctx.t(f"{AREA}.median_p90", median=ctx.fmt_num(row["median"], 0), p90=ctx.fmt_num(p90, 0))
                         if pd.notna(p90) else ctx.t(f"{AREA}.median_only", median=ctx.fmt_num(row["median"], 0)))
        if kpi == "service_level" and conventions:
            extra.append(ctx.t(f"{AREA}.sl_variant", t=f"{conventions.get('sl_threshold', 20):g}",
                               variant=ctx.t(f"{AREA}.slv_{conventions.get('sl_variant', 'offered')}")))
        if row.get("stages", 1) > 1:
            extra.append(ctx.t(f"{AREA}.stage_since", start=ctx.fmt_period(str(row["stage_start"]))))
        out.append({
            "name": _kpi_name(ctx, kpi), "value": fmt_kpi_value(ctx, kpi, row["value"]),
            "target": fmt_kpi_value(ctx, kpi, row["target"]),
            "n_ci": ctx.t(f"{AREA}.n_ci", n=n, lo=fmt_kpi_value(ctx, kpi, row["ci_low"]),
                          hi=fmt_kpi_value(ctx, kpi, row["ci_high"])),
            "extra": extra,
            "provisional": ctx.t(f"{AREA}.assurance_provisional") if row.get("assurance_basis") == "earlier_limits" else "",
            "variation_icon": Markup(icon_html("variation", row["variation_code"], vt)),
            "assurance_icon": Markup(icon_html("assurance", row["assurance_code"], at))})
    return render_template("scorecard_tiles.html", tiles=out, target_label=ctx.t(f"{AREA}.target"))


def _branch_table(ctx: ReportContext, sc) -> str:
    """The branch × KPI grid, network first: each cell the value, its icons, and n with the 95% interval."""
    from markupsafe import Markup

    from ...plotting.scorecard import icon_html

    kpis = list(dict.fromkeys(sc.table["kpi"]))
    rows = []
    for branch, sub in sc.table.groupby("branch", sort=False):
        sub = sub.set_index("kpi")
        cells = []
        for k in kpis:
            if k not in sub.index:
                cells.append(None)
                continue
            r = sub.loc[k]
            vt, at = _verdict_words(ctx, r)
            cells.append({"value": fmt_kpi_value(ctx, k, r["value"]), "n_ci": _n_ci(ctx, k, r),
                          "provisional": r.get("assurance_basis") == "earlier_limits",
                          "variation_icon": Markup(icon_html("variation", r["variation_code"], vt, 14)),
                          "assurance_icon": Markup(icon_html("assurance", r["assurance_code"], at, 14))})
        rows.append({"network": branch == "ALL", "label": branch_label(ctx, branch), "cells": cells})
    rows.sort(key=lambda r: not r["network"])  # network row first, branches in the table's order
    return render_template("scorecard_grid.html", kpis=[_kpi_name(ctx, k) for k in kpis], rows=rows,
                           provisional=ctx.t(f"{AREA}.assurance_provisional"))


def _stage_reasons(ctx: ReportContext) -> dict:
    """(chart, kpi, start) → the reason the analyst wrote in the stage table, in this language."""
    table = (getattr(ctx.data, "tables", {}) or {}).get("limit_stages")
    if table is None or not len(table):
        return {}
    column = "reason_zh" if ctx.lang == "zh" else "reason_en"
    return {(str(c).strip(), str(k), str(st).strip()): str(why) for c, k, st, why in
            zip(table["chart"], table["kpi"], table["start"], table[column]) if pd.notna(why) and str(why).strip()}


def _recalc_view(ctx: ReportContext, sc) -> pd.DataFrame:
    """Every limit recalculation (network first: "ALL" sorts before the branch ids), in this language."""
    rec = sc.recalculations
    rows = []
    reasons = _stage_reasons(ctx)
    for r in rec.itertuples():
        why = (ctx.t(f"{AREA}.why_shift", k=int(r.run_length), side=ctx.t(f"{AREA}.side_{r.side}"))
               if r.rule == "shift" else ctx.t(f"{AREA}.why_stage_table"))
        if r.rule != "shift" and reasons.get((r.branch, r.kpi, r.period)):
            why = f"{why}: {reasons[(r.branch, r.kpi, r.period)]}"
        rows.append({ctx.t(f"{AREA}.col_branch"): ctx.t(f"{AREA}.network") if r.branch == "ALL" else r.branch,
                     ctx.t(f"{AREA}.col_kpi"): _kpi_name(ctx, r.kpi),
                     ctx.t(f"{AREA}.col_from"): ctx.fmt_period(r.period),
                     ctx.t(f"{AREA}.col_why"): why,
                     ctx.t(f"{AREA}.col_centre"): f"{fmt_kpi_value(ctx, r.kpi, r.old_center)} → "
                                                  f"{fmt_kpi_value(ctx, r.kpi, r.new_center)}"})
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
                                              **{k: None if pd.isna(r[k]) else int(r[k])
                                                 for k in ("rank", "rank_low", "rank_high")}}
    for branch, sub in br.loc[br["variation_code"] == "concern"].groupby("branch"):
        headline["concerns"][branch] = list(sub["kpi"])
    headline["weights"] = dict(sc.weights)

    # plain-language notes: concerns by branch, network targets consistently missed, improvements
    def kpi_names(kpis):
        return Joined(tuple(Label(f"kpi.{k}") for k in kpis), Label("report.list_sep"))

    def target_gap(rows):  # unit-free size: the largest relative distance from the target, |value / target − 1|
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.abs(rows["value"].astype(float) / rows["target"].astype(float) - 1)
        gap = gap[np.isfinite(gap)]
        return float(gap.max()) if len(gap) else None

    notes = []
    concern = br.loc[br["variation_code"] == "concern"]
    # branches with the most KPIs in special-cause concern first (e.g. a waiting-time shift hits SL, ASA, abandonment)
    for branch in concern.groupby("branch").size().sort_values(ascending=False, kind="stable").index:
        rows = concern.loc[concern["branch"] == branch]
        notes.append(Note(f"{AREA}.note_concern", {"branch": branch, "kpis": kpi_names(rows["kpi"])},
                          severity="warning", effect=target_gap(rows), subject=branch,
                          plain_key=f"{AREA}.note_concern_plain"))
    network_concern = tiles.loc[tiles["variation_code"] == "concern"]
    if len(network_concern):
        notes.append(Note(f"{AREA}.note_network_concern", {"kpis": kpi_names(network_concern.index)},
                          severity="warning", effect=target_gap(network_concern), subject="ALL",
                          plain_key=f"{AREA}.note_network_concern_plain"))
    settled = tiles["assurance_basis"] != "earlier_limits"
    fails = tiles.index[(tiles["assurance_code"] == "consistently_fail") & settled]
    if len(fails):
        notes.append(Note(f"{AREA}.note_network_fail", {"kpis": kpi_names(fails)}, severity="warning",
                          effect=target_gap(tiles.loc[fails]), subject="ALL:target"))
    provisional = tiles.index[tiles["assurance_basis"] == "earlier_limits"]
    if len(provisional):
        notes.append(Note(f"{AREA}.note_provisional", {"kpis": kpi_names(provisional)}, subject="ALL:target"))
    for branch, sub in br.loc[br["variation_code"] == "improvement"].groupby("branch"):
        notes.append(Note(f"{AREA}.note_improvement", {"branch": branch, "kpis": kpi_names(sub["kpi"])},
                          subject=f"{branch}:improvement"))
    if (br["variation_code"] == "none").all():
        notes.insert(0, Note(f"{AREA}.no_history", {"n": MIN_POINTS}))
    elif not (br["variation_code"] == "concern").any():
        notes.insert(0, Note(f"{AREA}.no_concern"))
    return SectionResult(AREA, ctx, headline, list(sc.warnings),
                         {"scorecard": sc, "tiles": tiles, "composite": comp, "notes": notes},
                         notes=notes)


def render(result: SectionResult, lang: str) -> Section:
    import panel as pn

    from ...plotting.scorecard import composite_spec, kpi_axis, kpi_panels
    from ...plotting.spec import to_bokeh
    from ..panes import bokeh_grid

    ctx = result.context.in_language(lang)
    sc, tiles, comp = (result.values[k] for k in ("scorecard", "tiles", "composite"))
    per = ctx.fmt_period(ctx.period)
    body = [pn.pane.Markdown(f"### {ctx.t(f'{AREA}.network_tiles', period=per)}")]
    css = [stylesheet("dashboard.css")]
    body.append(pn.pane.HTML(_tiles_html(ctx, tiles, sc.conventions), stylesheets=css, sizing_mode="stretch_width"))
    body.append(pn.pane.Markdown(ctx.t(f"{AREA}.legend", period=per, baseline=sc.baseline)))

    notes = [ctx.note_text(n) for n in result.values["notes"]]
    body.append(pn.pane.Markdown("\n".join(f"- {n}" for n in notes)))

    panels = kpi_panels(sc, "ALL", lang=ctx.lang, labels={k: _kpi_name(ctx, k) for k in tiles.index},
                        units={k: ctx.t(kpi_axis(k)[1]) for k in tiles.index})
    body.append(pn.pane.Markdown(f"#### {ctx.t(f'{AREA}.charts_title')}"))
    share: dict = {}  # the panels' alike axes, tickers and scales are made once
    body.append(bokeh_grid([to_bokeh(c, width=320, height=200, toolbar=False, font_size=11, share=share)
                            for c in panels.values()]))
    body.append(pn.pane.Markdown(f"### {ctx.t(f'{AREA}.branch_table', period=per)}"))
    body.append(pn.pane.HTML(_branch_table(ctx, sc), stylesheets=css))
    if len(sc.recalculations):
        body.append(pn.pane.Markdown(f"#### {ctx.t(f'{AREA}.recalc_title')}\n{ctx.t(f'{AREA}.recalc_intro')}"))
        body.append(pn.pane.DataFrame(_recalc_view(ctx, sc), index=False, sizing_mode="stretch_width"))

    body.append(pn.pane.Markdown(f"### {ctx.t(f'{AREA}.composite_title', period=per)}"))
    weights = ", ".join(f"{_kpi_name(ctx, k)} {v:.2f}" for k, v in sc.weights.items())
    draws = sc.composite.attrs.get("rank_draws", {}).get("n_draws")
    body.append(pn.pane.Markdown(ctx.t(f"{AREA}.composite_note", cap=f"{sc.cap:g}", weights=weights,
                                       draws="—" if draws is None else f"{draws:,}")))
    body.append(pn.pane.Bokeh(to_bokeh(composite_spec(
        sc, title=ctx.t(f"{AREA}.composite_title", period=per), lang=ctx.lang,
        labels={"x": ctx.t(f"{AREA}.ax_composite"), "network": ctx.t(f"{AREA}.network"),
                "rank": ctx.t(f"{AREA}.col_rank")}), width=560, height=360, toolbar=False, font_size=11)))
    comp_view = pd.DataFrame({
        ctx.t(f"{AREA}.col_branch"): [ctx.t(f"{AREA}.network") if b == "ALL" else b for b in comp["branch"]],
        ctx.t(f"{AREA}.col_composite"): comp["composite"].round(1).to_numpy(),
        ctx.t(f"{AREA}.col_ci"): [f"{lo:.1f}–{hi:.1f}" for lo, hi in zip(comp["ci_low"], comp["ci_high"])],
        ctx.t(f"{AREA}.col_rank"): ["" if pd.isna(r) else ctx.t(f"{AREA}.rank_interval", rank=int(r), lo=int(lo), hi=int(hi))
                                    for r, lo, hi in zip(comp["rank"], comp["rank_low"], comp["rank_high"])],
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
