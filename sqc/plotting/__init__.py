"""Plots drawn from sqc result objects; plotting never recomputes a statistic, it reads the result object.

Each chart is described once (:class:`sqc.plotting.spec.Chart`) and drawn by matplotlib or Bokeh
(:mod:`sqc.plotting.spec`); ``result.plot(backend=..., lang=...)`` is the usual entry point. The area modules
(``spc``, ``servqual``, ``reliability``, ``audit``, ``complaints``, ``qfd``, ``scorecard``) hold the chart
descriptions and the older ``*_figure`` / ``*_bokeh`` functions, which draw the same descriptions. Submodules are
imported on first attribute access, so ``import sqc.plotting`` does not import matplotlib.
"""
from __future__ import annotations

from .. import lazy_submodules

_SUBMODULES = {"spec", "bokeh_defaults", "generic", "spc", "servqual", "reliability", "audit", "complaints", "qfd", "scorecard", "nps"}
__getattr__, __dir__ = lazy_submodules(__name__, _SUBMODULES)
