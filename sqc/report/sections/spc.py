"""Dashboard section: control charts of the hotline and complaint KPIs (small multiples per KPI and branch,
Making Data Count icons for the network, signals explained in plain words, one interactive chart of the most
pressing concern). Only data up to ``ctx.period`` and only ``ctx.branches`` are used."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..context import ComputeContext, Joined, Label, Note, ReportContext, Section, SectionResult

AREA = "spc"
MONTHS = 24          # months shown
BASELINE = 12        # months used for the (then frozen) limits
RECENT = 6           # signals reported in words: those in the last RECENT months
KPIS = ("service_level", "asa_s", "abandonment_rate", "aht_s", "fcr_rate", "csat_mean", "complaint_rate_per_1000")
PERCENT_KPIS = {"service_level", "abandonment_rate", "fcr_rate", "csat_top2"}


def _fmt_value(ctx, kpi, v):
    if v is None or pd.isna(v):
        return "—"
    return ctx.fmt_pct(v) if kpi in PERCENT_KPIS else ctx.fmt_num(v, 2 if kpi in ("csat_mean",) else 1)


def _charts(kpis: pd.DataFrame, branches):
    """(kpi, branch) → ChartResult (None when the series cannot bear a chart), computed once."""
    from ...errors import DataError
    from ...spc import KPI_KINDS, kpi_chart

    out = {}
    for kpi in KPIS:
        sub = kpis.loc[kpis["kpi"] == kpi]
        for b in ["ALL"] + list(branches):
            s = sub.loc[sub["branch"] == b]
            try:
                out[(kpi, b)] = kpi_chart(s, KPI_KINDS[kpi], baseline=BASELINE) if len(s) >= 3 else None
            except DataError:
                out[(kpi, b)] = None
    return out


def compute(ctx: ComputeContext) -> SectionResult:
    """Charts, verdicts, the signals of the last RECENT months and the headline, for the last MONTHS months."""
    from ...diagnostics import QualityWarning
    from ...kpi import KPI_DIRECTION
    from ...spc import assurance_verdict, variation_verdict

    per = pd.Period(ctx.period, "M")
    start = (per - (MONTHS - 1)).strftime("%Y-%m")
    kpis = ctx.kpis(start=start)  # the run's shared KPI frame (network_kpis runs once per run)
    conventions = kpis.attrs["conventions"]
    kpis = kpis.loc[kpis["kpi"].isin(KPIS)]
    charts = _charts(kpis, ctx.branches)
    targets = {}
    tg = getattr(ctx.data, "targets", None)
    if tg is not None and len(tg):
        for _, r in tg.iterrows():
            targets[r["kpi"]] = (float(r["target"]), str(r["direction"]))

    # ---- verdicts for every chart (computed from the chart objects, never re-estimated)
    verdicts, assurance = {}, {}
    for key, res in charts.items():
        if res is None:
            continue
        direction = targets.get(key[0], (None, KPI_DIRECTION[key[0]]))[1]
        verdicts[key] = variation_verdict(res, direction)
        if key[0] in targets:
            assurance[key] = assurance_verdict(res, targets[key[0]][0], direction)

    # ---- headline (network, latest month) with n and CI
    latest = kpis.loc[(kpis["branch"] == "ALL") & (kpis["period"] == ctx.period)].set_index("kpi")
    headline = {}
    for k in KPIS:
        if k not in latest.index:
            continue
        r = latest.loc[k]
        v = verdicts.get((k, "ALL"))
        a = assurance.get((k, "ALL"))
        res = charts.get((k, "ALL"))
        headline[k] = {"value": float(r["value"]), "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]),
                       "n": int(r["n"]), "variation": v.verdict if v else None,
                       "assurance": a.verdict if a else None, "chart": res.chart if res is not None else None,
                       "target": targets.get(k, (None,))[0]}

    # ---- signals (latest signal per chart within the last RECENT months), concerns first
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
        signals.append({"priority": 0 if (v and v.verdict == "concern") else 1, "branch": b, "kpi": k,
                        "explanation": {lang: list(dict.fromkeys(at_last[f"explanation_{lang}"]))
                                        for lang in ("en", "zh")},
                        "since": labels[first_idx], "value": res.statistic[-1], "verdict": v.verdict if v else None})
    signals.sort(key=lambda z: (z["priority"], z["branch"] != "ALL", z["branch"], z["kpi"]))

    # ---- the interactive chart: the branch chart ending in a concern with the most recent signals; else the
    # network's most signalling chart
    cands = [(z["branch"] != "ALL", n_signals.get(f"{z['kpi']}|{z['branch']}", 0), z["kpi"], z["branch"])
             for z in signals if z["priority"] == 0]
    if not cands:
        cands = [(False, n_signals.get(f"{z['kpi']}|{z['branch']}", 0), z["kpi"], z["branch"]) for z in signals]
    focus = max(cands)[2:] if cands else ("asa_s", "ALL")

    # ---- warnings: one per (code, chart)
    warnings, seen = [], set()
    for (k, b), r in charts.items():
        if r is None:
            continue
        for w in r.warnings:
            key = (w.code, k, b)
            if key in seen:
                continue
            seen.add(key)
            warnings.append(QualityWarning(w.code, w.severity, w.message, w.evidence, f"{k} {b}", w.message_zh))
    notes = []
    for verdict in ("concern", "improvement"):
        items = [Joined((Label(f"{AREA}.all_branches") if b == "ALL" else b, Label(f"kpi.{k}")), " ")
                 for (k, b), v in verdicts.items() if v.verdict == verdict]
        if items:
            notes.append(Note(f"{AREA}.{verdict}s_note",
                              {"n": len(items), "items": Joined(tuple(items), Label("report.list_sep"))},
                              subject=f"spc:{verdict}"))
    headline = {"kpis": headline, "signals_in_window": n_signals,
                "concerns": [f"{b}|{k}" for (k, b), v in verdicts.items() if v.verdict == "concern"],
                "improvements": [f"{b}|{k}" for (k, b), v in verdicts.items() if v.verdict == "improvement"],
                "months": MONTHS, "baseline_months": BASELINE}
    return SectionResult(AREA, ctx, headline, warnings, {
        "charts": charts, "verdicts": verdicts, "targets": targets,
        "signals": signals, "focus": focus, "conventions": conventions}, notes)


def render(result: SectionResult, lang: str) -> Section:
    import matplotlib.pyplot as plt
    import panel as pn

    from ...kpi import definitions
    from ...plotting.scorecard import cjk_rc
    from ...plotting.spc import control_chart_bokeh, small_multiples
    from ..panes import figure_pane

    ctx = result.context.in_language(lang)
    t = ctx.t
    charts, verdicts, targets, signals, focus = (result.values[k] for k in (
        "charts", "verdicts", "targets", "signals", "focus"))
    name = {k: t(f"kpi.{k}") for k in KPIS}
    bname = {b: b for b in ctx.branches}
    bname["ALL"] = t(f"{AREA}.all_branches")

    # ---- headline table (network, latest month) with n and CI
    rows = []
    for k, h in result.headline["kpis"].items():
        rows.append({t(f"{AREA}.kpi"): name[k], t(f"{AREA}.value"): _fmt_value(ctx, k, h["value"]),
                     t(f"{AREA}.ci"): f"{_fmt_value(ctx, k, h['ci_low'])} – {_fmt_value(ctx, k, h['ci_high'])}",
                     t(f"{AREA}.n"): f"{h['n']:,}",
                     t(f"{AREA}.target"): _fmt_value(ctx, k, h["target"]),
                     t(f"{AREA}.variation"): t(f"{AREA}.v_{h['variation']}") if h["variation"]
                     else t(f"{AREA}.insufficient"),
                     t(f"{AREA}.assurance"): t(f"{AREA}.a_{h['assurance']}") if h["assurance"] else t(f"{AREA}.a_none"),
                     t(f"{AREA}.chart"): t(f"charts.chart_{h['chart']}") if h["chart"] else "—"})
    table = pd.DataFrame(rows)

    # ---- signals in plain words
    sep = "；" if lang == "zh" else "; "
    lines = [t(f"{AREA}.signal_line", branch=bname[z["branch"]], kpi=name[z["kpi"]],
               explanation=sep.join(z["explanation"]["zh" if lang == "zh" else "en"]),
               since=ctx.fmt_period(z["since"]), value=_fmt_value(ctx, z["kpi"], z["value"]),
               verdict=t(f"{AREA}.v_{z['verdict']}") if z["verdict"] else "") for z in signals]
    # ---- small multiples: one PNG per KPI (network + branches), concern/improvement frames
    figs = []
    with plt.rc_context(cjk_rc()):
        for k in KPIS:
            panel = {}
            colours = {}
            for b in ["ALL"] + list(ctx.branches):
                title = bname[b]
                panel[title] = charts.get((k, b))
                v = verdicts.get((k, b))
                if v is not None and v.verdict in ("concern", "improvement"):
                    colours[title] = "#d62728" if v.verdict == "concern" else "#1f77b4"
            tgt = targets.get(k, (None,))[0]
            fig = small_multiples(panel, ncols=5, lang=ctx.lang, panel_size=(2.5, 1.55),
                                  suptitle=t(f"{AREA}.small_multiples", kpi=name[k]), highlight=colours,
                                  targets={title: tgt for title in panel} if tgt is not None else None)
            figs.append(figure_pane(fig, fmt="png", dpi=72, px_per_inch=72, fixed_height=False))
            plt.close(fig)

    body = [pn.pane.Markdown(f"## {t(f'{AREA}.title')}"),
            pn.pane.Markdown(t(f"{AREA}.intro", months=MONTHS, baseline=BASELINE)),
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
        body.append(pn.pane.Markdown(f"### {t(f'{AREA}.focus_title', branch=bname[focus[1]], kpi=name[focus[0]])}"))
        body.append(pn.pane.Bokeh(control_chart_bokeh(res, zones=True, title=f"{bname[focus[1]]} – {name[focus[0]]}",
                                                      width=760, height=260, lang=ctx.lang)))
    body.extend(figs)
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
