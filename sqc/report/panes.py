"""Small layout helpers shared by the dashboard sections."""
from __future__ import annotations

import io
import math
import re

_SVG_ROOT_SIZE = re.compile(rb'(<svg\b[^>]*?)\s(width|height|viewBox)="[^"]*"')


def render_figure(fig, *, fmt: str = "svg", dpi: int = 96) -> bytes:
    """Draw a matplotlib figure once and crop it to its tight bounding box.

    ``savefig(bbox_inches="tight")`` (what Panel's ``tight=True`` does) lays the whole figure out in a first pass
    only to measure it, then draws it again. Here the figure is drawn once, measured from that drawing
    (``Figure.get_tightbbox``, padded by ``savefig.pad_inches``) and cropped: a PNG by cutting the pixel buffer,
    an SVG by setting its ``viewBox`` (the XML prolog is dropped). The root SVG's width and height become 100 %, as Panel's Matplotlib pane
    makes them, so the image scales to the pane. A PNG whose content reaches beyond the figure's edge (which
    ``bbox_inches="tight"`` would extend the canvas for) falls back to matplotlib's tight save.
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if fmt not in ("png", "svg"):
        raise ValueError(f"fmt must be 'png' or 'svg', got {fmt!r}")
    pad = mpl.rcParams["savefig.pad_inches"]
    width_in, height_in = fig.get_size_inches()
    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    buf = io.BytesIO()
    if fmt == "png":
        canvas.draw()
        box = fig.get_tightbbox(canvas.get_renderer()).padded(pad)
        if box.x0 < 0 or box.y0 < 0 or box.x1 > width_in or box.y1 > height_in:
            fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
            return buf.getvalue()
        from PIL import Image
        import numpy as np

        pixels = np.asarray(canvas.buffer_rgba())
        rows = slice(math.floor((height_in - box.y1) * dpi), math.ceil((height_in - box.y0) * dpi))
        cols = slice(math.floor(box.x0 * dpi), math.ceil(box.x1 * dpi))
        Image.fromarray(pixels[rows, cols]).save(buf, format="png", dpi=(dpi, dpi))
        return buf.getvalue()
    fig.savefig(buf, format="svg", dpi=dpi)
    box = fig.get_tightbbox(canvas.get_renderer()).padded(pad)
    pt = 72.0  # matplotlib writes SVG user units in points
    view = f"{box.x0 * pt:.3f} {(height_in - box.y1) * pt:.3f} {box.width * pt:.3f} {box.height * pt:.3f}"
    svg = buf.getvalue()
    svg = svg[svg.index(b"<svg"):]  # no XML prolog: Panel's SVG pane takes a string that starts with <svg
    head_end = svg.index(b">") + 1
    head = svg[:head_end]
    while _SVG_ROOT_SIZE.search(head):
        head = _SVG_ROOT_SIZE.sub(rb"\1", head, count=1)
    head = head.replace(b"<svg", f'<svg width="100%" height="100%" viewBox="{view}"'.encode(), 1)
    return head + svg[head_end:]


def figure_pane(fig, *, fmt: str = "svg", dpi: int = 96, px_per_inch: int | None = 96, fixed_height: bool = True):
    """A matplotlib figure as a Panel image pane, drawn once (see :func:`render_figure`).

    ``px_per_inch`` sets the pane's pixel width from the figure's width (and its height too when
    ``fixed_height``; otherwise the height follows the image's aspect ratio); ``None`` shows a PNG at its natural
    size. Panel draws an SVG 100 % wide of a container that has no width, so an SVG needs a size.
    ``fmt="png"`` is cheaper to embed for dense small multiples. The figure can be closed once this returns.
    """
    import panel as pn

    w, h = fig.get_size_inches()
    data = render_figure(fig, fmt=fmt, dpi=dpi)
    size = {}
    if px_per_inch is not None:
        size["width"] = int(w * px_per_inch)
        if fixed_height:
            size["height"] = int(h * px_per_inch)
    if fmt == "svg":
        return pn.pane.SVG(data.decode("utf-8"), **size)
    return pn.pane.PNG(data, **size)
