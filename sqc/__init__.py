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
               "interventions", "blueprint", "results"}


def lazy_submodules(package: str, names: set[str]):
    """``__getattr__`` and ``__dir__`` for a package whose submodules load on first attribute access."""

    def getattr_(name: str):
        if name in names:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def dir_():
        return sorted(set(vars(importlib.import_module(package))) | names)

    return getattr_, dir_


__getattr__, __dir__ = lazy_submodules(__name__, _SUBMODULES)
