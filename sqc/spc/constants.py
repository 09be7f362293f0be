"""Control-chart constants d2, d3, c4 (and the derived A2, A3, D3, D4, B3, B4) for any subgroup size.

Exact values (default, ``constants="exact"``)
---------------------------------------------
* d2(n) = E[R/σ] = ∫ 1 − Φ(x)ⁿ − (1 − Φ(x))ⁿ dx over the real line (Tippett 1925), by adaptive quadrature.
* d3(n) = SD[R/σ], from E[(R/σ)²] = 2 ∫∫_{x<y} 1 − Φ(y)ⁿ − (1 − Φ(x))ⁿ + (Φ(y) − Φ(x))ⁿ dx dy, i.e.
  P(min < x, max > y) integrated over x < y (a double quadrature in (x, r = y − x)).
* c4(n) = √(2/(n−1)) Γ(n/2)/Γ((n−1)/2), via log-gamma (no overflow for large n).

Tabled values (``constants="tabled"``)
--------------------------------------
The 3-decimal d2 of R's qcc (``qcc.options("exp.R.unscaled")``, n = 2..25, the same as Montgomery's appendix
table VI) and qcc's 7-decimal d3 (``se.R.unscaled``). c4 is computed in qcc too, so it is the same in both
modes. Sizes above 25 have no tabled d2: they raise :class:`ParameterError` (qcc stops there as well).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import integrate, special, stats

from ..errors import ParameterError

CONSTANT_MODES = ("exact", "tabled")

# R qcc 2.7, R/qcc.R, .qcc.options$exp.R.unscaled (index = subgroup size n, from n = 2).
QCC_D2 = {n: v for n, v in zip(range(2, 26), (
    1.128, 1.693, 2.059, 2.326, 2.534, 2.704, 2.847, 2.970, 3.078, 3.173, 3.258, 3.336, 3.407, 3.472, 3.532,
    3.588, 3.640, 3.689, 3.735, 3.778, 3.819, 3.858, 3.895, 3.931))}
# R qcc 2.7, .qcc.options$se.R.unscaled (d3), n = 2..25.
QCC_D3 = {n: v for n, v in zip(range(2, 26), (
    0.8525033, 0.8883697, 0.8798108, 0.8640855, 0.8480442, 0.8332108, 0.8198378, 0.8078413, 0.7970584,
    0.7873230, 0.7784873, 0.7704257, 0.7630330, 0.7562217, 0.7499188, 0.7440627, 0.7386021, 0.7334929,
    0.7286980, 0.7241851, 0.7199267, 0.7158987, 0.7120802, 0.7084528))}


def _check_mode(mode: str) -> str:
    if mode not in CONSTANT_MODES:
        raise ParameterError(f"constants must be one of {CONSTANT_MODES}, got {mode!r}")
    return mode


@lru_cache(maxsize=4096)
def _d2_exact(n: int) -> float:
    if n < 2:
        raise ParameterError(f"d2 needs a subgroup size ≥ 2, got {n}")

    def f(x):
        return 1.0 - stats.norm.cdf(x) ** n - stats.norm.sf(x) ** n

    # The integrand is symmetric about 0: integrate on [0, ∞) and double.
    val, _ = integrate.quad(f, 0.0, np.inf, epsabs=1e-13, epsrel=1e-12, limit=200)
    return 2.0 * val


@lru_cache(maxsize=4096)
def _d3_exact(n: int) -> float:
    if n < 2:
        raise ParameterError(f"d3 needs a subgroup size ≥ 2, got {n}")

    # E[R²] = 2 ∫_0^∞ ∫ P(min < x, max > x + r) dx dr with
    # P = 1 − Φ(x+r)ⁿ − (1−Φ(x))ⁿ + (Φ(x+r) − Φ(x))ⁿ; the inner integral on a fine Simpson grid (the integrand
    # is smooth and negligible beyond |x| = 12), the outer one by adaptive quadrature.
    xs = np.linspace(-12.0, 12.0, 4801)
    cdf_x, sf_x = stats.norm.cdf(xs), stats.norm.sf(xs)

    def inner(r):
        fy = stats.norm.cdf(xs + r)
        g = 1.0 - fy ** n - sf_x ** n + np.clip(fy - cdf_x, 0.0, 1.0) ** n
        return integrate.simpson(g, x=xs)

    er2, _ = integrate.quad(inner, 0.0, 40.0, epsabs=1e-12, epsrel=1e-11, limit=200)
    var = 2.0 * er2 - _d2_exact(n) ** 2
    return float(np.sqrt(max(var, 0.0)))


def _sizes(n) -> np.ndarray:
    a = np.asarray(n)
    if a.size and (a.min() < 2 or (a.dtype.kind == "f" and np.any(a != np.floor(a)))):
        raise ParameterError(f"subgroup sizes must be whole numbers ≥ 2, got {a.ravel()[:5]}")
    return a.astype(np.int64)


def _lookup(n, fn):
    a = _sizes(n)
    if a.ndim and a.size and a.min() == a.max():      # equal sizes: one evaluation, no sort
        return np.full(a.shape, fn(int(a.flat[0])))
    uniq, inv = np.unique(a, return_inverse=True)
    vals = np.array([fn(int(u)) for u in uniq], dtype=float)
    out = vals[inv].reshape(a.shape)
    return float(out) if out.ndim == 0 else out


def _tabled(table, name):
    def get(n):
        if n not in table:
            raise ParameterError(f"tabled {name} exists for subgroup sizes 2-25 only (qcc/textbook table), got "
                                 f"{n}; use constants='exact'")
        return table[n]
    return get


def d2(n, constants: str = "exact") -> float | np.ndarray:
    """Mean of the relative range R/σ of n normal observations (scalar or array of sizes)."""
    return _lookup(n, _d2_exact if _check_mode(constants) == "exact" else _tabled(QCC_D2, "d2"))


def d3(n, constants: str = "exact") -> float | np.ndarray:
    """Standard deviation of the relative range R/σ of n normal observations."""
    return _lookup(n, _d3_exact if _check_mode(constants) == "exact" else _tabled(QCC_D3, "d3"))


def c4(n) -> float | np.ndarray:
    """E[s]/σ for n normal observations: √(2/(n−1)) Γ(n/2)/Γ((n−1)/2) (the same in exact and tabled modes)."""
    a = np.asarray(n, dtype=float)
    if np.any(a < 2):
        raise ParameterError("c4 needs a subgroup size ≥ 2")
    out = np.sqrt(2.0 / (a - 1.0)) * np.exp(special.gammaln(a / 2.0) - special.gammaln((a - 1.0) / 2.0))
    return float(out) if out.ndim == 0 else out


def chart_constants(n, constants: str = "exact", L: float = 3.0) -> dict:
    """A dict of A2, A3, D3, D4, B3, B4, d2, d3, c4 for subgroup size(s) n and L-sigma limits."""
    dd2, dd3, cc4 = d2(n, constants), d3(n, constants), c4(n)
    nn = np.asarray(n, dtype=float)
    return {"d2": dd2, "d3": dd3, "c4": cc4,
            "A2": L / (dd2 * np.sqrt(nn)), "A3": L / (cc4 * np.sqrt(nn)),
            "D3": np.maximum(0.0, 1.0 - L * dd3 / dd2), "D4": 1.0 + L * dd3 / dd2,
            "B3": np.maximum(0.0, 1.0 - L * np.sqrt(1.0 - cc4 ** 2) / cc4),
            "B4": 1.0 + L * np.sqrt(1.0 - cc4 ** 2) / cc4}
