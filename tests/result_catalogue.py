"""One result of every kind the result protocol covers, built from the bundled demo data and small simulations.

Shared by tests/test_results_protocol.py (and usable in a notebook). Each entry maps a name to a zero-argument
builder, so a failure names the result that broke.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _sim_items(seed: int = 1, n: int = 300, k: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 2))
    load = np.array([[0.8, 0], [0.7, 0], [0.75, 0], [0, 0.8], [0, 0.7], [0.1, 0.75]])[:k]
    x = f @ load.T + rng.normal(scale=0.6, size=(n, k))
    return pd.DataFrame(np.clip(np.round(x + 4), 1, 7), columns=[f"Q{i + 1}" for i in range(k)])


def builders(data) -> dict:
    """Name → builder of one result; ``data`` is :func:`sqc.io.load_network` of the demo data."""
    from sqc import agreement, audit, complaints, interventions, nps, qfd, reliability, scorecard, servqual, spc

    rng = np.random.default_rng(7)
    sub = pd.DataFrame({"g": np.repeat(np.arange(25), 5), "x": rng.normal(10, 1, 125)})
    ind = pd.DataFrame({"period": pd.period_range("2024-01", periods=24, freq="M").astype(str),
                        "value": rng.normal(50, 5, 24)})
    att = pd.DataFrame({"period": ind["period"], "n": rng.integers(800, 1200, 24)})
    att["d"] = rng.binomial(att["n"], 0.1)
    items = _sim_items()
    survey = data.survey[data.survey["wave"] == data.survey["wave"].max()]
    sq = servqual.score(survey, structure=False)
    scores = audit.score_visits(data.audit_visits, data.checklist)
    combined = audit.combine_assessors(scores)
    long = pd.DataFrame({"target": np.repeat(np.arange(12), 3), "rater": np.tile(list("abc"), 12)})
    long["score"] = np.repeat(rng.normal(size=12), 3) + rng.normal(scale=0.5, size=36)
    r1 = rng.integers(0, 3, 60)
    r2 = np.where(rng.random(60) < 0.7, r1, rng.integers(0, 3, 60))
    whats = ["fast", "friendly", "accurate", "clean"]
    hoq = qfd.house_of_quality(pd.Series([5, 4, 3, 2], index=whats),
                               pd.DataFrame([[9, 1, 3], [0, 9, 9], [1, 9, 0], [0, 3, 3]], index=whats,
                                            columns=["staffing", "training", "scripts"]))
    waves = pd.DataFrame({"wave": np.repeat([f"2026-0{i}" for i in range(1, 9)], 120),
                          "recommend": rng.integers(0, 11, 960)})
    months = pd.DataFrame({"month": pd.period_range("2025-01", periods=16, freq="M").astype(str),
                           "exposure": rng.integers(900, 1100, 16), "after": np.repeat([0, 1], [9, 7])})
    months["count"] = rng.poisson(months["exposure"] * np.where(months["after"] == 1, 0.03, 0.05))
    return {
        "xbar_r": lambda: spc.xbar_r(sub, "x", "g"),
        "xbar_s": lambda: spc.xbar_s(sub, "x", "g"),
        "imr": lambda: spc.imr(ind, "value", time="period"),
        "p_chart": lambda: spc.p_chart(att, "d", "n", time="period"),
        "np_chart": lambda: spc.np_chart(att.assign(n=1000), "d", "n", time="period"),
        "c_chart": lambda: spc.c_chart(att, "d", time="period"),
        "u_chart": lambda: spc.u_chart(att, "d", "n", time="period"),
        "laney_p": lambda: spc.laney_p(att, "d", "n", time="period"),
        "laney_u": lambda: spc.laney_u(att, "d", "n", time="period"),
        "g_chart": lambda: spc.g_chart(pd.DataFrame({"gap": rng.geometric(0.1, 30)}), "gap"),
        "t_chart": lambda: spc.t_chart(pd.DataFrame({"t": rng.exponential(5, 30)}), "t"),
        "cusum": lambda: spc.cusum(sub, "x", "g"),
        "ewma": lambda: spc.ewma(sub, "x", "g"),
        "hotelling_t2": lambda: spc.hotelling_t2(pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"]),
                                                 ["a", "b"]),
        "run_chart": lambda: spc.run_chart(ind, "value", time="period"),
        "capability": lambda: spc.capability(sub, "x", "g", lsl=6, usl=14),
        "pareto": lambda: spc.pareto({"billing": 40, "network": 30, "staff": 10, "other": 25}),
        "servqual.score": lambda: sq,
        "zone_of_tolerance": lambda: sq.zot,
        "ipa": lambda: servqual.ipa(sq),
        "alpha": lambda: reliability.alpha(items),
        "omega": lambda: reliability.omega(items, nfactors=2),
        "efa": lambda: reliability.efa(items, nfactors=2),
        "cfa": lambda: reliability.cfa(items, {"F1": ["Q1", "Q2", "Q3"], "F2": ["Q4", "Q5", "Q6"]}),
        "icc": lambda: agreement.icc(long, "target", "rater", "score"),
        "kappa": lambda: agreement.kappa(r1, r2),
        "fleiss_kappa": lambda: agreement.fleiss_kappa(np.c_[r1, r2, r1]),
        "bland_altman": lambda: agreement.bland_altman(rng.normal(size=30), rng.normal(size=30)),
        "audit.score_visits": lambda: scores,
        "audit.combine_assessors": lambda: combined,
        "audit.quarterly_scores": lambda: audit.quarterly_scores(combined, data.incidents),
        "audit.rank_branches": lambda: audit.rank_branches(scores, data.incidents, quarter="2026Q3", n_boot=100),
        "audit.funnel_data": lambda: audit.funnel_data(scores, quarter="2026Q3"),
        "audit.g_study": lambda: audit.g_study(scores),
        "audit.assessor_bias": lambda: audit.assessor_bias(scores),
        "complaint_pareto": lambda: complaints.complaint_pareto(data.complaints, as_of="2026-10"),
        "time_to_resolve": lambda: complaints.time_to_resolve(data.complaints, as_of="2026-10"),
        "recovery_metrics": lambda: complaints.recovery_metrics(data.complaints, as_of="2026-10"),
        "compare_periods": lambda: complaints.compare_periods(data.complaints, "2026-02", "2026-08",
                                                              as_of="2026-10"),
        "detect_surges": lambda: complaints.detect_surges(data.complaints, data.volumes, as_of="2026-10"),
        "nps": lambda: nps.nps(waves["recommend"]),
        "nps_compare": lambda: nps.nps_compare(waves["recommend"][:400], waves["recommend"][400:]),
        "nps_chart": lambda: nps.nps_chart(waves, "wave"),
        "csat": lambda: nps.csat(rng.integers(1, 6, 200)),
        "house_of_quality": lambda: hoq,
        "scorecard": lambda: scorecard.kpi_scorecard(data, period="2026-10"),
        "interventions.its": lambda: interventions.evaluate(data, "INT-01", as_of="2026-10").result,
        "interventions.staggered": lambda: interventions.evaluate(data, "INT-02", as_of="2026-10").result,
        "interventions.before_after": lambda: interventions.before_after(months, "count", "exposure", "month",
                                                                         "after"),
        "interventions.evaluate": lambda: interventions.evaluate(data, "INT-01", as_of="2026-10"),
    }
