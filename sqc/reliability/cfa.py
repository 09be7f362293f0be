"""Confirmatory factor analysis of a declared model by maximum likelihood (lavaan 0.6.14 conventions).

Model: Σ(θ) = Λ Φ Λ' + Θ with each item loading on one factor (simple structure), Θ diagonal. Conventions
(lavaan ``cfa()`` defaults): the first loading of each factor is fixed to 1 (marker) — or factor variances fixed
to 1 with ``std_lv=True``; factor covariances free; listwise deletion; S is the covariance with denominator N;

    F_ML = ln|Σ| + tr(S Σ⁻¹) - ln|S| - p,    χ² = N·F_ML,    df = p(p+1)/2 - q

Baseline (independence) model χ²_b = N(Σ ln s_ii - ln|S|) with df_b = p(p-1)/2;
CFI = 1 - max(χ²-df, 0)/max(χ²-df, χ²_b-df_b, 0); TLI = (χ²_b/df_b - χ²/df)/(χ²_b/df_b - 1);
RMSEA = √(max(χ²-df, 0)/(df·N)) with a 90 % CI from the non-central χ²; SRMR (Bentler) = root mean square of the
residual correlations over the p(p+1)/2 unique elements. Standard errors from the expected information.

Validity: composite reliability CR = (Σλ*)²/((Σλ*)² + Σ(1-λ*²)) and AVE = mean(λ*²) from the standardized
loadings λ* (Fornell & Larcker 1981); Fornell–Larcker criterion √AVE > |φ_ij|; HTMT (Henseler, Ringle & Sarstedt
2015) from the item correlations (absolute values by default).

Warning codes: W-REL-12 model fit below Hu & Bentler (1999) cut-offs (CFI < 0.90 or RMSEA > 0.08 or SRMR > 0.08;
this is Methods §1.10, W-SQ-06 when applied to the SERVQUAL dimensions); W-REL-13 discriminant validity not supported
(HTMT > 0.90 or Fornell–Larcker violated); W-REL-14 improper solution (negative variance / |φ| ≥ 1) or not
converged; W-REL-15 CR < 0.70 or AVE < 0.50 for a factor.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..diagnostics import QualityWarning
from ..errors import DataError, InsufficientDataError, ParameterError
from ._data import as_item_frame
from ..results import ResultData


def _fit_index(key: str, doc: str) -> property:
    """A read-only attribute for one entry of ``CFAResult.fit``."""
    return property(lambda self: float(self.fit[key]), doc=f"{doc} (``fit['{key}']``)")


@dataclass
class CFAResult(ResultData):
    """A fitted CFA model (see :func:`cfa`)."""

    _frame_attr = "parameters"

    _chart = "sqc.plotting.reliability:loadings_spec"

    model: dict
    parameters: pd.DataFrame
    standardized_loadings: pd.DataFrame
    factor_correlations: pd.DataFrame
    fit: dict
    reliability: pd.DataFrame
    fornell_larcker: pd.DataFrame
    htmt: pd.DataFrame
    n: int
    n_excluded: int
    converged: bool
    implied_cov: pd.DataFrame
    sample_cov: pd.DataFrame

    chi2 = _fit_index("chisq", "χ² of the model")
    cfi = _fit_index("cfi", "comparative fit index")
    tli = _fit_index("tli", "Tucker–Lewis index")
    rmsea = _fit_index("rmsea", "root mean square error of approximation")
    srmr = _fit_index("srmr", "standardized root mean square residual")

    @property
    def fit_ok(self) -> bool:
        """Hu & Bentler (1999)-style verdict: CFI ≥ 0.90, RMSEA ≤ 0.08, SRMR ≤ 0.08."""
        return self.cfi >= 0.90 and self.rmsea <= 0.08 and self.srmr <= 0.08

    def _summary_lines(self, lang: str = "en") -> list[str]:
        f = self.fit
        lines = [f"CFA (ML, listwise; lavaan 0.6.14 conventions): N = {self.n} ({self.n_excluded} incomplete rows "
                 "excluded)",
                 f"  chi2({f['df']:.0f}) = {f['chisq']:.2f}, p = {f['pvalue']:.3g}; CFI {f['cfi']:.3f}; "
                 f"TLI {f['tli']:.3f}; RMSEA {f['rmsea']:.3f} [{f['rmsea_ci_lower']:.3f}, {f['rmsea_ci_upper']:.3f}]; "
                 f"SRMR {f['srmr']:.3f}",
                 "Standardized loadings:", self.standardized_loadings.round(3).to_string(),
                 "Composite reliability / AVE:", self.reliability.round(3).to_string(),
                 "HTMT:", self.htmt.round(3).to_string()]
        return lines


def _validate_model(data: pd.DataFrame, model) -> dict:
    if not isinstance(model, dict) or not model:
        raise ParameterError("model must be a non-empty dict {factor: [item, ...]}, e.g. "
                             "{'tangibles': ['P1', 'P2', 'P3', 'P4'], ...}")
    seen = {}
    out = {}
    for fac, items in model.items():
        if isinstance(items, str) or not hasattr(items, "__iter__"):
            raise ParameterError(f"model[{fac!r}] must be a list of item columns, got {items!r}")
        items = [str(i) for i in items]
        if len(items) < 2:
            raise ParameterError(f"factor {fac!r} has {len(items)} item(s); each factor needs at least 2 "
                                 "(3 for a model that is identified on its own)")
        for it in items:
            if it in seen:
                raise ParameterError(f"item {it!r} is assigned to both {seen[it]!r} and {fac!r}; cfa() fits "
                                     "simple-structure models (each item on one factor)")
            seen[it] = fac
        out[str(fac)] = items
    cols = set(map(str, data.columns))
    unknown = [it for it in seen if it not in cols]
    if unknown:
        raise DataError(f"the model names column(s) not in the data: {unknown}", column=unknown[0],
                        expected=f"one of the data columns {sorted(cols)[:30]}")
    return out


class _Model:
    def __init__(self, model: dict, std_lv: bool):
        self.factors = list(model)
        self.items = [it for f in self.factors for it in model[f]]
        self.p, self.m = len(self.items), len(self.factors)
        self.std_lv = std_lv
        self.load_idx = []  # (item index, factor index, free?)
        pos = 0
        for fi, f in enumerate(self.factors):
            for j, it in enumerate(model[f]):
                self.load_idx.append((pos, fi, std_lv or j > 0))
                pos += 1
        self.free_load = [(i, f) for i, f, free in self.load_idx if free]
        self.fixed_load = [(i, f) for i, f, free in self.load_idx if not free]
        self.phi_idx = [(a, b) for a in range(self.m) for b in range(a + 1)
                        if not (std_lv and a == b)]
        self.n_par = len(self.free_load) + self.p + len(self.phi_idx)

    def unpack(self, theta):
        lam = np.zeros((self.p, self.m))
        for i, f in self.fixed_load:
            lam[i, f] = 1.0
        nl = len(self.free_load)
        for (i, f), v in zip(self.free_load, theta[:nl]):
            lam[i, f] = v
        th = theta[nl:nl + self.p]
        phi = np.eye(self.m) if self.std_lv else np.zeros((self.m, self.m))
        for (a, b), v in zip(self.phi_idx, theta[nl + self.p:]):
            phi[a, b] = phi[b, a] = v
        return lam, th, phi

    def sigma(self, theta):
        lam, th, phi = self.unpack(theta)
        return lam @ phi @ lam.T + np.diag(th)

    def jacobian(self, theta):
        """d vech(Σ)/dθ (analytic): loadings e_i(ΦΛ')_f + (ΛΦ)_f e_i', residual variances E_ii, Φ entries."""
        lam, _, phi = self.unpack(theta)
        low = np.tril_indices(self.p)
        cols = []
        lp = lam @ phi  # p x m
        for i, f in self.free_load:
            d = np.zeros((self.p, self.p))
            d[i, :] += lp[:, f]
            d[:, i] += lp[:, f]
            cols.append(d[low])
        for i in range(self.p):
            d = np.zeros((self.p, self.p))
            d[i, i] = 1.0
            cols.append(d[low])
        for a, b in self.phi_idx:
            d = np.outer(lam[:, a], lam[:, b])
            if a != b:
                d = d + d.T
            cols.append(d[low])
        return np.column_stack(cols)


def _f_ml(sig, s, logdet_s, p):
    sign, logdet = np.linalg.slogdet(sig)
    if sign <= 0:
        return np.inf
    return logdet + np.trace(s @ np.linalg.inv(sig)) - logdet_s - p


def cfa(data, model: dict, *, std_lv: bool = False, htmt_absolute: bool = True) -> CFAResult:
    r"""Confirmatory factor analysis by maximum likelihood (listwise), matching lavaan 0.6.14 ``cfa()``.

    Parameters
    ----------
    data : DataFrame
        Respondents × items (numeric). Rows with a missing value on a model item are excluded and counted.
    model : dict
        ``{factor: [items]}``, e.g. ``{"tangibles": ["P1", "P2", "P3", "P4"], "reliability": [...], ...}``.
    std_lv : bool
        Identify factors by unit variance instead of a marker loading (lavaan ``std.lv``).
    htmt_absolute : bool
        Use absolute item correlations in HTMT (semTools default).

    Returns
    -------
    CFAResult with ``parameters`` (lavaan-style lhs/op/rhs/est/se/z/p), ``fit`` (chisq, df, pvalue,
    baseline_chisq, cfi, tli, rmsea + 90 % CI, srmr, logl, aic, bic), ``standardized_loadings``,
    ``factor_correlations``, ``reliability`` (CR, AVE per factor), ``fornell_larcker``, ``htmt``.

    References
    ----------
    Jöreskog (1969); Bentler (1990, CFI); Tucker & Lewis (1973); Steiger (1990, RMSEA); Hu & Bentler (1999);
    Fornell & Larcker (1981); Henseler, Ringle & Sarstedt (2015); Rosseel (2012) lavaan.

    Examples
    --------
    >>> res = cfa(df, {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]})
    >>> res.fit["cfi"], res.fit["rmsea"], res.standardized_loadings
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError("data must be a DataFrame with one column per item", expected="a pandas DataFrame")
    spec = _validate_model(data, model)
    mod = _Model(spec, std_lv)
    frame = as_item_frame(data[mod.items], min_items=3, name="model items")
    complete = frame.dropna(axis=0, how="any")
    n_excl = int(frame.shape[0] - complete.shape[0])
    x = complete.to_numpy(dtype=float)
    n, p = x.shape
    if n < p + 1:
        raise InsufficientDataError(f"only {n} complete rows for {p} model items; the covariance matrix is singular",
                                    expected=f"more than {p} complete respondents")
    sd = x.std(axis=0)
    if (sd == 0).any():
        bad = mod.items[int(np.argmax(sd == 0))]
        raise DataError("item has zero variance among the complete rows", column=bad,
                        expected="items with some variation")
    s = np.cov(x, rowvar=False, bias=True)
    sign, logdet_s = np.linalg.slogdet(s)
    if sign <= 0 or np.linalg.cond(s) > 1e12:
        raise DataError("the sample covariance matrix of the model items is singular (an item is a linear "
                        "combination of others)", expected="linearly independent items")
    df = p * (p + 1) // 2 - mod.n_par
    if df < 0:
        raise ParameterError(f"the model is not identified: {mod.n_par} free parameters for {p * (p + 1) // 2} "
                             "variances/covariances")

    # starting values: loadings from item-factor covariances, residual variances half the item variances
    theta0 = []
    for i, f in mod.free_load:
        theta0.append(1.0 if not std_lv else np.sqrt(s[i, i] / 2))
    theta0 += list(np.diag(s) / 2)
    for a, b in mod.phi_idx:
        theta0.append(0.05 if a != b else np.mean([s[i, i] / 2 for i, f, _ in mod.load_idx if f == a]))
    theta = np.array(theta0, dtype=float)

    low = np.tril_indices(p)

    def obj(t):
        sig = mod.sigma(t)
        val = _f_ml(sig, s, logdet_s, p)
        if not np.isfinite(val):
            return 1e10, np.zeros_like(t)
        inv = np.linalg.inv(sig)
        g_mat = inv - inv @ s @ inv  # dF/dΣ (symmetric)
        gv = g_mat[low] * np.where(low[0] == low[1], 1.0, 2.0)
        return val, mod.jacobian(t).T @ gv

    res = optimize.minimize(obj, theta, jac=True, method="L-BFGS-B",
                            options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-10})
    theta = res.x
    # Fisher scoring polish (quadratic convergence near the optimum)
    for _ in range(50):
        sig = mod.sigma(theta)
        inv = np.linalg.inv(sig)
        delta = mod.jacobian(theta)
        w = _weight(inv)
        info = delta.T @ w @ delta
        resid = (s - sig)[low]
        step = np.linalg.solve(info, delta.T @ w @ resid)
        theta = theta + step
        if np.max(np.abs(step)) < 1e-13:
            break
    sig = mod.sigma(theta)
    fmin = _f_ml(sig, s, logdet_s, p)
    converged = bool(np.isfinite(fmin))
    inv = np.linalg.inv(sig)
    delta = mod.jacobian(theta)
    info = delta.T @ _weight(inv) @ delta
    cov_theta = np.linalg.inv(info) / n
    se = np.sqrt(np.clip(np.diag(cov_theta), 0, None))

    chisq = n * fmin
    base = n * (np.sum(np.log(np.diag(s))) - logdet_s)
    df_b = p * (p - 1) // 2
    cfi = 1 - max(chisq - df, 0) / max(chisq - df, base - df_b, 0) if max(chisq - df, base - df_b, 0) > 0 else 1.0
    tli = ((base / df_b) - (chisq / df)) / ((base / df_b) - 1) if df > 0 else np.nan
    rmsea = np.sqrt(max(chisq - df, 0) / (df * n)) if df > 0 else 0.0
    lo_ci, hi_ci = _rmsea_ci(chisq, df, n) if df > 0 else (0.0, 0.0)
    dsd = np.sqrt(np.diag(s))
    dsig = np.sqrt(np.diag(sig))
    rres = s / np.outer(dsd, dsd) - sig / np.outer(dsig, dsig)
    srmr = float(np.sqrt(np.mean(rres[low] ** 2)))
    logl = -n / 2 * (p * np.log(2 * np.pi) + logdet_s + p)  # saturated
    logl_model = logl - chisq / 2
    npar = mod.n_par
    fit = {"chisq": float(chisq), "df": int(df), "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
           "baseline_chisq": float(base), "baseline_df": int(df_b), "cfi": float(cfi), "tli": float(tli),
           "rmsea": float(rmsea), "rmsea_ci_lower": float(lo_ci), "rmsea_ci_upper": float(hi_ci),
           "srmr": srmr, "fmin": float(fmin / 2), "logl": float(logl_model), "npar": int(npar),
           "aic": float(-2 * logl_model + 2 * npar), "bic": float(-2 * logl_model + np.log(n) * npar), "n": int(n)}

    lam, th, phi = mod.unpack(theta)
    # parameter table (lavaan order: loadings, residual variances, factor (co)variances)
    rows = []
    nl = len(mod.free_load)
    se_map = {}
    for k_, (i, f) in enumerate(mod.free_load):
        se_map[("load", i, f)] = se[k_]
    for i in range(p):
        se_map[("theta", i)] = se[nl + i]
    for k_, (a, b) in enumerate(mod.phi_idx):
        se_map[("phi", a, b)] = se[nl + p + k_]
    for i, f, free in mod.load_idx:
        rows.append((mod.factors[f], "=~", mod.items[i], lam[i, f], se_map.get(("load", i, f), 0.0) if free else 0.0))
    for i in range(p):
        rows.append((mod.items[i], "~~", mod.items[i], th[i], se_map[("theta", i)]))
    for a in range(mod.m):
        rows.append((mod.factors[a], "~~", mod.factors[a], phi[a, a], se_map.get(("phi", a, a), 0.0)))
    for a in range(mod.m):
        for b in range(a + 1, mod.m):
            rows.append((mod.factors[a], "~~", mod.factors[b], phi[b, a], se_map[("phi", b, a)]))
    params = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "est", "se"])
    with np.errstate(divide="ignore", invalid="ignore"):
        params["z"] = np.where(params["se"] > 0, params["est"] / params["se"], np.nan)
    params["pvalue"] = 2 * stats.norm.sf(np.abs(params["z"]))
    # standardized (std.all)
    fsd = np.sqrt(np.diag(phi))
    std_load = lam * fsd / dsig[:, None]
    std_rows = []
    for i, f, _ in mod.load_idx:
        std_rows.append({"factor": mod.factors[f], "item": mod.items[i], "loading": std_load[i, f],
                         "residual": th[i] / sig[i, i]})
    std_df = pd.DataFrame(std_rows).set_index("item")
    fcor = phi / np.outer(fsd, fsd)
    fcor_df = pd.DataFrame(fcor, index=mod.factors, columns=mod.factors)
    est_std = []
    for _, r in params.iterrows():
        if r["op"] == "=~":
            est_std.append(std_df.loc[r["rhs"], "loading"])
        elif r["lhs"] in mod.items:
            est_std.append(std_df.loc[r["lhs"], "residual"])
        else:
            est_std.append(fcor_df.loc[r["lhs"], r["rhs"]])
    params["std_all"] = est_std

    rel_rows = {}
    for fi, f in enumerate(mod.factors):
        lam_s = std_df.loc[spec[f], "loading"].to_numpy()
        cr = lam_s.sum() ** 2 / (lam_s.sum() ** 2 + np.sum(1 - lam_s ** 2))
        rel_rows[f] = {"CR": cr, "AVE": np.mean(lam_s ** 2), "sqrt_AVE": np.sqrt(np.mean(lam_s ** 2)),
                       "n_items": len(lam_s)}
    reliability = pd.DataFrame(rel_rows).T
    fl = fcor_df.abs().copy()
    for f in mod.factors:
        fl.loc[f, f] = reliability.loc[f, "sqrt_AVE"]
    corr = np.corrcoef(x, rowvar=False)
    if htmt_absolute:
        corr = np.abs(corr)
    pos = {it: i for i, it in enumerate(mod.items)}
    mono = {}
    for f in mod.factors:
        idx = [pos[i] for i in spec[f]]
        sub = corr[np.ix_(idx, idx)]
        mono[f] = sub[np.tril_indices(len(idx), -1)].mean()
    htmt = pd.DataFrame(np.eye(mod.m), index=mod.factors, columns=mod.factors)
    for a in mod.factors:
        for b in mod.factors:
            if a != b:
                hetero = corr[np.ix_([pos[i] for i in spec[a]], [pos[i] for i in spec[b]])].mean()
                htmt.loc[a, b] = hetero / np.sqrt(mono[a] * mono[b])
    warns = _cfa_warnings(fit, reliability, fl, htmt, th, fcor, converged, mod)
    return CFAResult(spec, params, std_df, fcor_df, fit, reliability, fl, htmt, int(n), n_excl, converged,
                     pd.DataFrame(sig, index=mod.items, columns=mod.items),
                     pd.DataFrame(s, index=mod.items, columns=mod.items), warnings=warns)


def _weight(inv: np.ndarray) -> np.ndarray:
    """0.5·D'(Σ⁻¹⊗Σ⁻¹)D for the vech (lower-triangle) parametrisation."""
    p = inv.shape[0]
    ii, jj = np.tril_indices(p)
    a = inv[np.ix_(ii, ii)] * inv[np.ix_(jj, jj)] + inv[np.ix_(ii, jj)] * inv[np.ix_(jj, ii)]
    # D'(A⊗A)D for vech positions a=(i,j), b=(k,l) is (A_ik A_jl + A_il A_jk)·c_a·c_b with c = 1/√2 on the
    # diagonal and √2 off it (the duplication matrix counts off-diagonal elements twice)
    c = np.where(ii == jj, 1 / np.sqrt(2), np.sqrt(2))
    return 0.5 * a * np.outer(c, c)


def _rmsea_ci(chisq: float, df: int, n: int, level: float = 0.90):
    """lavaan's RMSEA interval: non-centrality λ with P(χ²_df(λ) ≤ χ²) = 0.95 / 0.05, RMSEA = √(λ/(N·df))."""
    upper_tail = (1 + level) / 2
    lower_tail = (1 - level) / 2

    def root(target):
        f = lambda lam: (stats.ncx2.cdf(chisq, df, lam) if lam > 0 else stats.chi2.cdf(chisq, df)) - target
        if f(0) < 0:
            return 0.0
        hi = max(chisq, 1.0)
        while f(hi) > 0:
            hi *= 2
        return optimize.brentq(f, 0, hi, xtol=1e-14, rtol=1e-14)

    lam_lo = root(upper_tail)
    lam_hi = root(lower_tail)
    return np.sqrt(lam_lo / (n * df)), np.sqrt(lam_hi / (n * df))


def _cfa_warnings(fit, reliability, fl, htmt, th, fcor, converged, mod):
    out = []
    if fit["cfi"] < 0.90 or fit["rmsea"] > 0.08 or fit["srmr"] > 0.08:
        out.append(QualityWarning(
            "W-REL-12", "warning",
            f"The declared factor structure does not fit well (CFI {fit['cfi']:.3f}, RMSEA {fit['rmsea']:.3f}, SRMR "
            f"{fit['srmr']:.3f}; cut-offs CFI ≥ 0.90, RMSEA/SRMR ≤ 0.08): report the dimension scores with caution.",
            evidence={k: fit[k] for k in ("cfi", "tli", "rmsea", "srmr", "chisq", "df")}, subject="structure",
            message_zh=f"所设定的因子结构拟合不佳（CFI {fit['cfi']:.3f}，RMSEA {fit['rmsea']:.3f}，SRMR {fit['srmr']:.3f}）："
                       "维度得分需谨慎解读。"))
    bad_pairs = []
    facs = list(htmt.index)
    for i, a in enumerate(facs):
        for b in facs[i + 1:]:
            if htmt.loc[a, b] > 0.90 or fl.loc[a, b] >= min(fl.loc[a, a], fl.loc[b, b]):
                bad_pairs.append(f"{a}/{b}")
    if bad_pairs:
        out.append(QualityWarning(
            "W-REL-13", "warning", "Discriminant validity is not supported for " + ", ".join(bad_pairs)
            + " (HTMT > 0.90 or a factor correlation ≥ √AVE).", evidence={"pairs": bad_pairs},
            subject=",".join(bad_pairs), message_zh="区分效度不足：" + "、".join(bad_pairs)))
    improper = (th < 0).any() or (np.abs(fcor[np.tril_indices(len(fcor), -1)]) >= 1).any()
    if improper or not converged:
        out.append(QualityWarning(
            "W-REL-14", "critical", "Improper CFA solution (negative residual variance or factor correlation ≥ 1) "
            "or no convergence: do not interpret the estimates.", evidence={"converged": converged},
            message_zh="CFA 解不适当（残差方差为负或因子相关 ≥ 1）或未收敛：请勿解读估计值。"))
    weak = reliability.index[(reliability["CR"] < 0.70) | (reliability["AVE"] < 0.50)].tolist()
    if weak:
        out.append(QualityWarning(
            "W-REL-15", "info", "Convergent validity is weak for " + ", ".join(weak) + " (CR < 0.70 or AVE < 0.50).",
            evidence={f: {"CR": float(reliability.loc[f, "CR"]), "AVE": float(reliability.loc[f, "AVE"])} for f in weak},
            subject=",".join(weak), message_zh="收敛效度偏弱：" + "、".join(weak) + "（CR < 0.70 或 AVE < 0.50）。"))
    return out
