"""Structured warnings (Methods §0.4).

Analyses never print or ``warnings.warn`` about the data; they return :class:`QualityWarning` objects in a
list on the result so that notebooks, the dashboard and the summary JSON can show each warning next to the
number it qualifies.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class QualityWarning:
    """One warning about what the data can or cannot bear.

    Attributes
    ----------
    code : str
        Stable identifier, e.g. ``"W-SQ-01"`` or ``"W-SPC-03"`` (documented in the module that raises it).
    severity : {"info", "warning", "critical"}
    message : str
        Plain-language English text a manager can read.
    evidence : dict
        The numbers behind the warning (e.g. ``{"rho_dd": 0.41, "threshold": 0.7}``).
    subject : str, optional
        What the warning qualifies (a dimension, KPI, branch...).
    message_zh : str, optional
        Simplified Chinese text, when the raising module provides it.
    """

    code: str
    severity: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    subject: str | None = None
    message_zh: str | None = None

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def text(self, lang: str = "en") -> str:
        return self.message_zh if (lang == "zh" and self.message_zh) else self.message

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        subj = f" [{self.subject}]" if self.subject else ""
        return f"{self.code} ({self.severity}){subj}: {self.message}"


def warnings_frame(warnings_list):
    """A DataFrame view of a list of warnings (one row each), for notebooks and reports."""
    import pandas as pd

    cols = ["code", "severity", "subject", "message", "evidence"]
    return pd.DataFrame([{c: getattr(w, c) for c in cols} for w in warnings_list], columns=cols)
