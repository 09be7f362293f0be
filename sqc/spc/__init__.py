"""Statistical process control for service data (Methods §5.2; issue 3).

Charts (each returns a result computed once, with ``.to_frame()``, ``.summary()``, ``.signals`` and
``.warnings``):

* variables: :func:`xbar_r`, :func:`xbar_s`, :func:`imr` (paired results: ``.xbar``/``.r``, ``.xbar``/``.s``,
  ``.i``/``.mr``);
* attributes: :func:`p_chart`, :func:`np_chart`, :func:`c_chart`, :func:`u_chart`, :func:`laney_p`,
  :func:`laney_u`; rare events: :func:`g_chart`, :func:`t_chart`;
* time-weighted: :func:`cusum`, :func:`ewma`; multivariate: :func:`hotelling_t2`;
* :func:`capability`, :func:`pareto`, :func:`oc_curve` (OC/ARL), :func:`select_chart`, :func:`run_chart`
  (Anhøj rules), the Making Data Count icons :func:`variation_verdict`, :func:`assurance_verdict`, and
  :func:`staged_chart` (limits recalculated after a sustained shift or from a stage table).

Constants: :func:`d2`, :func:`d3`, :func:`c4` (exact for any n, or qcc's tabled values). Run rules:
:mod:`sqc.spc.rules`. Warning codes W-SPC-01 … W-SPC-09: :mod:`sqc.spc.core`.
"""
from .capability import CapabilityResult, capability, pareto
from .charts import (c_chart, g_chart, imr, laney_p, laney_u, np_chart, p_chart, subgroup_stats, t_chart,
                     u_chart, xbar_r, xbar_s)
from .constants import c4, chart_constants, d2, d3
from .core import ChartResult, PairedChart
from .multivariate import hotelling_t2
from .rules import RULE_SETS, RULES, AnhoejResult, anhoej
from .capability import sigma_level
from .selection import KPI_KINDS, ChartRecommendation, arl, kpi_chart, oc_curve, run_chart, select_chart
from .stages import StagedChart, staged_chart
from .timeweighted import cusum, ewma
from .verdicts import Verdict, assurance_verdict, shift_verdict, special_cause_points, variation_verdict

__all__ = ["xbar_r", "xbar_s", "imr", "p_chart", "np_chart", "c_chart", "u_chart", "laney_p", "laney_u",
           "g_chart", "t_chart", "cusum", "ewma", "hotelling_t2", "capability", "pareto", "CapabilityResult",
           "ChartResult", "PairedChart", "d2", "d3", "c4", "chart_constants", "RULES", "RULE_SETS", "anhoej",
           "AnhoejResult", "run_chart", "select_chart", "ChartRecommendation", "oc_curve", "arl",
           "variation_verdict", "assurance_verdict", "Verdict", "special_cause_points", "subgroup_stats",
           "kpi_chart", "KPI_KINDS", "sigma_level", "staged_chart", "StagedChart", "shift_verdict"]
