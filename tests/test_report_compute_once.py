"""Compute once per run, render once per language (issue 9): a two-language report computes every section's
statistics once, runs ``network_kpis`` once, renders each section once per language, draws each matplotlib figure
once, and gives both languages the same numbers."""
from __future__ import annotations

import importlib
import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("panel")

from sqc.report.panes import render_figure  # noqa: E402


def _count_draws(monkeypatch):
    from matplotlib.figure import Figure

    calls = []
    draw = Figure.draw

    def counting_draw(self, renderer):
        calls.append(self)
        return draw(self, renderer)

    monkeypatch.setattr(Figure, "draw", counting_draw)
    return calls


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_png_is_drawn_once_and_cropped_to_its_content(monkeypatch):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [1, 3, 2])
    ax.set_title("a title")
    fig.subplots_adjust(left=0.3, right=0.7, bottom=0.3, top=0.7)  # wide empty margins around the axes
    draws = _count_draws(monkeypatch)
    data = render_figure(fig, fmt="png", dpi=50)
    assert len(draws) == 1
    width, height = _png_size(data)
    assert width < 4 * 50 and height < 3 * 50  # the empty margins are cut
    # the axes (0.4 × 0.4 of the canvas) plus tick labels, title and the 0.1 in pad on each side are kept
    assert width > 0.4 * 4 * 50 and height > 0.4 * 3 * 50


def test_png_with_content_past_the_edge_is_not_cut(monkeypatch):
    """Text that sticks out of the canvas: matplotlib's tight save extends the canvas, and so must we."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3))
    fig.add_subplot().plot([0, 1], [0, 1])
    fig.text(1.02, 0.5, "sticking out", ha="left")
    data = render_figure(fig, fmt="png", dpi=50)
    assert _png_size(data)[0] > 4 * 50


def test_svg_is_drawn_once_and_scales_to_its_pane(monkeypatch):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3), layout="constrained")  # a layout engine: savefig would lay it out twice
    fig.add_subplot().plot([0, 1], [0, 1])
    draws = _count_draws(monkeypatch)
    svg = render_figure(fig, fmt="svg").decode("utf-8")
    assert len(draws) == 1
    head = svg[:svg.index(">") + 1]
    assert svg.startswith("<svg") and 'width="100%"' in head and 'height="100%"' in head
    assert head.count("width=") == 1 and "viewBox=" in head
    with pytest.raises(ValueError, match="fmt"):
        render_figure(fig, fmt="pdf")


@pytest.mark.slow
def test_two_language_report_computes_each_statistic_once(demo_data, tmp_path, monkeypatch):
    import sqc.kpi
    import sqc.report.panes as panes
    from sqc.report.dashboard import available_sections, write_report

    kpi_calls = []
    network_kpis = sqc.kpi.network_kpis

    def counting_network_kpis(*args, **kwargs):
        kpi_calls.append(kwargs)
        return network_kpis(*args, **kwargs)

    monkeypatch.setattr(sqc.kpi, "network_kpis", counting_network_kpis)
    computes, renders = [], []
    areas = available_sections()
    for area in areas:
        module = importlib.import_module(f"sqc.report.sections.{area}")

        def counting_compute(ctx, _area=area, _compute=module.compute):
            computes.append(_area)
            return _compute(ctx)

        def counting_render(result, lang, _area=area, _render=module.render):
            renders.append((_area, lang))
            return _render(result, lang)

        monkeypatch.setattr(module, "compute", counting_compute)
        monkeypatch.setattr(module, "render", counting_render)
    figures = []
    render = panes.render_figure

    def counting_render_figure(fig, **kwargs):
        figures.append(fig)
        return render(fig, **kwargs)

    monkeypatch.setattr(panes, "render_figure", counting_render_figure)
    draws = _count_draws(monkeypatch)

    out = write_report(demo_data, "2026-10", languages=["en", "zh"], output_dir=tmp_path)

    assert len(kpi_calls) == 1, kpi_calls
    assert sorted(computes) == sorted(areas)  # each section's statistics exactly once
    assert sorted(renders) == sorted((a, lang) for a in areas for lang in ("en", "zh"))
    # every figure is drawn once (a PNG whose drawing touches the canvas edge is saved the two-pass tight way)
    assert figures and len({id(f) for f in figures}) == len(figures)
    # (the IPA, zone-of-tolerance and item-total charts place text at the canvas edge: three per language)
    assert len(figures) <= len(draws) <= len(figures) + 3 * 2
    assert max(sum(d is f for d in draws) for f in figures) <= 2
    en, zh = out["sections"]["en"], out["sections"]["zh"]
    assert [s.key for s in en] == [s.key for s in zh] == areas
    for s_en, s_zh in zip(en, zh):
        assert json.dumps(s_en.headline, sort_keys=True, default=str) == \
            json.dumps(s_zh.headline, sort_keys=True, default=str), s_en.key
        assert [w.to_dict() for w in s_en.warnings] == [w.to_dict() for w in s_zh.warnings], s_en.key
        assert s_en.note_codes == s_zh.note_codes, s_en.key  # the same findings, in two languages
        assert len(s_en.notes) == len(s_en.note_codes)
        assert s_en.title != s_zh.title  # the text is per language
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["note_codes"]["complaints"][0]["key"] == "complaints.surge"
    assert summary["note_codes"]["complaints"][0]["params"]["category"] == "complaints.cat_billing"
    assert summary["sections"]["spc"]["headline"]["kpis"]["service_level"]["n"] > 0
    assert np.isclose(summary["sections"]["spc"]["headline"]["kpis"]["service_level"]["value"],
                      summary["sections"]["scorecard"]["headline"]["network"]["service_level"]["value"])


def test_old_style_section_still_builds_per_language(demo_data, monkeypatch):
    """A section module with only ``build(ctx)`` (the convention before compute/render) keeps working."""
    import types

    import panel as pn

    from sqc.report import dashboard
    from sqc.report.context import ComputeContext, Section

    seen = []

    def build(ctx):
        seen.append(ctx.lang)
        return Section("legacy", ctx.t("report.title"), pn.Column(), {"n": 1})

    legacy = types.ModuleType("sqc.report.sections.legacy")
    legacy.build = build
    monkeypatch.setitem(__import__("sys").modules, "sqc.report.sections.legacy", legacy)
    results = dashboard.compute_sections(ComputeContext(demo_data, "2026-10", ["B01", "B02"]), ["legacy"])
    sections = [dashboard.render_sections(results, lang)[0] for lang in ("en", "zh")]
    assert seen == ["en", "zh"] and [s.headline for s in sections] == [{"n": 1}, {"n": 1}]


def test_shared_kpi_frame_matches_network_kpis(demo_data):
    """The SPC section takes its window from the run's KPI frame; it equals network_kpis over that window."""
    from sqc.kpi import network_kpis
    from sqc.report.context import ComputeContext

    branches = ["B01", "B07"]
    ctx = ComputeContext(demo_data, "2026-10", branches)
    shared = ctx.kpis(start="2024-11")
    direct = network_kpis(demo_data, start="2024-11", end="2026-10", branches=branches, total=True)
    key = ["kpi", "branch", "period"]
    shared = shared.loc[shared["kpi"].isin(set(direct["kpi"]))].sort_values(key).reset_index(drop=True)
    direct = direct.sort_values(key).reset_index(drop=True)
    direct["period"] = direct["period"].astype(str)
    assert len(shared) == len(direct) > 0
    for col in ("value", "ci_low", "ci_high", "n"):
        np.testing.assert_allclose(shared[col].to_numpy(float), direct[col].to_numpy(float), rtol=1e-12)
    assert ctx.scorecard() is ctx.scorecard()  # computed once per run, then shared


def test_note_parameters_render_per_language():
    from sqc.report.context import ByLang, Formatted, Joined, Label, Month, Note, ReportContext

    note = Note("complaints.surge", {
        "category": Label("complaints.cat_billing"), "start": Month("2026-08"), "recent": Formatted(0.503, ",.2f"),
        "months": 3, "baseline": Formatted(float("nan"), ",.2f"), "base_start": Month("2024-11"),
        "base_end": Month("2025-10"), "ratio": Formatted(2.479, ",.2f"), "lo": Formatted(2.256, ",.2f"),
        "hi": Formatted(2.722, ",.2f")})
    en = ReportContext(None, "2026-10", [], "en").note_text(note)
    zh = ReportContext(None, "2026-10", [], "zh").note_text(note)
    assert en.startswith("⚠ billing complaints surged from Aug 2026: 0.50 per 1,000") and "2.48×" in en
    assert "against — in the baseline (Nov 2024 to Oct 2025)" in en  # a missing number shows as a dash
    assert "计费" in zh and "2026年8月" in zh and "billing" not in zh
    zh_ctx = ReportContext(None, "2026-10", [], "zh")
    assert zh_ctx.text(Formatted(0.1234, ".1%")) == zh_ctx.fmt_pct(0.1234) == "12.3%"
    assert zh_ctx.text(ByLang("desk", "柜台")) == "柜台"
    assert zh_ctx.text(Label("audit.body_nosuch", "nosuch")) == "nosuch"  # unknown key: the raw code
    assert zh_ctx.text(Joined(("B07", Label("kpi.asa_s")), " ")) == "B07 " + zh_ctx.t("kpi.asa_s")
    assert note.to_dict()["params"]["start"] == "2026-08" and note.to_dict()["params"]["recent"] == 0.503


def test_a_glyph_no_font_has_is_an_error_not_a_box():
    """matplotlib only warns and draws an empty box; a published page must not carry one."""
    from matplotlib.figure import Figure

    from sqc.errors import SqcError

    fig = Figure(figsize=(3, 2))
    fig.add_subplot().set_title("private use \uf8ff")
    with pytest.raises(SqcError, match="missing"):
        render_figure(fig, fmt="png")
