"""Plots drawn from chart results and the SPC dashboard section (B07's planted waiting-time shift must show)."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import sqc.spc as spc  # noqa: E402
from sqc.plotting import spc as splot  # noqa: E402


def monthly():
    rng = np.random.default_rng(4)
    per = pd.period_range("2024-11", periods=24, freq="M").strftime("%Y-%m")
    y = np.r_[rng.normal(30, 2, 17), rng.normal(40, 2, 7)]
    return pd.DataFrame({"period": per, "value": y})


def test_static_chart_has_dates_zones_and_signal_marks():
    import matplotlib.pyplot as plt

    res = spc.imr(monthly(), "value", time="period", baseline=12)
    fig = splot.control_chart(res, zones=True)
    ax = fig.axes[0]
    assert len(ax.collections) >= 2                 # the two zone bands
    from matplotlib.colors import to_hex

    # the signals are the red points of the one point layer
    assert any(splot.SIGNAL_COLOUR in {to_hex(c) for c in coll.get_facecolors()} for coll in ax.collections)
    assert "2025" in " ".join(t.get_text() for t in ax.get_xticklabels()) or ax.xaxis.get_major_formatter()
    plt.close(fig)
    fig = splot.paired_chart(res)
    assert len(fig.axes) == 2
    plt.close(fig)


def test_stage_breaks_and_small_multiples_and_bokeh():
    import matplotlib.pyplot as plt

    df = monthly().assign(stage=["before"] * 17 + ["after"] * 7)
    res = spc.imr(df, "value", time="period", stages="stage")
    res.i.annotate("2026-03", "new IVR menu", "新语音菜单")
    fig = splot.control_chart(res)
    assert any(line.get_linestyle() == "-." for line in fig.axes[0].lines)
    assert any(t.get_text() == "new IVR menu" for t in fig.axes[0].texts)
    plt.close(fig)
    with pytest.raises(Exception):
        res.i.annotate("1999-01", "nothing there")
    fig = splot.small_multiples({"a": res.i, "b": None}, ncols=2, highlight={"a": "#d62728"})
    assert len([a for a in fig.axes if a.get_visible()]) == 2
    plt.close(fig)
    p = splot.control_chart_bokeh(res, zones=True)
    assert p.title.text and len(p.renderers) >= 5


def test_oc_and_capability_plots():
    import matplotlib.pyplot as plt

    df = pd.DataFrame({"x": np.random.default_rng(1).normal(10, 1, 200), "g": np.repeat(np.arange(40), 5)})
    r = spc.xbar_r(df, "x", "g")
    plt.close(splot.oc_chart(spc.oc_curve(r)))
    plt.close(splot.capability_histogram(spc.capability(df, "x", "g", lsl=6, usl=14)))


DATA = Path(__file__).resolve().parents[1] / "datasets"


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "branches.csv").exists(), reason="demo datasets not generated")
def test_section_flags_b07_waiting_time_shift():
    from sqc.io import load_network
    from sqc.report.context import ReportContext
    from sqc.report.sections.spc import build

    data = load_network(None)
    ctx = ReportContext(data=data, period="2026-10", branches=[f"B{i:02d}" for i in range(1, 13)], lang="en")
    sec = build(ctx)
    assert sec.key == "spc"
    assert "B07|asa_s" in sec.headline["concerns"]
    assert sec.headline["kpis"]["asa_s"]["n"] > 0
    assert any("B07" in n for n in sec.notes)
    zh = build(ReportContext(data=data, period="2026-10", branches=["B07", "B01"], lang="zh"))
    assert zh.title != sec.title
