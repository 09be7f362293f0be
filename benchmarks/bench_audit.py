"""Benchmark: audit scoring and agreement statistics, sqc beside the peers it wraps or replaces.

Run: ``python benchmarks/bench_audit.py [--scale 10]``. Prints one row per task: wall time (best of 3) and peak
Python memory (tracemalloc) for sqc and, where one exists, the peer library run in the same process on the same
data. The audit data are synthetic (12 branches, 2 bodies, 36 items), ``scale`` visits per branch × body × month.
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from benchutil import measure  # noqa: E402 (benchmarks/ is the script's folder)


def synthetic_audit(scale: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    n_items = 36
    checklist = pd.DataFrame({"item_id": [f"I{i:02d}" for i in range(n_items)],
                              "section": [f"S{i // 6}" for i in range(n_items)],
                              "max_score": rng.integers(1, 4, n_items), "weight": rng.integers(1, 4, n_items).astype(float),
                              "critical": np.arange(n_items) % 17 == 0, "na_allowed": True})
    rows = []
    months = [str(p) for p in pd.period_range("2025-01", "2026-12", freq="M")]
    vid = 0
    for b in range(12):
        for m in months:
            for body in ("provincial", "city"):
                for _ in range(scale):
                    vid += 1
                    p = np.clip(0.8 + 0.05 * (body == "city") + rng.normal(0, 0.05), 0, 1)
                    sc = rng.binomial(checklist["max_score"].to_numpy(), p).astype(float)
                    sc[rng.random(n_items) < 0.05] = np.nan
                    rows.append(pd.DataFrame({"visit_id": f"V{vid}", "branch": f"B{b + 1:02d}", "period": m,
                                              "assessor_body": body, "item_id": checklist["item_id"], "score": sc}))
    return pd.concat(rows, ignore_index=True), checklist


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=2, help="visits per branch × body × month")
    args = ap.parse_args()

    import krippendorff
    import pingouin as pg
    from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa as sm_fleiss, to_table

    from sqc import agreement, audit

    visits, checklist = synthetic_audit(args.scale)
    rows = []
    scores = audit.score_visits(visits, checklist)
    rows.append(("score_visits", f"{len(visits):,} item rows", *measure(lambda: audit.score_visits(visits, checklist)),
                 "-", float("nan"), float("nan")))
    rows.append(("rank_branches (2000 boot)", f"{len(scores.visits):,} visits",
                 *measure(lambda: audit.rank_branches(scores, quarter="2026Q4", n_boot=2000)), "-", float("nan"),
                 float("nan")))
    rows.append(("g_study", f"{len(scores.visits):,} visits", *measure(lambda: audit.g_study(scores)), "-",
                 float("nan"), float("nan")))

    rng = np.random.default_rng(2)
    n = 2000
    truth = rng.normal(80, 8, n)
    wide = np.c_[truth + rng.normal(0, 4, n), truth + 3 + rng.normal(0, 4, n), truth + rng.normal(0, 4, n)]
    long = pd.DataFrame(wide).stack().rename_axis(["t", "r"]).rename("y").reset_index()
    rows.append(("ICC (6 forms)", f"{n} targets x 3 raters", *measure(lambda: agreement.icc(long, "t", "r", "y")),
                 "pingouin.intraclass_corr",
                 *measure(lambda: pg.intraclass_corr(long, targets="t", raters="r", ratings="y"))))

    a = rng.integers(0, 4, 100_000)
    b = np.where(rng.random(100_000) < 0.7, a, rng.integers(0, 4, 100_000))
    rows.append(("Cohen kappa (quadratic)", "100,000 pairs", *measure(lambda: agreement.kappa(a, b, "quadratic")),
                 "statsmodels cohens_kappa", *measure(lambda: cohens_kappa(to_table(np.c_[a, b])[0],
                                                                               wt="quadratic"))))
    lab = rng.integers(0, 3, (5000, 4))
    rows.append(("Fleiss kappa", "5,000 x 4 raters", *measure(lambda: agreement.fleiss_kappa(lab)),
                 "statsmodels fleiss_kappa", *measure(lambda: sm_fleiss(
                     np.apply_along_axis(lambda r: np.bincount(r, minlength=3), 1, lab)))))
    rows.append(("Gwet AC1", "5,000 x 4 raters", *measure(lambda: agreement.gwet_ac1(lab)), "-", float("nan"),
                 float("nan")))
    kd = lab[:1000].astype(float)
    rows.append(("Krippendorff alpha (no boot)", "1,000 x 4 raters",
                 *measure(lambda: agreement.krippendorff_alpha(kd, "nominal", n_boot=0)), "krippendorff.alpha",
                 *measure(lambda: krippendorff.alpha(reliability_data=kd.T, level_of_measurement="nominal"))))
    out = pd.DataFrame(rows, columns=["task", "size", "sqc_s", "sqc_peak_MiB", "peer", "peer_s", "peer_peak_MiB"])
    with pd.option_context("display.width", 200, "display.max_columns", 10):
        print(out.to_string(index=False, float_format=lambda x: f"{x:.4f}"))


if __name__ == "__main__":
    main()
