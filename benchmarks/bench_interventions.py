"""Benchmark: intervention effect estimates (segmented regression, staggered difference-in-differences).

Run: ``python benchmarks/bench_interventions.py [--branches 12 --months 24]``. Prints wall time (best of 3) and
peak Python memory (tracemalloc) per task on synthetic Poisson panels (``branches`` x ``months``, three start
cohorts, a third of the branches never treated) and on the Sicily series of the tests.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from benchutil import measure  # noqa: E402 (benchmarks/ is the script's folder)


def synthetic_panel(n_units: int, n_months: int, rr: float = 0.8, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cohorts = [n_months // 4, n_months // 2, 3 * n_months // 4, None]
    start = [cohorts[i % 4] if i % 3 else None for i in range(n_units)]
    unit = np.repeat(np.arange(n_units), n_months)
    t = np.tile(np.arange(n_months), n_units)
    s = np.array([np.nan if v is None else v for v in start])[unit]
    mu = 10 * np.exp(rng.normal(0, 0.3, n_units)[unit] + 0.1 * np.sin(t / 2)) * np.where(t >= s, rr, 1.0)
    return pd.DataFrame({"unit": unit, "t": t + 1, "y": rng.poisson(mu), "start": s + 1, "e": 1000.0})


def main(argv=None) -> None:
    from sqc.interventions import its, staggered

    p = argparse.ArgumentParser()
    p.add_argument("--branches", type=int, default=12)
    p.add_argument("--months", type=int, default=24)
    a = p.parse_args(argv)
    sicily = pd.read_csv(Path(__file__).resolve().parents[1] / "tests" / "data" / "sicily.csv")
    panel = synthetic_panel(a.branches, a.months)
    tasks = {
        "its, Sicily (59 months, quasi-Poisson, 2 harmonics)":
            lambda: its(sicily, "aces", "time", "smokban", offset="stdpop"),
        "its, Sicily, HAC": lambda: its(sicily, "aces", "time", "smokban", offset="stdpop", cov_type="HAC"),
        f"staggered, {a.branches} x {a.months} panel, overall only":
            lambda: staggered(panel, "y", "unit", "t", "start", offset="e", event_time=False),
        f"staggered, {a.branches} x {a.months} panel, with event study":
            lambda: staggered(panel, "y", "unit", "t", "start", offset="e"),
    }
    print(f"{'task':62s} {'seconds':>8s} {'peak MB':>8s}")
    for name, fn in tasks.items():
        sec, mb = measure(fn)
        print(f"{name:62s} {sec:8.3f} {mb:8.1f}")


if __name__ == "__main__":
    main()
