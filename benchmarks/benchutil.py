"""What the benchmark scripts share: best-of-n wall time and peak traced memory of a call."""
import time
import tracemalloc


def measure(fn, repeat: int = 3):
    """Best wall time (s) and peak memory allocated through Python (MiB) of ``fn()`` over ``repeat`` calls."""
    best, peak = float("inf"), 0
    for _ in range(repeat):
        tracemalloc.start()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return best, peak / 2 ** 20
