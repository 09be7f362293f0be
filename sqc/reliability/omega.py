"""McDonald's omega (Schmid–Leiman, as R psych 2.2.9 ``omega``) and split-half reliabilities (psych ``splitHalf``).

omega: the correlation matrix (pairwise) is factored with ``fa(nfactors, rotate="varimax", fm)``; the orthogonal
loadings are obliquely rotated (``GPArotation::oblimin`` by default); a general factor is extracted from the
factor correlations Φ (one-factor minres when nfactors > 2; for two factors psych's ``option="equal"``, g loadings
√|φ12|); the Schmid–Leiman transformation gives each item's general loading g_i and group loadings. Then
(Vt = 1'R1):

    omega_h = (Σ g_i)² / Vt,     omega_total = (Vt - Σ u²_i) / Vt   (u² = 1 - h²)

and for each group (items assigned to their largest group loading): omega_total, omega_h (general) and
omega_group. With ``nfactors=1`` only omega_total is meaningful. Like psych, items with negative general
loadings are reflected (``flip=True``) — reported in W-REL-10, never silent.

Warning codes: W-REL-10 items reflected for omega; W-REL-11 omega_h < 0.5 (the total score is not dominated by a
general factor).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..diagnostics import QualityWarning
from ..errors import ParameterError
from ._data import as_item_frame, check_missing, cov2cor, drop_degenerate_items, pairwise_cov, smc
from .factor import METHODS, _extract_rotate, _prepare, oblimin, promax_kaiser
from ..results import ResultData

OMEGA_ROTATIONS = ("oblimin", "promax")


@dataclass
class OmegaResult(ResultData):
    """Omega hierarchical / total (see :func:`omega`)."""

    _chart = "sqc.plotting.reliability:loadings_spec"

    omega_h: float
    omega_total: float
    alpha: float
    lambda6: float
    ecv: float
    nfactors: int
    rotation: str
    method: str
    schmid_leiman: pd.DataFrame
    group: pd.DataFrame
    phi: pd.DataFrame | None
    n: int
    missing: str
    flipped: list
    exclusions: dict = field(default_factory=dict)

    @property
    def omega_h_asymptotic(self) -> float:
        """omega_h / omega_total: share of the reliable variance due to the general factor (psych 'omega limit')."""
        return self.omega_h / self.omega_total

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"omega_h": self.omega_h, "omega_total": self.omega_total, "alpha": self.alpha,
                              "lambda6": self.lambda6, "ECV": self.ecv, "nfactors": self.nfactors, "n": self.n}])

    def _summary_lines(self, lang: str = "en") -> list[str]:
        lines = [f"Omega ({self.nfactors} group factor(s), {self.method}, {self.rotation}; N = {self.n}, "
                 f"{self.missing}; conventions of R psych 2.2.9)",
                 f"  omega_h {self.omega_h:.3f}   omega_total {self.omega_total:.3f}   alpha {self.alpha:.3f}   "
                 f"G6 {self.lambda6:.3f}   ECV {self.ecv:.3f}",
                 "Schmid-Leiman loadings:", self.schmid_leiman.round(3).to_string(),
                 "Omega by group:", self.group.round(3).to_string()]
        return lines


def omega(items, nfactors: int = 3, rotation: str = "oblimin", *, method: str = "minres",
          missing: str = "pairwise") -> OmegaResult:
    r"""McDonald's omega hierarchical and total via the Schmid–Leiman transformation (psych 2.2.9 ``omega``).

    Parameters
    ----------
    items : DataFrame or 2-D array (respondents × items)
    nfactors : int
        Number of group factors (psych default 3). ``nfactors=1`` gives the one-factor omega total.
    rotation : {"oblimin", "promax"}
        Oblique rotation of the group factors.
    method : {"minres", "ml"}
        Factor extraction.
    missing : {"pairwise", "listwise"}

    Returns
    -------
    OmegaResult with ``.omega_h``, ``.omega_total``, ``.schmid_leiman`` (g, F1*..Fk*, h2, u2, p2), ``.group``
    (rows g, F1*, ...; columns total, general, group).

    References
    ----------
    McDonald (1999); Schmid & Leiman (1957); Zinbarg, Revelle, Yovel & Li (2005); Revelle psych ``omega``.

    Examples
    --------
    >>> om = omega(df[p_items], nfactors=5); om.omega_h, om.omega_total
    """
    if rotation not in OMEGA_ROTATIONS:
        raise ParameterError(f"rotation must be one of {OMEGA_ROTATIONS}, got {rotation!r}")
    if method not in METHODS:
        raise ParameterError(f"method must be one of {METHODS}, got {method!r}")
    ci = _prepare(items, missing)
    m = ci.r.copy()
    names = list(ci.names)
    k = len(names)
    if not isinstance(nfactors, (int, np.integer)) or nfactors < 1:
        raise ParameterError(f"nfactors must be a positive integer, got {nfactors!r}")
    dof = k * (k - 1) / 2 - k * nfactors + nfactors * (nfactors - 1) / 2
    if nfactors >= k or dof < 0:
        raise ParameterError(f"{nfactors} group factors are too many for {k} items; use fewer")
    orth, _, _, _, _ = _extract_rotate(m, nfactors, method, "varimax")
    phi = None
    if nfactors == 1:
        fload = orth
        gload = np.array([1.0])
    else:
        if rotation == "oblimin":
            fload, phi, _, _ = oblimin(orth)
        else:
            fload, _, phi = promax_kaiser(orth)
        if nfactors > 2:
            g, _, _, _, _ = _extract_rotate(phi, 1, method, "none")
            gload = g[:, 0]
        else:
            gload = np.array([np.sqrt(abs(phi[0, 1])), np.sign(phi[0, 1]) * np.sqrt(abs(phi[0, 1]))])
    gprimary = fload @ gload
    h2 = np.diag(orth @ orth.T)
    u2 = 1 - h2
    primeload = fload * gload
    uniq2 = np.clip(fload ** 2 - primeload ** 2, 0, None)
    sm = np.sign(fload) * np.sqrt(uniq2)
    flipped = []
    if (gprimary < 0).any():
        key = np.where(gprimary < 0, -1.0, 1.0)
        flipped = [nm for nm, kk in zip(names, key) if kk < 0]
        m = m * np.outer(key, key)
        gprimary = gprimary * key
        sm = sm * key[:, None]
    vt = m.sum()
    om_h = gprimary.sum() ** 2 / vt
    om_t = (vt - u2.sum()) / vt
    alpha_std = ((vt - np.trace(m)) / vt) * (k / (k - 1))
    lambda6 = (vt + smc(m).sum() - np.trace(m)) / vt
    ev = np.concatenate([[np.sum(gprimary ** 2)], (sm ** 2).sum(0)]) if nfactors > 1 else np.array([np.sum(gprimary ** 2)])
    ecv = ev[0] / ev.sum()
    gcols = [f"F{i + 1}*" for i in range(nfactors)]
    sl = pd.DataFrame(np.column_stack([gprimary, sm, h2, u2, gprimary ** 2 / h2]),
                      index=pd.Index(names, name="item"), columns=["g"] + gcols + ["h2", "u2", "p2"])
    rows = {"g": {"total": om_t, "general": om_h, "group": np.nan}}
    if nfactors > 1:
        sub = np.argmax(np.abs(sm), axis=1)
        grs = 0.0
        for grp in range(nfactors):
            idx = np.where(sub == grp)[0]
            if idx.size == 0:
                rows[gcols[grp]] = {"total": np.nan, "general": np.nan, "group": np.nan}
                continue
            vgr = m[np.ix_(idx, idx)].sum()
            gr = sm[idx, grp].sum()
            grs += gr ** 2
            rows[gcols[grp]] = {"total": (gr ** 2 + gprimary[idx].sum() ** 2) / vgr,
                                "general": gprimary[idx].sum() ** 2 / vgr, "group": gr ** 2 / vgr}
        rows["g"]["group"] = grs / vt
    group = pd.DataFrame(rows).T[["total", "general", "group"]]
    warns = list(ci.warnings)
    if flipped:
        warns.append(QualityWarning(
            "W-REL-10", "warning", f"For omega, item(s) {', '.join(flipped)} had negative general-factor loadings "
            "and were reflected (as psych does); check whether they are reverse-worded.",
            evidence={"items": flipped}, subject=",".join(flipped),
            message_zh=f"计算 ω 时题项 {', '.join(flipped)} 的一般因子载荷为负，已反向（同 psych）；请检查是否为反向措辞。"))
    if nfactors > 1 and om_h < 0.5:
        warns.append(QualityWarning(
            "W-REL-11", "info", f"omega_h = {om_h:.2f} < 0.5: the total score is not dominated by one general factor; "
            "report the dimension scores rather than one overall score.", evidence={"omega_h": float(om_h)},
            message_zh=f"ω_h = {om_h:.2f} < 0.5：总分并非由单一一般因子主导，宜报告各维度得分。"))
    return OmegaResult(float(om_h), float(om_t), float(alpha_std), float(lambda6), float(ecv), int(nfactors),
                       rotation if nfactors > 1 else "none", method, sl, group,
                       pd.DataFrame(phi, index=gcols, columns=gcols) if phi is not None else None,
                       ci.n_obs, missing, flipped, ci.exclusions, warnings=warns)


# ---------------------------------------------------------------------------------------------------------------
# split-half
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class SplitHalfResult(ResultData):
    """Split-half reliabilities (see :func:`split_half`)."""

    lambda4: float
    beta: float
    mean_split: float
    alpha: float
    lambda2: float
    lambda6: float
    glb: float
    average_r: float
    median_r: float
    chosen_split: tuple
    chosen_r: float
    spearman_brown: float
    chosen_guttman: float
    max_split: tuple
    min_split: tuple
    n_splits: int
    exhaustive: bool
    ci: tuple
    n: int
    missing: str
    exclusions: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"lambda4_max_split": self.lambda4, "beta_min_split": self.beta,
                              "mean_split": self.mean_split, "alpha": self.alpha, "lambda2": self.lambda2,
                              "lambda6": self.lambda6, "glb": self.glb, "spearman_brown": self.spearman_brown,
                              "n_splits": self.n_splits, "exhaustive": self.exhaustive, "n": self.n}])

    def _summary_lines(self, lang: str = "en") -> list[str]:
        how = "all" if self.exhaustive else "sampled"
        return ["\n".join([
            f"Split-half reliabilities (N = {self.n}, {self.missing}; {how} {self.n_splits} splits; psych 2.2.9)",
            f"  maximum split (lambda4) {self.lambda4:.3f}   minimum split (beta) {self.beta:.3f}   "
            f"average split {self.mean_split:.3f}",
            f"  alpha {self.alpha:.3f}   lambda2 {self.lambda2:.3f}   lambda6 {self.lambda6:.3f}   glb {self.glb:.3f}",
            f"  chosen split {self.chosen_split[0]} | {self.chosen_split[1]}: r = {self.chosen_r:.3f}, "
            f"Spearman-Brown {self.spearman_brown:.3f}"])]


def _glb(r: np.ndarray, n_iter: int = 5000) -> float:
    """Greatest lower bound (Woodhouse & Jackson 1977; Ten Berge, Snijders & Zegers 1981) of a correlation matrix.

    The error variances Θ = diag(θ) of largest trace compatible with the data (R - Θ ⪰ 0, 0 ≤ θ_i ≤ 1) give
    the smallest reliability consistent with R: glb = 1 - tr(Θ)/1'R1. Solved by scipy SLSQP with the smallest
    eigenvalue of R - Θ as the constraint (a small semidefinite programme).
    """
    from scipy import optimize

    k = r.shape[0]
    start = 1 - smc(r)

    def eigs(theta):
        return np.linalg.eigvalsh(r - np.diag(theta))

    res = optimize.minimize(lambda t: -t.sum(), start * 0.99, jac=lambda t: -np.ones_like(t), method="SLSQP",
                            bounds=[(0.0, 1.0)] * k,
                            constraints=[{"type": "ineq", "fun": eigs}],
                            options={"maxiter": n_iter, "ftol": 1e-14})
    theta = res.x
    # make feasible (the eigenvalue constraint can be violated by ~ftol)
    shift = min(0.0, eigs(theta)[0])
    theta = np.clip(theta + shift, 0, 1)
    return float(1 - theta.sum() / r.sum())


def split_half(items, split=None, *, max_exhaustive: int = 10000, n_sample: int = 10000, seed: int = 20261122,
               missing: str = "pairwise", ci: float = 0.95) -> SplitHalfResult:
    r"""Split-half reliabilities as R psych 2.2.9 ``splitHalf`` on the (standardized) item correlation matrix R.

    For a split into halves A, B with R_AB the sum of correlations between halves and 1'R1 the total:

    * split coefficient (Guttman / Flanagan–Rulon) r_s = 4·R_AB / 1'R1; λ4 = max over splits, β = min,
      average split = mean over splits (the average equals standardized alpha only over all splits);
    * chosen split (default odd/even positions): r_AB = R_AB/√(R_AA R_BB) and Spearman–Brown 2r/(1+r);
    * λ2 = (Σ_{i≠j} r_ij + √(k/(k-1)·Σ_{i≠j} r_ij²)) / 1'R1; λ6 from squared multiple correlations;
    * glb, the greatest lower bound (Woodhouse & Jackson 1977), by a small SDP-like optimisation.

    Splits are enumerated exhaustively when there are at most ``max_exhaustive`` of them, otherwise
    ``n_sample`` random splits are drawn (fixed ``seed``). For an odd number of items psych enumerates only the
    first half of the combinations; here every distinct split is used (λ4/β/average can then differ from psych).
    Like alpha, no item is reversed silently: reverse-key first (e.g. with :func:`alpha`'s ``keys``) —
    items correlating negatively with the rest are reported (W-REL-01).

    References: Guttman (1945); Spearman (1910); Brown (1910); Revelle psych ``splitHalf``; Ten Berge & Sočan (2004).
    """
    check_missing(missing)
    frame = as_item_frame(items, min_items=2)
    if missing == "listwise":
        frame = frame.dropna(axis=0, how="any")
    frame, excl, warns = drop_degenerate_items(frame)
    names = [str(c) for c in frame.columns]
    c, _ = pairwise_cov(frame.to_numpy(dtype=float))
    r = cov2cor(c)
    k = len(names)
    n2 = k // 2
    if k < 3:
        raise ParameterError("split_half needs at least 3 items; with 2 items use alpha() (Spearman-Brown of r)")
    sumr = r.sum()
    off = r - np.diag(np.diag(r))
    sum_off = sumr - np.trace(r)
    sumsq_off = (off ** 2).sum()
    alpha_std = (sum_off / sumr) * k / (k - 1)
    lambda6 = (sum_off + smc(r).sum()) / sumr
    lambda2 = (sum_off + np.sqrt(sumsq_off * k / (k - 1))) / sumr
    lower = r[np.tril_indices(k, -1)]
    warns = list(warns)
    rest = r.sum(0) - 1
    neg = [names[i] for i in np.where(rest < 0)[0]]
    if neg:
        warns.append(QualityWarning(
            "W-REL-01", "critical", f"Item(s) {', '.join(neg)} correlate negatively with the rest of the items: "
            "probably reverse-worded and not reverse-keyed (nothing was flipped).", evidence={"items": neg},
            subject=",".join(neg), message_zh=f"题项 {', '.join(neg)} 与其余题项负相关：可能为反向措辞（未自动反向）。"))

    from math import comb

    if k % 2 == 0:
        n_distinct = comb(k, n2) // 2
        combos = (c_ for c_ in itertools.combinations(range(k), n2) if c_[0] == 0)
    else:
        n_distinct = comb(k, n2)
        combos = itertools.combinations(range(k), n2)
    exhaustive = n_distinct <= max_exhaustive
    if exhaustive:
        halves = np.zeros((n_distinct, k), dtype=bool)
        for i, cmb in enumerate(combos):
            halves[i, list(cmb)] = True
    else:
        rng = np.random.default_rng(seed)
        halves = np.zeros((n_sample, k), dtype=bool)
        for i in range(n_sample):
            halves[i, rng.choice(k, n2, replace=False)] = True
    a = halves.astype(float)
    b = 1 - a
    r_ab = np.einsum("si,ij,sj->s", a, r, b)
    rs = 4 * r_ab / sumr
    imax, imin = int(np.argmax(rs)), int(np.argmin(rs))

    def as_split(mask):
        return (tuple(nm for nm, m_ in zip(names, mask) if m_), tuple(nm for nm, m_ in zip(names, mask) if not m_))

    if split is None:
        half_a = [names[i] for i in range(0, k, 2)]
    else:
        half_a = [str(s) for s in split]
        unknown = [s for s in half_a if s not in names]
        if unknown or not 0 < len(half_a) < k:
            raise ParameterError(f"split must name some (not all) of the items {names}; unknown: {unknown}")
    va = np.array([nm in half_a for nm in names], dtype=float)
    vb = 1 - va
    raa, rbb, rab_c = va @ r @ va, vb @ r @ vb, va @ r @ vb
    r_chosen = rab_c / np.sqrt(raa * rbb)
    level = (1 - ci) / 2
    return SplitHalfResult(
        lambda4=float(rs[imax]), beta=float(rs[imin]), mean_split=float(rs.mean()), alpha=float(alpha_std),
        lambda2=float(lambda2), lambda6=float(lambda6), glb=_glb(r), average_r=float(lower.mean()),
        median_r=float(np.median(lower)), chosen_split=as_split(va.astype(bool)), chosen_r=float(r_chosen),
        spearman_brown=float(2 * r_chosen / (1 + r_chosen)), chosen_guttman=float(4 * rab_c / sumr),
        max_split=as_split(halves[imax]), min_split=as_split(halves[imin]), n_splits=int(len(rs)),
        exhaustive=bool(exhaustive), ci=(float(np.quantile(rs, level)), float(np.quantile(rs, 1 - level))),
        n=int(frame.shape[0]), missing=missing, exclusions=excl, warnings=warns)
