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
