"""Service blueprint as data: steps in lanes, failure points, and what fails there this month.

A blueprint (Shostack 1984; Bitner, Ostrom & Morgan 2008) lays the service out left to right along the customer
journey (``stage``) and top to bottom in four lanes: customer actions, onstage (visible) contact-person actions,
backstage (invisible) actions and support processes. The lines between the lanes are the line of interaction
(customer | onstage), the line of visibility (onstage | backstage) and the line of internal interaction
(backstage | support). Chase & Stewart (1994) mark the steps where the service can fail (failure points, typed as
server task / treatment / tangible or customer preparation / encounter / resolution errors) and design
fail-safes (poka-yoke) for them.

:func:`failure_counts` counts, for one month, the complaints of each failure point's complaint category (with an
exact Poisson interval) and the failed audit checks of its checklist item (with a Wilson interval), and lists the
interventions guarding each failure point that had started by the end of the month. The drawing is
:func:`sqc.plotting.interventions.blueprint_figure`.

References
----------
Shostack GL (1984). Designing services that deliver. Harvard Business Review 62(1):133-139.
Bitner MJ, Ostrom AL, Morgan FN (2008). Service blueprinting: a practical technique for service innovation.
California Management Review 50(3):66-94.
Chase RB, Stewart DM (1994). Make your service fail-safe. Sloan Management Review 35(3):35-44.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DataError, ParameterError

LANES = ("customer", "onstage", "backstage", "support")
#: The line drawn below each lane but the last, in lane order.
LINES = ("interaction", "visibility", "internal_interaction")


def check_blueprint(steps: pd.DataFrame) -> pd.DataFrame:
    """Validate a blueprint table beyond its schema: known lanes, a failure type on every failure point (and none
    without one), and steps sorted by stage then lane. Returns the sorted table."""
    need = ("step_id", "stage", "lane", "text_en", "text_zh", "failure_en", "failure_type", "complaint_category",
            "checklist_item")
    missing = [c for c in need if c not in steps.columns]
    if missing:
        raise DataError(f"blueprint_steps lacks column(s) {missing}", column=missing[0], expected=f"columns {need}")
    bad = ~steps["lane"].isin(LANES)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError("unknown blueprint lane", file="blueprint_steps", column="lane", row=i + 1,
                        value=steps["lane"].iloc[i], expected=f"one of {LANES}")
    has_fp = steps["failure_en"].notna().to_numpy()
    typed = steps["failure_type"].notna().to_numpy()
    if (has_fp != typed).any():
        i = int(np.flatnonzero(has_fp != typed)[0])
        raise DataError("a failure point needs a failure type, and only a failure point has one",
                        file="blueprint_steps", column="failure_type", row=i + 1, value=steps["failure_type"].iloc[i],
                        expected="a failure type exactly when failure_en is given")
    order = steps["lane"].map({lane: i for i, lane in enumerate(LANES)})
    return steps.assign(_lane=order).sort_values(["stage", "_lane"], kind="stable").drop(columns="_lane")


def failure_counts(steps: pd.DataFrame, *, period: str, complaints: pd.DataFrame | None = None,
                   audit_visits: pd.DataFrame | None = None, checklist: pd.DataFrame | None = None,
                   interventions: pd.DataFrame | None = None, branches=None,
                   confidence: float = 0.95) -> pd.DataFrame:
    """Failures counted at each failure point of the blueprint for one month.

    Returns one row per failure point (index ``step_id``) with ``complaints`` (complaints of its category opened
    in ``period``, exact Poisson interval ``complaints_ci_low/high``, and ``shared``: how many failure points
    count the same category, so their counts are not to be added), ``checks``/``defects``/``defect_rate`` with a
    Wilson interval (audit checks of its checklist item in the month scoring below the item's maximum),
    and ``guarded_by`` (ids of interventions on this step started by the end of the month, ';'-separated).
    """
    from .complaints import _poisson_ci
    from .inference import wilson_ci

    try:
        per = pd.Period(str(period), freq="M")
    except (ValueError, TypeError):
        raise ParameterError(f"period must be a month written YYYY-MM, got {period!r}") from None
    steps = check_blueprint(steps)
    fp = steps.loc[steps["failure_en"].notna()].set_index("step_id")
    out = fp[["stage", "lane", "failure_type", "complaint_category", "checklist_item"]].copy()
    cats = out["complaint_category"]
    out["shared"] = cats.map(cats.value_counts()).fillna(0).astype(int)
    if complaints is not None:
        c = complaints
        if branches is not None:
            c = c.loc[c["branch"].isin(branches)]
        c = c.loc[c["opened_at"].dt.to_period("M") == per]
        n = cats.map(c["category"].value_counts()).fillna(0).where(cats.notna())
        lo, hi = _poisson_ci(n.fillna(0).to_numpy(float), 1.0, confidence)
        out["complaints"] = n
        out["complaints_ci_low"] = np.where(n.notna(), lo, np.nan)
        out["complaints_ci_high"] = np.where(n.notna(), hi, np.nan)
    if audit_visits is not None and checklist is not None:
        a = audit_visits
        if branches is not None:
            a = a.loc[a["branch"].isin(branches)]
        a = a.loc[(a["period"].astype(str) == str(per)) & a["score"].notna()]
        a = a.merge(checklist[["item_id", "max_score"]], on="item_id", how="left")
        g = a.assign(failed=a["score"] < a["max_score"]).groupby("item_id")["failed"].agg(["size", "sum"])
        items = out["checklist_item"]
        checks = items.map(g["size"]).where(items.notna())
        defects = items.map(g["sum"]).where(items.notna())
        out["checks"] = checks
        out["defects"] = defects
        with np.errstate(invalid="ignore", divide="ignore"):
            out["defect_rate"] = defects / checks
        ok = checks.fillna(0) > 0
        lo, hi = wilson_ci(defects.fillna(0).to_numpy(float), checks.fillna(0).to_numpy(float), confidence)
        out["defect_ci_low"] = np.where(ok, lo, np.nan)
        out["defect_ci_high"] = np.where(ok, hi, np.nan)
    guards = {}
    if interventions is not None and len(interventions):
        iv = interventions
        if branches is not None:
            iv = iv.loc[iv["branch"].isin(branches)]
        live = iv.loc[pd.to_datetime(iv["start_date"]) < (per + 1).start_time]
        guards = live.groupby("step_id")["intervention_id"].agg(lambda s: ";".join(sorted(set(s)))).to_dict()
    out["guarded_by"] = [guards.get(s, "") for s in out.index]
    return out


__all__ = ["LANES", "LINES", "check_blueprint", "failure_counts"]
