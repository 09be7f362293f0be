"""The control-charts tab and the KPI scorecard tab show one set of charts (the scorecard's, limits recalculated in
stages), and the small multiples are browser-drawn charts a manager can read: one y scale per KPI, percent axes
for rates, units, the target, hover tips, text of at least 11 px."""
import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RATES = ("service_level", "abandonment_rate", "fcr_rate")


@pytest.fixture(scope="module")
def computed(demo_data):
    """The scorecard and SPC sections computed once on one run context, as the dashboard does."""
    from sqc.report.context import ComputeContext
    from sqc.report.dashboard import compute_sections

    run = ComputeContext(data=demo_data, period="2026-10", branches=list(demo_data.branches["branch"]))
    results = {r.key: r for r in compute_sections(run, ["scorecard", "spc"])}
    return run, results


@pytest.fixture(scope="module")
def rendered(computed):
    from sqc.report.dashboard import render_sections

    _, results = computed
    return {lang: {s.key: s for s in render_sections(list(results.values()), lang)} for lang in ("en", "zh")}


def test_spc_tab_shows_the_scorecards_charts_and_verdicts(computed):
    run, results = computed
    sc = run.scorecard()
    spc = results["spc"].values
    table = sc.table.set_index(["branch", "kpi"])
    assert len(spc["verdicts"]) == len(table) == 91  # 7 KPIs x (network + 12 branches)
    for (kpi, branch), code in spc["verdicts"].items():
        row = table.loc[(branch, kpi)]
        assert code == row["variation_code"], (branch, kpi)
        assert spc["assurance"][(kpi, branch)] == row["assurance_code"], (branch, kpi)
        assert spc["assurance_basis"][(kpi, branch)] == row["assurance_basis"], (branch, kpi)
        # the very chart object of the scorecard (computed once per run), not a second computation
        chart = sc.charts[(branch, kpi)]
        assert spc["charts"][(kpi, branch)] is getattr(chart, "location", chart)
    # the headline concerns are the scorecard's concerns
    concerns = {f"{b}|{k}" for (b, k), r in table.iterrows() if r["variation_code"] == "concern"}
    assert set(results["spc"].headline["concerns"]) == concerns
    assert "B07|asa_s" in concerns  # the planted waiting-time shift


def test_b04_fcr_recalculation_in_both_tabs(computed, rendered):
    """Issue #10: B04's first-contact resolution has been above its 75 % target for about 14 months. Its limits are
    recalculated from Sep 2025 (14 months in a row above the old centre, 70.1 % -> 80.1 %), so the assurance is
    judged on the new stage: consistently met, not "consistently missed"."""
    run, results = computed
    sc = run.scorecard()
    rec = sc.recalculations
    b04 = rec.loc[(rec["branch"] == "B04") & (rec["kpi"] == "fcr_rate")]
    assert b04["period"].tolist() == ["2025-09"]
    assert "B04|fcr_rate|2025-09" in results["spc"].headline["recalculations"]
    chart = results["spc"].values["charts"][("fcr_rate", "B04")]
    stages = [str(s) for s in chart.stage]
    assert stages.index(stages[-1]) == list(map(str, chart.labels)).index("2025-09")  # the current stage starts there
    assert results["spc"].values["assurance"][("fcr_rate", "B04")] == "consistently_pass"
    # the reading of the data: the 14 months of the new stage are all above the 75 % target
    import numpy as np

    current = np.asarray(chart.statistic)[stages.index(stages[-1]):]
    assert len(current) == 14 and (current > 0.75).all()
    assert float(np.asarray(chart.lcl)[-1]) > 0.75  # so the target lies below the current limits: met
    # the stage break is drawn on both tabs' charts (a vertical dash-dot rule at Sep 2025)
    from bokeh.models import Span

    def has_break(fig):
        return any(isinstance(r, Span) and r.dimension == "height" and r.line_dash == [6, 4, 2, 4] for r in fig.center)

    from sqc.report.context import translate

    fcr_unit = translate("charts.unit_fcr_rate")
    b04 = [f for f in figures(rendered["en"]["spc"].body) if f.title.text.startswith("B04")]
    assert len(b04) == 7
    assert [has_break(f) for f in b04 if f.yaxis[0].axis_label == fcr_unit] == [True]
    assert not any(has_break(f) for f in b04 if f.yaxis[0].axis_label != fcr_unit)  # B04's other limits stand
    fcr = [f for f in figures(rendered["en"]["scorecard"].body) if f.title.text.startswith("First-contact")]
    assert len(fcr) == 1 and has_break(fcr[0])  # the network's FCR limits were recalculated in Sep 2025 too


def test_no_frozen_limits_wording_in_either_language(rendered):
    for lang, words in (("en", ("frozen",)), ("zh", ("冻结",))):
        text = " ".join(page_text(rendered[lang][k].body) for k in ("spc", "scorecard"))
        for w in words:
            assert w not in text.lower(), (lang, w)
    for area in ("spc", "charts"):
        raw = (ROOT / "sqc" / "report" / "locale" / f"{area}.json").read_text(encoding="utf-8")
        assert "frozen" not in raw.lower() and "冻结" not in raw


def test_signal_list_latest_values_carry_n_and_interval(computed, rendered):
    _, results = computed
    signals = results["spc"].values["signals"]
    assert signals
    for z in signals:
        last = z["latest"]
        assert last["n"] > 0 and last["ci_low"] <= last["value"] <= last["ci_high"]
    text = page_text(rendered["en"]["spc"].body)
    assert re.search(r"latest value [\d.,%]+, 95% CI [\d.,%]+ – [\d.,%]+, n = [\d,]+", text)
    zh = page_text(rendered["zh"]["spc"].body)
    assert "95%置信区间" in zh and "样本量" in zh


def test_small_multiples_are_readable_bokeh_figures(computed, rendered):
    from bokeh.models import HoverTool, NumeralTickFormatter, Span
    from bokeh.plotting import figure as Figure

    from sqc.report.context import translate

    run, _ = computed
    targets = run.data.targets.set_index("kpi")["target"]
    figs = figures(rendered["en"]["spc"].body)
    panels = [f for f in figs if f.toolbar_location is None]
    assert len(panels) == 91 and all(isinstance(f, Figure) for f in panels)
    assert all(f.width >= 300 and f.height >= 180 for f in panels)
    # one y range object per KPI, shared by its 13 panels
    by_range = {}
    for f in panels:
        by_range.setdefault(id(f.y_range), []).append(f)
    assert sorted(len(v) for v in by_range.values()) == [13] * 7
    for group in by_range.values():
        unit = {f.yaxis[0].axis_label for f in group}
        assert len(unit) == 1 and unit.pop()  # every panel carries the KPI's unit
        percent = {isinstance(f.yaxis[0].formatter, NumeralTickFormatter) and "%" in f.yaxis[0].formatter.format
                   for f in group}
        assert len(percent) == 1
        label = group[0].yaxis[0].axis_label
        is_rate = label in {translate(f"charts.unit_{k}") for k in RATES}
        assert percent.pop() == is_rate, label
        # the target line on every panel, at the KPI's target
        spans = [[r.location for r in f.center if isinstance(r, Span) and r.dimension == "width"] for f in group]
        assert all(len(s) == 1 for s in spans)
        assert spans[0][0] in set(targets.to_numpy(dtype=float))
        y0, y1 = group[0].y_range.start, group[0].y_range.end
        assert y0 < spans[0][0] < y1  # the target is inside the shared scale
    for f in panels:
        assert int(f.xaxis[0].major_label_text_font_size.rstrip("px")) >= 11
        assert int(f.yaxis[0].major_label_text_font_size.rstrip("px")) >= 11
        hover = [t for t in f.toolbar.tools if isinstance(t, HoverTool)]
        assert len(hover) == 1 and [name for name, _ in hover[0].tooltips] == ["month", "value", "n"]
        assert [t for t in f.toolbar.tools if not isinstance(t, HoverTool)] == []
    # concern frames: B07's waiting time
    asa = next(g for g in by_range.values() if g[0].yaxis[0].axis_label == translate("charts.unit_asa_s"))
    b07 = next(f for f in asa if f.title.text.startswith("B07"))
    assert b07.outline_line_color == "#d62728" and b07.outline_line_width >= 2


def test_closer_look_chart_has_units_target_and_legend(rendered):
    from bokeh.models import Legend

    focus = [f for f in figures(rendered["en"]["spc"].body) if f.toolbar_location is not None]
    assert len(focus) == 1
    p = focus[0]
    assert p.yaxis[0].axis_label and "(" in p.yaxis[0].axis_label  # "KPI name (unit)"
    legend = [r for r in p.right + p.center if isinstance(r, Legend)]
    names = {item.label["value"] for lg in legend for item in lg.items}
    assert {"centre", "control limits", "target"} <= names, names
    zh = [f for f in figures(rendered["zh"]["spc"].body) if f.toolbar_location is not None][0]
    names_zh = {item.label["value"] for lg in zh.center if isinstance(lg, Legend) for item in lg.items}
    assert {"中心线", "控制限", "目标"} <= names_zh


def test_scorecard_tab_charts_are_bokeh_with_percent_axes_and_targets(rendered):
    from bokeh.models import NumeralTickFormatter, Span

    figs = figures(rendered["zh"]["scorecard"].body)
    panels = [f for f in figs if len(f.title.text) and f.yaxis[0].axis_label]
    assert len(panels) >= 7
    for f in panels[:7]:
        assert any(isinstance(r, Span) and r.dimension == "width" for r in f.center)  # the target
        assert int(f.yaxis[0].major_label_text_font_size.rstrip("px")) >= 11
    rates = [f for f in panels[:7] if isinstance(f.yaxis[0].formatter, NumeralTickFormatter)]
    assert len(rates) == 3  # service level, abandonment, first-contact resolution


def test_bokeh_pages_share_models_and_stay_small():
    """The per-figure weight that made 91 panels heavy: one data source per figure, shared views and ranges."""
    import numpy as np
    import pandas as pd
    from bokeh.document import Document
    from bokeh.embed import json_item
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource

    import sqc.spc as spc
    from sqc.plotting.spc import small_multiples_bokeh

    rng = np.random.default_rng(3)
    per = pd.period_range("2024-11", periods=24, freq="M").strftime("%Y-%m")
    charts = {f"B{i:02d}": spc.imr(pd.DataFrame({"period": per, "value": rng.normal(30, 2, 24)}), "value",
                                   time="period", baseline=12).i for i in range(13)}
    figs = small_multiples_bokeh(charts, target=31.0, ylabel="s")
    layout = column(*figs.values())
    doc = Document()
    doc.add_root(layout)
    sources = [m for m in doc.models if isinstance(m, ColumnDataSource)]
    # a panel's centre line, limits and values are one renderer with one source, its points another
    assert len(sources) <= 2 * len(figs) + 4  # + the sources of the stage-break marks
    assert all(len(f.renderers) <= 3 for f in figs.values())
    assert len({id(f.y_range) for f in figs.values()}) == 1
    doc.remove_root(layout)
    size = len(json.dumps(json_item(layout)))
    assert size / len(figs) < 9000, size / len(figs)


def test_control_chart_tab_keeps_its_bokeh_model_budget(computed, rendered):
    """Bokeh's cost (building a figure, walking the page's models at save) grows with the number of models: the
    control-charts tab of the demo report (91 small multiples and one closer look) stays within its budget. It had
    3,396 models (37 a panel) when each panel built its own axes, tickers, grids, scales and a renderer per line;
    now about 1,420 (16 a panel)."""
    from collections import Counter

    from sqc.report.dashboard import page_document

    for lang in ("en", "zh"):
        doc = page_document(rendered[lang]["spc"].body)
        kinds = Counter(type(m).__name__ for m in doc.models)
        panels = [f for f in figures(rendered[lang]["spc"].body) if f.toolbar_location is None]
        assert len(panels) == 91
        assert len(doc.models) < 17 * len(panels), (len(doc.models), kinds.most_common(12))
        # what is shared across the panels: axes, grids, tickers, scales, the target rules
        assert kinds["DatetimeAxis"] <= 2 and kinds["Grid"] <= 2 * 8 and kinds["LinearScale"] <= 2, kinds
        assert kinds["GlyphRenderer"] <= 3 * len(panels), kinds


def test_a_panel_without_a_chart_says_so_in_its_place(computed):
    """A branch whose KPI has no chart keeps its cell in the KPI's grid: its name and "insufficient data", escaped."""
    import dataclasses

    from bokeh.models import Div

    from sqc.report.context import translate
    from sqc.report.sections import spc

    _, results = computed
    result = results["spc"]
    charts = dict(result.values["charts"])
    charts[("asa_s", "B01")] = None
    result = dataclasses.replace(result, values={**result.values, "charts": charts})
    ctx = result.context.in_language("zh")
    bname = {b: b for b in ctx.branches}
    bname["B01"] = "B01 <&>"
    bname["ALL"] = "ALL"
    column = spc._small_multiples(ctx, result, "asa_s", "asa", bname, {})
    grid = column.objects[1].object
    cells = [child[0] for child in grid.children]
    assert len(cells) == 13 and [type(c).__name__ for c in cells].count("Div") == 1
    empty = cells[1]  # B01: the network first, then the branches in order
    assert isinstance(empty, Div) and (empty.width, empty.height) == spc.PANEL_SIZE
    assert "B01 &lt;&amp;&gt;" in empty.text and translate("spc.insufficient", "zh") in empty.text


def figures(body):
    """The Bokeh figures inside a Panel layout (in page order)."""
    from bokeh.plotting import figure as Figure

    out = []

    def walk_bokeh(model):
        if isinstance(model, Figure):
            out.append(model)
        for child in getattr(model, "children", []) or []:  # a Bokeh layout (a grid's children: (model, row, col))
            walk_bokeh(child[0] if isinstance(child, tuple) else child)

    def walk(obj):
        if hasattr(obj, "object") and hasattr(obj.object, "references"):  # a pane holding a Bokeh model
            walk_bokeh(obj.object)
        for child in getattr(obj, "objects", []) or []:
            walk(child)

    walk(body)
    return out


def page_text(body) -> str:
    """The text of the Markdown and HTML panes of a Panel layout."""
    out = []

    def walk(obj):
        if isinstance(getattr(obj, "object", None), str):
            out.append(obj.object)
        for child in getattr(obj, "objects", []) or []:
            walk(child)

    walk(body)
    return " ".join(out)


# ------------------------------------------------------------------------------------------------ in a browser
# the plotting frame of every Bokeh figure on the page (its view's frame box, in CSS pixels): a figure whose layout
# failed draws its text in a heap at the corner with a 0 x 0 frame
FRAMES = """() => { const out = [];
  const visit = (v) => { if (!v) return;
    if (v.frame && v.frame.bbox) out.push([v.frame.bbox.width, v.frame.bbox.height]);
    for (const k of (v.child_views ?? [])) visit(k); };
  const idx = Bokeh.index; for (const r of (idx.roots ? [...idx.roots] : Object.values(idx))) visit(r);
  return out; }"""


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_control_chart_tab_renders_its_canvases_offline(chromium, published_reports, lang):
    """Headless Chromium, network blocked: the control-charts tab draws the interactive chart and 91 small
    multiples (7 KPIs x network + 12 branches) at their size, with no console error; the page is <= 2.5 MB."""
    from playwright.sync_api import sync_playwright

    from sqc.report.context import translate

    reports, _ = published_reports
    path = reports / "2026-10" / f"dashboard_{lang}.html"
    assert path.stat().st_size <= 2_500_000, f"{path.name} is {path.stat().st_size / 1e6:.2f} MB"
    errors, blocked = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--headless=new", "--no-sandbox",
                                                                     "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.set_default_timeout(180_000)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        def route(r):
            if r.request.url.startswith(("file:", "data:", "blob:")):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page.goto(path.as_uri(), wait_until="load")
        tab = page.locator(".bk-tab", has_text=translate("spc.title", lang))
        tab.click()
        page.wait_for_function("(el) => el.classList.contains('bk-active')", arg=tab.element_handle())
        # the 91 panels (320 x 200 px figures: a frame of about 250 x 150 px inside the axes) and the closer look
        page.wait_for_function(f"() => ({FRAMES})().filter(s => s[0] >= 200 && s[1] >= 120).length >= 92")
        frames = page.evaluate(FRAMES)
        assert len([f for f in frames if 200 <= f[0] <= 320 and 120 <= f[1] <= 200]) >= 91, frames[:10]
        assert any(f[0] >= 700 for f in frames)
        browser.close()
    assert blocked == [] and errors == [], (blocked[:3], errors[:3])


def test_network_complaints_assurance_shown_as_provisional_in_both_languages(computed, rendered):
    """Issue #10: network complaints surged in the last months (special-cause concern) while the assurance says
    "target met": that verdict rests on limits the process has since left, and the control-charts tab says so."""
    from sqc.report.context import translate

    _, results = computed
    h = results["spc"].headline["kpis"]["complaint_rate_per_1000"]
    assert h["variation"] == "concern" and h["assurance_basis"] == "earlier_limits"
    for lang in ("en", "zh"):
        assert translate("spc.provisional", lang) in page_text(rendered[lang]["spc"].body)
