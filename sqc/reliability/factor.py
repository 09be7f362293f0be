"""Factor structure: KMO, Bartlett's test, exploratory factor analysis and parallel analysis (psych 2.2.9).

Conventions follow R psych 2.2.9 (``KMO``, ``cortest.bartlett``, ``fa``) and GPArotation:

* correlations are Pearson with pairwise-complete observations (R ``cor(x, use="pairwise")``) unless
  ``missing="listwise"``; N is the number of rows (psych's ``n.obs``), and the pairwise counts enter the
  empirical chi-square (psych ``np.obs``);
* ``method="minres"`` minimises the residual sum of squares over the uniquenesses (start 1 - smc, bounds
  [0.005, 1]) and takes loadings from the eigen-decomposition of R - Ψ; ``method="ml"`` minimises the ML
  discrepancy (psych ``FAfn``); both are solved to a tighter tolerance than psych's ``optim`` defaults, so the
  agreement with psych is limited by psych's own convergence (about 1e-5 on loadings);
* rotations: ``"varimax"`` = R ``stats::varimax`` (Kaiser-normalised, eps 1e-5), ``"promax"`` = psych's Kaiser-
  normalised ``Promax`` (m = 4), ``"oblimin"`` = ``GPArotation::oblimin`` (GPFoblq, quartimin γ = 0, not
  normalised, eps 1e-5), ``"none"``;
* after rotation, columns are reflected to positive sums and ordered by the variance they account for
  (diag(Φ Λ'Λ)), and **Φ is re-ordered with the same permutation** (the factor_analyzer bug the issue names);
* communalities are diag(Λ Φ Λ') — the row sums of squared *pattern* loadings are wrong for oblique rotations;
* fit: psych ``fa.stats`` (objective on the smoothed matrices, χ² with Bartlett's correction, TLI, RMSEA with a
  90 % CI by the non-central χ², BIC = χ² - df·log N, rms/crms).

Warning codes: W-REL-06 (singular / not positive-definite correlation matrix), W-REL-07 (Heywood case: a
communality ≥ 1), W-REL-08 (KMO below 0.6: data not suited to factor analysis).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..diagnostics import QualityWarning
from ..errors import InsufficientDataError, ParameterError
from ._data import as_item_frame, check_missing, cov2cor, drop_degenerate_items, pinv_psych, smc
from ..results import Result, ResultData

ROTATIONS = ("none", "varimax", "promax", "oblimin")
METHODS = ("minres", "ml")


# ---------------------------------------------------------------------------------------------------------------
# correlation input
# ---------------------------------------------------------------------------------------------------------------
def pairwise_cor(values: np.ndarray):
    """R ``cor(x, use="pairwise")`` (each pair's means and SDs over its complete rows) and the pair counts."""
    mask = ~np.isnan(values)
    m = mask.astype(float)
    x0 = np.where(mask, values, 0.0)
    n = m.T @ m
    s = x0.T @ m
    q = x0.T @ x0
    ss = (x0 * x0).T @ m  # ss[i, j] = sum of x_i^2 over rows where i and j are present
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = q - s * s.T / n
        var_i = ss - s * s / n
        r = cov / np.sqrt(var_i * var_i.T)
    np.fill_diagonal(r, 1.0)
    return r, n


@dataclass
class _CorInput:
    r: np.ndarray
    names: list
    n_obs: int
    np_obs: np.ndarray
    exclusions: dict
    warnings: list


def _prepare(items, missing: str = "pairwise", min_items: int = 3) -> _CorInput:
    check_missing(missing)
    frame = as_item_frame(items, min_items=min_items)
    if missing == "listwise":
        frame = frame.dropna(axis=0, how="any")
        if frame.shape[0] < 3:
            raise InsufficientDataError(f"only {frame.shape[0]} complete row(s) for listwise deletion",
                                        expected=">= 3 complete respondents, or missing='pairwise'")
    frame, excl, warns = drop_degenerate_items(frame, min_items=min_items)
    values = frame.to_numpy(dtype=float)
    r, n = pairwise_cor(values)
    if np.isnan(r).any() or (n < 3).any():
        i, j = np.argwhere(np.isnan(r) | (n < 3))[0]
        raise InsufficientDataError(f"items {frame.columns[i]} and {frame.columns[j]} are answered together by "
                                    "fewer than 3 respondents; their correlation cannot be estimated",
                                    column=str(frame.columns[i]), expected=">= 3 respondents answering both")
    warns = list(warns)
    ev = np.linalg.eigvalsh(r)
    if ev.min() < np.finfo(float).eps * 100:
        warns.append(QualityWarning(
            "W-REL-06", "warning",
            f"The item correlation matrix is singular or not positive definite (smallest eigenvalue {ev.min():.2e}): "
            "some items are (nearly) linear combinations of others; results use a pseudo-inverse / smoothing.",
            evidence={"min_eigenvalue": float(ev.min())},
            message_zh="题项相关矩阵奇异或非正定：部分题项几乎是其他题项的线性组合，结果使用了伪逆/平滑处理。"))
    return _CorInput(r, [str(c) for c in frame.columns], int(values.shape[0]), n, excl, warns)


# ---------------------------------------------------------------------------------------------------------------
# KMO and Bartlett
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class KMOResult(ResultData):
    """Kaiser–Meyer–Olkin measure of sampling adequacy (see :func:`kmo`)."""

    overall: float
    per_item: pd.Series
    n: int
    missing: str
    exclusions: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.per_item.rename("MSA").to_frame()

    def _summary_lines(self, lang: str = "en") -> list[str]:
        label = _kmo_label(self.overall)
        return [(f"KMO overall MSA = {self.overall:.3f} ({label}); N = {self.n} ({self.missing})\n"
                + self.per_item.round(3).to_string())]


def _kmo_label(v: float) -> str:
    # Kaiser (1974) labels
    for cut, lab in ((0.9, "marvelous"), (0.8, "meritorious"), (0.7, "middling"), (0.6, "mediocre"),
                     (0.5, "miserable")):
        if v >= cut:
            return lab
    return "unacceptable"


def kmo(items, missing: str = "pairwise") -> KMOResult:
    r"""Kaiser–Meyer–Olkin measure of sampling adequacy, overall and per item (psych ``KMO``).

    .. math:: MSA = \frac{\sum_{i\ne j} r_{ij}^2}{\sum_{i\ne j} r_{ij}^2 + \sum_{i\ne j} q_{ij}^2}

    where q are the partial correlations (anti-image, from R⁻¹). Missing answers are handled pairwise (default)
    or listwise; R is inverted with a pseudo-inverse when singular (warning W-REL-06).

    References: Kaiser (1970, 1974); psych 2.2.9 ``KMO``.

    Examples
    --------
    >>> res = kmo(df[p_items]); res.overall, res.per_item
    """
    ci = _prepare(items, missing, min_items=2)
    r = ci.r
    try:
        q = np.linalg.inv(r)
        if not np.all(np.isfinite(q)) or np.linalg.cond(r) > 1 / np.finfo(float).eps:
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        q = pinv_psych(r)
    q = cov2cor(q)
    r0 = r.copy()
    np.fill_diagonal(q, 0.0)
    np.fill_diagonal(r0, 0.0)
    r2, q2 = (r0 ** 2).sum(), (q ** 2).sum()
    overall = r2 / (r2 + q2)
    per = (r0 ** 2).sum(0) / ((r0 ** 2).sum(0) + (q ** 2).sum(0))
    warns = list(ci.warnings)
    if overall < 0.6:
        warns.append(QualityWarning(
            "W-REL-08", "warning", f"KMO = {overall:.2f} (< 0.6): the items share too little common variance for a "
            "trustworthy factor analysis.", evidence={"kmo": float(overall), "threshold": 0.6},
            message_zh=f"KMO = {overall:.2f}（< 0.6）：题项共同方差太少，因子分析结果不可靠。"))
    return KMOResult(float(overall), pd.Series(per, index=pd.Index(ci.names, name="item"), name="MSA"), ci.n_obs,
                     missing, ci.exclusions, warnings=warns)


@dataclass
class BartlettResult(ResultData):
    """Bartlett's test of sphericity (see :func:`bartlett`)."""

    chi2: float
    df: int
    p_value: float
    n: int
    k: int
    missing: str

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"chi2": self.chi2, "df": self.df, "p_value": self.p_value, "n": self.n, "k": self.k}])

    def _summary_lines(self, lang: str = "en") -> list[str]:
        return [(f"Bartlett's test of sphericity: chi2({self.df}) = {self.chi2:.2f}, p = {self.p_value:.3g} "
                f"(N = {self.n}, k = {self.k}, {self.missing})")]


def bartlett(items, missing: str = "pairwise") -> BartlettResult:
    r"""Bartlett's (1951) test that the item correlation matrix is an identity (psych ``cortest.bartlett``).

    .. math:: \chi^2 = -\ln|R| \,\Big(N - 1 - \frac{2k+5}{6}\Big), \quad df = k(k-1)/2

    N is the number of respondent rows (psych); with ``missing="listwise"`` the complete rows.
    A singular R (det R ≤ 0) makes the statistic infinite; this is reported (W-REL-06) and p = 0.
    """
    ci = _prepare(items, missing, min_items=2)
    k = len(ci.names)
    sign, logdet = np.linalg.slogdet(ci.r)
    stat = np.inf if sign <= 0 else -logdet * (ci.n_obs - 1 - (2 * k + 5) / 6)
    df = k * (k - 1) // 2
    return BartlettResult(float(stat), int(df), float(stats.chi2.sf(stat, df)), ci.n_obs, k, missing,
                          warnings=list(ci.warnings))


# ---------------------------------------------------------------------------------------------------------------
# factor extraction
# ---------------------------------------------------------------------------------------------------------------
def _top_eig(a: np.ndarray, nf: int):
    w, v = np.linalg.eigh(a)
    order = np.argsort(w)[::-1]
    return w[order], v[:, order]


def _minres_loadings(psi, r, nf):
    w, v = _top_eig(r - np.diag(psi), nf)
    return v[:, :nf] * np.sqrt(np.maximum(w[:nf], 0))


def _fit_minres(r: np.ndarray, nf: int):
    k = r.shape[0]
    start = 1 - smc(r)
    upper = max(smc(r).max(), 1.0)

    def f(psi):
        w, v = _top_eig(r - np.diag(psi), nf)
        lam = v[:, :nf] * np.sqrt(np.maximum(w[:nf], 0))
        res = r - lam @ lam.T
        off = res[np.tril_indices(k, -1)]
        g = np.diag(lam @ lam.T + np.diag(psi) - r)
        return float(off @ off), g

    res = optimize.minimize(f, np.clip(start, 0.005, upper), jac=True, method="L-BFGS-B",
                            bounds=[(0.005, upper)] * k,
                            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000, "maxcor": 30})
    return _minres_loadings(res.x, r, nf), res


def _fit_ml(r: np.ndarray, nf: int):
    k = r.shape[0]
    start = 1 - smc(r)
    upper = max(smc(r).max(), 1.0)

    def f(psi):
        sc = 1 / np.sqrt(psi)
        sstar = r * np.outer(sc, sc)
        w, v = _top_eig(sstar, nf)
        e = w[nf:]
        if e.min() <= 0:  # singular R: the ML discrepancy is undefined here; steer the optimiser away
            return 1e10, np.zeros_like(psi)
        val = -(np.sum(np.log(e) - e) - nf + k)
        load = v[:, :nf] * np.sqrt(np.maximum(w[:nf] - 1, 0))
        load = load * np.sqrt(psi)[:, None]
        g = np.diag(load @ load.T + np.diag(psi) - r) / psi ** 2
        return float(val), g

    res = optimize.minimize(f, np.clip(start, 0.005, upper), jac=True, method="L-BFGS-B",
                            bounds=[(0.005, upper)] * k,
                            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000, "maxcor": 30})
    psi = res.x
    sc = 1 / np.sqrt(psi)
    w, v = _top_eig(r * np.outer(sc, sc), nf)
    load = v[:, :nf] * np.sqrt(np.maximum(w[:nf] - 1, 0))
    return load * np.sqrt(psi)[:, None], res


# ---------------------------------------------------------------------------------------------------------------
# rotations (exact ports of R stats::varimax, psych Promax/kaiser, GPArotation GPFoblq oblimin)
# ---------------------------------------------------------------------------------------------------------------
def varimax(x: np.ndarray, normalize: bool = True, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """R ``stats::varimax``; returns (rotated loadings, rotation matrix)."""
    nc = x.shape[1]
    if nc < 2:
        return x.copy(), np.eye(nc)
    sc = np.sqrt((x ** 2).sum(1)) if normalize else np.ones(x.shape[0])
    xn = x / sc[:, None]
    p = xn.shape[0]
    tt = np.eye(nc)
    d = 0.0
    for _ in range(1000):
        z = xn @ tt
        b = xn.T @ (z ** 3 - z @ np.diag((z ** 2).sum(0)) / p)
        u, s, vt = np.linalg.svd(b)
        tt = u @ vt
        dpast, d = d, s.sum()
        if d < dpast * (1 + eps):
            break
    z = xn @ tt
    return z * sc[:, None], tt


def promax_psych(x: np.ndarray, m: int = 4):
    """psych ``Promax`` (varimax, target |x|^(m-1)·x, least squares, rescaled); returns (loadings, rotmat, Phi)."""
    xv, rot = varimax(x)
    q = xv * np.abs(xv) ** (m - 1)
    u = np.linalg.lstsq(xv, q, rcond=None)[0]
    d = np.diag(np.linalg.inv(u.T @ u))
    u = u @ np.diag(np.sqrt(d))
    z = xv @ u
    u = rot @ u
    ui = np.linalg.inv(u)
    return z, u, ui @ ui.T


def promax_kaiser(x: np.ndarray, m: int = 4):
    """psych ``kaiser(f, rotate="Promax")`` (what ``fa(rotate="promax")`` uses)."""
    h2 = (x ** 2).sum(1)
    z, u, phi = promax_psych(x / np.sqrt(h2)[:, None], m)
    return z * np.sqrt(h2)[:, None], u, phi


def _vgq_oblimin(lam: np.ndarray, gam: float = 0.0):
    k = lam.shape[1]
    x = (lam ** 2) @ (1 - np.eye(k))
    if gam != 0:
        p = lam.shape[0]
        x = (np.eye(p) - gam / p) @ x
    return lam * x, float(np.sum(lam ** 2 * x) / 4)


def oblimin(a: np.ndarray, gam: float = 0.0, eps: float = 1e-5, maxit: int = 1000) -> tuple:
    """GPArotation ``oblimin`` via ``GPFoblq`` (Bernaards & Jennrich 2005); returns (loadings, Phi, Th, converged)."""
    tmat = np.eye(a.shape[1])
    al = 1.0
    lam = a @ np.linalg.inv(tmat).T
    gq, f = _vgq_oblimin(lam, gam)
    g = -(lam.T @ gq @ np.linalg.inv(tmat)).T
    s = np.inf
    for _ in range(maxit + 1):
        gp = g - tmat @ np.diag(np.sum(tmat * g, axis=0))
        s = np.sqrt(np.sum(gp * gp))
        if s < eps:
            break
        al *= 2
        for _ in range(11):
            x = tmat - al * gp
            v = 1 / np.sqrt(np.sum(x ** 2, axis=0))
            tmatt = x * v
            lam = a @ np.linalg.inv(tmatt).T
            gqt, ft = _vgq_oblimin(lam, gam)
            if f - ft > 0.5 * s ** 2 * al:
                break
            al /= 2
        tmat = tmatt
        f = ft
        g = -(lam.T @ gqt @ np.linalg.inv(tmatt)).T
    return lam, tmat.T @ tmat, tmat, bool(s < eps)


# ---------------------------------------------------------------------------------------------------------------
# fit statistics (psych fa.stats)
# ---------------------------------------------------------------------------------------------------------------
def _cor_smooth(x: np.ndarray, eig_tol: float = 1e-12) -> np.ndarray:
    w, v = np.linalg.eigh(x)
    if w.min() < np.finfo(float).eps:
        w = np.where(w < eig_tol, 100 * eig_tol, w)
        w = w * x.shape[0] / w.sum()
        x = cov2cor((v * w) @ v.T)
    return x


def fit_stats(r: np.ndarray, loadings: np.ndarray, phi: np.ndarray | None, n_obs: int,
              np_obs: np.ndarray | None = None, conf_level: float = 0.1) -> dict:
    """psych ``fa.stats`` fit indices for a factor model of the correlation matrix ``r``."""
    n = r.shape[0]
    nf = loadings.shape[1]
    model = loadings @ (phi if phi is not None else np.eye(nf)) @ loadings.T
    residual = r - model
    r2 = np.sum(r * r)
    rstar2 = np.sum(residual * residual)
    dof = n * (n - 1) / 2 - n * nf + nf * (nf - 1) / 2
    out = {"dof": dof}
    resid_off = residual.copy()
    np.fill_diagonal(resid_off, 0)
    if np_obs is None:
        rstar_off = np.sum(resid_off ** 2)
        r2_off = r2 - np.trace(r)
        out["chi_empirical"] = rstar_off * n_obs
        nh = n_obs
        out["rms"] = np.sqrt(rstar_off / (n * (n - 1)))
    else:
        rstar_off = np.sum(resid_off ** 2 * np_obs)
        r2o = r * r * np_obs
        r2_off = r2o.sum() - np.trace(r2o)
        out["chi_empirical"] = rstar_off
        nh = stats.hmean(np_obs.ravel())
        out["rms"] = np.sqrt(rstar_off / (nh * n * (n - 1)))
    out["crms"] = np.sqrt(rstar_off / (2 * nh * dof)) if dof > 0 else np.nan
    out["EBIC"] = out["chi_empirical"] - dof * np.log(nh) if dof > 0 else np.nan
    out["fit"] = 1 - rstar2 / r2
    out["fit_off"] = 1 - rstar_off / r2_off
    model_s = model.copy()
    np.fill_diagonal(model_s, np.diag(r))
    model_s = _cor_smooth(model_s)
    rs = _cor_smooth(r)
    m_inv_r = np.linalg.solve(model_s, rs)
    objective = np.trace(m_inv_r) - np.log(np.linalg.det(m_inv_r)) - n
    out["objective"] = objective
    chisq = objective * ((n_obs - 1) - (2 * n + 5) / 6 - (2 * nf) / 3)
    chisq = max(chisq, 0.0)
    out["chi2"] = chisq
    out["p_value"] = float(stats.chi2.sf(chisq, dof)) if dof > 0 else np.nan
    f0 = np.trace(rs) - np.log(np.linalg.det(rs)) - n
    mm = objective / dof if dof > 0 else np.nan
    m0 = f0 * 2 / (n * (n - 1))
    nm = (n_obs - 1) - (2 * n + 5) / 6 - (2 * nf) / 3
    out["null_chi2"] = f0 * ((n_obs - 1) - (2 * n + 5) / 6)
    out["null_dof"] = n * (n - 1) / 2
    out["TLI"] = (m0 - mm) / (m0 - 1 / nm)
    if dof > 0:
        rmsea = np.sqrt(max(chisq / (dof * n_obs) - 1 / (n_obs - 1), 0))
        tail = conf_level / 2
        upper_search = max(n_obs, chisq) + 2 * n_obs
        lo = hi = 0.0
        if stats.chi2.cdf(chisq, dof) > tail:
            try:
                root = optimize.brentq(lambda x: stats.ncx2.cdf(chisq, dof, x) - tail if x > 0
                                       else stats.chi2.cdf(chisq, dof) - tail, 0, upper_search, xtol=1e-12)
                hi = np.sqrt(root / (n_obs - 1) / dof)
            except ValueError:
                hi = np.nan
        if stats.chi2.cdf(chisq, dof) > 1 - tail:
            try:
                root = optimize.brentq(lambda x: stats.ncx2.cdf(chisq, dof, x) - 1 + tail if x > 0
                                       else stats.chi2.cdf(chisq, dof) - 1 + tail, 0, upper_search, xtol=1e-12)
                lo = np.sqrt(root / (n_obs - 1) / dof)
            except ValueError:
                lo = np.nan
        out["RMSEA"] = rmsea
        out["RMSEA_ci"] = (lo, hi)
        out["RMSEA_level"] = 1 - conf_level
        out["BIC"] = chisq - dof * np.log(n_obs)
        out["SABIC"] = chisq - dof * np.log((n_obs + 2) / 24)
    else:
        out.update({"RMSEA": np.nan, "RMSEA_ci": (np.nan, np.nan), "RMSEA_level": 1 - conf_level,
                    "BIC": np.nan, "SABIC": np.nan})
    return out


# ---------------------------------------------------------------------------------------------------------------
# EFA
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class EFAResult(ResultData):
    """Exploratory factor analysis (see :func:`efa`)."""

    _chart = "sqc.plotting.reliability:loadings_spec"

    loadings: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    phi: pd.DataFrame | None
    structure: pd.DataFrame
    variance: pd.DataFrame
    fit: dict
    nfactors: int
    method: str
    rotation: str
    n: int
    missing: str
    cor: pd.DataFrame
    unrotated: pd.DataFrame
    converged: bool
    exclusions: dict = field(default_factory=dict)

    @property
    def tli(self) -> float:
        return float(self.fit["TLI"])

    @property
    def rmsea(self) -> tuple[float, float, float]:
        return float(self.fit["RMSEA"]), float(self.fit["RMSEA_ci"][0]), float(self.fit["RMSEA_ci"][1])

    @property
    def bic(self) -> float:
        return float(self.fit["BIC"])

    def to_frame(self) -> pd.DataFrame:
        out = self.loadings.copy()
        out["h2"] = self.communalities
        out["u2"] = self.uniquenesses
        return out

    def _summary_lines(self, lang: str = "en") -> list[str]:
        f = self.fit
        lines = [f"EFA: {self.nfactors} factor(s), {self.method}, rotation {self.rotation}; N = {self.n} "
                 f"({self.missing}); conventions of R psych 2.2.9",
                 self.to_frame().round(3).to_string()]
        if self.phi is not None:
            lines += ["Factor correlations (Phi):", self.phi.round(3).to_string()]
        lines.append(f"chi2({f['dof']:.0f}) = {f['chi2']:.2f}, p = {f['p_value']:.3g}; TLI = {f['TLI']:.3f}; RMSEA = "
                     f"{f['RMSEA']:.3f} [{f['RMSEA_ci'][0]:.3f}, {f['RMSEA_ci'][1]:.3f}] (90% CI); BIC = {f['BIC']:.2f}")
        return lines


def _extract_rotate(r, nf, method, rotation):
    if method == "minres":
        lam, res = _fit_minres(r, nf)
        prefix = "MR"
    else:
        lam, res = _fit_ml(r, nf)
        prefix = "ML"
    converged = bool(res.success)
    if nf > 1:
        sgn = np.sign(lam.sum(0))
        sgn[sgn == 0] = 1
        lam = lam * sgn
    elif lam.sum() < 0:
        lam = -lam
    lam = np.where(lam == 0, 1e-15, lam)
    unrotated = lam.copy()
    phi = None
    if rotation != "none" and nf > 1:
        if rotation == "varimax":
            lam, _ = varimax(lam)
        elif rotation == "promax":
            lam, _, phi = promax_kaiser(lam)
        elif rotation == "oblimin":
            lam, phi, _, conv = oblimin(lam)
            converged = converged and conv
    sgn = np.sign(lam.sum(0))
    sgn[sgn == 0] = 1
    lam = lam * sgn
    if phi is not None:
        phi = phi * np.outer(sgn, sgn)
    order = np.arange(nf)
    if nf > 1:
        ev = np.diag((phi if phi is not None else np.eye(nf)) @ lam.T @ lam)
        order = np.argsort(-ev, kind="stable")
        lam = lam[:, order]
        if phi is not None:
            phi = phi[np.ix_(order, order)]
    # psych keeps each factor's extraction label after re-ordering (e.g. MR1 MR3 MR2)
    labels = [f"{prefix}{i + 1}" for i in order]
    return lam, phi, unrotated, converged, labels


def efa(items, nfactors: int = 1, method: str = "minres", rotation: str = "oblimin", *,
        missing: str = "pairwise") -> EFAResult:
    r"""Exploratory factor analysis as R psych 2.2.9 ``fa()`` (minres or ML; rotations none/varimax/promax/oblimin).

    Model R ≈ Λ Φ Λ' + Ψ. minres minimises Σ_{i<j}(r_ij - (ΛΛ')_ij)²; ML minimises
    tr(Σ⁻¹R) - ln|Σ⁻¹R| - k. Communalities h² = diag(ΛΦΛ'); Φ is ordered like the loadings' columns.

    Parameters
    ----------
    items : DataFrame or 2-D array (respondents × items)
    nfactors : int
    method : {"minres", "ml"}
    rotation : {"oblimin", "promax", "varimax", "none"}
    missing : {"pairwise", "listwise"}

    Returns
    -------
    EFAResult with ``loadings`` (pattern), ``communalities``, ``phi``, ``structure`` (ΛΦ), ``variance`` (SS
    loadings, proportions) and ``fit`` (chi2, dof, p_value, TLI, RMSEA with 90 % CI, BIC, SABIC, rms, crms,
    objective, null_chi2 ...).

    References: Harman (1976, minres); Lawley & Maxwell (1971, ML); Bernaards & Jennrich (2005, GPA rotations);
    Hendrickson & White (1964, promax); Tucker & Lewis (1973); Revelle psych 2.2.9 ``fa``.
    """
    if method not in METHODS:
        raise ParameterError(f"method must be one of {METHODS}, got {method!r}")
    if rotation not in ROTATIONS:
        raise ParameterError(f"rotation must be one of {ROTATIONS}, got {rotation!r}")
    ci = _prepare(items, missing)
    k = len(ci.names)
    if not isinstance(nfactors, (int, np.integer)) or nfactors < 1:
        raise ParameterError(f"nfactors must be a positive integer, got {nfactors!r}")
    dof = k * (k - 1) / 2 - k * nfactors + nfactors * (nfactors - 1) / 2
    if nfactors >= k or dof < 0:
        raise ParameterError(f"{nfactors} factors are too many for {k} items (degrees of freedom {dof:.0f}); "
                             "use fewer factors")
    lam, phi, unrot, converged, cols = _extract_rotate(ci.r, nfactors, method, rotation)
    idx = pd.Index(ci.names, name="item")
    h2 = np.diag(unrot @ unrot.T)
    np_obs = ci.np_obs if missing == "pairwise" else None
    fit = fit_stats(ci.r, lam, phi, ci.n_obs, np_obs)
    structure = lam @ phi if phi is not None else lam
    vx = np.diag(phi @ lam.T @ lam) if phi is not None else (lam ** 2).sum(0)
    vtotal = k
    variance = pd.DataFrame({"SS loadings": vx, "Proportion Var": vx / vtotal,
                             "Cumulative Var": np.cumsum(vx / vtotal),
                             "Proportion Explained": vx / vx.sum()}, index=cols).T
    warns = list(ci.warnings)
    heywood = [ci.names[i] for i in np.where(h2 >= 0.995)[0]]
    if heywood:
        warns.append(QualityWarning(
            "W-REL-07", "warning", f"Heywood case: communality ≈ 1 for {', '.join(heywood)}; the "
            f"{nfactors}-factor solution is improper (too many factors or too few items per factor).",
            evidence={"items": heywood}, subject=",".join(heywood),
            message_zh=f"Heywood 情形：{', '.join(heywood)} 的共同度约为 1，解不适当。"))
    if not converged:
        warns.append(QualityWarning("W-REL-09", "warning", "The factor extraction or rotation did not converge.",
                                    evidence={}, message_zh="因子提取或旋转未收敛。"))
    return EFAResult(
        loadings=pd.DataFrame(lam, index=idx, columns=cols),
        communalities=pd.Series(h2, index=idx, name="h2"), uniquenesses=pd.Series(1 - h2, index=idx, name="u2"),
        phi=pd.DataFrame(phi, index=cols, columns=cols) if phi is not None else None,
        structure=pd.DataFrame(structure, index=idx, columns=cols), variance=variance, fit=fit,
        nfactors=int(nfactors), method=method, rotation=rotation if nfactors > 1 else "none", n=ci.n_obs,
        missing=missing, cor=pd.DataFrame(ci.r, index=ci.names, columns=ci.names),
        unrotated=pd.DataFrame(unrot, index=idx, columns=[f"{cols[0][:2]}{i + 1}" for i in range(nfactors)]), converged=converged, exclusions=ci.exclusions,
        warnings=warns)


# ---------------------------------------------------------------------------------------------------------------
# parallel analysis
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class ParallelResult(Result):
    """Horn's parallel analysis (see :func:`parallel_analysis`)."""

    _frame_attr = "eigen"

    _chart = "sqc.plotting.reliability:scree_spec"

    eigen: pd.DataFrame
    n_factors: int
    n_components: int
    n: int
    n_iter: int
    quantile: float

    def _summary_lines(self, lang: str = "en") -> list[str]:
        return [(f"Parallel analysis (N = {self.n}, {self.n_iter} simulated data sets, {self.quantile:.0%} quantile): "
                f"suggests {self.n_factors} factor(s) and {self.n_components} component(s)\n"
                + self.eigen.round(3).to_string())]


def parallel_analysis(items, n_iter: int = 50, *, quantile: float = 0.95, seed: int = 20261122,
                      missing: str = "pairwise") -> ParallelResult:
    """Horn's (1965) parallel analysis for the number of factors and components.

    Observed eigenvalues of R (components) and of R with squared multiple correlations on the diagonal
    (common factors, Humphreys & Ilgen 1969) are compared with the ``quantile`` of the same eigenvalues from
    ``n_iter`` simulated normal data sets of the same N × k. The suggested number is the count of leading
    observed eigenvalues above the simulated ones. (psych ``fa.parallel`` uses 1-factor minres communalities for
    the factor eigenvalues, so its factor count can differ by one; the component count uses the same rule.)
    """
    if n_iter < 10:
        raise ParameterError(f"n_iter must be at least 10, got {n_iter}")
    if not 0.5 <= quantile < 1:
        raise ParameterError(f"quantile must be in [0.5, 1), got {quantile}")
    ci = _prepare(items, missing)
    r = ci.r
    k = r.shape[0]
    n = ci.n_obs

    def eig_pair(rr):
        pc = np.sort(np.linalg.eigvalsh(rr))[::-1]
        rf = rr.copy()
        np.fill_diagonal(rf, smc(rr))
        fa = np.sort(np.linalg.eigvalsh(rf))[::-1]
        return pc, fa

    obs_pc, obs_fa = eig_pair(r)
    rng = np.random.default_rng(seed)
    sims_pc = np.empty((n_iter, k))
    sims_fa = np.empty((n_iter, k))
    for it in range(n_iter):
        x = rng.standard_normal((n, k))
        sims_pc[it], sims_fa[it] = eig_pair(np.corrcoef(x, rowvar=False))
    q_pc = np.quantile(sims_pc, quantile, axis=0)
    q_fa = np.quantile(sims_fa, quantile, axis=0)

    def count(obs, ref):
        above = obs > ref
        return int(np.argmin(above)) if not above.all() else len(obs)

    eigen = pd.DataFrame({"observed_pc": obs_pc, "simulated_pc": q_pc, "mean_simulated_pc": sims_pc.mean(0),
                          "observed_fa": obs_fa, "simulated_fa": q_fa, "mean_simulated_fa": sims_fa.mean(0)},
                         index=pd.RangeIndex(1, k + 1, name="number"))
    return ParallelResult(eigen, count(obs_fa, q_fa), count(obs_pc, q_pc), n, n_iter, quantile)
