"""The protocol every sqc result object follows (statsmodels-like results, pingouin-like frames, qcc-like plots).

:class:`Result` is a mixin for the result dataclasses. It gives each of them

* ``to_frame()`` - the result as a DataFrame (a class names the attribute with ``_frame_attr`` or overrides it);
* ``summary(lang="en")`` - plain text: the class's own headline lines (``_summary_lines``), then the counted
  exclusions and the warnings, written once here for all results;
* ``_repr_html_()`` - what JupyterLab shows when a cell ends in a result: a compact table with n, the intervals
  (the frame's ``ci_low``/``ci_high`` columns), and the warnings; every string is HTML-escaped;
* ``plot(ax=None, backend="matplotlib"|"bokeh", lang="en"|"zh")`` - the figure. A class names its chart function
  (``_chart = "sqc.plotting.<area>:<function>"``, called with the result and ``lang``); the chart is one
  back-end-free description (:mod:`sqc.plotting.spec`) drawn by either back-end. Classes without a chart of their
  own get :func:`sqc.plotting.generic.estimate_chart` (estimates with their intervals, or bars).

Nothing here imports matplotlib, Bokeh or Panel until ``plot`` is called, so ``import sqc`` stays light.
"""
from __future__ import annotations

import html
import importlib
from dataclasses import dataclass, field
from string import Template
from typing import Any, ClassVar

import pandas as pd

from .errors import ParameterError

#: Attributes that hold a result's sample size, in the order they are looked for.
N_ATTRIBUTES = ("n", "n_used", "n_respondents", "n_subjects", "n_obs", "n_visits", "n_complaints", "n_total")
HTML_MAX_ROWS = 12

_TABLE = Template('<div class="sqc-result"><table class="sqc-result-head">'
                  '<caption>$caption</caption><tbody>$facts</tbody></table>$frame$warnings</div>')
_FACT = Template("<tr><th>$name</th><td>$value</td></tr>")
_WARNINGS = Template('<ul class="sqc-result-warnings">$items</ul>')
_WARNING = Template("<li><code>$code</code> $text</li>")


class Result:
    """Mixin giving a result dataclass ``to_frame``, ``summary``, ``_repr_html_`` and ``plot`` (see module doc)."""

    _frame_attr: ClassVar[str | None] = None
    _chart: ClassVar[str | None] = None
    _title: ClassVar[str | None] = None

    # ----------------------------------------------------------------------------------------- frame / text
    def to_frame(self) -> pd.DataFrame:
        """The result as a DataFrame."""
        if self._frame_attr is None:
            raise NotImplementedError(f"{type(self).__name__} must define to_frame() or _frame_attr")
        return getattr(self, self._frame_attr)

    def _summary_lines(self, lang: str = "en") -> list[str]:
        """The headline lines of :meth:`summary` (a class overrides this; the default prints the frame)."""
        return [self.chart_title(lang), self.to_frame().round(3).to_string()]

    def summary(self, lang: str = "en") -> str:
        """Plain-text summary: headline, counted exclusions, then each warning with its code."""
        lines = list(self._summary_lines(lang))
        excl = getattr(self, "exclusions", None)
        if isinstance(excl, dict) and any(excl.values()):
            lines.append("  excluded: " + ", ".join(f"{k} {v}" for k, v in excl.items() if v))
        elif isinstance(excl, pd.DataFrame) and len(excl) and {"reason", "count"} <= set(excl.columns):
            lines += [f"  excluded: {r['count']} ({r['reason']})" for _, r in excl.iterrows()]
        lines += [f"  {w.code} ({w.severity}){f' [{w.subject}]' if w.subject else ''}: {w.text(lang)}"
                  for w in self.warnings_list]
        return "\n".join(lines)

    @property
    def warnings_list(self) -> list:
        return list(getattr(self, "warnings", None) or [])

    def chart_title(self, lang: str = "en") -> str:
        """The chart and table title in ``lang`` (from the ``charts`` locale file)."""
        from .report.context import translate

        return translate(f"charts.{self._title_key()}", lang)

    def _title_key(self) -> str:
        return self._title or type(self).__name__

    def sample_size(self) -> Any:
        """The n the result rests on (the first of :data:`N_ATTRIBUTES` it has; else the frame's ``n`` column
        total, else its row count)."""
        for name in N_ATTRIBUTES:
            value = getattr(self, name, None)
            if value is not None and not callable(value):
                return value
        frame = self.to_frame()
        if "n" in frame.columns:
            return int(pd.to_numeric(frame["n"], errors="coerce").max())
        return len(frame)

    # ----------------------------------------------------------------------------------------- notebook view
    def _repr_html_(self) -> str:
        esc = lambda v: html.escape(str(v))  # noqa: E731
        frame = self.to_frame()
        facts = [("n", self.sample_size())]
        interval = self._interval_text(frame)
        if interval:
            facts.append(("interval", interval))
        facts.append(("warnings", len(self.warnings_list)))
        shown = frame.head(HTML_MAX_ROWS)
        table = shown.to_html(escape=True, float_format=lambda v: f"{v:.4g}", border=0, classes="sqc-result-frame")
        if len(frame) > HTML_MAX_ROWS:
            table += f"<p>{len(frame) - HTML_MAX_ROWS} more rows: .to_frame()</p>"
        items = "".join(_WARNING.substitute(code=esc(w.code), text=esc(w.text("en"))) for w in self.warnings_list)
        return _TABLE.substitute(
            caption=esc(f"{type(self).__name__}: {self.chart_title('en')}"),
            facts="".join(_FACT.substitute(name=esc(k), value=esc(v)) for k, v in facts),
            frame=table, warnings=_WARNINGS.substitute(items=items) if items else "")

    def _interval_text(self, frame: pd.DataFrame) -> str:
        """The headline interval: a ``ci`` pair on the result, else the one row's ``ci_low``/``ci_high``, else a
        pointer to the interval columns of the table."""
        level = getattr(self, "confidence", None) or getattr(self, "ci_level", None)
        pct = f"{100 * float(level):.0f}% " if isinstance(level, (int, float)) and 0 < level < 1 else ""
        ci = getattr(self, "ci", None)
        if isinstance(ci, tuple) and len(ci) == 2:
            return f"{pct}CI [{ci[0]:.4g}, {ci[1]:.4g}]"
        if {"ci_low", "ci_high"} <= set(frame.columns):
            if len(frame) == 1:
                return f"{pct}CI [{frame['ci_low'].iloc[0]:.4g}, {frame['ci_high'].iloc[0]:.4g}]"
            return f"{pct}CI per row (ci_low, ci_high)"
        return ""

    # ----------------------------------------------------------------------------------------- plots
    def chart_spec(self, lang: str = "en", **options):
        """The back-end-free chart description (:class:`sqc.plotting.spec.Chart`) that :meth:`plot` draws."""
        target = self._chart or "sqc.plotting.generic:estimate_chart"
        module, _, func = target.partition(":")
        return getattr(importlib.import_module(module), func)(self, lang=lang, **options)

    def plot(self, ax=None, backend: str = "matplotlib", lang: str = "en", **options):
        """Draw the result; returns a matplotlib ``Figure`` (on ``ax`` when given) or a Bokeh figure.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Draw into this Axes (matplotlib only).
        backend : {"matplotlib", "bokeh"}
        lang : {"en", "zh"}
            Language of the title and labels; Chinese needs a CJK font (a missing glyph raises an error).
        **options
            Passed to the chart function (e.g. ``zones=True`` for control charts).
        """
        from .plotting.spec import BACKENDS, LANGS, render

        if backend not in BACKENDS:
            raise ParameterError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if lang not in LANGS:
            raise ParameterError(f"lang must be one of {LANGS}, got {lang!r}")
        return render(self.chart_spec(lang=lang, **options), backend=backend, ax=ax)


def row_lines(head: str, frame: pd.DataFrame, line) -> list[str]:
    """Summary lines: ``head``, then ``line(label, row)`` indented by two spaces for each row of ``frame`` (the
    usual ``_summary_lines`` of a result whose detail is a table)."""
    return [head, *(f"  {line(label, row)}" for label, row in frame.iterrows())]


@dataclass
class ResultData(Result):
    """Base of the result dataclasses: the protocol plus the ``warnings`` list every result carries
    (keyword-only, so it follows a subclass's own fields in ``__init__``)."""

    warnings: list = field(default_factory=list, kw_only=True)


class ResultFrame(Result, pd.DataFrame):
    """A result that is a table (pingouin-style: ``icc``, ``pareto``): a DataFrame in every way - indexing,
    ``set_index``, ``join`` - plus the protocol. ``.plot()`` is sqc's chart, not pandas' plot accessor (use
    ``pd.DataFrame(result).plot`` for that). Frames derived from it are plain DataFrames. Its metadata
    (warnings, sample size ...) lives in ``attrs``."""

    _n_key: ClassVar[str] = "n"

    @property
    def _constructor(self):
        return pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self)

    @property
    def warnings_list(self) -> list:
        return list(self.attrs.get("warnings") or [])

    def sample_size(self) -> Any:
        return self.attrs.get(self._n_key, len(self))
