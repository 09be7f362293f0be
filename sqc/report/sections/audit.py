"""Dashboard section "branch league" (Methods §4, §7 item 4): grades, rank intervals, funnel plot, assessor
agreement note, deductions with the order of operations printed. English and Simplified Chinese labels come from
``sqc/report/locale/audit.json``.

Settings are module constants (the organisation's scheme): 50/50 body weights, deductions charged monthly (the
data contract defines ``incidents.deduction`` as points off the month's score), grade bands A ≥ 90 … E.
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ... import audit
from ...inference import mean_ci
from ..panes import message_section
from ..context import ByLang, ComputeContext, Formatted, Label, Month, Note, ReportContext, Section, SectionResult

AREA = "audit"
# compute reads only the tables loaded in memory (never the store): a run may compute it in a forked process
LOADED_TABLES_ONLY = True
BODY_WEIGHTS = {"provincial": 0.5, "city": 0.5}
ORDER = "monthly"
N_BOOT = 2000
G_TARGET = 0.7


def _league_quarter(period: str, periods_with_data: list[str]) -> tuple[str, str, int]:
    """The last complete quarter up to ``period`` (or the current one when none is complete)."""
    p = pd.Period(period, "M")
    current_q = p.asfreq("Q")
    months_in_current = p.month - (current_q.quarter - 1) * 3
    if months_in_current == 3:
        return str(current_q), str(current_q), 3
    prev = current_q - 1
    have = {str(pd.Period(x, "M").asfreq("Q")) for x in periods_with_data}
    if str(prev) in have:
        return str(prev), str(current_q), months_in_current
    return str(current_q), str(current_q), months_in_current


def _band(ctx: ReportContext, value: float) -> str:
    return ctx.t(f"audit.band_{audit.koo_li_band(value)}")


def _body_label(body: str) -> Label:
    return Label(f"audit.body_{body}", body)


def _body(ctx: ReportContext, body: str) -> str:
    return ctx.text(_body_label(body))


def compute(ctx: ComputeContext) -> SectionResult:
    """Visit scores, the league of the last complete quarter (bootstrap rank intervals), funnel, assessor
    agreement, G study and the month's company score."""
    visits = ctx.data.audit_visits
    visits = visits[(visits["period"].astype(str) <= ctx.period) & visits["branch"].isin(ctx.branches)]
    incidents = ctx.data.incidents
    incidents = incidents[(incidents["period"].astype(str) <= ctx.period) & incidents["branch"].isin(ctx.branches)]
    if visits.empty or visits["branch"].nunique() < 2:
        return SectionResult(AREA, ctx, {"league": None}, [], {
            "insufficient": True, "message": Note(f"{AREA}.insufficient", {"period": Month(ctx.period)})})

    scores = audit.score_visits(visits, ctx.data.checklist, on_error="exclude")
    quarter, current_q, months_in_current = _league_quarter(ctx.period, sorted(scores.visits["period"].unique()))
    league = audit.rank_branches(scores, incidents, quarter=quarter, weights=BODY_WEIGHTS, order=ORDER,
                                 n_boot=N_BOOT)
    qv = scores.visits[audit._quarter_of(scores.visits["period"].astype(str)) == quarter]
    funnel = audit.funnel_data(scores, quarter=quarter)
    bias = audit.assessor_bias(scores, body_a="city", body_b="provincial")
    gs = audit.g_study(scores, by="quarter", target=G_TARGET)
    combined = audit.combine_assessors(scores, weights=BODY_WEIGHTS)
    warnings = list(scores.warnings) + list(league.warnings) + list(bias.warnings) + \
        [w for w in gs.warnings if w.code != "W-MS-01"]  # W-MS-01 for the league quarter comes from the league
    # (rank_branches already raised W-MS-01 for the league quarter; the other quarters' G rows are context only)
    g_row = gs.table[gs.table["group"] == quarter]
    g_row = g_row.iloc[0] if len(g_row) else gs.table.iloc[-1]

    tab = league.table
    company = mean_ci(tab["final"])
    month = combined.table[combined.table["period"].astype(str) == ctx.period]
    month_est = mean_ci(month["score"]) if len(month) else None
    grade_counts = tab["grade"].value_counts().reindex([g for g, _ in audit.DEFAULT_GRADE_BANDS]).fillna(0)
    ba = bias.bland_altman
    icc_tab = bias.icc.set_index("form")
    icc_a1, icc_ak = float(icc_tab.loc["ICC(A,1)", "ICC"]), float(icc_tab.loc["ICC(A,k)", "ICC"])
    items = audit.item_agreement(scores, body_a="city", body_b="provincial")
    lenient = items.table[(items.table["difference_ci_low"] > 0)].head(3)
    need = g_row["visits_needed"]
    fp = funnel.points
    out = fp[fp["signal"].isin(["above", "below"])]
    q = league.quarterly
    qt = q.table[q.table["quarter"] == quarter]
    profile_scores = audit.VisitScores(qv, scores.sections[scores.sections["visit_id"].isin(qv["visit_id"])],
                                       scores.items.iloc[:0], scores.checklist, scores.exclusions)
    headline = {
        "quarter": quarter,
        "quarter_complete": bool(quarter != current_q or months_in_current == 3),
        "order_of_operations": ORDER,
        "body_weights": BODY_WEIGHTS,
        "company_score": {"value": company.value, "ci_low": company.ci_low, "ci_high": company.ci_high,
                          "n": company.n, "n_visits": int(tab["n_visits"].sum())},
        "month_score": (None if month_est is None else
                        {"period": ctx.period, "value": month_est.value, "ci_low": month_est.ci_low,
                         "ci_high": month_est.ci_high, "n": month_est.n}),
        "assessor_bias_city_minus_provincial": {"value": ba.bias, "ci_low": ba.bias_ci[0], "ci_high": ba.bias_ci[1],
                                                "n": ba.n, "icc_a1": icc_a1, "icc_ak": icc_ak},
        "items_city_higher": [{"item_id": r.item_id, "difference_pct_of_max": float(r.difference_pct),
                               "ci_low": float(r.difference_ci_low), "ci_high": float(r.difference_ci_high),
                               "n": int(r.n_pairs)} for r in lenient.itertuples()],
        "g_coefficient": {"value": float(g_row["g_coefficient"]),
                          "visits_per_branch": float(g_row["visits_per_branch"]),
                          "visits_needed": float(need), "target": G_TARGET},
        "grades": {g: int(n) for g, n in grade_counts.items()},
        "funnel_outside_998": out[["branch", "signal"]].to_dict("records"),
        "league": [{"branch": r.branch, "final": float(r.final), "grade": r.grade, "rank": int(r.rank),
                    "rank_low": int(r.rank_low), "rank_high": int(r.rank_high), "n_visits": int(r.n_visits),
                    "ci_low": float(r.score_ci_low), "ci_high": float(r.score_ci_high),
                    "deductions": float(r.deductions), "veto": bool(r.veto)} for r in tab.itertuples()],
    }
    # the notes: a significant assessor bias, branches outside the funnel limits, vetoes
    notes = []
    if ba.bias_significant:
        more, less = ("city", "provincial") if ba.bias > 0 else ("provincial", "city")
        lo_abs, hi_abs = sorted(abs(x) for x in ba.bias_ci)
        notes.append(Note(f"{AREA}.note_bias", {
            "more": _body_label(more), "less": _body_label(less), "bias": Formatted(abs(ba.bias), ",.1f"),
            "lo": Formatted(lo_abs, ",.1f"), "hi": Formatted(hi_abs, ",.1f")}))
    names = ctx.data.branches.set_index("branch")
    for r in out.itertuples():
        b, sig = r.branch, r.signal
        notes.append(Note(f"{AREA}.note_funnel", {
            "branch": ByLang(*(f"{b} {names[col].get(b, '')}".strip() for col in ("name_en", "name_zh"))),
            "direction": Label(f"{AREA}.{sig}"), "quarter": quarter, "mean": Formatted(float(r.mean), ",.1f"),
            "target": Formatted(funnel.target, ",.1f"), "n": int(r.n)},
            severity="warning" if sig == "below" else "info", effect=abs(float(r.mean) / funnel.target - 1.0),
            subject=f"audit:{b}", plain_key=f"{AREA}.note_funnel_plain"))
    vetoed = tab.loc[tab["veto"].astype(bool), "branch"].tolist()
    if vetoed:
        notes.append(Note(f"{AREA}.note_veto", {"branches": ", ".join(vetoed), "quarter": quarter},
                          severity="critical", subject="audit:veto", plain_key=f"{AREA}.note_veto_plain"))
    return SectionResult(AREA, ctx, headline, warnings, notes=notes, values={
        "insufficient": False, "current_quarter": current_q, "months_in_current": months_in_current,
        "quarter_months_seen": int(qv["period"].nunique()), "league": league, "funnel": funnel, "bias": bias,
        "company": company, "month": month_est, "lenient": lenient, "g_row": g_row, "outside": out,
        "quarter_table": qt, "profile_scores": profile_scores})


def render(result: SectionResult, lang: str) -> Section:
    import panel as pn

    from ...plotting import audit as aplot

    ctx = result.context.in_language(lang)
    t = ctx.t
    title = t("audit.title")
    v, headline = result.values, result.headline
    if v["insufficient"]:
        return message_section(result, ctx, title, v["message"])
    names_col = "name_zh" if ctx.lang == "zh" else "name_en"
    names = ctx.data.branches.set_index("branch")[names_col].to_dict()
    quarter, current_q, months_in_current = headline["quarter"], v["current_quarter"], v["months_in_current"]
    league, funnel, bias, company, month_est, lenient, g_row, out = (v[k] for k in (
        "league", "funnel", "bias", "company", "month", "lenient", "g_row", "outside"))
    tab = league.table
    grades_txt = ", ".join(f"{g} {n}" for g, n in headline["grades"].items() if n > 0)

    # ---- manager's view (text first)
    lines = [f"### {t('audit.league_heading', quarter=quarter)}"]
    if quarter != current_q:
        lines.append(t("audit.partial_quarter", quarter=current_q, n=months_in_current))
    elif months_in_current < 3:
        lines.append(t("audit.quarter_to_date", quarter=quarter, n=v["quarter_months_seen"]))
    lines.append(t("audit.company_score", quarter=quarter, value=ctx.fmt_num(company.value),
                   lo=ctx.fmt_num(company.ci_low), hi=ctx.fmt_num(company.ci_high), n=company.n,
                   visits=int(tab["n_visits"].sum())))
    if month_est is not None and month_est.n:
        lines.append(t("audit.month_score", period=ctx.fmt_period(ctx.period), value=ctx.fmt_num(month_est.value),
                       lo=ctx.fmt_num(month_est.ci_low), hi=ctx.fmt_num(month_est.ci_high), n=month_est.n))
    lines.append(t("audit.grades_line", grades=grades_txt))

    ba = bias.bland_altman
    icc_a1 = headline["assessor_bias_city_minus_provincial"]["icc_a1"]
    icc_ak = headline["assessor_bias_city_minus_provincial"]["icc_ak"]
    if ba.bias_significant:
        more, less = ("city", "provincial") if ba.bias > 0 else ("provincial", "city")
        lo_abs, hi_abs = sorted(abs(x) for x in ba.bias_ci)
        bias_txt = t("audit.bias_higher", more=_body(ctx, more), less=_body(ctx, less),
                     bias=ctx.fmt_num(abs(ba.bias)), lo=ctx.fmt_num(lo_abs), hi=ctx.fmt_num(hi_abs), n=ba.n,
                     icc=f"{icc_a1:.2f}", band=_band(ctx, icc_a1), icck=f"{icc_ak:.2f}")
    else:
        bias_txt = t("audit.bias_none", a=_body(ctx, "city"), b=_body(ctx, "provincial"),
                     bias=f"{ba.bias:+.1f}", lo=f"{ba.bias_ci[0]:+.1f}", hi=f"{ba.bias_ci[1]:+.1f}", n=ba.n,
                     icc=f"{icc_a1:.2f}", band=_band(ctx, icc_a1))
    lines.append(bias_txt)
    if len(lenient):
        text_col = "text_zh" if ctx.lang == "zh" else "text_en"
        texts = ctx.data.checklist.set_index("item_id")[text_col] if text_col in ctx.data.checklist else {}
        lines.append(t("audit.lenient_items", items="; ".join(
            f"{r.item_id} {texts.get(r.item_id, '')} ({r.difference_pct:+.0f}%, n = {r.n_pairs})"
            for r in lenient.itertuples())))
    need = g_row["visits_needed"]
    lines.append(t("audit.dependability", nv=f"{g_row['visits_per_branch']:.1f}", g=f"{g_row['g_coefficient']:.2f}",
                   target=f"{G_TARGET:g}", need="∞" if not np.isfinite(need) else int(np.ceil(need))))
    if any(w.code == "W-MS-06" for w in league.warnings):
        lines.append(t("audit.ranks_unstable"))

    fp = funnel.points
    if len(out):
        lines.append(t("audit.funnel_out", branches=", ".join(
            f"{b} ({t('audit.' + s)})" for b, s in zip(out["branch"], out["signal"])), n_ok=len(fp) - len(out)))
    else:
        lines.append(t("audit.funnel_none"))

    # ---- deductions and the order of operations (always printed)
    q = league.quarterly
    order_text = q.order_text_zh if ctx.lang == "zh" else q.order_text
    weights_txt = ", ".join(f"{_body(ctx, b)} {w:.0%}" for b, w in BODY_WEIGHTS.items())
    qt = v["quarter_table"]
    n_inc = int(qt["n_incidents"].sum())
    ded_lines = [f"#### {t('audit.order_heading')}",
                 t("audit.order_line", weights=weights_txt, order=t(f"audit.order_{ORDER}"), text=order_text)]
    if n_inc:
        ded_lines.append(t("audit.deductions_applied", quarter=quarter, n=n_inc,
                           points=f"{qt['deductions'].sum():g}", branches=int((qt["n_incidents"] > 0).sum()),
                           vetoes=int(qt["veto"].sum())))
    else:
        ded_lines.append(t("audit.no_deductions", quarter=quarter))

    # ---- table
    show = pd.DataFrame({
        t("audit.col_branch"): tab["branch"],
        t("audit.col_name"): tab["branch"].map(names).fillna(""),
        t("audit.col_final"): tab["final"].round(1),
        t("audit.col_ci"): [f"{lo:.1f}–{hi:.1f}" for lo, hi in zip(tab["score_ci_low"], tab["score_ci_high"])],
        t("audit.col_grade"): tab["grade"],
        t("audit.col_rank"): [f"{r} ({lo}–{hi})" for r, lo, hi in zip(tab["rank"], tab["rank_low"],
                                                                       tab["rank_high"])],
        t("audit.col_visits"): tab["n_visits"],
        t("audit.col_before"): tab["score_before_deductions"].round(1),
        t("audit.col_deductions"): tab["deductions"].round(1),
        t("audit.col_veto"): [t("audit.yes") if veto else t("audit.no") for veto in tab["veto"]],
        t("audit.col_shrunken"): tab["shrunken"].round(1),
    })

    # ---- charts (computed once above; plots only read the results)
    league_fig = aplot.league_bokeh(league, title=t("audit.league_chart", quarter=quarter),
                                    labels={"x": t("audit.x_score")}, names=None, lang=ctx.lang)
    funnel_fig = aplot.funnel_bokeh(funnel, title=t("audit.funnel_chart", quarter=quarter),
                                    labels={"x": t("audit.x_visits"), "y": t("audit.y_mean")}, lang=ctx.lang)
    ba_fig = aplot.bland_altman_bokeh(bias, title=t("audit.ba_chart", period=ctx.fmt_period(ctx.period)),
                                      labels={"x": t("audit.ba_x"),
                                              "y": t("audit.ba_y", a=_body(ctx, "city"),
                                                     b=_body(ctx, "provincial"))}, lang=ctx.lang)
    prof_fig = aplot.section_profile_bokeh(v["profile_scores"], title=t("audit.profile_chart", quarter=quarter),
                                           lang=ctx.lang)

    bands = ", ".join(f"{g} ≥ {lo:g}" for g, lo in audit.DEFAULT_GRADE_BANDS[:-1])
    body = pn.Column(
        pn.pane.Markdown("\n\n".join(lines)),
        pn.pane.Bokeh(league_fig),
        pn.Row(pn.pane.Bokeh(funnel_fig), pn.pane.Bokeh(ba_fig)),
        pn.pane.Markdown("\n\n".join(ded_lines)),
        pn.pane.DataFrame(show, index=False),
        pn.pane.Bokeh(prof_fig),
        pn.pane.HTML("<p style='font-size:0.8em;color:#555'>"
                     f"{html.escape(t('audit.definitions', bands=bands, n_boot=N_BOOT))}</p>"),
    )
    return result.to_section(ctx, title, body)


def build(ctx: ReportContext) -> Section:
    """One language's section (``render(compute(ctx), ctx.lang)``)."""
    return render(compute(ctx), ctx.lang)
