"""Dashboard section: complaints and service recovery (headline tiles, the surge called out in words, Pareto with
a period comparison, u charts per category, Kaplan–Meier time to resolve, recovery rates by branch, check sheet)."""
from __future__ import annotations

import html

import pandas as pd

from ..context import ComputeContext, Formatted, Label, Month, Note, ReportContext, Section, SectionResult

AREA = "complaints"
# compute reads only the tables loaded in memory (never the store): a run may compute it in a forked process
LOADED_TABLES_ONLY = True
SLA_DAYS = 5.0          # complaint-resolution SLA of the organisation (days from opening); printed in the definitions
WINDOW_MONTHS = 3       # Pareto / recovery window: the report month and the two before it


def _months_back(period: str, k: int) -> str:
    return (pd.Period(period, "M") - k).strftime("%Y-%m")


def _tile(title: str, value: str, sub: str) -> str:
    return ("<div style='border:1px solid #ddd;border-radius:6px;padding:8px 10px;margin:4px;width:175px;"
            "display:inline-block;vertical-align:top;background:#fff'>"
            f"<div style='font-size:12px;color:#333;height:30px'>{html.escape(title)}</div>"
            f"<div style='font-size:22px;font-weight:bold'>{html.escape(value)}</div>"
            f"<div style='font-size:11px;color:#555'>{html.escape(sub)}</div></div>")


def compute(ctx: ComputeContext) -> SectionResult:
    """Rates, recovery, time to resolve, surges, Pareto, the mix comparison and the check sheet of the window."""
    from ...complaints import (check_sheet, compare_periods, complaint_pareto, detect_surges, prepare_complaints,
                               recovery_metrics, time_to_resolve)
    from ...errors import InsufficientDataError
    from ...kpi import complaint_rates

    per = ctx.period
    start = _months_back(per, WINDOW_MONTHS - 1)
    prev = (_months_back(per, 2 * WINDOW_MONTHS - 1), _months_back(per, WINDOW_MONTHS))
    vol = ctx.data.volumes
    vol = vol.loc[vol["branch"].isin(ctx.branches) & (vol["period"].astype(str) <= per)]
    first_month = str(vol["period"].astype(str).min())
    start = max(start, first_month)  # early in the data the window is shorter
    prep = prepare_complaints(ctx.data.complaints, as_of=per, branches=ctx.branches)
    warnings = list(prep.warnings)

    rates = complaint_rates(prep.frame, vol, start=per, end=per, total=True)
    net = rates.loc[(rates["branch"] == "ALL") & (rates["period"] == per)].iloc[0]
    rec = recovery_metrics(prep, sla_days=SLA_DAYS, start=start, end=per)
    rec_all = rec.table.loc[rec.table["group"] == "ALL"].set_index("metric")
    ttr = time_to_resolve(prep, by="severity", start=start, end=per, sla_days=SLA_DAYS)
    k_all = ttr.table.loc["ALL"]

    surge_res = None
    try:
        surge_res = detect_surges(prep, vol, as_of=per, branches=ctx.branches)
    except InsufficientDataError:  # too few months for a baseline early in the data: no surge test yet
        pass
    if surge_res is not None:
        warnings += surge_res.warnings
    par = complaint_pareto(prep, start=start, end=per, volumes=vol, branches=ctx.branches)
    warnings += [w for w in par.warnings if w.code != "W-CMP-01"]
    cmp_ = None
    if prev[0] >= first_month:  # too early in the data there is no earlier window to compare with
        try:
            cmp_ = compare_periods(prep, prev, (start, per), volumes=vol, branches=ctx.branches)
        except InsufficientDataError:
            pass
    warnings += [w for w in ttr.warnings if w.code != "W-CMP-01"]
    rec_b = recovery_metrics(prep, sla_days=SLA_DAYS, start=start, end=per, by="branch")
    warnings += [w for w in rec_b.warnings if w.code != "W-CMP-01"]
    cs = check_sheet(prep, columns="month", start=_months_back(per, 5), end=per)
    excluded = int(prep.exclusions["count"].sum()) if len(prep.exclusions) else 0

    def num(v):
        return None if v is None or pd.isna(v) else float(v)

    surges = surge_res.table.loc[surge_res.table["surge"]] if surge_res is not None else None
    headline = {
        "period": per,
        "complaints": int(net["numerator"]),
        "rate_per_1000": {"value": num(net["value"]), "ci_low": num(net["ci_low"]), "ci_high": num(net["ci_high"]),
                          "n": int(net["n"])},
        "window": [start, per], "sla_days": SLA_DAYS,
        **{m: {"value": num(r["value"]), "ci_low": num(r["ci_low"]), "ci_high": num(r["ci_high"]), "n": int(r["n"])}
           for m, r in rec_all.iterrows()},
        "time_to_resolve_days": {q: {"value": num(k_all[q]), "ci_low": num(k_all[f"{q}_ci_low"]),
                                     "ci_high": num(k_all[f"{q}_ci_high"]), "n": int(k_all["n"])}
                                 for q in ("median", "p90")},
        "pareto": [{"category": c, "count": int(r["complaints"]), "percent": num(r["percent"])}
                   for c, r in par.table.iterrows()],
        "vital_few": par.vital_few,
        "surges": [] if surges is None else [
            {"category": c, "first_signal": r["first_signal"], "rate_ratio": num(r["rate_ratio"]),
             "ci_low": num(r["rate_ratio_ci_low"]), "ci_high": num(r["rate_ratio_ci_high"]),
             "recent_rate": num(r["recent_rate"]), "baseline_rate": num(r["baseline_rate"])}
            for c, r in surges.iterrows()],
        "excluded_invalid": excluded,
    }
    if cmp_ is not None:
        headline["mix_test"] = {"chi2": cmp_.chi2, "df": cmp_.df, "p_value": cmp_.p_value}

    # ---- the surges in plain words (the "what changed" notes), or why there are none
    if surge_res is None:
        messages = [Note(f"{AREA}.no_baseline")]
    else:
        b0, b1 = (Month(p) for p in surge_res.baseline)
        messages = [Note(f"{AREA}.surge", {
            "category": Label(f"{AREA}.cat_{c}", c), "start": Month(r["first_signal"]),
            "recent": Formatted(r["recent_rate"], ",.2f"), "months": 3,
            "baseline": Formatted(r["baseline_rate"], ",.2f"),
            "base_start": b0, "base_end": b1, "ratio": Formatted(r["rate_ratio"], ",.2f"),
            "lo": Formatted(r["rate_ratio_ci_low"], ",.2f"), "hi": Formatted(r["rate_ratio_ci_high"], ",.2f")},
            severity="critical", effect=r["rate_ratio"] - 1, subject=f"complaints:{c}", plain_key=f"{AREA}.surge_plain")
            for c, r in surges.iterrows()] or [Note(f"{AREA}.no_surge", {"base_start": b0, "base_end": b1})]
    notes = [n for n in messages if n.key == f"{AREA}.surge"]
    return SectionResult(AREA, ctx, headline, warnings, notes=notes, values={"messages": messages,
        "start": start, "prev": prev, "net": net, "rec_all": rec_all, "ttr": ttr, "surges": surge_res,
        "pareto": par, "compare": cmp_, "recovery_by_branch": rec_b, "check_sheet": cs, "excluded": excluded})


def render(result: SectionResult, lang: str) -> Section:
    import panel as pn

    from ...plotting.complaints import pareto_spec, recovery_specs, surge_specs, time_to_resolve_spec
    from ...plotting.spec import to_bokeh
    from ..panes import bokeh_grid

    ctx = result.context.in_language(lang)
    v = result.values
    start, prev, net, rec_all, ttr, surge_res, par, cmp_, rec_b, excluded = (v[k] for k in (
        "start", "prev", "net", "rec_all", "ttr", "surges", "pareto", "compare", "recovery_by_branch", "excluded"))
    k_all = ttr.table.loc["ALL"]
    t = ctx.t
    cat = {c: t(f"{AREA}.cat_{c}") for c in ("billing", "network", "installation", "staff_attitude",
                                             "waiting_time", "product_info", "other")}
    per = ctx.period
    fp = ctx.fmt_pct

    def ci_pct(r):
        return f"n = {int(r['n']):,}; 95% CI {fp(r['ci_low'])}–{fp(r['ci_high'])}"

    def days(v):
        return t(f"{AREA}.not_estimable") if pd.isna(v) else t(f"{AREA}.days", x=ctx.fmt_num(v, 1))

    tiles = [
        _tile(t(f"{AREA}.tile_complaints", period=ctx.fmt_period(per)), f"{int(net['numerator']):,}",
              f"{ctx.fmt_num(net['value'], 2)} {t(f'{AREA}.tile_rate')} "
              f"(95% CI {ctx.fmt_num(net['ci_low'], 2)}–{ctx.fmt_num(net['ci_high'], 2)})"),
        _tile(t(f"{AREA}.tile_recovery"), fp(rec_all.loc["recovery_rate", "value"]),
              ci_pct(rec_all.loc["recovery_rate"])),
        _tile(t(f"{AREA}.tile_sla", days=f"{SLA_DAYS:g}"), fp(rec_all.loc["sla_compliance", "value"]),
              ci_pct(rec_all.loc["sla_compliance"])),
        _tile(t(f"{AREA}.tile_reopen"), fp(rec_all.loc["reopen_rate", "value"]), ci_pct(rec_all.loc["reopen_rate"])),
        _tile(t(f"{AREA}.tile_median"), days(k_all["median"]),
              f"95% CI {days(k_all['median_ci_low'])}–{days(k_all['median_ci_high'])}; n = {int(k_all['n']):,}"),
        _tile(t(f"{AREA}.tile_p90"), days(k_all["p90"]),
              f"95% CI {days(k_all['p90_ci_low'])}–{days(k_all['p90_ci_high'])}; n = {int(k_all['n']):,}"),
    ]
    body = [pn.pane.HTML("<div>" + "".join(tiles) + "</div>"),
            pn.pane.Markdown(f"*{t(f'{AREA}.cohort', start=ctx.fmt_period(start), end=ctx.fmt_period(per))}*")]

    # ---- surge callout (plain words) and u charts
    notes = [ctx.note_text(n) for n in v["messages"]]
    body.append(pn.pane.Markdown("\n\n".join(f"**{n}**" if n.startswith("⚠") else n for n in notes)))

    # ---- Pareto of the window and comparison with the window before (charts drawn by the browser: Bokeh)
    body.append(pn.pane.Bokeh(to_bokeh(pareto_spec(
        par, ctx.lang, title=t(f"{AREA}.pareto_title", start=ctx.fmt_period(start), end=ctx.fmt_period(per)),
        labels={"names": cat, "count": t(f"{AREA}.ax_complaints")}))))
    body.append(pn.pane.Markdown(t(f"{AREA}.vital_few", cats=", ".join(cat.get(c, c) for c in par.vital_few))))
    if cmp_ is not None:
        top = cmp_.table.reindex(cmp_.table["share_diff"].abs().sort_values(ascending=False).index).iloc[0]
        body.append(pn.pane.Markdown(t(
            f"{AREA}.mix_test", start=ctx.fmt_period(start), end=ctx.fmt_period(per), pstart=ctx.fmt_period(prev[0]),
            pend=ctx.fmt_period(prev[1]), df=cmp_.df, chi2=f"{cmp_.chi2:.1f}", p=f"{cmp_.p_value:.2g}",
            cat=cat.get(top.name, top.name), s1=fp(top["share_1"]), s2=fp(top["share_2"]),
            d=f"{100 * top['share_diff']:+.1f} pp", lo=f"{100 * top['share_diff_ci_low']:+.1f}",
            hi=f"{100 * top['share_diff_ci_high']:+.1f}")))
    if surge_res is not None:
        body.append(pn.pane.Markdown(f"#### {t(f'{AREA}.surge_title')}"))
        share: dict = {}  # one y scale, and the panels' alike axes and tickers made once
        body.append(bokeh_grid([to_bokeh(spec, toolbar=False, share=share, font_size=11)
                                for spec in surge_specs(surge_res, ctx.lang, labels={"names": cat}).values()],
                               ncols=3))

    # ---- time to resolve (KM) and recovery by branch
    sev = {s: t(f"{AREA}.sev_{s}") for s in ("low", "medium", "high", "ALL")}
    body.append(pn.pane.Bokeh(to_bokeh(time_to_resolve_spec(
        ttr, ctx.lang, labels={"names": sev, "x": t(f"{AREA}.ax_days"), "y": t(f"{AREA}.ax_share_resolved"),
                               "sla": t(f"{AREA}.ax_sla")}, title=t(f"{AREA}.km_title")))))
    km_note = t(f"{AREA}.km_cohort", start=ctx.fmt_period(start), end=ctx.fmt_period(per), open=int(k_all["open"]))
    body.append(pn.pane.Markdown(f"*{km_note}*"))
    body.append(pn.pane.Markdown(f"#### {t(f'{AREA}.recovery_title')}"))
    body.append(pn.Row(*(pn.pane.Bokeh(to_bokeh(spec)) for spec in recovery_specs(
        rec_b, ctx.lang, labels={"metrics": {m: t(f"{AREA}.m_{m}") for m in
                                             ("recovery_rate", "sla_compliance", "reopen_rate")},
                                 "names": {"ALL": sev["ALL"]}}).values())))

    # ---- check sheet (category × month, last 6 months)
    cs = v["check_sheet"].copy()
    cs.index = [t(f"{AREA}.total") if i == "Total" else cat.get(i, i) for i in cs.index]
    cs.columns = [t(f"{AREA}.total") if c == "Total" else c for c in cs.columns]
    cs.index.name = t(f"{AREA}.col_category")
    body.append(pn.pane.Markdown(f"#### {t(f'{AREA}.check_sheet_title')}"))
    body.append(pn.pane.DataFrame(cs, sizing_mode="stretch_width"))
    if excluded:
        body.append(pn.pane.Markdown(t(f"{AREA}.excluded", n=excluded)))
    body.append(pn.pane.Markdown(f"*{t(f'{AREA}.definitions', days=f'{SLA_DAYS:g}')}*"))
    return result.to_section(ctx, t(f"{AREA}.title"), pn.Column(*body, sizing_mode="stretch_width"))


def build(ctx: ReportContext) -> Section:
    """One language's section (``render(compute(ctx), ctx.lang)``)."""
    return render(compute(ctx), ctx.lang)


__all__ = ["build", "compute", "render"]
