"""Small layout helpers shared by the dashboard sections."""
from __future__ import annotations


def figure_pane(fig, *, fmt: str = "svg", dpi: int = 96, px_per_inch: int = 96):
    """A matplotlib figure as a Panel pane with an explicit pixel size.

    Panel draws an SVG 100 % wide of a container that has no width, so without a size the figure renders tiny.
    ``fmt="png"`` is cheaper to embed for dense small multiples.
    """
    import panel as pn

    w, h = fig.get_size_inches()
    return pn.pane.Matplotlib(fig, format=fmt, dpi=dpi, tight=True, width=int(w * px_per_inch),
                              height=int(h * px_per_inch))
