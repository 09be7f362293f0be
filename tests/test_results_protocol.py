"""The result protocol (issue 12): every result shows itself as an HTML table with n, intervals and warnings,
summarises itself, and plots itself in both back-ends and both languages from one chart description."""
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from result_catalogue import builders  # noqa: E402

from sqc.diagnostics import QualityWarning  # noqa: E402
from sqc.errors import ParameterError, SqcError  # noqa: E402
from sqc.results import Result  # noqa: E402

def _names():
    # the catalogue's keys, without loading data at collection time
    import ast

    src = (Path(__file__).parent / "result_catalogue.py").read_text(encoding="utf-8")
    ret = [n for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Return) and isinstance(n.value, ast.Dict)][0]
    return [k.value for k in ret.value.keys]


NAMES = _names()


@pytest.fixture(scope="module")
def made(demo_data):
    return builders(demo_data)


@pytest.fixture(scope="module")
def results(made):
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = made[name]()
        return cache[name]
    return get


def test_catalogue_covers_every_area_the_issue_names():
    needed = {"xbar_r", "xbar_s", "imr", "p_chart", "np_chart", "c_chart", "u_chart", "laney_p", "laney_u", "g_chart",
              "t_chart", "cusum", "ewma", "hotelling_t2", "capability", "pareto", "servqual.score",
              "zone_of_tolerance", "ipa", "alpha", "omega", "efa", "cfa", "icc", "kappa", "fleiss_kappa",
              "audit.rank_branches", "audit.quarterly_scores", "complaint_pareto", "nps", "house_of_quality"}
    assert needed <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_repr_html_is_a_table_with_n_and_warnings(name, results):
    res = results(name)
    assert isinstance(res, Result)
    page = res._repr_html_()
    assert page.count("<table") >= 2 and "<th>n</th>" in page
    n = res.sample_size()
    assert f"<td>{n}</td>" in page and n not in (None, 0)
    assert f"<th>warnings</th><td>{len(res.warnings_list)}</td>" in page
    for w in res.warnings_list:
        assert w.code in page
    if "ci_low" in res.to_frame().columns:
        assert "<th>interval</th>" in page
    text = res.summary()
    assert isinstance(text, str) and text
    for w in res.warnings_list:
        assert w.code in text
    assert isinstance(res.to_frame(), pd.DataFrame)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("backend", ["matplotlib", "bokeh"])
@pytest.mark.parametrize("name", NAMES)
def test_plot_returns_a_titled_figure(name, backend, lang, results):
    import matplotlib.pyplot as plt
    from bokeh.models import Plot
    from matplotlib.figure import Figure

    from sqc.plotting.spec import title_of

    res = results(name)
    fig = res.plot(backend=backend, lang=lang)
    expected = res.chart_title(lang)
    if backend == "matplotlib":
        assert isinstance(fig, Figure)
        plt.close(fig)
    else:
        assert isinstance(fig, Plot)
    assert expected in title_of(fig)
    if lang == "zh":  # the locale file has a Chinese title for every result kind
        assert expected != res.chart_title("en")


def test_html_escapes_data_strings():
    from sqc.nps import nps

    res = nps(np.r_[np.arange(11), np.arange(11)])
    res.warnings.append(QualityWarning("W-X-<b>", "warning", "branch <script>alert(1)</script> & co"))
    page = res._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page and "W-X-&lt;b&gt;" in page and "&amp; co" in page


def test_plot_on_given_axes_and_bad_arguments(results):
    import matplotlib.pyplot as plt

    res = results("imr")
    fig, (a1, a2) = plt.subplots(2, 1)
    assert res.plot(ax=a2) is fig
    assert a2.get_title() == res.chart_title("en")
    plt.close(fig)
    with pytest.raises(ParameterError, match="backend"):
        res.plot(backend="plotly")
    with pytest.raises(ParameterError, match="lang"):
        res.plot(lang="fr")


def test_one_description_serves_both_backends(results):
    """The Bokeh figure draws exactly the layers of the description the matplotlib figure draws."""
    from sqc.plotting.spec import to_bokeh

    res = results("laney_p")
    spec = res.chart_spec("zh")
    kinds = [layer.kind for layer in spec.layers]
    assert {"line", "points"} <= set(kinds)
    p = to_bokeh(spec)
    assert p.title.text == spec.title == res.chart_title("zh")


def test_missing_glyph_is_an_error():
    from sqc.plotting.spec import Chart, to_matplotlib

    chart = Chart("hieroglyph \U00013000", lang="zh")
    chart.line([0, 1], [0, 1])
    with pytest.raises(SqcError, match="U\\+13000"):
        to_matplotlib(chart)
    ok = Chart("控制图", lang="zh")
    ok.line([0, 1], [0, 1])
    assert to_matplotlib(ok).axes[0].get_title() == "控制图"


def test_notebook_cell_ending_in_a_result_renders_html(tmp_path):
    import os

    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from sqc import reliability\nimport pandas as pd\n"
                                          "items = pd.DataFrame({'a': [1, 2, 3, 4, 5, 2, 4], 'b': [2, 2, 3, 5, 5, 1, 4],"
                                          " 'c': [1, 3, 3, 4, 4, 2, 5]})\nreliability.alpha(items)"),
                nbformat.v4.new_code_cell("reliability.alpha(items).plot(lang='zh')")]
    env_path = os.environ.get("PYTHONPATH", "")
    root = str(Path(__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = root + (os.pathsep + env_path if env_path else "")
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ["PYTHONPATH"] = env_path
    out = [o for o in nb.cells[0].outputs if o.get("output_type") == "execute_result"]
    assert out and "text/html" in out[0]["data"]
    html = out[0]["data"]["text/html"]
    assert "<th>n</th><td>7</td>" in html and "AlphaResult" in html
    # the figure is shown once, as the cell's value, drawn as an image
    figs = [o for o in nb.cells[1].outputs if "image/png" in o.get("data", {})]
    assert len(figs) == 1 and figs[0]["output_type"] == "execute_result"


def test_zone_rules_use_each_points_own_sigma():
    """docs/conventions.md: with variable subgroup sizes the zones step with the limits. Two of three points are
    beyond 2σ of their *own* σ (small subgroups), though within 2σ of the largest subgroup's σ."""
    from sqc.spc.rules import evaluate_rules, resolve_rules

    stat = np.array([0.0, 0.0, 0.0, 2.5, 0.1, 2.5])
    sigma = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    specs = resolve_rules(["nelson_5"])
    flagged = evaluate_rules(stat, 0.0, sigma, -3 * sigma, 3 * sigma, specs)["nelson_5"]
    assert flagged[5] and flagged.sum() == 1
    wide = sigma * 1.5          # a large-σ point pair: 2.5 < 2 × 1.5, so no signal
    assert not evaluate_rules(stat, 0.0, wide, -3 * wide, 3 * wide, specs)["nelson_5"].any()
    mixed = np.array([1.0, 1.0, 1.0, 1.0, 1.5, 1.0])   # only the middle (non-signalling) point has a wide σ
    assert evaluate_rules(stat, 0.0, mixed, -3 * mixed, 3 * mixed, specs)["nelson_5"][5]
    mixed[3] = 1.5                                     # now the first extreme point is within its own 2σ
    assert not evaluate_rules(stat, 0.0, mixed, -3 * mixed, 3 * mixed, specs)["nelson_5"][5]


def test_nps_chart_shows_the_distribution_and_the_golden_interval():
    """Methods §6.2 golden: 90 promoters, 60 passives, 50 detractors → adjusted Wald 19.704 [8.544, 30.865]."""
    from sqc.nps import nps, nps_from_counts

    res = nps(np.r_[[10] * 90, [7] * 60, [3] * 50])
    spec = res.chart_spec("en")
    assert spec.title.endswith("20.0 [8.5, 30.9], n = 200")
    bars = [layer for layer in spec.layers if layer.kind == "bars"][0]
    assert list(bars.data["height"]) == [res.distribution.get(i, 0) for i in range(11)]
    assert sum(bars.data["height"]) == 200
    counts = nps_from_counts(90, 60, 50).chart_spec("zh")
    assert counts.x_categories == ["贬损者", "被动者", "推荐者"]
