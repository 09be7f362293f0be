"""One declarative description per chart, drawn by two small renderers (matplotlib and Bokeh).

A chart function in ``sqc.plotting.<area>`` builds a :class:`Chart` - a title, axis labels and a list of layers
(lines, bands, points, bars, whiskers, reference rules, text, heat-map cells) - from a result object. Nothing else
knows about a back-end: :func:`render` draws the same description with :func:`to_matplotlib` (a ``Figure``, for
notebooks and static reports) or :func:`to_bokeh` (a Bokeh figure, for Panel). So the two back-ends cannot drift
apart, and a new chart is written once.

Categorical axes are drawn at positions 0..k-1 with the category names as tick labels in both back-ends; dates
are datetime64 values. Both back-ends frame a chart the same way: axis ranges that contain every drawn value
(bar ends and bases, whisker ends, reference rules; :func:`axis_range`), the legend beside the plot rather than
over the data, and a labelled colour bar beside every heat map (``cells`` layer). Chinese text needs a CJK font: :func:`cjk_font` finds one, and a glyph that the chosen
fonts cannot draw raises :class:`sqc.errors.SqcError` instead of printing boxes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..errors import ParameterError, SqcError

BACKENDS = ("matplotlib", "bokeh")
LANGS = ("en", "zh")
CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Zen Hei",
                "Droid Sans Fallback", "SimHei", "Microsoft YaHei")
_MPL_DASH = {"solid": "-", "dashed": "--", "dotted": ":", "dashdot": "-."}
PIXELS_PER_INCH = 90
AXIS_FORMATS = (None, "percent")
# step=True / "mid": a step centred on each x (control-chart limits); "post": the value holds from its x until the
# next one (a survival curve)
_MPL_STEP = {True: "mid", "mid": "mid", "post": "post"}
_BK_STEP = {True: "center", "mid": "center", "post": "after"}
# dash names as patterns (pixels on, off), as Bokeh's Python side turns them into for one line; BokehJS reads the
# names in a column of several lines as finer patterns ("dashed": 3 on, 2 off)
_BK_DASH = {"solid": [], "dashed": [6], "dotted": [2, 4], "dashdot": [6, 4, 2, 4]}
RANGE_PAD = 0.04  # share of the data span added on each side of a numeric axis, so no whisker end or marker is cut
# a legend beside the plot (upper right, outside the axes), never over the data
_MPL_LEGEND_OUTSIDE = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0}


@dataclass
class Layer:
    """One drawing instruction: ``kind`` names it, ``data`` holds equal-length arrays, ``style`` the looks."""

    kind: str
    data: dict
    style: dict = field(default_factory=dict)


@dataclass
class Chart:
    """A back-end-free chart description (see the module docstring); build it with the layer methods."""

    title: str
    x_label: str = ""
    y_label: str = ""
    x_categories: Sequence[str] | None = None
    y_categories: Sequence[str] | None = None
    x_dates: bool = False
    # "percent": values are proportions (0.726) shown as 72.6% / 73% on that axis; None: plain numbers
    x_format: str | None = None
    y_format: str | None = None
    size: tuple[float, float] = (6.4, 3.4)
    # the shown y interval (low, high); charts given the same interval share one scale (small multiples)
    y_range: tuple[float, float] | None = None
    # a colour for the frame around the plot (a small multiple flagged as a concern or an improvement)
    frame: str | None = None
    legend: bool = False
    # where the legend goes: "top_left", "top_right", "bottom_left", "bottom_right"; None: the back-end's choice
    legend_location: str | None = None
    lang: str = "en"
    layers: list[Layer] = field(default_factory=list)

    def __post_init__(self):
        for name in ("x_format", "y_format"):
            if getattr(self, name) not in AXIS_FORMATS:
                raise ParameterError(f"Chart {name}={getattr(self, name)!r}; expected one of {AXIS_FORMATS}")

    def _add(self, kind: str, data: dict, **style) -> "Chart":
        self.layers.append(Layer(kind, data, {k: v for k, v in style.items() if v is not None}))
        return self

    def line(self, x, y, *, colour="#1f4e79", dash="solid", step=False, width=1.0, marker=None, label=None):
        """A line; ``step=True`` (or ``"mid"``) draws steps centred on each x, ``step="post"`` holds each value
        until the next x."""
        return self._add("line", {"x": x, "y": y}, colour=colour, dash=dash, step=step, width=width,
                         marker=marker, label=label)

    def band(self, x, low, high, *, colour="#e2f0d9", alpha=0.8, step=False):
        return self._add("band", {"x": x, "low": low, "high": high}, colour=colour, alpha=alpha, step=step)

    def points(self, x, y, *, colour="#1f4e79", size=5.0, hollow=False, label=None, tips: dict | None = None):
        """Markers; ``colour`` may be one colour or one per point; ``tips`` maps hover names to per-point values
        (Bokeh shows them on hover; matplotlib has no hover), or to a Bokeh field template over the points' own
        ``@x`` and ``@y`` (``"@x{%b %Y}"`` formats dates, ``"@y{0.0%}"`` numbers), which the browser formats so
        the page carries no text copy of the values."""
        return self._add("points", {"x": x, "y": y, "colour": colour, **{f"tip:{k}": v for k, v in
                                                                          (tips or {}).items()}},
                         size=size, hollow=hollow, label=label)

    def bars(self, x, height, *, colour="#1f4e79", horizontal=False, width=0.7, base=0.0, label=None,
             alpha=0.85):
        """Bars at positions ``x`` (categories are 0..k-1); ``horizontal`` draws them along the x axis."""
        return self._add("bars", {"x": x, "height": height, "colour": colour}, horizontal=horizontal,
                         width=width, base=base, label=label, alpha=alpha)

    def whiskers(self, x, low, high, *, horizontal=False, colour="black"):
        """Interval bars (confidence intervals) at ``x`` from ``low`` to ``high``."""
        return self._add("whiskers", {"x": x, "low": low, "high": high}, horizontal=horizontal, colour=colour)

    def rule(self, value, *, axis="y", colour="#7f7f7f", dash="dashed", label=None, width=None):
        """A reference line across the plot at ``value`` on ``axis`` (``"y"``: horizontal, ``"x"``: vertical)."""
        return self._add("rule", {"value": value}, axis=axis, colour=colour, dash=dash, label=label, width=width)

    def text(self, x, y, text, *, colour="black", size=7, align="center"):
        return self._add("text", {"x": x, "y": y, "text": text}, colour=colour, size=size, align=align)

    def cells(self, x, y, value, text, *, low: float, high: float, colourmap: str = "RdBu", alpha=None,
              colour_label: str = "", colour_format: str | None = None):
        """Heat-map cells at category positions ``x``, ``y``, coloured by ``value`` on the matplotlib colour map
        ``colourmap`` from ``low`` to ``high`` (both back-ends use the same 11 colours). A colour bar beside the
        plot says what the colour means: ``colour_label`` (what and its unit), ``colour_format="percent"`` for
        proportions."""
        if colour_format not in AXIS_FORMATS:
            raise ParameterError(f"cells colour_format={colour_format!r}; expected one of {AXIS_FORMATS}")
        return self._add("cells", {"x": x, "y": y, "value": value, "text": text,
                                   "alpha": np.full(len(x), 0.9) if alpha is None else alpha},
                         low=low, high=high, colourmap=colourmap, colour_label=colour_label,
                         colour_format=colour_format)

    def texts(self) -> list[str]:
        """Every string the chart shows (title, labels, categories, text layers) - what a font must cover."""
        out = [self.title, self.x_label, self.y_label, *(self.x_categories or []), *(self.y_categories or [])]
        for layer in self.layers:
            out += [str(t) for t in layer.data.get("text", [])]
            for key in ("label", "colour_label"):
                if layer.style.get(key):
                    out.append(layer.style[key])
        return [str(t) for t in out if t]


# ------------------------------------------------------------------------------------------------- fonts
def cjk_font() -> str:
    """The name of an installed font family with Chinese glyphs (Debian's ``fonts-noto-cjk`` provides one).

    Raises
    ------
    SqcError
        When none is installed: Chinese labels would be drawn as empty boxes.
    """
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FAMILIES:
        if name in installed:
            return name
    raise SqcError("no font with Chinese glyphs is installed, so lang='zh' charts cannot be drawn; install "
                   "Debian's fonts-noto-cjk (or any of: " + ", ".join(CJK_FAMILIES) + ")")


def font_rc(lang: str = "en") -> dict:
    """matplotlib rcParams for ``lang``: for Chinese a family list of the default font then a CJK font, so Latin
    text keeps its look and Chinese falls back per glyph (matplotlib >= 3.6)."""
    import matplotlib

    if lang != "zh":
        return {}
    first = matplotlib.rcParams["font.sans-serif"][0]
    return {"font.family": [first, cjk_font()], "axes.unicode_minus": False}


def _charmap(family: str) -> frozenset:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    if family not in _CHARMAPS:
        path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        _CHARMAPS[family] = frozenset(FT2Font(path).get_charmap())
    return _CHARMAPS[family]


_CHARMAPS: dict = {}


def check_glyphs(chart: Chart) -> None:
    """Raise :class:`SqcError` naming the first character of the chart's text that none of the fonts matplotlib
    will use (for ``chart.lang``) can draw - instead of matplotlib's warning and an empty box in the figure."""
    import matplotlib

    fam = font_rc(chart.lang).get("font.family") or [matplotlib.rcParams["font.sans-serif"][0]]
    covered = frozenset().union(*(_charmap(f) for f in fam))
    for text in chart.texts():
        for ch in text:
            if not ch.isspace() and ord(ch) not in covered and ord(ch) > 0x7f:
                raise SqcError(f"chart {chart.title!r}: glyph {ch!r} (U+{ord(ch):04X}) in {text!r} is missing from "
                               f"the fonts {fam}; install a font that has it (for Chinese: fonts-noto-cjk)")


def _is_cjk(text: str) -> bool:
    return any("\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in text)


def _check(backend: str, lang: str) -> None:
    if backend not in BACKENDS:
        raise ParameterError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if lang not in LANGS:
        raise ParameterError(f"lang must be one of {LANGS}, got {lang!r}")


def render(chart: Chart, *, backend: str = "matplotlib", ax=None, **kw):
    """Draw ``chart`` with ``backend`` (``"matplotlib"`` → Figure, ``"bokeh"`` → Bokeh figure)."""
    _check(backend, chart.lang)
    if backend == "bokeh":
        if ax is not None:
            raise ParameterError("ax= is a matplotlib Axes; leave it out with backend='bokeh'")
        return to_bokeh(chart, **kw)
    return to_matplotlib(chart, ax=ax, **kw)


# ------------------------------------------------------------------------------------------------- matplotlib
def _mpl_x(chart: Chart, x):
    return np.asarray(x)


def to_matplotlib(chart: Chart, *, ax=None, figsize=None):
    """Draw the chart on ``ax`` (a new Figure when None) and return the Figure.

    With ``lang="zh"`` the text is drawn with a CJK font, and a glyph missing from the fonts raises
    :class:`SqcError` (matplotlib would only warn and print a box).
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if chart.lang == "en" and any(_is_cjk(t) for t in chart.texts()):
        chart.lang = "zh"  # translated labels passed in by older callers: draw them with the CJK font
    check_glyphs(chart)
    _notebook_display()
    with matplotlib.rc_context(font_rc(chart.lang)):
        own = ax is None
        if own:
            # a Figure outside pyplot: nothing to close, and a notebook shows it once (as the cell's value)
            fig = Figure(figsize=figsize or chart.size, layout="constrained")
            FigureCanvasAgg(fig)
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        for layer in chart.layers:
            _MPL_DRAW[layer.kind](ax, layer)
        _mpl_axes(chart, ax)
        _mpl_frame(chart, ax)
    # not drawn here: whoever shows or saves the figure draws it, once (check_glyphs has covered its text, and
    # sqc.report.panes.render_figure turns a missing-glyph warning into an error as well)
    return fig


def _notebook_display() -> None:
    """In IPython/Jupyter, show a returned Figure as an image. Our Figures are made outside pyplot (nothing to
    close, shown once), so the inline back-end, which pyplot loads, may not have registered its formatter yet."""
    import sys

    if "IPython" not in sys.modules:
        return
    from IPython import get_ipython
    from matplotlib.figure import Figure

    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    png = shell.display_formatter.formatters["image/png"]
    if Figure not in png.type_printers:
        from IPython.core.pylabtools import select_figure_formats

        select_figure_formats(shell, {"png"})


_CHAR_PX = 6.5  # width of one character of tick text (~11 px sans-serif), to judge whether names collide


def _crowded(categories, width_px: float) -> bool:
    """Whether category names along x need turning on end: many of them, longer than a short code, or any name
    wider than its share of the axis (e.g. "product information" under a bar a sixth of a 500 px chart wide)."""
    longest = max(len(str(c)) for c in categories)
    slot = 0.85 * width_px / max(len(categories), 1)
    return (len(categories) > 8 and longest > 4) or longest * _CHAR_PX > slot


def _mpl_axes(chart: Chart, ax) -> None:
    if chart.x_categories is not None:
        ax.set_xticks(np.arange(len(chart.x_categories)), [str(c) for c in chart.x_categories], fontsize=7,
                      rotation=90 if _crowded(chart.x_categories, ax.figure.get_figwidth() * PIXELS_PER_INCH)
                      else 0)
    if chart.y_categories is not None:
        ax.set_yticks(np.arange(len(chart.y_categories)), [str(c) for c in chart.y_categories], fontsize=7)
    if chart.x_dates:
        import matplotlib.dates as mdates

        from .generic import label

        loc = mdates.AutoDateLocator(maxticks=8)
        ax.xaxis.set_major_locator(loc)
        # month and year names in the chart's language (the locale's strftime formats, not matplotlib's English)
        formats = {kind: label(f"date_concise{kind}", chart.lang).split("|")
                   for kind in ("", "_zero", "_offset")}
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc, formats=formats[""],
                                                                 zero_formats=formats["_zero"],
                                                                 offset_formats=formats["_offset"]))
    for axis, fmt in ((ax.xaxis, chart.x_format), (ax.yaxis, chart.y_format)):
        if fmt == "percent":
            from matplotlib.ticker import PercentFormatter

            axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))
    if chart.y_range is not None:
        ax.set_ylim(*chart.y_range)
    if chart.frame:
        for spine in ax.spines.values():
            spine.set_edgecolor(chart.frame)
            spine.set_linewidth(2.0)
    ax.set_title(chart.title, fontsize=9)
    ax.set_xlabel(chart.x_label, fontsize=8)
    ax.set_ylabel(chart.y_label, fontsize=8)
    ax.tick_params(labelsize=7)
    if chart.lang == "zh":
        # texts made before the rc context (axes passed in by the caller) or at draw time (date ticks) get the
        # CJK font too
        family = font_rc("zh")["font.family"]
        ax.tick_params(labelfontfamily=family)
        for text in (ax.title, ax.xaxis.label, ax.yaxis.label):
            text.set_fontfamily(family)
    ax.grid(alpha=0.25)
    if chart.legend and any(layer.style.get("label") for layer in chart.layers):
        if chart.legend_location:  # the chart says where its legend stays clear of the data
            ax.legend(fontsize=7, loc=chart.legend_location.replace("top", "upper").replace("bottom", "lower")
                      .replace("_", " "))
        else:
            ax.legend(fontsize=7, **_MPL_LEGEND_OUTSIDE)


def _mpl_line(ax, layer):
    d, s = layer.data, layer.style
    kw = dict(color=s["colour"], lw=s["width"], ls=_MPL_DASH[s["dash"]], label=s.get("label"))
    if s["step"]:
        ax.step(d["x"], d["y"], where=_MPL_STEP[s["step"]], **kw)
    else:
        ax.plot(d["x"], d["y"], marker=s.get("marker"), ms=3.5, **kw)


def _mpl_band(ax, layer):
    d, s = layer.data, layer.style
    ax.fill_between(d["x"], d["low"], d["high"], step=_MPL_STEP[s["step"]] if s["step"] else None, color=s["colour"],
                    alpha=s["alpha"], lw=0)


def _mpl_points(ax, layer):
    d, s = layer.data, layer.style
    colour = d["colour"]
    area = s["size"] ** 2
    if isinstance(colour, str) and not s["hollow"]:  # one colour: a marker line, like ax.plot(..., "o")
        ax.plot(d["x"], d["y"], ls="none", marker="o", ms=s["size"], color=colour, zorder=4, label=s.get("label"))
    elif s["hollow"]:
        ax.scatter(d["x"], d["y"], s=area, facecolors="none", edgecolors=colour, zorder=4, label=s.get("label"))
    else:
        ax.scatter(d["x"], d["y"], s=area, c=colour, zorder=4, label=s.get("label"))


def _mpl_bars(ax, layer):
    d, s = layer.data, layer.style
    draw = ax.barh if s["horizontal"] else ax.bar
    kw = {"height" if s["horizontal"] else "width": s["width"], "left" if s["horizontal"] else "bottom": s["base"]}
    draw(d["x"], d["height"], color=d["colour"], alpha=s["alpha"], label=s.get("label"), **kw)


def _mpl_whiskers(ax, layer):
    d, s = layer.data, layer.style
    x, lo, hi = (np.asarray(d[k], dtype=float) for k in ("x", "low", "high"))
    if s["horizontal"]:
        ax.hlines(x, lo, hi, color=s["colour"], lw=1)
    else:
        ax.vlines(x, lo, hi, color=s["colour"], lw=1)


def _mpl_rule(ax, layer):
    s = layer.style
    draw = ax.axhline if s["axis"] == "y" else ax.axvline
    draw(layer.data["value"], color=s["colour"], lw=0.9 * s.get("width", 1.0), ls=_MPL_DASH[s["dash"]],
         label=s.get("label"))


def _mpl_text(ax, layer):
    d, s = layer.data, layer.style
    for x, y, t in zip(d["x"], d["y"], d["text"]):
        ax.annotate(str(t), (x, y), xytext=(0, 5), textcoords="offset points", ha=s["align"], fontsize=s["size"],
                    color=s["colour"])


def palette(colourmap: str, k: int = 11) -> list[str]:
    """``k`` hex colours sampled evenly from a matplotlib colour map (shared by both back-ends)."""
    import matplotlib
    from matplotlib.colors import to_hex

    cmap = matplotlib.colormaps[colourmap]
    return [to_hex(cmap(i / (k - 1))) for i in range(k)]


def _cell_colours(layer) -> list[str]:
    """Each cell's colour: ``[low, high]`` cut into as many equal bins as the palette has colours, the binning of
    Bokeh's LinearColorMapper and of a matplotlib ListedColormap, so the colour bars of both back-ends match."""
    d, s = layer.data, layer.style
    pal = palette(s["colourmap"])
    span = (s["high"] - s["low"]) or 1.0
    pos = np.clip((np.nan_to_num(np.asarray(d["value"], dtype=float), nan=(s["low"] + s["high"]) / 2) - s["low"])
                  / span, 0, 1)
    return [pal[min(int(v * len(pal)), len(pal) - 1)] for v in pos]


def _extent(layer: Layer, axis: str) -> list:
    """The values ``layer`` draws along ``axis`` ("x" or "y"): bar ends and bases, whisker ends, band edges,
    points, line vertices, rules across that axis, cell edges."""
    d, s = layer.data, layer.style
    kind = layer.kind
    if kind == "rule":
        return [d["value"]] if s["axis"] == axis else []
    if kind in ("bars", "whiskers"):
        along = "x" if s["horizontal"] else "y"  # the axis the bar's length or the interval runs along
        if axis == along:
            if kind == "whiskers":
                return [*np.ravel(d["low"]), *np.ravel(d["high"])]
            base = np.asarray(s["base"], dtype=float)
            return [*np.ravel(base), *np.ravel(np.asarray(d["height"], dtype=float) + base)]
        pos = np.asarray(d["x"], dtype=float)
        half = s.get("width", 0.0) / 2
        return [*(pos - half), *(pos + half)]
    if kind == "band":
        return [*np.ravel(d["low"]), *np.ravel(d["high"])] if axis == "y" else list(np.ravel(d["x"]))
    if kind == "cells":
        pos = np.asarray(d[axis], dtype=float)
        return [*(pos - 0.5), *(pos + 0.5)]
    if kind in ("line", "points", "text"):
        return list(np.ravel(d[axis]))
    return []


def axis_range(chart: Chart, axis: str) -> tuple[float, float] | None:
    """The (low, high) an axis must show so that every drawn value is inside the plot: category axes span their
    categories; numeric axes span bars (with their base), whisker ends, bands, points, lines and reference rules,
    padded by :data:`RANGE_PAD` of the span on each side. ``chart.<axis>_range`` when the chart sets one; None
    for a date axis or when nothing numeric is drawn (the back-end's own autoscale then applies)."""
    own = getattr(chart, f"{axis}_range", None)
    if own is not None:
        return tuple(own)
    cats = chart.x_categories if axis == "x" else chart.y_categories
    if cats is not None:
        cells = any(layer.kind == "cells" for layer in chart.layers)
        edge = 0.5 if cells else 0.6
        return (-edge, len(cats) - 1 + edge)
    if axis == "x" and chart.x_dates:
        return None
    values = []
    for layer in chart.layers:
        try:
            values += _extent(layer, axis)
        except (TypeError, ValueError):  # dates or text where a number was expected: leave the axis to autoscale
            return None
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return None
    lo, hi = float(arr.min()), float(arr.max())
    pad = RANGE_PAD * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1.0)
    # a text layer is written just above its anchor, and left-aligned text to the right of it: room for it
    texts = [layer for layer in chart.layers if layer.kind == "text"]
    low, high = pad, pad
    if axis == "y" and texts:
        high = 2.5 * pad
    if axis == "x":
        high = 3 * pad if any(t.style["align"] == "left" for t in texts) else pad
        low = 3 * pad if any(t.style["align"] == "right" for t in texts) else pad
    return (lo - low, hi + high)


def _mpl_cells(ax, layer):
    import matplotlib.pyplot as plt

    d = layer.data
    for x, y, c, t, a in zip(d["x"], d["y"], _cell_colours(layer), d["text"], d["alpha"]):
        ax.add_patch(plt.Rectangle((x - 0.5, y - 0.5), 1, 1, color=c, alpha=a, lw=0))
        ax.text(x, y, str(t), ha="center", va="center", fontsize=7)
    ax.set_xlim(-0.5, max(d["x"], default=0) + 0.5)
    ax.set_ylim(-0.5, max(d["y"], default=0) + 0.5)


def _mpl_frame(chart: Chart, ax) -> None:
    """Axis ranges that show every drawn value (see :func:`axis_range`) and a colour bar per heat-map layer."""
    for axis, set_lim in (("x", ax.set_xlim), ("y", ax.set_ylim)):
        span = axis_range(chart, axis)
        if span is not None:
            set_lim(*span)
    for layer in chart.layers:
        if layer.kind == "cells":
            _mpl_colourbar(ax, layer)


def _mpl_colourbar(ax, layer) -> None:
    """The heat map's colour legend: the same 11 colours from ``low`` to ``high``, labelled with its meaning."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

    s = layer.style
    mappable = ScalarMappable(Normalize(s["low"], s["high"]), ListedColormap(palette(s["colourmap"])))
    bar = ax.figure.colorbar(mappable, ax=ax, fraction=0.05, pad=0.02, alpha=0.9)
    bar.set_label(s.get("colour_label", ""), fontsize=8)
    bar.ax.tick_params(labelsize=7)
    if s.get("colour_format") == "percent":
        from matplotlib.ticker import PercentFormatter

        bar.ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))


_MPL_DRAW = {"line": _mpl_line, "band": _mpl_band, "points": _mpl_points, "bars": _mpl_bars,
             "whiskers": _mpl_whiskers, "rule": _mpl_rule, "text": _mpl_text, "cells": _mpl_cells}


# ------------------------------------------------------------------------------------------------- Bokeh
def _column(values, n):
    """A per-row column for a ColumnDataSource (scalars are repeated)."""
    if isinstance(values, str) or np.ndim(values) == 0:
        return [values] * n
    return list(values) if not isinstance(values, np.ndarray) else values


def to_bokeh(chart: Chart, *, width: int | None = None, height: int | None = None, toolbar: bool = True,
             share: dict | None = None, font_size: int | None = None):
    """Draw the chart as a Bokeh figure (hover tips on point layers that carry ``tips``).

    ``toolbar=False`` keeps only the hover tips (no tool buttons: small multiples). ``share`` is a dict the caller
    passes to every figure of one page part (e.g. a grid of small multiples): models that can be shared - the
    scales, tickers, formatters, axes and grids alike in every figure, reference rules in the same place, the
    ranges of charts with the same ``y_range`` or the same dates, one empty selection for all data sources - are
    made once and reused, so the page carries them once and the panels zoom together (a Bokeh page costs time per
    model: to build it, and at every walk over the page when it is saved). ``font_size`` sets the tick
    and axis-label text in pixels (the title one step larger). The plain lines of a chart without a legend are
    drawn as one renderer (:func:`_merged_lines`)."""
    from bokeh.models import GlyphRenderer, HoverTool, Range1d, Selection
    from bokeh.plotting import figure

    from . import bokeh_defaults

    bokeh_defaults.install()  # the same figure, built faster

    shared, share = share is not None, {} if share is None else share
    kw = {}
    if chart.y_range is not None:
        kw["y_range"] = _once(share, ("y_range", *chart.y_range), lambda: Range1d(*chart.y_range))
    # no default axes, grids, tickers or formatters (a date axis alone builds a dozen tickers): _bk_axes adds
    # them, made once per page part where they can be shared
    p = figure(width=width or int(chart.size[0] * PIXELS_PER_INCH),
               height=height or int(chart.size[1] * PIXELS_PER_INCH), title=chart.title,
               x_axis_type=None, y_axis_type=None, tools="pan,wheel_zoom,box_zoom,reset,save" if toolbar else "",
               **kw)
    # x values → the one ColumnDataSource of this figure's line and point layers on them; and the one (empty)
    # selection of every source of the page part: nothing on these pages selects, so no source needs its own
    sources: dict = {"selection": _once(share, "selection", Selection)}
    layers = _merged_lines(chart.layers) if not chart.legend else chart.layers
    for layer in layers:
        if not chart.legend and "label" in layer.style:  # no legend shown: no legend entries to carry
            layer = Layer(layer.kind, layer.data, {k: v for k, v in layer.style.items() if k != "label"})
        if layer.kind in _SOURCE_SHARING:
            _BOKEH_DRAW[layer.kind](p, layer, sources)
        elif layer.kind in _PAGE_SHARING and shared:
            _BOKEH_DRAW[layer.kind](p, layer, share)
        else:
            _BOKEH_DRAW[layer.kind](p, layer)
    for r in p.renderers:
        if isinstance(r, GlyphRenderer):
            # nothing is selected or muted on these pages: the extra glyph copies would only add page weight
            r.nonselection_glyph = None
            r.muted_glyph = None
            # each renderer keeps its own view (BokehJS sizes a view to its source), but the stateless "all rows"
            # filter of the views is one object
            r.view.filter = share.setdefault("all_rows", r.view.filter)
            # nor is anything selected (no selection tools): one selection policy serves every source
            r.data_source.selection_policy = share.setdefault("selection_policy", r.data_source.selection_policy)
    if chart.x_dates:
        x = next((np.asarray(layer.data["x"]) for layer in chart.layers if layer.kind == "points"), None)
        if shared and x is not None and x.size and np.issubdtype(x.dtype, np.datetime64):
            lo, hi = x.min(), x.max()
            pad = (hi - lo) / 40 if hi > lo else np.timedelta64(15, "D")
            p.x_range = _once(share, ("x_range", str(lo), str(hi)), lambda: Range1d(lo - pad, hi + pad))
    _bk_axes(chart, p, share, compact=not toolbar, font_size=font_size)
    if font_size is not None:
        p.title.text_font_size = f"{font_size + 2}px"
    if p.legend:
        p.legend.visible = bool(chart.legend)
        if chart.legend_location:
            p.legend.location = chart.legend_location
        p.legend.label_text_font_size = "11px"
        p.legend.background_fill_alpha = 0.7
    if chart.frame:
        p.outline_line_color = chart.frame
        p.outline_line_width = 3
        p.outline_line_alpha = 1.0
        p.title.text_color = chart.frame
    if not toolbar:
        p.toolbar_location = None
        hovers = [t for t in p.tools if isinstance(t, HoverTool)]
        p.toolbar.tools = hovers
    _bk_frame(chart, p)
    p.toolbar.logo = None
    return p


def _once(share: dict, key, make):
    """``share[key]``, made by ``make()`` the first time (a Bokeh model is costly to build, so never built only to
    be thrown away)."""
    found = share.get(key)
    if found is None:
        found = share[key] = make()
    return found


def _bk_axes(chart: Chart, p, share: dict, *, compact: bool, font_size: int | None) -> None:
    """The figure's axes and grids, with the models that hold no per-figure state (scales, tickers, tick
    formatters, the label policy, and axes and grids alike in every figure) taken from ``share``: made once for
    all the figures of a page part.

    A date axis shows month and year names of the chart's language, formatted by the browser (not Bokeh's English
    defaults); a ``compact`` figure (a small multiple) asks for few date ticks, so they do not collide. Category
    axes put the names at positions 0..k-1 (turned on end when crowded); ``"percent"`` axes show 72.6 % for
    0.726."""
    from bokeh.models import AllLabels, Grid, LinearScale

    # BokehJS derives each figure's own scales from these (it clones them), so one object serves every figure
    p.x_scale = p.y_scale = _once(share, "linear_scale", LinearScale)
    text = {} if font_size is None else {"major_label_text_font_size": f"{font_size}px",
                                         "axis_label_text_font_size": f"{font_size}px"}
    policy = _once(share, "all_labels", AllLabels)
    for dim, cats, fmt, name in ((0, chart.x_categories, chart.x_format, chart.x_label),
                                 (1, chart.y_categories, chart.y_format, chart.y_label)):
        if cats is not None:  # the chart's own category names
            axis, ticker = _bk_axis(chart, p, dim, cats, fmt, name, share, compact, text, policy)
        else:
            # an axis without categories is defined by these alone: the figures of a page part that agree on them
            # (small multiples) show one axis model, BokehJS draws it in each
            key = ("axis", dim, dim == 0 and chart.x_dates, compact, chart.lang, fmt, name, font_size)
            if key not in share:
                share[key] = _bk_axis(chart, p, dim, cats, fmt, name, share, compact, text, policy)
            axis, ticker = share[key]
        p.add_layout(axis, "below" if dim == 0 else "left")
        p.add_layout(_once(share, ("grid", dim, ticker.id), lambda: Grid(dimension=dim, ticker=ticker)), "center")


def _bk_axis(chart, p, dim, cats, fmt, name, share, compact, text, policy):
    """A new axis (and its ticker) for :func:`_bk_axes`."""
    from bokeh.models import (BasicTicker, BasicTickFormatter, DatetimeAxis, DatetimeTicker,
                              DatetimeTickFormatter, FixedTicker, LinearAxis, NumeralTickFormatter)

    from .generic import label

    axis_kw = dict(axis_label=name or None, major_label_policy=policy, **text)
    if dim == 0 and chart.x_dates:
        ticker = (_once(share, "date_ticker", lambda: DatetimeTicker(desired_num_ticks=3)) if compact
                  else _once(share, "date_ticker_full", lambda: DatetimeTicker(num_minor_ticks=5)))
        formatter = _once(share, ("date_format", chart.lang), lambda: DatetimeTickFormatter(
            **{unit: label(f"date_{unit}", chart.lang) for unit in ("days", "months", "years")}))
        return DatetimeAxis(ticker=ticker, formatter=formatter, **axis_kw), ticker
    if cats is not None:
        ticker = FixedTicker(ticks=list(range(len(cats))))
        axis_kw["major_label_overrides"] = {i: str(c) for i, c in enumerate(cats)}
        if dim == 0 and _crowded(cats, p.width):
            axis_kw["major_label_orientation"] = 1.2
    else:
        ticker = _once(share, "number_ticker", lambda: BasicTicker(num_minor_ticks=5))
    if fmt == "percent":
        formatter = _once(share, "percent_format", lambda: NumeralTickFormatter(format="0[.]0%"))
    else:
        formatter = _once(share, "number_format", BasicTickFormatter)
    return LinearAxis(ticker=ticker, formatter=formatter, **axis_kw), ticker


def _screen_values(values) -> np.ndarray:
    """Values for the browser to draw: single precision (7 significant digits, far finer than a pixel or a
    formatted tip) halves their weight on the page."""
    return np.asarray(values, dtype=np.float32)


def _data_source(data: dict, sources: dict | None):
    """A ColumnDataSource of ``data`` with the page part's empty selection (``sources["selection"]``) when there is
    one (the selection is read-only once the source is made)."""
    from bokeh.models import ColumnDataSource

    selection = (sources or {}).get("selection")
    return ColumnDataSource(data) if selection is None else ColumnDataSource(data, selected=selection)


def _shared_columns(sources: dict | None, x, columns: dict):
    """The figure's ColumnDataSource for these x values (made on first use) with ``columns`` added under fresh
    names: the layers drawn on the same x share one source, so the x values are stored once per figure."""
    xa = np.asarray(x)
    key = (xa.dtype.str, xa.shape, xa.tobytes()) if sources is not None and xa.dtype != object else None
    src = sources.get(key) if key is not None else None
    if src is None:
        src = _data_source({"x": xa}, sources)
        if key is not None:
            sources[key] = src
    names = {}
    for name, values in columns.items():
        same = [k for k, v in src.data.items() if isinstance(v, np.ndarray) and isinstance(values, np.ndarray)
                and v.dtype == values.dtype and v.shape == values.shape and np.array_equal(v, values, equal_nan=True)]
        names[name] = same[0] if same else f"c{len(src.data)}"
        src.data[names[name]] = values
    return src, names


def _glyph(p, glyph, source, label=None):
    """Add one glyph renderer: the glyph alone (Bokeh's figure methods also build selection, non-selection and
    muted copies, which these pages never show: half the models, and half the time to build a figure) and its
    legend entry."""
    from bokeh.models import GlyphRenderer, Legend, LegendItem

    r = GlyphRenderer(data_source=source, glyph=glyph, nonselection_glyph=None, muted_glyph=None)
    p.renderers.append(r)
    if label:
        legends = p.select(type=Legend)
        if not legends:
            p.add_layout(Legend(), "center")
            legends = p.select(type=Legend)
        legend = legends[0]
        item = next((i for i in legend.items if i.label == {"value": label}), None)
        if item is None:
            legend.items.append(LegendItem(label=label, renderers=[r]))
        else:
            item.renderers.append(r)
    return r


def _bk_line(p, layer, sources=None):
    from bokeh.models import Line, Scatter, Step

    d, s = layer.data, layer.style
    kw = dict(line_color=s["colour"], line_width=s["width"], line_dash=s["dash"])
    src, col = _shared_columns(sources, d["x"], {"y": _screen_values(d["y"])})
    glyph = (Step(x="x", y=col["y"], mode=_BK_STEP[s["step"]], **kw) if s["step"]
             else Line(x="x", y=col["y"], **kw))
    _glyph(p, glyph, src, s.get("label"))
    if s.get("marker") and not s["step"]:  # the markers matplotlib draws on the line
        _glyph(p, Scatter(x="x", y=col["y"], size=5, line_color=s["colour"], fill_color=s["colour"]), src)


def _merged_lines(layers: list[Layer]) -> list[Layer]:
    """The layers with each run of plain lines (no markers; reference rules between them do not break a run, they
    are drawn above the glyphs anyway) drawn as one ``lines`` layer: one Bokeh renderer for a chart's centre line,
    limits and values instead of one each. Only for charts without a legend (a legend entry names a renderer)."""
    out: list[Layer] = []
    run: list[Layer] = []
    for layer in layers:
        plain = (layer.kind == "line" and not layer.style.get("marker")
                 and np.asarray(layer.data["x"]).dtype.kind in "biufM")  # numbers or dates
        if plain:
            if not run:
                out.append(None)  # the run's place
            run.append(layer)
        elif layer.kind != "rule":
            _close_run(out, run)
            run = []
        if not plain:
            out.append(layer)
    _close_run(out, run)
    return out


def _close_run(out: list, run: list[Layer]) -> None:
    """Put the run of lines in its place in ``out`` (a lone line stays as it is: it shares the points' source)."""
    at = out.index(None) if None in out else None
    if at is None:
        return
    out[at] = run[0] if len(run) == 1 else Layer("lines", {"lines": [_line_path(layer) for layer in run]})


def _line_path(layer: Layer) -> dict:
    """The vertices of a line layer as the browser draws it: a step line becomes its horizontal and vertical
    segments (as Bokeh's Step glyph draws them: "center" steps change half-way between two x, the first and last
    step end at their own x; "after" steps hold each value until the next x), and a missing value leaves a gap."""
    d, s = layer.data, layer.style
    x = np.asarray(d["x"])
    # half-way points need a fine unit: milliseconds (as the browser has them) or floats
    x = x.astype("datetime64[ms]") if np.issubdtype(x.dtype, np.datetime64) else x.astype(float)
    y = _screen_values(d["y"])
    mode = _BK_STEP.get(s["step"]) if s["step"] else None
    if mode is None or x.size < 2:
        xs, ys = x, y
    else:
        both = np.isfinite(y[:-1]) & np.isfinite(y[1:])  # a step to the next value only when both are drawn
        if mode == "center":
            mid = x[:-1] + (x[1:] - x[:-1]) / 2
            start, end = x.copy(), x.copy()
            start[1:] = np.where(both, mid, x[1:])
            end[:-1] = np.where(both, mid, x[:-1])
        else:  # "after"
            start, end = x, x.copy()
            end[:-1] = np.where(both, x[1:], x[:-1])
        xs = np.empty(2 * x.size, dtype=np.result_type(start, end))
        xs[0::2], xs[1::2] = start, end
        ys = np.repeat(y, 2)
    return {"xs": xs, "ys": ys, "colour": s["colour"], "width": s["width"], "dash": s["dash"]}


def _bk_lines(p, layer, sources=None):
    """Several lines in one renderer, each in its own colour, width and dash."""
    from bokeh.core.properties import field
    from bokeh.models import MultiLine

    lines = layer.data["lines"]
    dashes = [_BK_DASH.get(ln["dash"], ln["dash"]) for ln in lines]
    src = _data_source({"xs": [ln["xs"] for ln in lines], "ys": [ln["ys"] for ln in lines], "dash": dashes,
                        **{k: [ln[k] for ln in lines] for k in ("colour", "width")}}, sources)
    _glyph(p, MultiLine(xs="xs", ys="ys", line_color=field("colour"), line_width=field("width"),
                        line_dash=field("dash")), src)


def _bk_band(p, layer):
    d, s = layer.data, layer.style
    if s["step"]:
        p.varea_step(x=np.asarray(d["x"]), y1=np.asarray(d["low"]), y2=np.asarray(d["high"]),
                     step_mode=_BK_STEP[s["step"]],
                     fill_color=s["colour"], fill_alpha=s["alpha"])
    else:
        p.varea(x=np.asarray(d["x"]), y1=np.asarray(d["low"]), y2=np.asarray(d["high"]), fill_color=s["colour"],
                fill_alpha=s["alpha"])


def _bk_points(p, layer, sources=None):
    from bokeh.models import HoverTool, Scatter

    d, s = layer.data, layer.style
    n = len(d["x"])
    colour = d["colour"]
    one_colour = isinstance(colour, str) or len(set(colour)) <= 1
    cols = {"y": _screen_values(d["y"])}
    if not one_colour:
        cols["colour"] = _column(colour, n)
    tip_names = [k for k in d if k.startswith("tip:")]
    cols.update({k: [str(v) for v in d[k]] for k in tip_names if not isinstance(d[k], str)})
    src, col = _shared_columns(sources, d["x"], cols)
    tips, formatters = [], {}
    for k in tip_names:
        if isinstance(d[k], str):  # a template over the layer's own x and y
            tips.append((k[4:], d[k].replace("@y", f"@{{{col['y']}}}")))
            if "@x{%" in d[k]:
                formatters["@x"] = "datetime"
        else:
            tips.append((k[4:], f"@{{{col[k]}}}"))
    fill = (colour if isinstance(colour, str) else next(iter(colour), "#1f4e79")) if one_colour else col["colour"]
    glyph = Scatter(x="x", y=col["y"], size=s["size"] + 2, line_color=fill,
                    fill_color=None if s["hollow"] else fill)
    r = _glyph(p, glyph, src, s.get("label"))
    if tips:
        p.add_tools(HoverTool(renderers=[r], tooltips=tips, formatters=formatters))


def _bk_bars(p, layer):
    d, s = layer.data, layer.style
    n = len(d["x"])
    kw = {"legend_label": s["label"]} if s.get("label") else {}
    colour = _column(d["colour"], n)
    base = np.asarray(s["base"], dtype=float)
    end = np.asarray(d["height"], dtype=float) + base  # a bar runs from its base for its height, as in matplotlib
    base = base.tolist() if base.ndim else float(base)
    if s["horizontal"]:
        p.hbar(y=np.asarray(d["x"]), right=end, left=base, height=s["width"], color=colour, alpha=s["alpha"], **kw)
    else:
        p.vbar(x=np.asarray(d["x"]), top=end, bottom=base, width=s["width"], color=colour, alpha=s["alpha"], **kw)


def _bk_whiskers(p, layer):
    d, s = layer.data, layer.style
    x, lo, hi = (list(np.asarray(d[k], dtype=float)) for k in ("x", "low", "high"))
    # drawn above the glyphs: an interval is never hidden by the bar it belongs to
    if s["horizontal"]:
        p.segment(x0=lo, x1=hi, y0=x, y1=x, color=s["colour"], line_width=1.5, level="overlay")
    else:
        p.segment(x0=x, x1=x, y0=lo, y1=hi, color=s["colour"], line_width=1.5, level="overlay")


def _bk_rule(p, layer, share=None):
    from bokeh.models import Span

    s, value = layer.style, layer.data["value"]
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[ms]").astype(np.int64)
    look = dict(location=float(value), dimension="width" if s["axis"] == "y" else "height", line_color=s["colour"],
                line_dash=s["dash"], line_width=s.get("width", 1.0))
    # a rule alike in several figures of a page part (a KPI's target in its small multiples) is one model
    key = ("rule", *look.values())
    p.add_layout(_once(share, key, lambda: Span(**look)) if share is not None else Span(**look))
    if s.get("label"):  # a Span has no legend entry: a line in its style carries it (one invisible NaN point:
        # Bokeh's legend draws no swatch for a renderer without rows)
        p.line([np.nan], [np.nan], line_color=s["colour"], line_dash=s["dash"], line_width=s.get("width", 1.0),
               legend_label=s["label"])


def _bk_text(p, layer, sources=None):
    from bokeh.models import Text

    d, s = layer.data, layer.style
    src = _data_source({"x": np.asarray(d["x"]), "y": np.asarray(d["y"]), "text": [str(t) for t in d["text"]]},
                       sources)
    _glyph(p, Text(x="x", y="y", text="text", text_color=s["colour"], text_font_size=f"{s['size'] + 2}px",
                   text_align=s["align"], y_offset=-4), src)


def _bk_cells(p, layer, sources=None):
    d = layer.data
    src = _data_source({"x": np.asarray(d["x"]), "y": np.asarray(d["y"]), "colour": _cell_colours(layer),
                        "text": [str(t) for t in d["text"]], "alpha": np.asarray(d["alpha"])}, sources)
    p.rect("x", "y", 1, 1, source=src, fill_color="colour", fill_alpha="alpha", line_color="white")
    p.text("x", "y", text="text", source=src, text_align="center", text_baseline="middle", text_font_size="9px")


def _bk_frame(chart: Chart, p) -> None:
    """Axis ranges that show every drawn value (:func:`axis_range`), the legend beside the plot (never over the
    data) and a colour bar per heat-map layer. The frame is not aligned with the charts beside or above it in
    a page layout: Bokeh would otherwise give every chart of a column the widest axis labels and legend of any of
    them, squeezing the others' plot areas."""
    p.frame_align = False
    for rng, axis in ((p.x_range, "x"), (p.y_range, "y")):
        span = axis_range(chart, axis)
        if span is not None:
            rng.start, rng.end = span
    if p.legend and chart.legend:
        legend = p.legend[0]
        legend.click_policy = "hide"
        if not chart.legend_location:  # beside the plot unless the chart names a place clear of the data
            legend.label_text_font_size = "10px"
            if legend in p.center:
                p.center.remove(legend)
            p.add_layout(legend, "right")
    for layer in chart.layers:
        if layer.kind == "cells":
            _bk_colourbar(p, layer)


def _bk_colourbar(p, layer) -> None:
    """The heat map's colour legend (same 11 colours and bins as the cells), titled with its meaning and unit."""
    from bokeh.models import ColorBar, LinearColorMapper, NumeralTickFormatter

    s = layer.style
    mapper = LinearColorMapper(palette=palette(s["colourmap"]), low=s["low"], high=s["high"])
    bar = ColorBar(color_mapper=mapper, title=s.get("colour_label") or None, orientation="horizontal",
                   height=10, width=220, scale_alpha=0.9, title_text_font_size="10px",
                   major_label_text_font_size="9px", title_text_font_style="normal")
    if s.get("colour_format") == "percent":
        bar.formatter = NumeralTickFormatter(format="0%")
    p.add_layout(bar, "below")


_SOURCE_SHARING = ("line", "lines", "points", "text", "cells")  # drawn with the figure's ``sources``
_PAGE_SHARING = ("rule",)
_BOKEH_DRAW = {"line": _bk_line, "lines": _bk_lines, "band": _bk_band, "points": _bk_points, "bars": _bk_bars,
               "whiskers": _bk_whiskers, "rule": _bk_rule, "text": _bk_text, "cells": _bk_cells}


def title_of(fig: Any) -> str:
    """The title text of a figure from either back-end (used by tests and the report)."""
    if hasattr(fig, "axes") and hasattr(fig, "savefig"):
        return fig.axes[0].get_title() if fig.axes else ""
    return fig.title.text if fig.title is not None else ""
