"""Light dashboard pages: figures whose size does not grow with the data, palette PNGs, and the packing of the
page's scripts. The 2.5 MB limit on the real demo report is checked in tests/test_report_e2e.py and
tests/test_browser.py."""
import re

import numpy as np
import pandas as pd

from sqc.complaints import time_to_resolve
from sqc.plotting.complaints import step_on_grid, time_to_resolve_figure
from sqc.report.panes import render_figure

from test_complaints import complaints_from_durations


def km_svg_bytes(n: int, seed: int = 7) -> int:
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    days = rng.gamma(2.0, 3.0, n).round(4) + 0.01  # continuous: one KM step per complaint before thinning
    closed = rng.random(n) < 0.85
    ttr = time_to_resolve(complaints_from_durations(days, closed), as_of="2026-10", sla_days=10, min_n=1)
    assert len(ttr.curves["ALL"]) > 0.5 * n  # the estimate itself keeps every step
    fig = time_to_resolve_figure(ttr)
    try:
        return len(render_figure(fig, fmt="svg"))
    finally:
        plt.close(fig)


def test_km_figure_size_does_not_grow_with_the_number_of_complaints():
    small, large = km_svg_bytes(2_000), km_svg_bytes(20_000)
    # before thinning the SVG grew ~linearly (one path vertex per complaint): 10x complaints -> ~10x bytes
    assert large < 1.5 * small, (small, large)
    assert large < 120_000


def test_step_on_grid_is_the_right_continuous_step_function():
    curve = pd.DataFrame({"days": [0.0, 1.5, 4.0], "survival": [1.0, 0.6, 0.2], "ci_low": [1.0, np.nan, 0.1]})
    out = step_on_grid(curve, np.array([0.0, 1.0, 1.5, 3.9, 4.0, 5.0, 9.0]))
    # unchanged grid points are dropped except the last
    assert out["days"].tolist() == [0.0, 1.5, 4.0, 9.0]
    assert out["survival"].tolist() == [1.0, 0.6, 0.2, 0.2]
    assert out["ci_low"].isna().tolist() == [False, True, False, False]


def test_pack_scripts_keeps_order_and_round_trips():
    import base64
    import gzip

    from sqc.report.dashboard import _DEFERRED_TYPE, pack_scripts

    big = "var a = 1;" * 5000
    page = (f'<html><head><script type="text/javascript">{big}</script></head><body>'
            '<script type="application/json" id="d">{"x": 1}</script><script>run();</script></body></html>')
    packed = pack_scripts(page)
    scripts = re.findall(r'<script type="([^"]+)"([^>]*)>(.*?)</script>', packed, re.S)
    assert [s[0] for s in scripts[:3]] == [_DEFERRED_TYPE, "application/json", _DEFERRED_TYPE]
    assert 'data-encoding="gzip-base64"' in scripts[0][1]
    assert gzip.decompress(base64.b64decode(scripts[0][2])).decode() == big
    assert scripts[2][2] == "run();" and '{"x": 1}' in packed  # the content stays readable
    assert packed.index("DecompressionStream") > packed.index("run();")  # the loader comes last
    assert len(packed) < len(page) / 3


def test_large_document_json_is_packed_and_unpacks_to_the_same_page():
    """The page's document JSON (~100 browser-drawn charts) is compressed like the libraries; the loader unpacks it
    before any script reads it, and unpack_page gives the same readable text back."""
    import json

    from sqc.report.dashboard import _DEFERRED_TYPE, pack_scripts, unpack_page

    doc = json.dumps({"roots": [{"name": "Figure", "values": list(range(8000))}]})
    page = (f'<html><head><script type="text/javascript">{"var a = 1;" * 5000}</script></head><body>'
            f'<script type="application/json" id="d1">{doc}</script><script>run();</script></body></html>')
    packed = pack_scripts(page)
    assert '<script type="application/json" id="d1" data-encoding="gzip-base64">' in packed
    assert doc not in packed and len(packed) < len(page) / 3
    loader = packed[packed.rindex("<script"):]
    # the loader unpacks the document data before it runs the deferred scripts (Bokeh's embed reads it)
    assert loader.index('script[type="application/json"]') < loader.index(_DEFERRED_TYPE)
    readable = unpack_page(packed)
    assert f'<script type="application/json" id="d1">{doc}</script>' in readable
    assert "var a = 1;" * 5000 in readable and "run();" in readable


def test_png_figures_use_a_palette_with_no_visible_loss():
    import io

    from matplotlib.figure import Figure
    from PIL import Image

    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    image = ax.imshow(np.random.default_rng(1).random((12, 7)), cmap="viridis")  # a heat map: many colours
    fig.colorbar(image, ax=ax, label="share")
    ax.plot([0, 6], [0, 11], color="crimson")
    ax.set_title("heat map with a colour bar")
    png = render_figure(fig, fmt="png", dpi=96)
    fig.savefig(buf := io.BytesIO(), format="png", dpi=96, bbox_inches="tight")
    assert Image.open(io.BytesIO(png)).mode == "P"
    assert len(png) < 0.6 * len(buf.getvalue())
    # the palette image against the same pixels in true colour (no crop difference: compare the re-encoding only)
    from sqc.report.panes import palette_png

    true_colour = Image.open(buf).convert("RGB")
    quantized = Image.open(io.BytesIO(palette_png(buf.getvalue()))).convert("RGB")
    diff = np.abs(np.asarray(true_colour, dtype=int) - np.asarray(quantized, dtype=int))
    assert diff.mean() < 1.0 and np.percentile(diff, 99.9) < 40
