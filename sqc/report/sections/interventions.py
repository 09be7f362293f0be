"""Dashboard section "Did our fixes work?": one line per intervention of the register (effect on its primary
complaint category as a rate ratio with its interval, the counts and months it rests on, the design used and a
verdict), observed against counterfactual charts, and the service blueprint with the month's failures at each
failure point and the fail-safes guarding them.

``compute(ctx)`` does the statistics once (language-independent: numbers, codes, warnings);
``render(result, lang)`` lays them out in one language; ``build(ctx)`` = both, for the dashboard assembly.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..context import ComputeContext, Formatted, Label, Note, ReportContext, Section, SectionResult, translate

AREA = "interventions"
VERDICT_CLASS = {"effective": "sev-info", "no_evidence": "", "worsened": "sev-critical",
                 "too_few_points": "sev-warning"}


@dataclass
class InterventionsResult:
    """What :func:`compute` found for one report (no display text: codes and numbers only)."""

    period: str
    rows: list = field(default_factory=list)          # one dict per evaluated intervention
    process: list = field(default_factory=list)       # one dict per (intervention, audit checklist item)
    kpi_effects: list = field(default_factory=list)   # one dict per (intervention, KPI it should move)
    items: dict = field(default_factory=dict)         # checklist item id -> {"en": text, "zh": text}
    series: dict = field(default_factory=dict)        # intervention id -> DataFrame (observed, counterfactual)
    steps: pd.DataFrame | None = None                 # blueprint_steps table
    failures: pd.DataFrame | None = None              # sqc.blueprint.failure_counts for the period
    notes: list = field(default_factory=list)         # (code, params) pairs
    warnings: list = field(default_factory=list)
    headline: dict = field(default_factory=dict)


_EFFECT_FIELDS = ("rate_ratio", "ci_low", "ci_high", "p", "n_before", "n_after", "count_before", "count_after", "unit")


def _num(v):
    return None if v is None or pd.isna(v) else float(v)


def compute(ctx: ComputeContext) -> SectionResult:
    """Evaluate every intervention started by the report month (data up to and including it) and count the
    month's failures at each failure point of the blueprint (``values["interventions"]``: an
    :class:`InterventionsResult`)."""
    res = evaluate(ctx)
    # the top of the dashboard is for what needs attention: a fix that made things worse
    notes = [Note(f"{AREA}.note_worsened", {"id": p["id"], "rr": Formatted(p["rr"], ".2f"),
                                            "lo": Formatted(p["lo"], ".2f"), "hi": Formatted(p["hi"], ".2f"),
                                            "measure": Label(f"{AREA}.cat_{p['measure']}")},
                  severity="critical", effect=p["rr"] - 1, subject=f"intervention:{p['id']}",
                  plain_key=f"{AREA}.note_worsened_plain")
             for code, p in res.notes if code == "note_worsened"]
    # a KPI the fix should have improved got worse: worth a manager's look, below a rise in complaints
    notes += [Note(f"{AREA}.note_kpi_worsened", {"id": k["intervention_id"], "kpi": Label(f"kpi.{k['kpi']}"),
                                                 "pct": Formatted(k["rate_ratio"] - 1, "+.1%"),
                                                 "lo": Formatted(k["ci_low"] - 1, "+.1%"),
                                                 "hi": Formatted(k["ci_high"] - 1, "+.1%")},
                   severity="warning", effect=abs(k["rate_ratio"] - 1), subject=f"intervention:{k['intervention_id']}",
                   plain_key=f"{AREA}.note_kpi_worsened_plain")
              for k in res.kpi_effects if k["verdict"] == "worsened"]
    return SectionResult(key=AREA, context=ctx, headline=res.headline, warnings=list(res.warnings),
                         values={"interventions": res}, notes=notes)


def evaluate(ctx: Any) -> InterventionsResult:
    """The section's statistics as an :class:`InterventionsResult` (codes and numbers, no display text)."""
    from ...blueprint import failure_counts
    from ...interventions import evaluate_all, evaluate_kpis, evaluate_process_measures

    data, per = ctx.data, ctx.period
    tables = data.tables
    res = InterventionsResult(per)
    if "interventions" not in tables or tables["interventions"].empty:
        res.notes.append(("no_register", {}))
        res.headline = {"period": per, "interventions": [], "n_evaluated": 0}
        return res
    effects, warnings = evaluate_all(data, as_of=per, branches=ctx.branches)
    # the KPIs an intervention should move are judged on the run's shared monthly KPI frame
    kpi_frame = ctx.kpis() if hasattr(ctx, "kpis") else None
    res.warnings += warnings
    for e in effects:
        iv = e.intervention
        res.warnings += e.warnings
        row = {"intervention_id": iv.intervention_id, "kind": iv.kind, "name": iv.name,
               "step_id": iv.step_id, "failure_type": iv.failure_type, "measure": e.measure, "design": e.design,
               "verdict": e.verdict, "n_branches": len([b for b in iv.starts if b in ctx.branches]),
               "first_start": str(iv.first_start.to_period("M")), "staggered": iv.staggered,
               **{k: e.effect[k] for k in ("rate_ratio", "ci_low", "ci_high", "p", "n_before", "n_after",
                                           "count_before", "count_after", "unit")}}
        if e.design == "its":
            row["cov_type"] = e.result.cov_type
            row["dispersion"] = e.result.scale
        if e.design == "staggered":
            row["pretrend_p"] = e.result.pretrend_p
            row["n_comparison"] = e.result.n_units - e.result.n_treated
        res.rows.append(row)
        res.series[iv.intervention_id] = e.series
        process, skipped = evaluate_process_measures(data, iv, as_of=per, branches=ctx.branches)
        kpi_effects, kpi_skipped = (evaluate_kpis(kpi_frame, iv, as_of=per, branches=ctx.branches)
                                    if kpi_frame is not None else ([], []))
        res.warnings += skipped + kpi_skipped
        for effects, rows, name in ((process, res.process, "item_id"), (kpi_effects, res.kpi_effects, "kpi")):
            for m in effects:
                res.warnings += m.warnings
                rows.append({"intervention_id": iv.intervention_id, name: m.measure, "design": m.design,
                             "verdict": m.verdict, **{k: m.effect[k] for k in _EFFECT_FIELDS}})
        if e.verdict in ("effective", "worsened"):
            res.notes.append((f"note_{e.verdict}", {"id": iv.intervention_id, "rr": e.effect["rate_ratio"],
                                                    "lo": e.effect["ci_low"], "hi": e.effect["ci_high"],
                                                    "measure": e.measure}))
    if "checklist" in tables:
        ck = tables["checklist"].set_index("item_id")
        res.items = {i: {"en": ck.loc[i, "text_en"], "zh": ck.loc[i, "text_zh"]}
                     for i in {p["item_id"] for p in res.process} if i in ck.index}
    if "blueprint_steps" in tables and "complaints" in tables:
        res.steps = tables["blueprint_steps"]
        res.failures = failure_counts(res.steps, period=per, complaints=data.complaints,
                                      audit_visits=tables.get("audit_visits"), checklist=tables.get("checklist"),
                                      interventions=tables["interventions"], branches=ctx.branches)
    res.headline = {
        "period": per, "n_evaluated": len(res.rows),
        "interventions": [{"id": r["intervention_id"], "measure": r["measure"], "design": r["design"],
                           "verdict": r["verdict"], "rate_ratio": _rate_ratio(r, "n")} for r in res.rows],
        "process_measures": [{"id": p["intervention_id"], "item_id": p["item_id"], "design": p["design"],
                              "verdict": p["verdict"], "failure_rate_ratio": _rate_ratio(p, "n_checks_failed")}
                             for p in res.process],
        "kpi_effects": [{"id": k["intervention_id"], "kpi": k["kpi"], "design": k["design"], "verdict": k["verdict"],
                         "kpi_ratio": _rate_ratio(k, "numerator")} for k in res.kpi_effects],
    }
    return res


def _rate_ratio(row: dict, count_name: str) -> dict:
    """A rate ratio for summary.json: value, interval, p, the count it rests on and the periods before/after."""
    return {"value": _num(row["rate_ratio"]), "ci_low": _num(row["ci_low"]), "ci_high": _num(row["ci_high"]),
            "p": _num(row["p"]), count_name: int(row["count_before"] + row["count_after"]),
            "n_before": int(row["n_before"]), "n_after": int(row["n_after"]), "unit": row["unit"]}


def _fmt_rr(rr, lo, hi) -> str:
    return f"{rr:.2f} (95% CI {lo:.2f}–{hi:.2f})"


def _in_language(texts: dict, lang: str) -> str:
    return texts.get(lang) or texts.get("en", "")


def _fmt_change(rr, lo, hi) -> str:
    """A ratio as a relative change with its interval: 0.95 (0.92–0.98) → "-5.0% (-8.0% … -2.0%)"."""
    return f"{100 * (rr - 1):+.1f}% ({100 * (lo - 1):+.1f}% … {100 * (hi - 1):+.1f}%)"


def _measure_table(t, title: str, measure_col: str, effect_col: str, rows: list, note: str) -> list:
    """Title, table and note of the measures an intervention should move (audit checks, KPIs); none when empty."""
    import panel as pn

    if not rows:
        return []
    head = [t(c) for c in ("col_intervention", measure_col, "col_design", effect_col, "col_basis", "col_verdict")]
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>" for cells in rows)
    return [pn.pane.Markdown(f"#### {t(title)}"),
            pn.pane.HTML("<table class='sqc-table'><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head)
                         + "</tr>" + body + "</table>", sizing_mode="stretch_width"),
            pn.pane.Markdown(f"*{t(note)}*")]


def _change(rr: float, t) -> str:
    return t("change", pct=f"{100 * (rr - 1):+.0f}")


def render(section_result: SectionResult, lang: str = "en") -> Section:
    import matplotlib.pyplot as plt
    import panel as pn

    from ...plotting.interventions import blueprint_figure, effect_spec
    from ...plotting.spec import to_bokeh
    from ...plotting.scorecard import cjk_rc
    from ..panes import figure_pane

    result: InterventionsResult = section_result.values["interventions"]

    def t(key, **fmt):
        return translate(f"{AREA}.{key}", lang, **fmt)

    def esc(x) -> str:
        return html.escape(str(x))

    period = pd.Period(result.period, "M")
    when = f"{period.year}年{period.month}月" if lang == "zh" else period.strftime("%b %Y")
    body = [pn.pane.Markdown(f"## {t('title')}"), pn.pane.Markdown(t("intro", period=when))]
    notes = [t(code, **{k: (f"{v:.2f}" if isinstance(v, float) else t(f"cat_{v}") if k == "measure" else v)
                        for k, v in params.items()}) for code, params in result.notes]
    body.append(pn.pane.Markdown("\n".join(f"- {n}" for (code, _), n in zip(result.notes, notes)
                                           if code.startswith("note_"))))
    if not result.rows:
        body.append(pn.pane.Markdown(t("no_register") if ("no_register", {}) in result.notes else t("none_yet")))
    else:
        head = [t(c) for c in ("col_intervention", "col_guards", "col_measure", "col_design", "col_effect",
                               "col_change", "col_basis", "col_verdict")]
        rows_html = []
        steps = None if result.steps is None else result.steps.set_index("step_id")
        for r in result.rows:
            fp = ""
            if steps is not None and r["step_id"] in steps.index:
                fp = steps.loc[r["step_id"], f"failure_{lang}"] if f"failure_{lang}" in steps.columns else ""
            guards = f"{esc(fp)}<br><small>{esc(t('ft_' + r['failure_type']))}</small>"
            basis = t(f"basis_{r['unit']}", nb=r["n_before"], na=r["n_after"], cb=int(r["count_before"]),
                      ca=int(r["count_after"]), branches=r["n_branches"])
            name = r["name"].get(lang) or r["name"]["en"]
            rows_html.append(
                "<tr>" + "".join(f"<td>{c}</td>" for c in (
                    f"<b>{esc(r['intervention_id'])}</b> {esc(name)}<br><small>{esc(t('kind_' + r['kind']))}, "
                    f"{esc(t('since', start=r['first_start']))}</small>",
                    guards, esc(t(f"cat_{r['measure']}")), esc(t(f"design_{r['design']}")),
                    f"<span class='nowrap'>{esc(_fmt_rr(r['rate_ratio'], r['ci_low'], r['ci_high']))}</span>"
                    f"<br><small>p = {r['p']:.2g}</small>",
                    esc(_change(r["rate_ratio"], t)), esc(basis),
                    f"<span class='{VERDICT_CLASS[r['verdict']]}'>{esc(t('verdict_' + r['verdict']))}</span>"))
                + "</tr>")
        body.append(pn.pane.HTML("<table class='sqc-table'><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head)
                                 + "</tr>" + "".join(rows_html) + "</table>", sizing_mode="stretch_width"))
        body.append(pn.pane.Markdown(f"*{t('how_to_read')}*"))
        process_rows = [[
            f"<b>{esc(p['intervention_id'])}</b>",
            f"{esc(p['item_id'])} {esc(_in_language(result.items.get(p['item_id'], {}), lang))}",
            esc(t(f"design_{p['design']}")),
            f"<span class='nowrap'>{esc(_fmt_rr(p['rate_ratio'], p['ci_low'], p['ci_high']))}</span>",
            esc(t(f"basis_{p['unit']}_checks", nb=p["n_before"], na=p["n_after"], cb=int(p["count_before"]),
                  ca=int(p["count_after"]))),
            f"<span class='{VERDICT_CLASS[p['verdict']]}'>{esc(t('pverdict_' + p['verdict']))}</span>"]
            for p in result.process]
        body += _measure_table(t, "process_title", "col_item", "col_effect", process_rows, "process_note")
        kpi_rows = [[
            f"<b>{esc(k['intervention_id'])}</b>", esc(translate(f"kpi.{k['kpi']}", lang)),
            esc(t(f"design_{k['design']}")),
            f"<span class='nowrap'>{esc(_fmt_change(k['rate_ratio'], k['ci_low'], k['ci_high']))}</span>",
            esc(t(f"basis_{k['unit']}_kpi", nb=k["n_before"], na=k["n_after"])),
            f"<span class='{VERDICT_CLASS[k['verdict']]}'>{esc(t('kverdict_' + k['verdict']))}</span>"]
            for k in result.kpi_effects]
        body += _measure_table(t, "kpi_effects_title", "col_kpi", "col_kpi_change", kpi_rows, "kpi_effects_note")
        labels = {"observed": t("ax_observed"), "counterfactual": t("ax_counterfactual"), "after": t("ax_after"),
                  "y": t("ax_y")}
        for r in result.rows:
            name = r["name"].get(lang) or r["name"]["en"]
            # drawn by the browser: the reader's fonts, a few kB of numbers instead of an image per language
            body.append(pn.pane.Bokeh(to_bokeh(effect_spec(
                result.series[r["intervention_id"]], lang=lang, labels=labels,
                title=t("chart_title", id=r["intervention_id"], name=name, measure=t(f"cat_{r['measure']}"))))))
            text = t(f"explain_{r['design']}", n=r.get("n_comparison", 0))
            if r["design"] == "staggered" and pd.notna(r.get("pretrend_p")):
                text += " " + t("pretrend", p=f"{r['pretrend_p']:.2g}")
            if r.get("cov_type") == "HAC":
                text += " " + t("hac_used")
            body.append(pn.pane.Markdown(f"*{text}*"))
    if result.failures is not None:
        body.append(pn.pane.Markdown(f"### {t('blueprint_title', period=when)}"))
        labels = {"lanes": {k: t(f"lane_{k}") for k in ("customer", "onstage", "backstage", "support")},
                  "lines": {k: t(f"line_{k}") for k in ("interaction", "visibility", "internal_interaction")},
                  "complaints": t("bp_complaints"), "defects": t("bp_defects"), "guarded": t("bp_guarded")}
        with plt.rc_context(cjk_rc()):
            fig = blueprint_figure(result.steps, result.failures, lang=lang, labels=labels)
            body.append(figure_pane(fig, fmt="png"))
            plt.close(fig)
        f = result.failures
        steps = result.steps.set_index("step_id")
        trs = []
        for sid, r in f.iterrows():
            comp = "—" if pd.isna(r.get("complaints")) else (
                f"{int(r['complaints'])} ({r['complaints_ci_low']:.0f}–{r['complaints_ci_high']:.0f})"
                + (f" {t('shared', k=int(r['shared']))}" if r["shared"] > 1 else ""))
            defects = "—" if pd.isna(r.get("checks")) or not r.get("checks") else (
                f"{int(r['defects'])}/{int(r['checks'])} = {100 * r['defect_rate']:.0f}% "
                f"({100 * r['defect_ci_low']:.0f}–{100 * r['defect_ci_high']:.0f}%)")
            trs.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in (
                steps.loc[sid, f"failure_{lang}"], t(f"ft_{r['failure_type']}"),
                t(f"cat_{r['complaint_category']}") if pd.notna(r["complaint_category"]) else "—", comp, defects,
                r["guarded_by"].replace(";", ", ") or "—")) + "</tr>")
        head = [t(c) for c in ("fp_point", "fp_type", "fp_category", "fp_complaints", "fp_defects", "fp_guarded")]
        body.append(pn.pane.HTML("<table class='sqc-table'><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head)
                                 + "</tr>" + "".join(trs) + "</table>", sizing_mode="stretch_width"))
        body.append(pn.pane.Markdown(f"*{t('fp_note')}*"))
    body.append(pn.pane.Markdown(f"*{t('methods')}*"))
    return section_result.to_section(section_result.context.in_language(lang), t("title"),
                                     pn.Column(*body, sizing_mode="stretch_width"))


def build(ctx: ReportContext) -> Section:
    return render(compute(ctx), ctx.lang)


__all__ = ["compute", "render", "build", "InterventionsResult"]
