"""sqc — statistical quality control for service quality.

``import sqc`` stays light: it loads the package metadata only. Submodules (``sqc.spc``, ``sqc.servqual``,
``sqc.reliability``, ``sqc.audit``, ``sqc.qfd``, ``sqc.io`` ...) are imported on first attribute access, and none of
them needs Panel or Jupyter.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = {"spc", "servqual", "reliability", "audit", "qfd", "io", "tables", "demo", "schema", "errors",
               "diagnostics", "inference", "kpi", "complaints", "nps", "agreement", "plotting", "pipeline", "scorecard", "cli",
               "results"}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'sqc' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
