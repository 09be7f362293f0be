"""Axis formats of the back-end-free chart description (sqc.plotting.spec)."""
import pytest


def test_percent_axis_formats_proportions_in_both_backends():
    import matplotlib

    matplotlib.use("Agg")
    from bokeh.models import NumeralTickFormatter

    from sqc.errors import ParameterError
    from sqc.plotting.spec import Chart, to_bokeh, to_matplotlib

    chart = Chart("rate", y_format="percent").line([0, 1, 2], [0.70, 0.726, 0.75])
    fig = to_matplotlib(chart)
    ax = fig.axes[0]
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all(t.endswith("%") for t in labels), labels
    assert any(t.startswith("7") for t in labels)  # 0.72 is shown as 72%, not 0.72
    p = to_bokeh(chart)
    assert isinstance(p.yaxis[0].formatter, NumeralTickFormatter) and p.yaxis[0].formatter.format.endswith("%")
    with pytest.raises(ParameterError, match="y_format"):
        Chart("rate", y_format="pct")


def test_lines_of_a_chart_without_legend_are_one_renderer_drawn_as_bokeh_steps():
    """The plain lines of a chart without a legend are one MultiLine; a step line's vertices are those BokehJS's
    Step glyph draws (bokehjs models/glyphs/step.ts, ``_build_step_path``): mode "center" changes value half-way
    between two x, the first and last steps end at their own x, a missing value leaves a gap; mode "after" holds
    each value until the next x. The vertices below are worked out by hand from that code."""
    import numpy as np
    from bokeh.models import MultiLine, Step

    from sqc.plotting.spec import Chart, to_bokeh

    x = [0, 2, 6, 8]
    chart = (Chart("limits")
             .line(x, [1, 3, np.nan, 5], step=True, colour="#2ca02c", width=1.1)
             .line(x, [9, 9, 9, 9], step=True, colour="#7f7f7f", dash="dashed", width=0.9)
             .rule(4.0, colour="#e377c2", dash="dotted")
             .line(x, [2, 3, 4, 5], colour="#1f4e79")
             .line([0, 2, 6], [1, 3, 4], step="post", dash="dashdot"))
    p = to_bokeh(chart)
    glyphs = [r.glyph for r in p.renderers]
    assert len(glyphs) == 1 and isinstance(glyphs[0], MultiLine)
    data = p.renderers[0].data_source.data
    xs, ys = ([np.asarray(v, dtype=float) for v in data[k]] for k in ("xs", "ys"))
    np.testing.assert_array_equal(xs[0], [0, 1, 1, 2, 6, 6, 8, 8])
    np.testing.assert_array_equal(ys[0], [1, 1, 3, 3, np.nan, np.nan, 5, 5])
    np.testing.assert_array_equal(xs[1], [0, 1, 1, 4, 4, 7, 7, 8])
    np.testing.assert_array_equal(xs[2], x)  # a plain line: its own points
    np.testing.assert_array_equal(xs[3], [0, 2, 2, 6, 6, 6])
    np.testing.assert_array_equal(ys[3], [1, 1, 3, 3, 4, 4])
    assert data["colour"] == ["#2ca02c", "#7f7f7f", "#1f4e79", "#1f4e79"]
    assert data["dash"] == [[], [6], [], [6, 4, 2, 4]] and data["width"] == [1.1, 0.9, 1.0, 1.0]
    # with a legend each line keeps its own renderer (a legend entry names one)
    chart.legend = True
    assert sum(isinstance(r.glyph, Step) for r in to_bokeh(chart).renderers) == 3


def test_figures_of_one_page_part_share_their_stateless_models():
    """Figures drawn with one ``share`` dict carry one scale, label policy, ticker, formatter, axis, grid and
    selection between them (BokehJS draws a shared model in each figure), and their own titles and data."""
    from sqc.plotting.spec import Chart, to_bokeh

    share = {}
    figs = [to_bokeh(Chart(f"panel {i}", y_label="s").line([0, 1, 2], [i, i + 1, i]).points([0, 1, 2], [i, 2, 3])
                     .rule(1.5), toolbar=False, share=share) for i in range(3)]
    for attr in ("x_scale", "y_scale"):
        assert len({id(getattr(f, attr)) for f in figs}) == 1
    assert len({id(f.yaxis[0]) for f in figs}) == 1 and figs[0].yaxis[0].axis_label == "s"
    assert len({id(f.xaxis[0].ticker) for f in figs}) == 1
    assert len({id(m) for f in figs for m in f.center}) == 3  # two grids and the rule
    sources = [r.data_source for f in figs for r in f.renderers]
    assert len({id(s) for s in sources}) == 3 and len({id(s.selected) for s in sources}) == 1
    assert [f.title.text for f in figs] == ["panel 0", "panel 1", "panel 2"]
    alone = to_bokeh(Chart("alone").line([0, 1], [0, 1]))
    assert alone.yaxis[0] is not figs[0].yaxis[0]


def test_chart_notes_run_into_the_plot_from_either_edge():
    """A note near the latest months runs leftwards (it was cut off at the right edge); one in the first half runs
    rightwards, in both back-ends' description."""
    import numpy as np
    import pandas as pd

    from sqc.plotting.spc import control_spec
    from sqc.spc import imr

    months = pd.period_range("2025-01", periods=20, freq="M").astype(str)
    frame = pd.DataFrame({"month": months, "y": np.r_[np.full(10, 5.0), np.full(10, 6.0)] + np.tile([0.1, -0.1], 10)})
    res = imr(frame, "y", time="month").location
    res.annotate("2025-03", "early change").annotate("2026-07", "late change")
    texts = [layer for layer in control_spec(res, "en").layers if layer.kind == "text"
             and any("change" in str(t) for t in layer.data["text"])]
    align = {str(layer.data["text"][0]): layer.style["align"] for layer in texts}
    assert align == {"early change": "left", "late change": "right"}
