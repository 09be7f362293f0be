"""The manager's one-screen summary: KPI rows with an action, and the "needs action" list (no language).

Both are computed from what the sections' ``compute`` returned (``SectionResult``), hold codes and numbers only,
and are translated by the page (``sqc/report/locale/summary.json``).

Summary rows
------------
In the manner of NHS England's "Making Data Count" (MDC) summary tables: one row per KPI for the network, then
one row per (branch, KPI) with a signal (special-cause concern or improvement, or an assurance that is provisional
because the latest months have left the limits it is judged on). Each row has the month's value with its n and
95% interval, the target, the variation and assurance codes of the scorecard (``sqc.scorecard``) and an action
code from this rule (first match wins):

====================================================  ====================  ==========================================
variation / assurance                                 action                why
====================================================  ====================  ==========================================
special-cause concern, target missed or no target     ``investigate``       a change for the worse that matters now
special-cause concern, target still met               ``watch``             worse than usual, not (yet) off target
special-cause improvement                             ``sustain``           find what changed and keep it
common cause, target consistently missed              ``redesign``          MDC: the process will not meet the target
                                                                            without a change to it
assurance judged on limits the process has left       ``watch``             the verdict is provisional
common cause, hit and miss                            ``reduce_variation``  the target is met some months only: it is
                                                                            the spread, not the level, to work on
common cause, target consistently met                 ``keep``              stable and on target
no verdict (too few months)                           ``no_verdict``
====================================================  ====================  ==========================================

Needs action
------------
Each section's findings (``sqc.report.context.Note``) carry a severity (critical / warning / info), a unit-free
effect size and a subject. Only critical and warning findings need action. Findings with the same subject make
one item (e.g. a branch's KPI concerns found by the scorecard and by the control-chart section); the item is led
by its most severe finding, then the largest effect, then the first reported. Items are ordered by severity,
then effect (largest first; findings without an effect size after those with one), then the order the sections
reported them, and at most ``limit`` (7) are kept: the page lists every finding in full below a "details"
toggle.

References
----------
NHS England and NHS Improvement (2019). *Making Data Count: Getting started*; *Strengthening your decisions*.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .context import NOTE_SEVERITIES, Note

ACTIONS = ("investigate", "redesign", "watch", "reduce_variation", "sustain", "keep", "no_verdict")
ACTION_LIMIT = 7
ROW_COLUMNS = ["branch", "kpi", "value", "n", "ci_low", "ci_high", "target", "direction", "variation_code",
               "assurance_code", "assurance_basis", "action"]


def row_action(variation: str, assurance: str, meets_target, basis: str = "current_stage") -> str:
    """The action code of one (branch, KPI) from its verdicts (see the module docstring for the rule)."""
    if variation == "concern":
        on_target = meets_target is not None and not pd.isna(meets_target) and bool(meets_target)
        return "watch" if on_target else "investigate"
    if variation == "improvement":
        return "sustain"
    if assurance == "consistently_fail" and basis != "earlier_limits":
        return "redesign"
    if basis == "earlier_limits":
        return "watch"
    if assurance == "hit_and_miss":
        return "reduce_variation"
    if variation == "none":
        return "no_verdict"
    return "keep"


def summary_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The summary table from a scorecard table (``sqc.scorecard.Scorecard.table``).

    Returns the network rows (``branch == "ALL"``, in the scorecard's KPI order) then the (branch, KPI) rows with
    a signal, grouped by branch (the branch with the most urgent action first; within a branch the most urgent
    action first, then the KPI order), with columns ``branch, kpi, value, n, ci_low, ci_high, target,
    direction, variation_code, assurance_code, assurance_basis, action``.
    """
    missing = [c for c in ROW_COLUMNS[:-1] + ["meets_target"] if c not in table.columns]
    if missing:
        raise ParameterError(f"summary_rows needs a scorecard table (sqc.scorecard.Scorecard.table); columns "
                             f"{missing} are missing")
    t = table.copy()
    basis = t["assurance_basis"].fillna("current_stage")
    t["action"] = [row_action(v, a, m, b) for v, a, m, b in
                   zip(t["variation_code"], t["assurance_code"], t["meets_target"], basis)]
    kpi_order = {k: i for i, k in enumerate(dict.fromkeys(t["kpi"]))}
    network = t.loc[t["branch"] == "ALL"]
    signal = (t["branch"] != "ALL") & (t["variation_code"].isin(["concern", "improvement"])
                                       | basis.eq("earlier_limits"))
    # a branch's rows together (its most urgent action first), the branches with the most urgent action first
    branches = t.loc[signal].assign(_a=lambda f: f["action"].map(ACTIONS.index),
                                    _k=lambda f: f["kpi"].map(kpi_order))
    branches["_b"] = branches.groupby("branch")["_a"].transform("min")
    branches = branches.sort_values(["_b", "branch", "_a", "_k"], kind="stable")
    return pd.concat([network, branches], ignore_index=True)[ROW_COLUMNS]


@dataclass
class ActionItem:
    """One "needs action" item: the finding that leads it and the others about the same subject."""

    note: Note
    section: str
    related: list = field(default_factory=list)  # (section, Note) of the other findings with this subject

    @property
    def severity(self) -> str:
        return self.note.severity

    @property
    def effect(self) -> float | None:
        return _effect(self.note)

    def to_dict(self) -> dict:
        """Language-free form for ``summary.json``: the lead finding's codes and the keys of the others."""
        out = self.note.to_dict()
        out["section"] = self.section
        out["related"] = [{"section": s, "key": n.key} for s, n in self.related]
        return out


def _effect(note: Note) -> float | None:
    e = note.effect
    return None if e is None or not np.isfinite(float(e)) else abs(float(e))


def _rank(note: Note, order: int) -> tuple:
    e = _effect(note)
    return (NOTE_SEVERITIES.index(note.severity), e is None, -(e or 0.0), order)


def action_items(findings: Iterable[tuple[str, Note]], limit: int = ACTION_LIMIT) -> list[ActionItem]:
    """The ordered, de-duplicated "needs action" items from ``(section key, Note)`` pairs in report order.

    Only ``critical`` and ``warning`` findings are kept; one item per ``Note.subject`` (a finding without a
    subject is its own item); at most ``limit`` items, most severe first, then the largest effect.
    """
    if limit < 1:
        raise ParameterError(f"limit must be at least 1 (the number of action items to keep), got {limit}")
    groups: dict = {}
    for order, (section, note) in enumerate(findings):
        if note.severity == "info":
            continue
        subject = note.subject if note.subject is not None else ("__own__", order)
        groups.setdefault(subject, []).append((_rank(note, order), section, note))
    items = []
    for members in groups.values():
        members.sort(key=lambda m: m[0])
        (rank, section, lead), rest = members[0], members[1:]
        items.append((rank, ActionItem(lead, section, [(s, n) for _, s, n in rest])))
    items.sort(key=lambda ri: ri[0])
    return [item for _, item in items[:limit]]


def findings(results) -> list[tuple[str, Note]]:
    """Every finding of the sections, as ``(section key, Note)`` in report order (``results``: objects with
    ``key`` and ``notes``, e.g. ``SectionResult``)."""
    return [(r.key, n) for r in results for n in (r.notes or [])]


def severity_counts(warnings: Iterable) -> dict:
    """Count of data-quality warnings by severity (``{"critical": .., "warning": .., "info": ..}``; each warning a
    ``QualityWarning`` or its ``to_dict``)."""
    counts = dict.fromkeys(NOTE_SEVERITIES, 0)
    for w in warnings:
        sev = w.get("severity") if isinstance(w, dict) else getattr(w, "severity", None)
        if sev in counts:
            counts[sev] += 1
    return counts


__all__ = ["ACTIONS", "ACTION_LIMIT", "ActionItem", "action_items", "findings", "row_action", "severity_counts",
           "summary_rows"]
