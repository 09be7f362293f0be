"""Benchmark: sqc.servqual.score() on 100 000 respondents × 22 items (E, P and importance allocations).

Run: ``python benchmarks/bench_servqual.py [n]``. Prints wall time and peak traced memory for
* sqc.servqual.score with the default tests (paired t + Wilcoxon/Hodges–Lehmann + sign test) and warnings,
* sqc.servqual.score with the t-test only,
* the naive peer: pandas item means of P − E and a per-item ``pingouin.ttest(paired=True)`` loop (what a
  careful script would do by hand), for scale.
Target (issue 4): well under 1 s for the default score().
"""
from __future__ import annotations

import os

# One BLAS thread: score()'s covariance products are small (≤ 44 × 44); on a shared 2-core box OpenBLAS threading
# made them ~80× slower (measured 0.64 s vs 0.008 s for a 100 000 × 44 product under load).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys
import time
import tracemalloc

import numpy as np
import pandas as pd


def make_survey(n: int, k: int = 22, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 1)).astype(np.float32)
    E = np.clip(np.round(6.2 + 0.5 * f + 0.7 * rng.normal(size=(n, k))), 1, 7)
    P = np.clip(np.round(5.3 + 0.9 * f + 0.9 * rng.normal(size=(n, k))), 1, 7)
    miss = rng.random((n, k)) < 0.03
    E[miss] = np.nan
    df = pd.DataFrame(np.c_[E, P], columns=[f"E{i}" for i in range(1, k + 1)] + [f"P{i}" for i in range(1, k + 1)])
    w = np.round(rng.dirichlet(np.ones(5), n) * 100)
    for j, d in enumerate(["tangibles", "reliability", "responsiveness", "assurance", "empathy"]):
        df[f"I_{d}"] = w[:, j]
    return df


def measure(label, fn, repeat=3):
    fn()  # warm-up (imports, caches)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"case": label, "best_s": min(times), "median_s": float(np.median(times)), "peak_MB": peak / 2 ** 20}


def main(n: int = 100_000) -> pd.DataFrame:
    from sqc.servqual import score

    df = make_survey(n)
    rows = [
        measure("sqc score() default (t + Wilcoxon/HL + warnings)", lambda: score(df, structure=False)),
        measure("sqc score() t-test only", lambda: score(df, structure=False, tests=("t",))),
    ]
    try:
        import pingouin as pg

        def peer():
            out = []
            for i in range(1, 23):
                sub = df[[f"P{i}", f"E{i}"]].dropna()
                out.append(pg.ttest(sub[f"P{i}"], sub[f"E{i}"], paired=True))
            return pd.concat(out)

        rows.append(measure("peer: pingouin.ttest(paired=True) per item (items only)", peer, repeat=1))
    except ImportError:
        pass
    tab = pd.DataFrame(rows)
    print(f"SERVQUAL scoring, n = {n:,} respondents × 22 items")
    print(tab.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    return tab


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
