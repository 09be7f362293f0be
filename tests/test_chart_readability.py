"""Charts a manager can read (issue 10, item 3) for the complaints, interventions, SERVQUAL, reliability and audit
tabs: a colour legend on every heat map in both back-ends, every interval end and every bar inside the plot,
legends beside the plot rather than over the data, percent axes for proportions, and a label on every axis of
every chart the dashboard sections draw (in both languages)."""
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sqc.plotting import spec as S

LANGS = ("en", "zh")


def _bokeh_colour_bars(fig):
    from bokeh.models import ColorBar

    return [m for m in fig.below + fig.right + fig.above + fig.left if isinstance(m, ColorBar)]


def _mpl_colour_bar_axes(fig):
    """The colour-bar axes of a matplotlib figure (those a Colorbar was drawn on)."""
    return [ax for ax in fig.axes if hasattr(ax, "_colorbar")]


def _servqual_heat():
    segs = [f"B{i:02d}" for i in range(1, 5)]
    dims = ["tangibles", "reliability", "overall"]
    rows = [{"segment": s, "dimension": d, "mean": -0.2 * i - 0.1 * j, "n": 40 + i, "suppressed": i == 3,
             "marker": "below" if (i, j) == (1, 1) else ""} for i, s in enumerate(segs) for j, d in enumerate(dims)]
    return pd.DataFrame(rows)


def _loadings_result():
    loadings = pd.DataFrame({"F1": [0.8, 0.7, 0.1, -0.2], "F2": [0.05, 0.2, 0.75, 0.6], "h2": [0.6] * 4},
                            index=["P1", "P2", "P3", "P4"])
    return SimpleNamespace(loadings=loadings, n=250, chart_title=lambda lang: "Loadings")


def _section_scores():
    prof = pd.DataFrame({"greeting": [92.0, 71.5], "cleanliness": [85.0, 60.0]}, index=["B01", "B02"])
    return SimpleNamespace(section_profile=lambda by: prof, chart_title=lambda lang: "Section scores")


def _heat_maps(lang):
    from sqc.plotting import audit, reliability, servqual

    return {"servqual": servqual.heatmap_spec(_servqual_heat(), lang),
            "loadings": reliability.loadings_spec(_loadings_result(), lang),
            "audit sections": audit.section_profile_spec(_section_scores(), lang)}


@pytest.mark.parametrize("lang", LANGS)
def test_every_heat_map_has_a_labelled_colour_legend_in_both_backends(lang):
    for name, chart in _heat_maps(lang).items():
        cells = next(layer for layer in chart.layers if layer.kind == "cells")
        meaning = cells.style["colour_label"]
        assert meaning.strip(), name
        bars = _bokeh_colour_bars(S.to_bokeh(chart))
        assert len(bars) == 1, name
        bar = bars[0]
        assert bar.title == meaning
        # the legend shows the colours and the range the cells are coloured with
        assert list(bar.color_mapper.palette) == S.palette(cells.style["colourmap"])
        assert (bar.color_mapper.low, bar.color_mapper.high) == (cells.style["low"], cells.style["high"])
        fig = S.to_matplotlib(chart)
        (cax,) = _mpl_colour_bar_axes(fig)
        assert cax.get_ylabel() == meaning, name
        assert cax._colorbar.vmin == cells.style["low"] and cax._colorbar.vmax == cells.style["high"]


def test_house_of_quality_matrix_has_a_colour_legend():
    import matplotlib.pyplot as plt

    from sqc.plotting.qfd import house_of_quality_figure
    from sqc.qfd import house_of_quality

    imp = pd.Series([5, 4, 3], index=["quick", "competent", "polite"])
    rel = pd.DataFrame([[9, 1], [0, 9], [3, 3]], index=imp.index, columns=["staffing", "training"])
    fig = house_of_quality_figure(house_of_quality(imp, rel))
    (cax,) = _mpl_colour_bar_axes(fig)
    assert "contribution" in cax.get_ylabel()
    assert cax._colorbar.vmin == 0 and cax._colorbar.vmax > 0
    plt.close(fig)


def test_cell_colours_use_the_bins_of_the_colour_bar():
    # 11 colours over [0, 1.1]: bin k is [0.1 k, 0.1 (k + 1)); the ends and out-of-range values take the end colours
    chart = S.Chart("t", x_categories=["a"] * 6, y_categories=["r"])
    chart.cells(np.arange(6), np.zeros(6), [-5.0, 0.0, 0.05, 0.1, 0.55, 1.1], [""] * 6, low=0.0, high=1.1,
                colourmap="viridis")
    pal = S.palette("viridis")
    assert S._cell_colours(chart.layers[0]) == [pal[0], pal[0], pal[0], pal[1], pal[5], pal[10]]


def _gap_result():
    # asymmetric, wide intervals on both sides of zero: the axis must show every end
    gaps = pd.DataFrame({"mean": [-1.2, 0.3, -0.1], "ci_low": [-2.45, -0.05, -0.9], "ci_high": [-0.4, 1.35, 0.6],
                         "n": [60, 61, 62], "E_mean": [6.0] * 3, "P_mean": [5.0] * 3},
                        index=["reliability", "tangibles", "empathy"])
    return SimpleNamespace(dimension_gaps=gaps, chart_title=lambda lang: "Gaps")


@pytest.mark.parametrize("lang", LANGS)
def test_servqual_gap_chart_shows_every_interval_whole_in_both_backends(lang):
    from sqc.plotting.servqual import gap_spec

    res = _gap_result()
    chart = gap_spec(res, lang)
    lo, hi = res.dimension_gaps["ci_low"].min(), res.dimension_gaps["ci_high"].max()
    p = S.to_bokeh(chart)
    assert p.x_range.start < lo and p.x_range.end > hi
    # the intervals are drawn above the bars (Bokeh draws the "overlay" level last)
    segments = [r for r in p.renderers if type(r.glyph).__name__ == "Segment"]
    assert segments and all(r.level == "overlay" for r in segments)
    ax = S.to_matplotlib(chart).axes[0]
    x0, x1 = ax.get_xlim()
    assert x0 < lo and x1 > hi
    # each row names its estimate, interval and n
    assert all("n=" in str(c) and "[" in str(c) for c in chart.y_categories)


def _zot():
    items = pd.DataFrame({"A_mean": [3.9, 4.4, 4.1], "D_mean": [6.0, 6.5, 6.2], "P_mean": [5.2, 3.8, 6.4],
                          "n": [300, 301, 299]}, index=[1, 2, 3])
    return SimpleNamespace(items=items, dimensions=items, chart_title=lambda lang: "Zone of tolerance")


@pytest.mark.parametrize("lang", LANGS)
def test_zone_of_tolerance_bars_are_whole_and_the_legend_is_outside_the_plot(lang):
    from bokeh.models import Legend

    from sqc.plotting.servqual import zot_spec

    zot = _zot()
    chart = zot_spec(zot, lang)
    lo = min(zot.items["A_mean"].min(), zot.items["P_mean"].min())
    hi = max(zot.items["D_mean"].max(), zot.items["P_mean"].max())
    p = S.to_bokeh(chart)
    assert p.y_range.start < lo and p.y_range.end > hi
    # the bars run from the adequate level up to the desired level (not from 0 to their height)
    bars = next(r.glyph for r in p.renderers if type(r.glyph).__name__ == "VBar")
    src = next(r.data_source for r in p.renderers if type(r.glyph).__name__ == "VBar")
    bottom = src.data[bars.bottom] if isinstance(bars.bottom, str) else bars.bottom
    top = src.data[bars.top] if isinstance(bars.top, str) else bars.top
    np.testing.assert_allclose(np.ravel(bottom), zot.items["A_mean"])
    np.testing.assert_allclose(np.ravel(top), zot.items["D_mean"])
    assert any(isinstance(m, Legend) for m in p.right) and not any(isinstance(m, Legend) for m in p.center)

    fig = S.to_matplotlib(chart)
    ax = fig.axes[0]
    y0, y1 = ax.get_ylim()
    assert y0 < lo and y1 > hi
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # beside the plot area, never over a bar or marker


def _ttr():
    curve = pd.DataFrame({"days": [0.0, 1.0, 2.0, 4.0], "survival": [1.0, 0.7, 0.4, 0.1],
                          "ci_low": [1.0, 0.6, 0.3, 0.05], "ci_high": [1.0, 0.8, 0.5, 0.2]})
    table = pd.DataFrame({"n": [50], "median": [1.7], "p90": [4.0]}, index=["ALL"])
    return SimpleNamespace(curves={"ALL": curve}, table=table, sla_days=5.0, chart_title=lambda lang: "TTR")


def _recovery():
    rows = [{"group": g, "metric": m, "value": v, "ci_low": v * 0.6, "ci_high": v * 1.15, "n": 80}
            for g in ("ALL", "B01") for m, v in (("recovery_rate", 0.8), ("reopen_rate", 0.06))]
    return SimpleNamespace(table=pd.DataFrame(rows))


@pytest.mark.parametrize("lang", LANGS)
def test_proportion_axes_are_in_percent_in_both_backends(lang):
    from bokeh.models import NumeralTickFormatter
    from matplotlib.ticker import PercentFormatter

    from sqc.plotting.complaints import recovery_specs, time_to_resolve_spec

    cases = [(time_to_resolve_spec(_ttr(), lang), "y")] + [(c, "x") for c in recovery_specs(_recovery(), lang).values()]
    for chart, axis in cases:
        p = S.to_bokeh(chart)
        fmt = (p.yaxis if axis == "y" else p.xaxis)[0].formatter
        assert isinstance(fmt, NumeralTickFormatter) and "%" in fmt.format, chart.title
        ax = S.to_matplotlib(chart).axes[0]
        assert isinstance((ax.yaxis if axis == "y" else ax.xaxis).get_major_formatter(), PercentFormatter)
    # every recovery interval lies inside its plot
    table = _recovery().table
    for metric, chart in recovery_specs(_recovery(), lang).items():
        x0, x1 = S.axis_range(chart, "x")
        rows = table[table["metric"] == metric]
        assert x0 < rows["ci_low"].min() and x1 > rows["ci_high"].max(), metric


def test_time_to_resolve_chart_is_a_thin_step_function_whatever_the_number_of_complaints():
    from sqc.plotting.complaints import KM_GRID_POINTS, time_to_resolve_spec

    rng = np.random.default_rng(3)
    for n in (200, 20_000):
        days = np.r_[0.0, np.sort(rng.gamma(2.0, 2.0, n))]
        surv = np.linspace(1.0, 0.02, n + 1)
        curve = pd.DataFrame({"days": days, "survival": surv, "ci_low": surv * 0.95, "ci_high": np.minimum(surv * 1.05, 1)})
        ttr = SimpleNamespace(curves={"ALL": curve}, sla_days=5.0, chart_title=lambda lang: "TTR",
                              table=pd.DataFrame({"n": [n], "median": [3.0], "p90": [8.0]}, index=["ALL"]))
        chart = time_to_resolve_spec(ttr)
        for layer in chart.layers:
            if layer.kind in ("line", "band"):
                assert len(layer.data["x"]) <= KM_GRID_POINTS
                assert layer.style["step"] == "post"  # each value holds until the next closing time


def test_bokeh_frames_are_not_aligned_across_charts_of_a_page():
    chart = S.Chart("t", x_label="x", y_label="y")
    chart.line([0, 1], [0, 1])
    assert S.to_bokeh(chart).frame_align is False


def test_axis_range_covers_rules_and_bar_bases():
    chart = S.Chart("t", x_label="x", y_label="y")
    chart.bars([0, 1], [2.0, 3.0], base=[1.0, 0.5])
    chart.rule(5.0)  # a target above every bar
    lo, hi = S.axis_range(chart, "y")
    assert lo < 0.5 and hi > 5.0


# ------------------------------------------------------------------------- every chart the sections draw
AREAS = ("complaints", "interventions", "servqual", "reliability", "audit")


@pytest.fixture(scope="module")
def section_results(demo_data):
    from sqc.report.context import ComputeContext
    from sqc.report.dashboard import compute_sections

    run = ComputeContext(data=demo_data, period="2026-10", branches=list(demo_data.branches["branch"]))
    return compute_sections(run, AREAS)


def _bokeh_figures(obj):
    """Every Bokeh figure in a Panel layout (depth first), also those inside a Bokeh grid of small multiples."""
    import panel as pn
    from bokeh.models import Plot

    def walk_bokeh(model):
        if isinstance(model, Plot):
            yield model
        for child in getattr(model, "children", None) or []:  # a grid's children are (model, row, col)
            yield from walk_bokeh(child[0] if isinstance(child, tuple) else child)

    if isinstance(obj, pn.pane.Bokeh):
        yield from walk_bokeh(obj.object)
        return
    for child in getattr(obj, "objects", None) or []:
        yield from _bokeh_figures(child)


def _images(obj):
    import panel as pn

    if isinstance(obj, (pn.pane.PNG, pn.pane.SVG)):
        yield obj
        return
    for child in getattr(obj, "objects", None) or []:
        yield from _images(child)


@pytest.mark.parametrize("lang", LANGS)
def test_every_axis_of_every_section_chart_is_labelled(section_results, lang):
    from sqc.report.dashboard import render_sections

    seen = {}
    for section in render_sections(section_results, lang):
        figures = list(_bokeh_figures(section.body))
        seen[section.key if hasattr(section, "key") else section.title] = len(figures)
        for fig in figures:
            for axis in [*fig.xaxis, *fig.yaxis]:
                assert str(axis.axis_label or "").strip(), f"{section.title}: {fig.title.text!r} has an unlabelled axis"
            for bar in _bokeh_colour_bars(fig):
                assert str(bar.title or "").strip(), fig.title.text
        # only the service blueprint stays an image
        assert len(list(_images(section.body))) <= 1, section.title
    assert sum(seen.values()) >= 20, seen  # the charts are there: Pareto, 7 u charts, KM, 3 recovery, SERVQUAL...
