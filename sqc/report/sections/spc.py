"""Dashboard section: control charts of the hotline and complaint KPIs (small multiples per KPI and branch drawn
by the browser, the network's verdicts, signals explained in plain words with the latest value's n and interval,
one interactive chart of the most pressing concern). The charts, their stages of limits and the verdicts are the
KPI scorecard's (``ctx.scorecard()``, computed once per run), so this tab and the scorecard tab agree. Only data up
to ``ctx.period`` and only ``ctx.branches`` are used."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from .scorecard import fmt_kpi_value
from ..context import ComputeContext, Joined, Label, Note, ReportContext, Section, SectionResult

AREA = "spc"
RECENT = 6           # signals reported in words: those in the last RECENT months
KPIS = ("service_level", "asa_s", "abandonment_rate", "aht_s", "fcr_rate", "csat_mean", "complaint_rate_per_1000")
CONCERN_COLOUR, IMPROVEMENT_COLOUR = "#d62728", "#1f77b4"
PANEL_SIZE = (320, 200)  # px: four panels a row on a 1440 px page


def compute(ctx: ComputeContext) -> SectionResult:
    """Charts, verdicts, the signals of the last RECENT months and the headline, read from the run's KPI scorecard
    (``ctx.scorecard()``): the same chart objects, stages of limits and verdicts as the scorecard tab, computed
    once per run."""
    sc = ctx.scorecard()
    conventions = dict(sc.conventions)
    table = sc.table.set_index(["branch", "kpi"])
    branches = ["ALL"] + list(ctx.branches)
    # the chart of the monthly values (the location chart of an I-MR pair): what the verdicts were judged on
    charts = {(k, b): getattr(sc.charts.get((b, k)), "location", sc.charts.get((b, k))) for k in KPIS
              for b in branches}
    # the month's n behind each point (an I chart of monthly values has one value per month: its n is the KPI's)
    hist = sc.history.loc[sc.history["kpi"].isin(KPIS)].set_index(["branch", "kpi", "period"])["n"]
    sizes = {}
    for (k, b), res in charts.items():
        if res is not None:
            sizes[(k, b)] = hist.reindex([(b, k, str(lab)) for lab in res.labels]).to_numpy(dtype=float)
    targets = {k: float(t) for k, t in table.loc["ALL", "target"].items() if pd.notna(t)} if "ALL" in table.index \
        else {}

    # ---- verdicts: the scorecard's codes, never re-estimated
    verdicts, assurance, basis = {}, {}, {}
    for (k, b), res in charts.items():
        if res is None or (b, k) not in table.index:
            continue
        row = table.loc[(b, k)]
        verdicts[(k, b)] = row["variation_code"]
        assurance[(k, b)] = row["assurance_code"]
        basis[(k, b)] = row["assurance_basis"]

    def latest(b, k):
        row = table.loc[(b, k)]
        return {"value": float(row["value"]), "ci_low": float(row["ci_low"]), "ci_high": float(row["ci_high"]),
                "n": None if pd.isna(row["n"]) else int(row["n"])}

    # ---- headline (network, latest month) with n and CI
    headline = {}
    for k in KPIS:
        if ("ALL", k) not in table.index:
            continue
        row = table.loc[("ALL", k)]
        headline[k] = {**latest("ALL", k), "variation": verdicts.get((k, "ALL")),
                       "assurance": assurance.get((k, "ALL")), "assurance_basis": basis.get((k, "ALL")),
                       "chart": row["chart"] or None, "target": targets.get(k),
                       "stage_start": str(row["stage_start"]), "stages": int(row["stages"])}

    # ---- signals (latest signal per chart within the last RECENT months), concerns first
    per = pd.Period(ctx.period, "M")
    recent_from = (per - (RECENT - 1)).strftime("%Y-%m")
    signals, n_signals = [], {}
    for (k, b), res in charts.items():
        if res is None:
            continue
        sig = res.signals
        n_signals[f"{k}|{b}"] = int(res.n_signals)
        labels = pd.Index(res.labels).astype(str)
        recent = sig.loc[labels[sig["index"].to_numpy()] >= recent_from] if len(sig) else sig
        if not len(recent):
            continue
        v = verdicts.get((k, b))
        # every rule firing at the latest flagged point; "since" = start of the current run of consecutive
        # signalling points (the episode), not of the reporting window
        last_idx = int(recent["index"].max())
        at_last = recent.loc[recent["index"] == last_idx]
        flagged = np.flatnonzero(np.asarray(res.signal))
        flagged = flagged[flagged <= last_idx]
        gaps = np.flatnonzero(np.diff(flagged) > 1)
        first_idx = int(flagged[gaps[-1] + 1] if gaps.size else flagged[0])
        signals.append({"priority": 0 if v == "concern" else 1, "branch": b, "kpi": k,
                        "explanation": {lang: list(dict.fromkeys(at_last[f"explanation_{lang}"]))
                                        for lang in ("en", "zh")},
                        "since": labels[first_idx], "latest": latest(b, k), "verdict": v})
    signals.sort(key=lambda z: (z["priority"], z["branch"] != "ALL", z["branch"], z["kpi"]))

    # ---- the interactive chart: the branch chart ending in a concern with the most recent signals; else the
    # network's most signalling chart
    cands = [(z["branch"] != "ALL", n_signals.get(f"{z['kpi']}|{z['branch']}", 0), z["kpi"], z["branch"])
             for z in signals if z["priority"] == 0]
    if not cands:
        cands = [(False, n_signals.get(f"{z['kpi']}|{z['branch']}", 0), z["kpi"], z["branch"]) for z in signals]
    focus = max(cands)[2:] if cands else ("asa_s", "ALL")

    # the charts' warnings reach the page once, through the scorecard section (the same chart objects)
    notes = []
    for verdict in ("concern", "improvement"):
        items = [Joined((Label(f"{AREA}.all_branches") if b == "ALL" else b, Label(f"kpi.{k}")), " ")
                 for (k, b), v in verdicts.items() if v == verdict]
        if items:
            notes.append(Note(f"{AREA}.{verdict}s_note",
                              {"n": len(items), "items": Joined(tuple(items), Label("report.list_sep"))},
                              subject=f"spc:{verdict}"))
    months = max((len(r) for r in charts.values() if r is not None), default=0)
    headline = {"kpis": headline, "signals_in_window": n_signals,
                "concerns": [f"{b}|{k}" for (k, b), v in verdicts.items() if v == "concern"],
                "improvements": [f"{b}|{k}" for (k, b), v in verdicts.items() if v == "improvement"],
                "months": months, "baseline_months": int(sc.baseline),
                "recalculations": [f"{r.branch}|{r.kpi}|{r.period}" for r in sc.recalculations.itertuples()
                                   if r.kpi in KPIS and r.branch in branches]}
    return SectionResult(AREA, ctx, headline, [], {
        "charts": charts, "verdicts": verdicts, "assurance": assurance, "assurance_basis": basis,
        "targets": targets, "sizes": sizes, "signals": signals, "focus": focus, "conventions": conventions}, notes)


def _small_multiples(ctx, result, kpi, name, bname, share):
    """One KPI's panels (network + branches) as Bokeh figures, four to a row in one Bokeh grid, on one y scale; a
    panel without a chart says so in its place."""
    import panel as pn
    from bokeh.models import Div

    from ...plotting.scorecard import kpi_axis
    from ...plotting.spc import small_multiples_bokeh
    from ..panes import bokeh_grid

    t = ctx.t
    charts, verdicts, sizes = (result.values[k] for k in ("charts", "verdicts", "sizes"))
    y_format, unit_key = kpi_axis(kpi)
    titles, panels, frames, ns = {}, {}, {}, {}
    for b in ["ALL"] + list(ctx.branches):
        v = verdicts.get((kpi, b))
        title = bname[b] + (f" · {t(f'{AREA}.v_{v}')}" if v in ("concern", "improvement") else "")
        titles[b] = title
        panels[title] = charts.get((kpi, b))
        ns[title] = sizes.get((kpi, b))
        if v in ("concern", "improvement"):
            frames[title] = CONCERN_COLOUR if v == "concern" else IMPROVEMENT_COLOUR
    figs = small_multiples_bokeh(panels, lang=ctx.lang, target=result.values["targets"].get(kpi),
                                 highlight=frames, y_format=y_format, ylabel=t(unit_key), sizes=ns,
                                 width=PANEL_SIZE[0], height=PANEL_SIZE[1], share=share)
    width, height = PANEL_SIZE
    cells = [f if f is not None else
             Div(text=f"<div class='sqc-empty-panel'><b>{html.escape(title)}</b><br>"
                      f"{html.escape(t(f'{AREA}.insufficient'))}</div>", width=width, height=height, margin=0)
             for title, f in figs.items()]
    return pn.Column(pn.pane.Markdown(f"#### {t(f'{AREA}.small_multiples', kpi=name)}"), bokeh_grid(cells))


def render(result: SectionResult, lang: str) -> Section:
    import panel as pn

    from ...kpi import definitions
    from ...plotting.scorecard import kpi_axis
    from ...plotting.spc import control_chart_bokeh

    ctx = result.context.in_language(lang)
    t = ctx.t
    charts, targets, signals, focus = (result.values[k] for k in ("charts", "targets", "signals", "focus"))
    name = {k: t(f"kpi.{k}") for k in KPIS}
    bname = {b: b for b in ctx.branches}
    bname["ALL"] = t(f"{AREA}.all_branches")

    def assurance_text(code, basis):
        if not code or code == "none":
            return t(f"{AREA}.a_none")
        text = t(f"{AREA}.a_{code}")
        return f"{text} {t(f'{AREA}.provisional')}" if basis == "earlier_limits" else text

    # ---- headline table (network, latest month) with n and CI
    rows = []
    for k, h in result.headline["kpis"].items():
        rows.append({t(f"{AREA}.kpi"): name[k], t(f"{AREA}.value"): fmt_kpi_value(ctx, k, h["value"]),
                     t(f"{AREA}.ci"): f"{fmt_kpi_value(ctx, k, h['ci_low'])} – {fmt_kpi_value(ctx, k, h['ci_high'])}",
                     t(f"{AREA}.n"): "—" if h["n"] is None else f"{h['n']:,}",
                     t(f"{AREA}.target"): fmt_kpi_value(ctx, k, h["target"]),
                     t(f"{AREA}.variation"): t(f"{AREA}.v_{h['variation']}") if h["variation"] not in (None, "none")
                     else t(f"{AREA}.insufficient"),
                     t(f"{AREA}.assurance"): assurance_text(h["assurance"], h["assurance_basis"]),
                     t(f"{AREA}.limits_since"): ctx.fmt_period(h["stage_start"]),
                     t(f"{AREA}.chart"): t(f"charts.chart_{h['chart']}") if h["chart"] else "—"})
    table = pd.DataFrame(rows)

    # ---- signals in plain words, each latest value with its n and 95% interval
    sep = "；" if lang == "zh" else "; "
    lines = []
    for z in signals:
        last = z["latest"]
        lines.append(t(f"{AREA}.signal_line", branch=bname[z["branch"]], kpi=name[z["kpi"]],
                       explanation=sep.join(z["explanation"]["zh" if lang == "zh" else "en"]),
                       since=ctx.fmt_period(z["since"]), value=fmt_kpi_value(ctx, z["kpi"], last["value"]),
                       lo=fmt_kpi_value(ctx, z["kpi"], last["ci_low"]), hi=fmt_kpi_value(ctx, z["kpi"], last["ci_high"]),
                       n="—" if last["n"] is None else f"{last['n']:,}",
                       verdict=t(f"{AREA}.v_{z['verdict']}") if z["verdict"] not in (None, "none") else ""))

    body = [pn.pane.Markdown(f"## {t(f'{AREA}.title')}"),
            pn.pane.Markdown(t(f"{AREA}.intro", months=result.headline["months"],
                               baseline=result.headline["baseline_months"])),
            pn.pane.Markdown(f"### {t(f'{AREA}.headline', period=ctx.fmt_period(ctx.period))}")]
    if len(table):
        body.append(pn.pane.HTML(table.to_html(index=False, escape=True, border=0,
                                               classes="sqc-table")))
    body.append(pn.pane.Markdown(f"### {t(f'{AREA}.signals_title')}"))
    if lines:
        body.append(pn.pane.Markdown("\n".join(f"- {html.escape(line)}" for line in lines[:15])))
    else:
        body.append(pn.pane.Markdown(t(f"{AREA}.no_signals")))
    res = charts.get(focus)
    if res is not None:
        k, b = focus
        y_format, unit_key = kpi_axis(k)
        body.append(pn.pane.Markdown(f"### {t(f'{AREA}.focus_title', branch=bname[b], kpi=name[k])}"))
        body.append(pn.pane.Bokeh(control_chart_bokeh(
            res, zones=True, title=f"{bname[b]} – {name[k]}", width=900, height=320, lang=ctx.lang,
            target=targets.get(k), y_format=y_format, ylabel=f"{name[k]} ({t(unit_key)})",
            n=result.values["sizes"].get(focus), legend=True)))
    share: dict = {}  # the models alike in all panels of this page (axes, tickers, formatters...), made once
    body.extend(_small_multiples(ctx, result, k, name[k], bname, share) for k in KPIS)
    body.append(pn.pane.Markdown(t(f"{AREA}.chart_notes")))
    defs = definitions(**{k: v for k, v in result.values["conventions"].items()
                          if k in ("sl_threshold", "sl_variant", "short_abandon_s", "exclude_short_abandons",
                                   "top_box_min")})
    col = "definition_zh" if ctx.lang == "zh" else "definition_en"
    body.append(pn.pane.Markdown(f"**{t(f'{AREA}.definitions')}**\n\n" +
                                 "\n".join(f"- {html.escape(d)}" for d in defs[col])))
    return result.to_section(ctx, t(f"{AREA}.title"), pn.Column(*body, sizing_mode="stretch_width"))


def build(ctx: ReportContext) -> Section:
    """One language's section (``render(compute(ctx), ctx.lang)``)."""
    return render(compute(ctx), ctx.lang)
