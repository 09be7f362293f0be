"""Small layout helpers shared by the dashboard sections."""
from __future__ import annotations

import io
import re

_SVG_ROOT_SIZE = re.compile(rb'(<svg\b[^>]*?)\s(width|height)="[^"]*"')


def render_figure(fig, *, fmt: str = "svg", dpi: int = 96) -> bytes:
    """Draw a matplotlib figure exactly once, as PNG or SVG bytes; a character that no font of the figure can
    draw is an error (:class:`sqc.errors.SqcError`), never an empty box on a manager's page."""
    import warnings

    from ..errors import SqcError

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r"Glyph .* missing from", category=UserWarning)
        try:
            return _render_figure(fig, fmt=fmt, dpi=dpi)
        except UserWarning as exc:
            titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
            raise SqcError(f"figure {titles[:1]}: {exc}; install a font that has it (for Chinese: Debian's "
                           f"fonts-noto-cjk)") from None


def _render_figure(fig, *, fmt: str = "svg", dpi: int = 96) -> bytes:
    """Draw a matplotlib figure exactly once, as PNG or SVG bytes.

    ``savefig(bbox_inches="tight")`` (Panel's ``tight=True``) lays the whole figure out in a first pass only to
    measure it, then draws it again; measuring with ``Figure.get_tightbbox`` costs about as much as a draw. The
    figures of sqc already fit their canvas (``tight_layout`` or constrained layout), so:

    - a PNG is drawn once and cropped to the pixels that differ from the background, plus
      ``savefig.pad_inches``; when the drawing touches the canvas edge or a text, legend or axes was placed off
      the canvas, it falls back to matplotlib's two-pass tight save so nothing is cut off;
    - a PNG is stored with an adaptive palette of at most 256 colours (charts have few colours; about a third of
      the bytes of true colour, with no visible difference);
    - an SVG is drawn once at the figure's size (its own layout, no crop). Its root width and height become
      100 %, as Panel's Matplotlib pane makes them, so it scales to the pane; the XML prolog is dropped (Panel's
      SVG pane takes a string that starts with ``<svg``).
    """
    import matplotlib as mpl

    if fmt not in ("png", "svg"):
        raise ValueError(f"fmt must be 'png' or 'svg', got {fmt!r}")
    buf = io.BytesIO()
    fig.set_dpi(dpi)
    if fmt == "svg":
        from matplotlib.backends.backend_svg import FigureCanvasSVG

        # the canvas's own print, not savefig: savefig lays out a figure that has a layout engine in an extra
        # pass before drawing it, while Figure.draw runs the engine itself
        FigureCanvasSVG(fig).print_svg(buf)
        svg = buf.getvalue()
        svg = svg[svg.index(b"<svg"):]
        head_end = svg.index(b">") + 1
        head = _SVG_ROOT_SIZE.sub(rb"\1", _SVG_ROOT_SIZE.sub(rb"\1", svg[:head_end]))
        return head.replace(b"<svg", b'<svg width="100%" height="100%"', 1) + svg[head_end:]

    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.image import imsave

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())
    background = np.asarray(mpl.colors.to_rgba_array(fig.get_facecolor()) * 255).round().astype(np.uint8)[0]
    ink = (pixels != background).any(axis=2)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        imsave(buf, pixels, format="png", dpi=dpi)
        return palette_png(buf.getvalue())
    height, width = ink.shape
    if (rows[0] == 0 or cols[0] == 0 or rows[-1] == height - 1 or cols[-1] == width - 1
            or _placed_outside(fig, canvas.get_renderer())):
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        return palette_png(buf.getvalue())
    pad = int(round(mpl.rcParams["savefig.pad_inches"] * dpi))
    crop = pixels[max(rows[0] - pad, 0):rows[-1] + 1 + pad, max(cols[0] - pad, 0):cols[-1] + 1 + pad]
    imsave(buf, crop, format="png", dpi=dpi)
    return palette_png(buf.getvalue())


def palette_png(png: bytes) -> bytes:
    """The PNG re-encoded with an adaptive palette of at most 256 colours, no dithering (median cut for an opaque
    image, octree when it has transparency), when that is smaller; otherwise the PNG unchanged."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    image.load()
    if image.mode == "RGBA" and image.getextrema()[3][0] == 255:
        image = image.convert("RGB")
    if image.mode == "RGB":
        quantized = image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    elif image.mode == "RGBA":
        quantized = image.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    else:
        return png
    buf = io.BytesIO()
    quantized.save(buf, format="PNG", optimize=True, dpi=image.info.get("dpi", (96, 96)))
    return buf.getvalue() if buf.tell() < len(png) else png


def _placed_outside(fig, renderer) -> bool:
    """Whether an axes, a figure-level text or legend, or an axes legend was placed (partly) off the canvas: such
    content leaves no pixels to find on the canvas. The extents are measured on the drawing just made."""
    width, height = fig.bbox.width, fig.bbox.height
    artists = list(fig.texts) + list(fig.legends) + [ax.get_legend() for ax in fig.axes]
    boxes = [a.get_window_extent(renderer) for a in artists if a is not None and a.get_visible()]
    boxes += [ax.bbox for ax in fig.axes if ax.get_visible()]
    return any(b.x0 < 0 or b.y0 < 0 or b.x1 > width or b.y1 > height for b in boxes)


def figure_pane(fig, *, fmt: str = "png", dpi: int = 96, px_per_inch: int | None = 96, fixed_height: bool = True):
    """A matplotlib figure as a Panel image pane, drawn once (see :func:`render_figure`).

    ``px_per_inch`` sets the pane's pixel width from the figure's width (and its height too when
    ``fixed_height``; otherwise the height follows the image's aspect ratio); ``None`` shows a PNG at its natural
    size. A PNG is cropped to its content, so its pane is sized from the cropped image (``px_per_inch / dpi``
    pixels of the pane per pixel of the image). Panel draws an SVG 100 % wide of a container that has no width,
    so an SVG needs a size.

    PNG is the default: its size depends on the canvas, not on the number of points or glyphs drawn (an SVG of a
    dense chart, or one with Chinese text, whose glyphs are stored as outlines, is several times larger).
    The figure can be closed once this returns.
    """
    import panel as pn

    w, h = fig.get_size_inches()
    data = render_figure(fig, fmt=fmt, dpi=dpi)
    size = {}
    if px_per_inch is not None:
        if fmt == "png":
            # the IHDR chunk: width and height as big-endian 32-bit integers at bytes 16..24
            w, h = (int.from_bytes(data[i:i + 4], "big") / dpi for i in (16, 20))
        size["width"] = int(round(w * px_per_inch))
        if fixed_height:
            size["height"] = int(round(h * px_per_inch))
    if fmt == "svg":
        return pn.pane.SVG(data.decode("utf-8"), **size)
    return pn.pane.PNG(data, **size)


def bokeh_grid(items, ncols: int = 4, *, spacing: tuple[int, int] = (0, 0)):
    """Small Bokeh models (figures, a ``Div`` for an empty panel) laid out ``ncols`` to a row in one Bokeh grid,
    shown by one Panel pane: a page of many small figures carries one pane and one layout instead of a pane and
    a row per figure (Panel's wrapping FlexBox left the Bokeh figures of wrapped lines unsized in the published
    page: the rows are fixed). ``spacing``: (between rows, between columns) in pixels; none by default (a
    figure's own border is its margin)."""
    import panel as pn
    from bokeh.models import GridBox

    grid = GridBox(children=[(item, i // ncols, i % ncols) for i, item in enumerate(items)], spacing=spacing)
    return pn.pane.Bokeh(grid)


def message_section(result, ctx, title: str, message):
    """The section shown when the data cannot bear the analysis: the ``message`` (a ``Note``) alone."""
    import panel as pn

    return result.to_section(ctx, title, pn.Column(pn.pane.Markdown(ctx.note_text(message))))
