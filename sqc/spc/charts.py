"""Shewhart charts: X̄–R, X̄–S, I–MR, p, np, c, u, Laney p′/u′, g and t charts.

Conventions (and where references differ)
-----------------------------------------
* Limits: centre ± L·σ_stat with L = 3 by default; per-point (stepped) limits for variable subgroup sizes.
  Lower limits of non-negative statistics (R, S, MR, p, np, c, u, g, t) are clipped at 0 (p at 1 above).
* Centre of X̄: the size-weighted grand mean Σnᵢx̄ᵢ/Σnᵢ of the baseline subgroups (qcc; Montgomery 6.3).
* σ̂ for X̄–R / X̄–S (``sigma=``): ``"rbar"`` mean of Rᵢ/d2(nᵢ) (qcc "UWAVE-R"; = R̄/d2 for equal n),
  ``"rbar_mvlue"`` (d2/d3)²-weighted (qcc "MVLUE-R"), ``"sbar"`` mean of Sᵢ/c4(nᵢ) (qcc "UWAVE-SD"),
  ``"sbar_mvlue"`` c4²/(1−c4²)-weighted (qcc "MVLUE-SD"), ``"pooled"`` √(Σ(nᵢ−1)sᵢ²/Σ(nᵢ−1)) / c4(Σ(nᵢ−1)+1)
  (qcc "RMSDF"), ``"pooled_biased"`` the same without c4, ``"pooled_a3"`` s_p with per-subgroup σ̂ᵢ = s_p/c4(nᵢ),
  i.e. X̄ limits x̿ ± A3(nᵢ)·s_p and S limits B3(nᵢ)·s_p, B4(nᵢ)·s_p (Montgomery eq. 6.31; Methods §5.2;
  qicharts2's variable-n X̄ chart), or a number (known σ).
* Centre of the R and S charts (``dispersion_center=``): ``"expected"`` (default) d2(nᵢ)σ̂ / c4(nᵢ)σ̂ per point
  (Montgomery; = R̄ / S̄ for equal n), or ``"weighted"`` the size-weighted mean Σnᵢ Rᵢ/Σnᵢ (qcc, constant centre
  even with variable n). R limits: centre ± L·d3(nᵢ)σ̂; S limits: centre ± L·σ̂√(1−c4(nᵢ)²) (both clipped at 0).
* I–MR: σ̂ = MR̄/d2(2) (``sigma="mr"``), the median moving range / 0.954 (``"mr_median"``, Wheeler: the exact
  median of the range of two normals is 0.9539 σ), or the sample SD / c4(n) (``"sd"``, qcc "SD"). Optional
  Nelson (1982) screening: moving ranges > 3.267·MR̄ are dropped before MR̄ is recomputed (``screen_mr=True``).
* ``constants="tabled"`` uses qcc's 3-decimal d2 and 7-decimal d3 (n ≤ 25); ``"exact"`` computes them.
* Laney p′/u′: zᵢ = (yᵢ − ȳ)/σᵢ; σ_z = MR̄(z)/d2(2) (d2 = 1.128 tabled, 1.12838 exact), limits ȳ ± L·σᵢσ_z.
  qicharts2 uses 1.128; NHS "Making Data Count" and the ``shewhart`` package the exact d2.
* g chart: ḡ = mean count between events; σ = √(ḡ(ḡ+1)) (geometric); UCL = ḡ + L σ (Kaminsky et al. 1992,
  Benneyan 2001; qicharts2). ``center="median"`` draws the centre at the median as qicharts2 does (limits still
  from the mean).
* t chart (Nelson 1994): y = t^(1/3.6) charted on an I chart; centre and limits back-transformed (^3.6).

Every chart takes ``baseline`` (count / slice / mask / (start, end) of labels), ``stages`` (column or array of
contiguous stage labels, each with its own limits), ``iterate`` (Phase I: drop baseline points beyond the limits
and recompute until none remain, at most 10 rounds; the dropped points are counted in ``exclusions``), ``rules``
and ``rule_lengths`` (see :mod:`sqc.spc.rules`), ``L`` (limit width in σ).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..diagnostics import QualityWarning
from ..errors import DataError, InsufficientDataError, ParameterError
from .constants import c4 as _c4, d2 as _d2, d3 as _d3, _check_mode
from .core import (ChartResult, PairedChart, baseline_mask, check_baseline, data_warnings, finish,
                   numeric_column, order_by_time, require_columns, sigma_zero_warning, stage_array)
from .rules import resolve_rules

__all__ = ["xbar_r", "xbar_s", "imr", "p_chart", "np_chart", "c_chart", "u_chart", "laney_p", "laney_u",
           "g_chart", "t_chart", "subgroup_stats"]

SIGMA_METHODS_SUBGROUP = ("rbar", "rbar_mvlue", "sbar", "sbar_mvlue", "pooled", "pooled_biased", "pooled_a3")
SIGMA_METHODS_INDIVIDUAL = ("mr", "mr_median", "sd")
MAX_ITER = 10


def _check_L(L):
    if not (isinstance(L, (int, float, np.integer, np.floating)) and np.isfinite(L) and L > 0):
        raise ParameterError(f"L (limit width in σ) must be a positive number, got {L!r}")
    return float(L)


def _const(arr, stage_codes, per_stage):
    """Per-point values from per-stage values; a broadcast view (no copy) when there is one stage."""
    if len(per_stage) == 1 and np.ndim(per_stage[0]) == 0:
        return np.broadcast_to(np.float64(per_stage[0]), arr.shape)
    out = np.empty(arr.shape[0])
    for k, v in enumerate(per_stage):
        m = stage_codes == k
        out[m] = v if np.ndim(v) == 0 else np.asarray(v)[m] if np.shape(v)[0] == arr.shape[0] else v
    return out


def _phase(base, has_baseline, iterate):
    """Phase labels as a compact categorical: "I" (baseline), "II" (monitored), "I*" (excluded by iteration)."""
    if not has_baseline and not iterate:
        return pd.Categorical.from_codes(np.zeros(base.shape[0], dtype=np.int8), ["I", "II", "I*"])
    codes = np.where(base, 0, 1 if has_baseline else 2).astype(np.int8)
    return pd.Categorical.from_codes(codes, ["I", "II", "I*"])


def _stage_codes(stage_ids, n):
    if stage_ids is None:
        return np.zeros(n, dtype=np.int8), [None]
    codes, uniq = pd.factorize(stage_ids)
    return codes, list(uniq)


# ----------------------------------------------------------------------------------------- subgroups
def subgroup_stats(df: pd.DataFrame, value: str, subgroup: str) -> pd.DataFrame:
    """Per-subgroup n, mean, range and SD in one vectorised pass (bincount; reduceat on sorted codes).

    Returns ``(labels, n, mean, rng, sd, n_missing)``; subgroups are in sorted label order. Missing values are
    dropped and counted.
    """
    require_columns(df, value, subgroup)
    x = numeric_column(df, value)
    key = df[subgroup]
    if key.isna().any():
        i = int(np.flatnonzero(key.isna().to_numpy())[0])
        raise DataError("missing subgroup label", column=subgroup, row=df.index[i], expected="a subgroup label")
    miss = np.isnan(x)
    n_missing = int(miss.sum())
    if n_missing:
        x = x[~miss]
        key = key[~miss]
    kv = key.to_numpy()
    if kv.dtype.kind in "iuf" and kv.shape[0] > 1 and bool(np.all(kv[1:] >= kv[:-1])):
        return _sorted_subgroup_stats(x, kv, n_missing)
    codes, labels = pd.factorize(key, sort=True)
    m = len(labels)
    if m == 0:
        raise InsufficientDataError("no data to chart", column=value)
    n = np.bincount(codes, minlength=m).astype(float)
    mean = np.bincount(codes, weights=x, minlength=m) / n
    # Σ(x − x̄ᵢ)² per subgroup from deviations (not Σx² − n x̄², which cancels badly for data like 74.001 ± 0.01),
    # in blocks so the temporaries stay small
    ss = np.zeros(m)
    block = 1 << 18
    for a in range(0, x.shape[0], block):
        c = codes[a:a + block]
        dev = x[a:a + block] - mean[c]
        ss += np.bincount(c, weights=dev * dev, minlength=m)
    del dev
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(ss / (n - 1))
    if np.all(codes[1:] >= codes[:-1]):
        xs, starts = x, np.r_[0, np.flatnonzero(np.diff(codes)) + 1]
    else:
        order = np.argsort(codes, kind="stable")
        xs = x[order]
        del order
        starts = np.r_[0, np.cumsum(n[:-1]).astype(np.int64)]
    rng = np.maximum.reduceat(xs, starts) - np.minimum.reduceat(xs, starts)
    return pd.Index(labels), n, mean, rng, sd, n_missing


def _sorted_subgroup_stats(x, kv, n_missing, block=1 << 16):
    """Fast path for rows already ordered by a numeric subgroup key: group boundaries from the key itself,
    sums/extremes by ufunc.reduceat, squared deviations in blocks (no per-row code array is kept)."""
    N = x.shape[0]
    starts = np.r_[0, np.flatnonzero(kv[1:] != kv[:-1]) + 1]
    m = starts.shape[0]
    n = np.diff(np.r_[starts, N]).astype(float)
    k = int(n[0])
    if k >= 1 and N == m * k and n.min() == n.max():
        # equal subgroup sizes: a (m, k) view, reduced row-wise in blocks of rows
        X = x.reshape(m, k)
        mean, sd, rng = np.empty(m), np.empty(m), np.empty(m)
        rows = max(block // k, 1)
        for a in range(0, m, rows):
            blk = X[a:a + rows]
            mean[a:a + rows] = blk.mean(axis=1)
            dev = blk - mean[a:a + rows, None]
            with np.errstate(invalid="ignore", divide="ignore"):
                sd[a:a + rows] = np.sqrt(np.einsum("ij,ij->i", dev, dev) / (k - 1))
            rng[a:a + rows] = blk.max(axis=1) - blk.min(axis=1)
        return pd.Index(kv[starts]), n, mean, rng, sd, n_missing
    mean = np.add.reduceat(x, starts) / n
    ss = np.zeros(m)
    for a in range(0, N, block):
        idx = np.arange(a, min(N, a + block))
        c = np.searchsorted(starts, idx, side="right") - 1
        dev = x[a:a + block] - mean[c]
        ss += np.bincount(c, weights=dev * dev, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(ss / (n - 1))
    rng = np.maximum.reduceat(x, starts) - np.minimum.reduceat(x, starts)
    return pd.Index(kv[starts]), n, mean, rng, sd, n_missing


def _sigma_subgroups(method, n, rng, sd, constants):
    if method == "rbar":
        return float(np.mean(rng / _d2(n, constants)))
    if method == "rbar_mvlue":
        dd2, dd3 = _d2(n, constants), _d3(n, constants)
        w = (dd2 / dd3) ** 2
        return float(np.sum(rng / dd2 * w) / np.sum(w))
    if method == "sbar":
        return float(np.mean(sd / _c4(n)))
    if method == "sbar_mvlue":
        cc = _c4(n)
        w = cc ** 2 / (1 - cc ** 2)
        return float(np.sum(sd / cc * w) / np.sum(w))
    if method in ("pooled", "pooled_biased", "pooled_a3"):
        w = n - 1
        sp = float(np.sqrt(np.sum(sd ** 2 * w) / np.sum(w)))
        return sp if method in ("pooled_biased", "pooled_a3") else sp / float(_c4(np.sum(w) + 1))
    raise ParameterError(f"sigma must be one of {SIGMA_METHODS_SUBGROUP} or a number, got {method!r}")


def _variables(kind, df, value, subgroup, *, baseline, stages, sigma, center, constants, L, rules, rule_lengths,
               iterate, dispersion_center, dispersion_rules):
    _check_mode(constants)
    L = _check_L(L)
    specs = resolve_rules(rules, rule_lengths)
    disp_specs = resolve_rules(dispersion_rules)
    if dispersion_center not in ("expected", "weighted"):
        raise ParameterError(f"dispersion_center must be 'expected' or 'weighted', got {dispersion_center!r}")
    if not (isinstance(sigma, str) or (isinstance(sigma, (int, float)) and sigma > 0)):
        raise ParameterError(f"sigma must be a method name or a known σ > 0, got {sigma!r}")
    if isinstance(sigma, str) and sigma not in SIGMA_METHODS_SUBGROUP:
        raise ParameterError(f"sigma must be one of {SIGMA_METHODS_SUBGROUP} or a number, got {sigma!r}")
    warnings: list = []
    labels, n, mean, rng, sd, n_missing = subgroup_stats(df, value, subgroup)
    ones = np.flatnonzero(n < 2)
    if ones.size:
        lab = labels[ones[0]]
        row = df.index[np.flatnonzero((df[subgroup] == lab).to_numpy())[0]]
        raise DataError(f"subgroup {lab!r} has a single value: a {'range' if kind == 'xbar_r' else 'SD'} chart "
                        f"needs ≥ 2 values per subgroup (use imr() for individual values)", column=subgroup,
                        row=row, value=lab, expected="subgroups of size ≥ 2", count=int(ones.size))
    m = len(labels)
    stage_ids = None
    if stages is not None:
        # one stage label per subgroup: the stage of the subgroup's first row
        require_columns(df, stages)
        first = df.drop_duplicates(subgroup).set_index(subgroup)[stages]
        stage_ids = stage_array(None, first.reindex(labels).to_numpy(), m)
    codes, stage_names = _stage_codes(stage_ids, m)
    base = baseline_mask(baseline, m, labels, stage_ids)
    check_baseline(base, stage_ids, warnings, value)
    disp = rng if kind == "xbar_r" else sd
    excluded = 0
    per_stage = []
    for it in range(MAX_ITER + 1):
        per_stage = []
        for k in range(len(stage_names)):
            bm = base & (codes == k)
            nb = n[bm]
            if isinstance(sigma, str):
                sig = _sigma_subgroups(sigma, nb, rng[bm], sd[bm], constants)
            else:
                sig = float(sigma)
            cen = float(np.sum(nb * mean[bm]) / np.sum(nb)) if center is None else float(center)
            wdisp = float(np.sum(nb * disp[bm]) / np.sum(nb))
            per_stage.append((cen, sig, wdisp, int(bm.sum())))
        if not iterate:
            break
        cen_a = np.array([p[0] for p in per_stage])[codes]
        sig_a = _sigma_points(per_stage, codes, n, sigma)
        out = base & (np.abs(mean - cen_a) > L * sig_a / np.sqrt(n))
        dc, dl, du, _ = _dispersion_limits(kind, n, codes, per_stage, constants, L, dispersion_center, sigma)
        out |= base & ((disp > du) | (disp < dl))
        if not out.any() or it == MAX_ITER:
            break
        base = base & ~out
        excluded += int(out.sum())
        check_baseline(base, stage_ids, [], value)
    cen = _const(mean, codes, [p[0] for p in per_stage])
    sig = _sigma_points(per_stage, codes, n, sigma) if sigma == "pooled_a3" else \
        _const(mean, codes, [p[1] for p in per_stage])
    se = sig / np.sqrt(n)
    phase = _phase(base, baseline is not None, iterate)
    for k, p in enumerate(per_stage):
        if p[1] == 0:
            warnings.append(sigma_zero_warning(value, stage_names[k]))
    warnings += data_warnings(mean[base], value, skew=False)
    if kind == "xbar_r" and np.unique(n).size > 1 and n.max() > 10:
        warnings.append(QualityWarning("W-SPC-09", "info", "subgroup sizes vary and exceed 10: the range wastes "
                                       "information; prefer X̄–S", {"n_min": float(n.min()), "n_max": float(n.max())},
                                       value, "子组大小不等且超过10：极差损失信息，建议用均值-标准差图"))
    excl = [("missing values in " + value, n_missing), ("baseline subgroups excluded by iteration", excluded)]
    if n_missing or excluded:
        warnings.append(QualityWarning("W-SPC-07", "info", f"{n_missing} missing value(s) dropped; {excluded} "
                                       f"baseline subgroup(s) excluded by iteration",
                                       {"missing": n_missing, "iterated_out": excluded}, value,
                                       f"剔除缺失值{n_missing}个；迭代剔除基线子组{excluded}个"))
    params = {"stages": {str(stage_names[k] if stage_names[k] is not None else 1): {
        "center": p[0], "sigma": p[1], "baseline_subgroups": p[3]} for k, p in enumerate(per_stage)},
        "sigma_method": sigma if isinstance(sigma, str) else "known", "constants": constants, "L": L,
        "dispersion_center": dispersion_center}
    xbar = finish("xbar", mean, cen, cen - L * se, cen + L * se, se, labels, n, phase, stage_ids, specs,
                  params=params, warnings=warnings, exclusions=excl, title=f"X̄ of {value}")
    dc, dl, du, dsig = _dispersion_limits(kind, n, codes, per_stage, constants, L, dispersion_center, sigma)
    dname = "r" if kind == "xbar_r" else "s"
    dparams = dict(params)
    dparams["stages"] = {k: {**v, "center_dispersion": float(np.mean(dc[codes == j]))}
                         for j, (k, v) in enumerate(params["stages"].items())}
    dispc = finish(dname, disp, dc, dl, du, dsig, labels, n, phase, stage_ids, disp_specs, params=dparams,
                   warnings=list(warnings), title=("R" if dname == "r" else "S") + f" of {value}")
    return PairedChart(kind, xbar, dispc)


def _sigma_points(per_stage, codes, n, sigma):
    """σ̂ per subgroup: the stage's σ̂, divided by c4(nᵢ) for the "pooled_a3" convention (Montgomery eq. 6.31)."""
    sig = np.array([p[1] for p in per_stage])[codes]
    return sig / _c4(n) if sigma == "pooled_a3" else sig


def _dispersion_limits(kind, n, codes, per_stage, constants, L, dispersion_center, sigma=None):
    sig = _sigma_points(per_stage, codes, n, sigma)
    if kind == "xbar_r":
        dd2, dd3 = _d2(n, constants), _d3(n, constants)
        c = dd2 * sig if dispersion_center == "expected" else np.array([p[2] for p in per_stage])[codes]
        s = dd3 * sig
    else:
        cc = _c4(n)
        c = cc * sig if dispersion_center == "expected" else np.array([p[2] for p in per_stage])[codes]
        s = sig * np.sqrt(1 - cc ** 2)
    c = np.broadcast_to(c, n.shape).astype(float)
    return c, np.maximum(c - L * s, 0.0), c + L * s, s


def xbar_r(df: pd.DataFrame, value: str, subgroup: str, *, baseline=None, stages=None, sigma="rbar", center=None,
           constants: str = "exact", L: float = 3.0, rules="default", rule_lengths=None, iterate: bool = False,
           dispersion_center: str = "expected", dispersion_rules="limits") -> PairedChart:
    """X̄–R chart of ``value`` in subgroups given by the ``subgroup`` column (stepped limits for variable n).

    X̄ chart: x̿ ± L·σ̂/√nᵢ; R chart: d2(nᵢ)σ̂ ± L·d3(nᵢ)σ̂ (clipped at 0). For equal n and L = 3 these are the
    textbook x̿ ± A2·R̄ and D3·R̄, D4·R̄ (Montgomery 2019, §6.2). σ̂ = mean(Rᵢ/d2(nᵢ)) by default.

    Parameters
    ----------
    df : DataFrame
    value : str
        Numeric measurement column (e.g. ``"wait_s"``).
    subgroup : str
        Subgroup label column (e.g. a day); subgroups are charted in sorted label order.
    baseline : int, slice, bool mask, (start, end) or None
        Phase I subgroups (limits are computed from them and frozen for the rest).
    stages : str or array, optional
        Stage per row (column name): each stage gets its own centre and limits.
    sigma : str or float
        σ estimator (see module docstring) or a known σ.
    center : float, optional
        A known/target centre for X̄ (default: the baseline grand mean).
    constants : {"exact", "tabled"}
    L : float
    rules, rule_lengths : run rules for the X̄ chart (see :mod:`sqc.spc.rules`).
    iterate : bool
        Phase I iteration (drop baseline subgroups beyond either chart's limits, recompute).
    dispersion_center : {"expected", "weighted"}
    dispersion_rules : rules for the R chart (default: beyond limits only; run rules on ranges mislead).

    Returns
    -------
    PairedChart with ``.xbar`` and ``.r`` (each a :class:`ChartResult`).

    Examples
    --------
    >>> res = xbar_r(calls, value="wait_s", subgroup="day", baseline=20)      # doctest: +SKIP
    >>> res.xbar.to_frame().tail()                                           # doctest: +SKIP
    """
    return _variables("xbar_r", df, value, subgroup, baseline=baseline, stages=stages, sigma=sigma, center=center,
                      constants=constants, L=L, rules=rules, rule_lengths=rule_lengths, iterate=iterate,
                      dispersion_center=dispersion_center, dispersion_rules=dispersion_rules)


def xbar_s(df: pd.DataFrame, value: str, subgroup: str, *, baseline=None, stages=None, sigma="sbar", center=None,
           constants: str = "exact", L: float = 3.0, rules="default", rule_lengths=None, iterate: bool = False,
           dispersion_center: str = "expected", dispersion_rules="limits") -> PairedChart:
    """X̄–S chart (variable n with per-point limits).

    X̄: x̿ ± L·σ̂/√nᵢ = x̿ ± A3(nᵢ)·c4(nᵢ)σ̂; S: c4(nᵢ)σ̂ ± L·σ̂√(1 − c4(nᵢ)²) (B3, B4 for equal n).
    σ̂ = mean(Sᵢ/c4(nᵢ)) by default (= S̄/c4 for equal n; Montgomery 2019 §6.3); ``sigma="pooled"`` gives qcc's
    RMSDF and ``"pooled_biased"`` the pooled s_p of Methods §5.2. Parameters as :func:`xbar_r`. Returns ``.xbar`` and ``.s``.
    """
    return _variables("xbar_s", df, value, subgroup, baseline=baseline, stages=stages, sigma=sigma, center=center,
                      constants=constants, L=L, rules=rules, rule_lengths=rule_lengths, iterate=iterate,
                      dispersion_center=dispersion_center, dispersion_rules=dispersion_rules)


# ----------------------------------------------------------------------------------------- individuals
def _labels(df, time):
    return pd.Index(df[time]) if time is not None else pd.Index(df.index)


def _individuals_core(x, labels, *, chart, baseline, stage_ids, sigma, center, constants, L, specs, iterate,
                      screen_mr, subject, warnings, excl, mr_specs, transform=None, clip_zero=False, title=""):
    m = x.shape[0]
    codes, stage_names = _stage_codes(stage_ids, m)
    base = baseline_mask(baseline, m, labels, stage_ids)
    check_baseline(base, stage_ids, warnings, subject)
    mr = np.empty(m)
    mr[0] = np.nan
    np.subtract(x[1:], x[:-1], out=mr[1:])
    np.abs(mr, out=mr)
    if stage_ids is not None:
        starts = np.r_[True, stage_ids[1:] != stage_ids[:-1]]
        mr[starts] = np.nan
    d2_2 = _d2(2, constants)
    d3_2 = _d3(2, constants)
    excluded = 0
    for it in range(MAX_ITER + 1):
        per_stage = []
        for k in range(len(stage_names)):
            bm = base & (codes == k) if len(stage_names) > 1 else base
            whole = len(stage_names) == 1 and bool(bm.all())
            xb = x if whole else x[bm]
            cen = float(np.mean(xb)) if center is None else float(center)
            # moving ranges within the baseline: both points of the pair in the baseline
            if whole:
                mrb = mr[1:]
            else:
                pair = bm.copy()
                pair[1:] &= bm[:-1]
                pair[0] = False
                mrb = mr[pair]
                mrb = mrb[~np.isnan(mrb)]
            if isinstance(sigma, (int, float)):
                sig = float(sigma)
                mrbar = sig * d2_2
            elif sigma == "sd":
                sig = float(np.std(xb, ddof=1) / _c4(xb.size))
                mrbar = float(np.mean(mrb)) if mrb.size else np.nan
            else:
                if mrb.size == 0:
                    raise InsufficientDataError("the baseline has no pair of consecutive points for a moving range",
                                                expected="at least 2 consecutive baseline points")
                if screen_mr:
                    mrb = mrb[mrb <= (1 + 3 * d3_2 / d2_2) * np.mean(mrb)]
                if sigma == "mr":
                    mrbar = float(np.mean(mrb))
                    sig = mrbar / d2_2
                elif sigma == "mr_median":
                    mrbar = float(np.mean(mrb))
                    # median of |X1 − X2| for N(0, σ²): √2·Φ⁻¹(0.75)·σ = 0.9539σ
                    sig = float(np.median(mrb)) / (np.sqrt(2) * 0.6744897501960817)
                else:
                    raise ParameterError(f"sigma must be one of {SIGMA_METHODS_INDIVIDUAL} or a number, got {sigma!r}")
            per_stage.append((cen, sig, mrbar, int(bm.sum())))
        if not iterate:
            break
        cen_a = np.array([p[0] for p in per_stage])[codes]
        sig_a = np.array([p[1] for p in per_stage])[codes]
        out = base & (np.abs(x - cen_a) > L * sig_a)
        if not out.any() or it == MAX_ITER:
            break
        base = base & ~out
        excluded += int(out.sum())
        check_baseline(base, stage_ids, [], subject)
    # per-stage scalars broadcast to the points (no per-point copies for a single stage)
    cen = _const(x, codes, [p[0] for p in per_stage])
    sig = _const(x, codes, [p[1] for p in per_stage])
    lcl = _const(x, codes, [p[0] - L * p[1] for p in per_stage])
    ucl = _const(x, codes, [p[0] + L * p[1] for p in per_stage])
    for k, p in enumerate(per_stage):
        if p[1] == 0:
            warnings.append(sigma_zero_warning(subject, stage_names[k]))
    phase = _phase(base, baseline is not None, iterate)
    excl = list(excl) + [("baseline points excluded by iteration", excluded)]
    params = {"stages": {str(stage_names[k] if stage_names[k] is not None else 1): {
        "center": p[0], "sigma": p[1], "mr_bar": p[2], "baseline_points": p[3]} for k, p in enumerate(per_stage)},
        "sigma_method": sigma if isinstance(sigma, str) else "known", "constants": constants, "L": L,
        "screen_mr": screen_mr}
    extra = {}
    stat_plot, c_plot, l_plot, u_plot, s_plot = x, cen, lcl, ucl, sig
    if transform is not None:
        # t chart: rules on the transformed scale, display back-transformed
        back = transform
        extra = {"transformed": x}
        flags_res = finish(chart, x, cen, lcl, ucl, sig, labels, np.ones(m), phase, stage_ids, specs,
                           params=params, warnings=warnings, exclusions=excl, title=title)
        lo_b = np.where(np.asarray(lcl) > 0, back(np.maximum(lcl, 0)), 0.0)
        res = ChartResult(chart=chart, statistic=back(x), center=back(cen), lcl=lo_b, ucl=back(ucl),
                          sigma=np.full(m, np.nan), labels=labels, sizes=np.ones(m), phase=phase,
                          stage=flags_res.stage, flags=flags_res.flags, specs=flags_res.specs, params=params,
                          warnings=warnings, exclusions=flags_res.exclusions, extra=extra, title=title)
        i_res = res
    else:
        if clip_zero:
            l_plot = _const(x, codes, [max(p[0] - L * p[1], 0.0) for p in per_stage])
        i_res = finish(chart, stat_plot, c_plot, l_plot, u_plot, s_plot, labels, np.ones(1), phase, stage_ids,
                       specs, params=params, warnings=warnings, exclusions=excl, title=title)
    mr_center = _const(x, codes, [p[1] * d2_2 for p in per_stage])
    sig_mr = _const(x, codes, [p[1] * d3_2 for p in per_stage])
    mr_ucl = _const(x, codes, [p[1] * (d2_2 + L * d3_2) for p in per_stage])
    mr_res = finish("mr", mr, mr_center, np.zeros(1), mr_ucl, sig_mr, labels,
                    np.full(1, 2.0), phase, stage_ids, mr_specs, params=params, warnings=list(warnings),
                    exclusions=excl, title="moving range")
    return i_res, mr_res


def imr(df: pd.DataFrame, value: str, *, time: str | None = None, baseline=None, stages=None, sigma="mr",
        center=None, constants: str = "exact", L: float = 3.0, rules="default", rule_lengths=None,
        iterate: bool = False, screen_mr: bool = False, mr_rules="limits") -> PairedChart:
    """Individuals and moving-range (XmR) chart.

    I chart: x̄ ± L·σ̂ with σ̂ = MR̄/d2(2) (d2(2) = 1.128379 exact, 1.128 tabled; Wheeler's 2.66 = 3/1.128);
    MR chart: centre MR̄, UCL = MR̄ + L·d3(2)σ̂ (= 3.267·MR̄ tabled), LCL 0. Moving ranges are taken between
    consecutive points within a stage; only pairs inside the baseline estimate σ.

    Parameters
    ----------
    df : DataFrame
    value : str
        The charted column (one value per period, e.g. a daily mean).
    time : str, optional
        Time column: labels the x axis, must be unique; unsorted rows are sorted (warning W-SPC-08).
    sigma : {"mr", "mr_median", "sd"} or float
    screen_mr : bool
        Nelson (1982) screening of large moving ranges before MR̄ is computed.
    Other parameters as :func:`xbar_r`. Rows with a missing value are dropped and counted.

    Returns
    -------
    PairedChart with ``.i`` and ``.mr``.

    References
    ----------
    Wheeler & Chambers (1992); Montgomery (2019) §6.4; Methods §5.2.

    Examples
    --------
    >>> res = imr(monthly, "asa_s", time="period", baseline=12)    # doctest: +SKIP
    >>> res.i.signals                                             # doctest: +SKIP
    """
    _check_mode(constants)
    L = _check_L(L)
    if not (isinstance(sigma, str) or (isinstance(sigma, (int, float)) and sigma > 0)):
        raise ParameterError(f"sigma must be one of {SIGMA_METHODS_INDIVIDUAL} or a known σ > 0, got {sigma!r}")
    if isinstance(sigma, str) and sigma not in SIGMA_METHODS_INDIVIDUAL:
        raise ParameterError(f"sigma must be one of {SIGMA_METHODS_INDIVIDUAL} or a number, got {sigma!r}")
    specs = resolve_rules(rules, rule_lengths)
    mr_specs = resolve_rules(mr_rules)
    require_columns(df, value, time)
    warnings: list = []
    df = order_by_time(df, time, warnings)
    x = numeric_column(df, value)
    miss = np.isnan(x)
    n_missing = int(miss.sum())
    stage_ids = stage_array(df, stages, len(df)) if stages is not None else None
    labels = _labels(df, time)
    if n_missing:
        keep = ~miss
        x, labels = x[keep], labels[keep]
        stage_ids = stage_ids[keep] if stage_ids is not None else None
        if isinstance(baseline, np.ndarray) or isinstance(baseline, (pd.Series, list)):
            baseline = np.asarray(baseline)[keep]
        warnings.append(QualityWarning("W-SPC-07", "info", f"{n_missing} missing value(s) in {value!r} dropped",
                                       {"missing": n_missing}, value, f"剔除{value}缺失值{n_missing}个"))
    if x.size < 2:
        raise InsufficientDataError("an individuals chart needs at least 2 values", column=value, value=int(x.size))
    base_for_warn = baseline_mask(baseline, x.size, labels, stage_ids)
    warnings += data_warnings(x if base_for_warn.all() else x[base_for_warn], value)
    i_res, mr_res = _individuals_core(x, labels, chart="i", baseline=baseline, stage_ids=stage_ids, sigma=sigma,
                                      center=center, constants=constants, L=L, specs=specs, iterate=iterate,
                                      screen_mr=screen_mr, subject=value, warnings=warnings,
                                      excl=[(f"missing values in {value}", n_missing)], mr_specs=mr_specs,
                                      title=f"individuals: {value}")
    return PairedChart("imr", i_res, mr_res)


# ----------------------------------------------------------------------------------------- attributes
def _attr_inputs(df, count, size, time, *, need_size, integer=True, proportion=False):
    require_columns(df, count, size, time)
    warnings: list = []
    df = order_by_time(df, time, warnings)
    c = numeric_column(df, count, allow_nan=False)
    if np.any(c < 0):
        i = int(np.flatnonzero(c < 0)[0])
        raise DataError("negative count", column=count, row=df.index[i], value=c[i], expected="a count ≥ 0",
                        count=int((c < 0).sum()))
    if integer and np.any(c != np.floor(c)):
        i = int(np.flatnonzero(c != np.floor(c))[0])
        raise DataError("count is not a whole number", column=count, row=df.index[i], value=c[i],
                        expected="a whole number of events")
    n = None
    if size is not None:
        n = numeric_column(df, size, allow_nan=False)
        if np.any(n <= 0):
            i = int(np.flatnonzero(n <= 0)[0])
            raise DataError("zero or negative size/exposure: the rate or proportion is undefined", column=size,
                            row=df.index[i], value=n[i], expected="a size > 0", count=int((n <= 0).sum()))
        if proportion and np.any(c > n):
            i = int(np.flatnonzero(c > n)[0])
            raise DataError(f"more defectives ({c[i]:g}) than the sample size ({n[i]:g})", column=count,
                            row=df.index[i], value=c[i], expected=f"a count ≤ {size}", count=int((c > n).sum()))
    elif need_size:
        raise ParameterError("this chart needs a size column")
    if c.size < 2:
        raise InsufficientDataError("a control chart needs at least 2 points", column=count, value=int(c.size))
    return df, c, n, _labels(df, time), warnings


def _attribute(chart, df, count, size, *, time, baseline, stages, L, rules, rule_lengths, iterate, center,
               title, laney=False, constants="exact"):
    """p, np, c, u (and Laney p′/u′) with per-stage centres from the baseline."""
    L = _check_L(L)
    specs = resolve_rules(rules, rule_lengths)
    prop = chart in ("p", "np")
    df, c, n, labels, warnings = _attr_inputs(df, count, size, time, need_size=chart != "c", proportion=prop)
    if chart == "c":
        n = np.ones_like(c)
    m = c.size
    stage_ids = stage_array(df, stages, m) if stages is not None else None
    codes, stage_names = _stage_codes(stage_ids, m)
    base = baseline_mask(baseline, m, labels, stage_ids)
    check_baseline(base, stage_ids, warnings, count)
    y = c / n  # p or u
    excluded = 0
    sig_z = np.ones(len(stage_names))
    for it in range(MAX_ITER + 1):
        cbar = np.empty(len(stage_names))
        for k in range(len(stage_names)):
            bm = base & (codes == k)
            cbar[k] = (np.sum(c[bm]) / np.sum(n[bm])) if center is None else float(center)
        cb = cbar[codes]
        unit_sd = np.sqrt(cb * (1 - cb) / n) if prop else np.sqrt(cb / n)
        if laney:
            with np.errstate(invalid="ignore", divide="ignore"):
                z = (y - cb) / unit_sd
            for k in range(len(stage_names)):
                bm = base & (codes == k)
                zb = z[bm]
                mrz = np.abs(np.diff(zb))
                sig_z[k] = float(np.nanmean(mrz) / _d2(2, constants)) if mrz.size else np.nan
            unit_sd = unit_sd * sig_z[codes]
        if not iterate:
            break
        out = base & (np.abs(y - cb) > L * unit_sd)
        if not out.any() or it == MAX_ITER:
            break
        base = base & ~out
        excluded += int(out.sum())
        check_baseline(base, stage_ids, [], count)
    lcl = np.maximum(cb - L * unit_sd, 0.0)
    ucl = cb + L * unit_sd
    if prop:
        ucl = np.minimum(ucl, 1.0)
    stat, cen, se = y, cb, unit_sd
    if chart in ("np", "c"):
        stat, cen, se, lcl, ucl = c, cb * n, unit_sd * n, lcl * n, ucl * n
    for k in range(len(stage_names)):
        if cbar[k] == 0 or (prop and cbar[k] == 1):
            warnings.append(QualityWarning("W-SPC-06", "warning", f"centre {cbar[k]:g}: no variation is possible, "
                                           "limits collapse", {"center": float(cbar[k])}, count,
                                           f"中心线为{cbar[k]:g}：无变化可能，控制限重合"))
    if not laney and chart in ("p", "u"):
        outside = np.mean((y > ucl) | (y < lcl))
        if outside > 0.25 and np.median(n) > 1000:
            alt = "laney_p" if chart == "p" else "laney_u"
            warnings.append(QualityWarning(
                "W-SPC-03", "warning",
                f"{outside:.0%} of points fall outside the {chart} limits with large subgroups (median n "
                f"{np.median(n):,.0f}): the data are overdispersed, so the limits are too tight; use a Laney {chart}′ chart",
                {"share_outside": round(float(outside), 4), "median_n": float(np.median(n)), "suggest": alt},
                count, f"{outside:.0%}的点超出{chart}图控制限且样本量大：存在过度离散，请改用Laney {chart}′图"))
    phase = _phase(base, baseline is not None, iterate)
    params = {"stages": {str(stage_names[k] if stage_names[k] is not None else 1): {
        "center": float(cbar[k]), **({"sigma_z": float(sig_z[k])} if laney else {}),
        "baseline_points": int((base & (codes == k)).sum())} for k in range(len(stage_names))},
        "L": L, "constants": constants}
    return finish(chart, stat, cen, lcl, ucl, se, labels, n, phase, stage_ids, specs, params=params,
                  warnings=warnings, exclusions=[("baseline points excluded by iteration", excluded)], title=title)


_ATTR_DOC = """
    Parameters
    ----------
    df : DataFrame, one row per period/subgroup.
    count : str
        Defectives (p, np) or events (c, u) per row; whole numbers ≥ 0.
    size : str
        Sample size (p, np) or exposure in units (u) per row; > 0.
    time : str, optional
        Time column (x axis; unique; sorted with warning W-SPC-08 when needed).
    baseline, stages, L, rules, rule_lengths, iterate : see :func:`xbar_r`.
    center : float, optional
        Known/standard centre (p₀, c₀, u₀) instead of the baseline estimate.
"""


def p_chart(df, count, size, *, time=None, baseline=None, stages=None, L=3.0, rules="default", rule_lengths=None,
            iterate=False, center=None) -> ChartResult:
    """p chart: p̄ = Σxᵢ/Σnᵢ over the baseline, limits p̄ ± L√(p̄(1−p̄)/nᵢ) clipped to [0, 1] (Montgomery 2019
    §7.2; qcc). Overdispersion with large nᵢ raises W-SPC-03 (use :func:`laney_p`).""" + _ATTR_DOC
    return _attribute("p", df, count, size, time=time, baseline=baseline, stages=stages, L=L, rules=rules,
                      rule_lengths=rule_lengths, iterate=iterate, center=center, title=f"p chart: {count}/{size}")


def np_chart(df, count, size, *, time=None, baseline=None, stages=None, L=3.0, rules="default",
             rule_lengths=None, iterate=False, center=None) -> ChartResult:
    """np chart: centre nᵢp̄, limits nᵢp̄ ± L√(nᵢp̄(1−p̄)) clipped to [0, nᵢ] (qcc).""" + _ATTR_DOC
    return _attribute("np", df, count, size, time=time, baseline=baseline, stages=stages, L=L, rules=rules,
                      rule_lengths=rule_lengths, iterate=iterate, center=center, title=f"np chart: {count}")


def c_chart(df, count, *, time=None, baseline=None, stages=None, L=3.0, rules="default", rule_lengths=None,
            iterate=False, center=None) -> ChartResult:
    """c chart: c̄ ± L√c̄, LCL ≥ 0 (equal exposure per period).""" + _ATTR_DOC
    return _attribute("c", df, count, None, time=time, baseline=baseline, stages=stages, L=L, rules=rules,
                      rule_lengths=rule_lengths, iterate=iterate, center=center, title=f"c chart: {count}")


def u_chart(df, count, size, *, time=None, baseline=None, stages=None, L=3.0, rules="default", rule_lengths=None,
            iterate=False, center=None) -> ChartResult:
    """u chart: ū = Σcᵢ/Σnᵢ, limits ū ± L√(ū/nᵢ), LCL ≥ 0 (nᵢ = exposure units, e.g. customers/1000).""" + \
        _ATTR_DOC
    return _attribute("u", df, count, size, time=time, baseline=baseline, stages=stages, L=L, rules=rules,
                      rule_lengths=rule_lengths, iterate=iterate, center=center, title=f"u chart: {count}/{size}")


def laney_p(df, count, size, *, time=None, baseline=None, stages=None, L=3.0, rules="default", rule_lengths=None,
            iterate=False, center=None, constants="exact") -> ChartResult:
    """Laney p′ chart (Laney 2002): limits p̄ ± L·σ_pᵢ·σ_z with σ_z = MR̄(z)/d2(2) of the standardised
    zᵢ = (pᵢ − p̄)/σ_pᵢ (``constants="tabled"`` uses 1.128 as qicharts2). σ_z is in ``params``.""" + _ATTR_DOC
    return _attribute("p", df, count, size, time=time, baseline=baseline, stages=stages, L=L, rules=rules,
                      rule_lengths=rule_lengths, iterate=iterate, center=center, laney=True, constants=constants,
                      title=f"Laney p′ chart: {count}/{size}")._replace_chart("p_laney")


def laney_u(df, count, size, *, time=None, baseline=None, stages=None, L=3.0, rules="default", rule_lengths=None,
            iterate=False, center=None, constants="exact") -> ChartResult:
    """Laney u′ chart: ū ± L·√(ū/nᵢ)·σ_z (as :func:`laney_p` for rates).""" + _ATTR_DOC
    return _attribute("u", df, count, size, time=time, baseline=baseline, stages=stages, L=L, rules=rules,
                      rule_lengths=rule_lengths, iterate=iterate, center=center, laney=True, constants=constants,
                      title=f"Laney u′ chart: {count}/{size}")._replace_chart("u_laney")


def _replace_chart(self, name):
    self.chart = name
    return self


ChartResult._replace_chart = _replace_chart


# ----------------------------------------------------------------------------------------- rare events
def g_chart(df, count, *, time=None, baseline=None, stages=None, L=3.0, rules="limits", rule_lengths=None,
            center="mean") -> ChartResult:
    """g chart for the number of opportunities (cases, transactions, days) between rare events.

    ḡ = mean of the baseline counts; σ = √(ḡ(ḡ+1)); UCL = ḡ + L·σ, LCL = max(0, ḡ − L·σ) (usually 0)
    (Kaminsky et al. 1992; Benneyan 2001; qicharts2 ``g``). Golden value: ḡ = 50 → UCL = 201.493.
    ``center="median"`` draws the centre at the median (qicharts2; the geometric median is ≈ 0.693ḡ); runs
    are then judged against the median. Default rules: beyond limits only (the distribution is skewed).
    A *high* point is good news (a long interval without an event).
    """
    if center not in ("mean", "median"):
        raise ParameterError(f"center must be 'mean' or 'median', got {center!r}")
    L = _check_L(L)
    specs = resolve_rules(rules, rule_lengths)
    df, g, _, labels, warnings = _attr_inputs(df, count, None, time, need_size=False)
    m = g.size
    stage_ids = stage_array(df, stages, m) if stages is not None else None
    codes, names = _stage_codes(stage_ids, m)
    base = baseline_mask(baseline, m, labels, stage_ids)
    check_baseline(base, stage_ids, warnings, count)
    gbar = np.array([np.mean(g[base & (codes == k)]) for k in range(len(names))])
    gmed = np.array([np.median(g[base & (codes == k)]) for k in range(len(names))])
    gb = gbar[codes]
    sd = np.sqrt(gb * (gb + 1))
    lcl, ucl = np.maximum(gb - L * sd, 0.0), gb + L * sd
    cen = gmed[codes] if center == "median" else gb
    phase = _phase(base, baseline is not None, False)
    params = {"stages": {str(names[k] if names[k] is not None else 1): {
        "gbar": float(gbar[k]), "median": float(gmed[k]), "sigma": float(np.sqrt(gbar[k] * (gbar[k] + 1)))}
        for k in range(len(names))}, "L": L, "center": center}
    return finish("g", g, cen, lcl, ucl, sd, labels, np.ones(m), phase, stage_ids, specs, params=params,
                  warnings=warnings, title=f"g chart: {count}")


def t_chart(df, value, *, time=None, baseline=None, stages=None, L=3.0, rules="default", rule_lengths=None,
            constants="exact", sigma="mr") -> ChartResult:
    """t chart for the time between rare events (Nelson 1994): y = t^(1/3.6) is close to normal for exponential
    times; an I chart is computed on y and its centre and limits are back-transformed (^3.6). Rules are
    evaluated on y. t must be > 0. The ``transformed`` column of ``to_frame()`` holds y.
    """
    _check_mode(constants)
    specs = resolve_rules(rules, rule_lengths)
    require_columns(df, value, time)
    warnings: list = []
    df = order_by_time(df, time, warnings)
    t = numeric_column(df, value, allow_nan=False)
    if np.any(t <= 0):
        i = int(np.flatnonzero(t <= 0)[0])
        raise DataError("time between events must be > 0 for a t chart", column=value, row=df.index[i],
                        value=t[i], expected="a positive time", count=int((t <= 0).sum()))
    if t.size < 2:
        raise InsufficientDataError("a t chart needs at least 2 intervals", column=value)
    y = t ** (1 / 3.6)
    stage_ids = stage_array(df, stages, t.size) if stages is not None else None
    res, _ = _individuals_core(y, _labels(df, time), chart="t", baseline=baseline, stage_ids=stage_ids,
                               sigma=sigma, center=None, constants=constants, L=_check_L(L), specs=specs,
                               iterate=False, screen_mr=False, subject=value, warnings=warnings, excl=[],
                               mr_specs=[], transform=lambda a: np.asarray(a, dtype=float) ** 3.6,
                               title=f"t chart: {value}")
    return res
