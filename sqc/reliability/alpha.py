"""Cronbach's alpha with the full item analysis, following R psych 2.2.9 ``alpha()`` conventions.

Conventions (psych 2.2.9, where versions of psych differ):

* ``missing="pairwise"`` (psych's default ``use="pairwise"``): the item covariance matrix C is the
  pairwise-complete covariance (each pair's means over the rows where both are present); the correlation
  matrix is ``R = cov2cor(C)`` (i.e. standardised by each item's own variance, not the pairwise variances).
  Standardized alpha, G6, average r and S/N come from that R.
* ``missing="listwise"``: rows with any missing item are dropped first, so *every* statistic (means, SDs,
  n, item–total r, the CIs' N) uses the same complete rows. (psych's ``use="complete.obs"`` only makes C
  listwise and keeps pairwise means; our listwise matches psych ``alpha(na.omit(x))``.)
* The total score is the respondent's mean of the answered items; ``r_raw`` is its pairwise correlation with
  each item (psych ``raw.r``), ``r_std`` = colSums(R)/sqrt(sum(R)), ``r_cor`` the same with smc on the
  diagonal, ``r_drop`` the item vs the sum of the other items from C (psych's ``r.drop``).
* Feldt CI: ``1 - (1-alpha)·F`` quantiles with df (N-1, (N-1)(k-1)); Duhachek CI: alpha ± z·ase with
  psych's asymptotic SE ``ase = sqrt(Q/N)`` (Duhachek & Iacobucci 2004). N = number of respondent rows (psych).
* Reverse keys: ``keys`` lists items to reverse as ``min + max - x``; min/max are the scale bounds when given,
  otherwise the smallest and largest answer in the whole table (as psych). Detection never flips: items with a
  negative corrected item–total correlation are reported in a QualityWarning ``W-REL-01`` (Methods §1.10, W-SQ-07).

Speed: one chunked pass over the data accumulates the sufficient statistics (pairwise counts, sums,
cross-products via matrix products on the NaN-masked data, plus total-score moments and answer counts).
Everything else — alpha-if-deleted for every item included — comes from the k × k matrices, never from the data
again.

Warning codes (module :mod:`sqc.reliability`):

* W-REL-01 an item correlates negatively with the rest of the scale: probably reverse-worded and not reverse-keyed.
* W-REL-02 corrected item–total correlation below ``r_drop_threshold`` (0.30): weak item.
* W-REL-03 alpha below 0.70 (or its CI lower bound below 0.60).
* W-REL-04 all-missing or zero-variance item left out.
* W-REL-05 fewer than 30 respondents (complete rows, for listwise): the CI is wide.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..diagnostics import QualityWarning
from ..errors import DataError, ParameterError
from ..inference import BOOTSTRAP_SEED, _check_confidence
from ._data import as_item_frame, check_missing, cov2cor, drop_degenerate_items, smc
from ..results import ResultData

N_LEVELS = 11  # answer levels counted for the response frequencies (psych: at most 10 categories)
CHUNK_ROWS = 8192  # ~3 MB chunks of the [X0, M, t, t², 1] matrix stay in cache
CI_METHODS = ("feldt", "duhachek", "bootstrap")


@dataclass
class _SufficientStats:
    n_rows: int
    n_pair: np.ndarray
    sum_pair: np.ndarray
    cross: np.ndarray
    t_n: float
    t_sum: float
    t_sumsq: float
    t_sum_j: np.ndarray
    t_sumsq_j: np.ndarray
    t_cross_j: np.ndarray
    counts: dict | None
    n_complete: int = 0
    col_min: np.ndarray | None = None
    col_max: np.ndarray | None = None


def _blas_single_thread():
    """Small k × k products on tall chunks gain nothing from BLAS threads, and on a busy machine OpenBLAS threads
    spin and slow them down 10-50×; use one BLAS thread inside the pass (threadpoolctl, when installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _accumulate(values: np.ndarray, chunk_rows: int = CHUNK_ROWS, count_answers: bool = True) -> _SufficientStats:
    """One chunked pass: a single Gram matrix of [X0, M, t, t², 1] per chunk gives every pairwise count, sum and
    cross-product (X0 = answers with NaN→0, M = answered indicator, t = respondent mean of answered items); the same
    pass tracks each item's smallest/largest answer and counts answers for the response frequencies.

    Answer counts: a window of 11 consecutive integer levels is fixed from the first chunk (starting at 1 for
    1-based scales); one bincount per chunk. If a later answer falls outside the window, counting stops (psych gives
    no frequencies for more than 10 categories either). Integrality is verified afterwards against the exact sums
    Σx and Σx² from the Gram matrix, so non-integer answers give no frequencies — without an extra pass."""
    n, k = values.shape
    width = 2 * k + 3
    gram = np.zeros((width, width))
    n_complete = 0
    col_min = np.full(k, np.inf)
    col_max = np.full(k, -np.inf)
    counts = None
    counting = count_answers
    lo = None
    with _blas_single_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices in the range tracking
        for start in range(0, n, chunk_rows):
            xt = values[start:start + chunk_rows].T  # k × rows
            rows = xt.shape[1]
            zt = np.empty((width, rows))
            x0 = zt[:k]
            np.copyto(x0, xt)
            missing = np.isnan(x0)
            mask = zt[k:2 * k]
            np.logical_not(missing, out=mask)
            np.fmin(col_min, np.fmin.reduce(x0, axis=1), out=col_min)
            np.fmax(col_max, np.fmax.reduce(x0, axis=1), out=col_max)
            np.copyto(x0, 0.0, where=missing)
            answered = mask.sum(axis=0)
            n_complete += int(np.count_nonzero(answered == k))
            has = answered > 0
            total = x0.sum(axis=0)
            np.divide(total, answered, out=total, where=has)
            zt[2 * k] = total
            np.multiply(total, total, out=zt[2 * k + 1])
            zt[2 * k + 2] = has
            gram += zt @ zt.T
            if counting and has.any():
                c_lo, c_hi = float(np.nanmin(col_min)), float(np.nanmax(col_max))
                if lo is None:
                    if not np.isfinite(c_lo):
                        counting = False
                        continue
                    lo = min(1.0, float(np.floor(c_lo)))
                    n_lev = N_LEVELS + 1  # slot 0 = missing
                    counts = np.zeros(n_lev * k, dtype=np.int64)
                    offsets = (np.arange(k) * n_lev)[:, None]
                    shift = (offsets + 1 - lo).astype(float)
                if c_lo < lo or c_hi > lo + N_LEVELS - 1:
                    counting, counts = False, None
                    continue
                if lo == 1:  # a missing answer is 0 in X0, which lands in slot 0 of its item
                    codes = (x0 + shift).astype(np.intp)
                else:
                    codes = ((x0 - lo + 1) * mask + offsets).astype(np.intp)
                counts += np.bincount(codes.ravel(), minlength=counts.size)
    xs, ms, ts, t2s, hs = slice(0, k), slice(k, 2 * k), 2 * k, 2 * k + 1, 2 * k + 2
    n_pair = gram[ms, ms]
    sum_pair = gram[xs, ms]
    cross = gram[xs, xs]
    count_dict = None
    if counts is not None and np.all(np.isfinite(cross)):
        c = counts.reshape(k, -1)[:, 1:].T.astype(float)  # levels × items
        levels = lo + np.arange(c.shape[0])
        ok = (np.allclose(levels @ c, np.diag(sum_pair), rtol=1e-12, atol=1e-6)
              and np.allclose((levels ** 2) @ c, np.diag(cross), rtol=1e-12, atol=1e-6))
        if ok:  # all answers were integers in the window
            # like psych, list only the answer values that occur somewhere in the data
            count_dict = {float(v): c[i] for i, v in enumerate(levels) if c[i].sum() > 0}
    return _SufficientStats(n, n_pair, sum_pair, cross, gram[hs, hs], gram[ts, hs], gram[ts, ts], gram[ts, ms],
                            gram[t2s, ms], gram[ts, xs], count_dict, n_complete, col_min, col_max)


def _alpha_core(c: np.ndarray, r: np.ndarray) -> dict:
    """psych ``alpha.1``: coefficients from a covariance C and correlation R."""
    k = c.shape[0]
    tr_c, sum_c = np.trace(c), c.sum()
    raw = (1 - tr_c / sum_c) * (k / (k - 1))
    sum_r = r.sum()
    std = (1 - k / sum_r) * (k / (k - 1))
    g6 = 1 - (k - smc(r).sum()) / sum_r
    av_r = (sum_r - k) / (k * (k - 1))
    lower = r[np.tril_indices(k, -1)]
    var_r = float(np.var(lower, ddof=1)) if lower.size > 1 else np.nan
    med_r = float(np.median(lower))
    sn = k * av_r / (1 - av_r)
    cc = c @ c
    q = (2 * k ** 2 / ((k - 1) ** 2 * sum_c ** 3)) * (sum_c * (np.trace(cc) + tr_c ** 2) - 2 * (tr_c * cc.sum()))
    return {"raw": raw, "std": std, "g6": g6, "av_r": av_r, "sn": sn, "q": q, "var_r": var_r, "med_r": med_r}


def feldt_ci(alpha_value: float, n: int, k: int, ci: float = 0.95) -> tuple[float, float]:
    """Feldt, Woodruff & Salih (1987) interval: ``1 - (1-α)·F_{1-p/2 | p/2}(N-1, (N-1)(k-1))`` (psych alpha.ci)."""
    p = 1 - ci
    df1, df2 = n - 1, (n - 1) * (k - 1)
    return (float(1 - (1 - alpha_value) * stats.f.ppf(1 - p / 2, df1, df2)),
            float(1 - (1 - alpha_value) * stats.f.ppf(p / 2, df1, df2)))


@dataclass
class AlphaResult(ResultData):
    """Cronbach's alpha and item analysis (see :func:`alpha`)."""

    _chart = "sqc.plotting.reliability:item_total_spec"

    alpha: float
    std_alpha: float
    g6: float
    average_r: float
    median_r: float
    signal_noise: float
    ase: float
    ci: tuple[float, float]
    ci_method: str
    ci_level: float
    ci_feldt: tuple[float, float]
    ci_duhachek: tuple[float, float]
    ci_bootstrap: tuple[float, float] | None
    n: int
    n_rows: int
    n_complete: int
    k: int
    missing: str
    mean_total: float
    sd_total: float
    item_stats: pd.DataFrame
    response_freq: pd.DataFrame | None
    keys: list[str]
    cov: pd.DataFrame
    cor: pd.DataFrame
    n_pairwise: pd.DataFrame
    exclusions: dict = field(default_factory=dict)
    convention: str = "psych 2.2.9"

    @property
    def n_min_pairwise(self) -> int:
        return int(np.min(self.n_pairwise.to_numpy()))

    def to_frame(self) -> pd.DataFrame:
        """One-row summary (alpha with CI and N)."""
        return pd.DataFrame([{
            "alpha": self.alpha, "std_alpha": self.std_alpha, "ci_low": self.ci[0], "ci_high": self.ci[1],
            "ci_method": self.ci_method, "G6": self.g6, "average_r": self.average_r, "median_r": self.median_r,
            "S/N": self.signal_noise, "ase": self.ase, "n": self.n, "n_complete": self.n_complete, "k": self.k,
            "missing": self.missing, "mean": self.mean_total, "sd": self.sd_total}])

    def _summary_lines(self, lang: str = "en") -> list[str]:
        lines = [f"Cronbach's alpha ({self.k} items, N = {self.n} rows, {self.n_complete} complete; "
                 f"missing={self.missing}; conventions of R {self.convention})",
                 f"  raw alpha   {self.alpha:.3f}  {int(self.ci_level * 100)}% CI [{self.ci[0]:.3f}, {self.ci[1]:.3f}]"
                 f" ({self.ci_method})",
                 f"  std alpha   {self.std_alpha:.3f}   G6(smc) {self.g6:.3f}   average r {self.average_r:.3f}"
                 f"   S/N {self.signal_noise:.2f}",
                 f"  Feldt CI    [{self.ci_feldt[0]:.3f}, {self.ci_feldt[1]:.3f}]   Duhachek CI "
                 f"[{self.ci_duhachek[0]:.3f}, {self.ci_duhachek[1]:.3f}]"]
        if self.keys:
            lines.append("  reverse-keyed: " + ", ".join(self.keys))
        cols = ["n", "mean", "sd", "r_raw", "r_cor", "r_drop", "alpha_if_deleted"]
        lines.append(self.item_stats[cols].round(3).to_string())
        return lines


def alpha(items, keys=None, missing: str = "pairwise", ci: float = 0.95, *, ci_method: str = "feldt",
          scale=None, n_boot: int = 1000, seed: int = BOOTSTRAP_SEED, r_drop_threshold: float = 0.30,
          chunk_rows: int = CHUNK_ROWS) -> AlphaResult:
    r"""Cronbach's alpha, standardized alpha, Guttman's λ6, item statistics and alpha-if-item-deleted.

    .. math::
        \alpha = \frac{k}{k-1}\Big(1 - \frac{\operatorname{tr} C}{\mathbf 1' C \mathbf 1}\Big), \qquad
        \alpha_{std} = \frac{k}{k-1}\Big(1 - \frac{k}{\mathbf 1' R \mathbf 1}\Big), \qquad
        G6 = 1 - \frac{\sum_i (1 - smc_i)}{\mathbf 1' R \mathbf 1}

    average r = (1'R1 - k)/(k(k-1)); S/N = k·r̄/(1-r̄).

    Parameters
    ----------
    items : DataFrame or 2-D array
        Respondents × items (numeric; NaN = missing).
    keys : list of str, optional
        Items to reverse-key (``min + max - x``) before every coefficient. Detection of reverse-worded items only
        reports (W-REL-01); it never flips.
    missing : {"pairwise", "listwise"}
        Pairwise-complete covariances (psych default) or complete rows only. The N used is reported.
    ci : float
        Confidence level of the interval in ``.ci``.
    ci_method : {"feldt", "duhachek", "bootstrap"}
        Which interval goes into ``.ci``; Feldt and Duhachek are always computed. Bootstrap (percentile, rows
        resampled, ``n_boot`` resamples, fixed ``seed``) only on request.
    scale : (min, max), optional
        Response scale: answers outside it raise DataError; reverse-keying uses ``min + max``.
    r_drop_threshold : float
        Corrected item–total correlation below which an item is flagged (Methods §1.9: 0.3).

    Returns
    -------
    AlphaResult
        ``.alpha``, ``.std_alpha``, ``.ci``, ``.item_stats`` (indexed by item: n, mean, sd, r_raw, r_std, r_cor,
        r_drop, alpha_if_deleted, std_alpha_if_deleted, g6_if_deleted, average_r_if_deleted, ...),
        ``.response_freq``, ``.n`` and ``.warnings``.

    References
    ----------
    Cronbach (1951); Guttman (1945); Feldt, Woodruff & Salih (1987); Duhachek & Iacobucci (2004);
    Revelle, psych 2.2.9 ``alpha()``.

    Examples
    --------
    >>> res = alpha(df[["P18", "P19", "P20", "P21", "P22"]])
    >>> res.alpha, res.ci, res.item_stats["alpha_if_deleted"]
    """
    level = _check_confidence(ci)
    check_missing(missing)
    if ci_method not in CI_METHODS:
        raise ParameterError(f"ci_method must be one of {CI_METHODS}, got {ci_method!r}")
    frame = as_item_frame(items, scale=scale, check_inf=False)  # infinities are caught from the column ranges below
    if keys is None:
        keys = []
    elif isinstance(keys, str):
        keys = [keys]
    keys = [str(k) for k in keys]
    unknown = [k for k in keys if k not in set(map(str, frame.columns))]
    if unknown:
        raise ParameterError(f"keys name item(s) not in the data: {unknown}; columns are {list(frame.columns)}")
    n_rows_input = frame.shape[0]
    if missing == "listwise":
        frame = frame.dropna(axis=0, how="any")
        if frame.shape[0] < 2:
            from ..errors import InsufficientDataError
            raise InsufficientDataError(f"only {frame.shape[0]} complete row(s) for listwise deletion",
                                        expected=">= 2 complete respondents, or missing='pairwise'")
    exclusions, warns = {}, []

    def run_pass(frame):
        names = [str(c) for c in frame.columns]
        values = frame.to_numpy(dtype=float)
        kept_keys = [kk for kk in keys if kk in names]
        if kept_keys:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                adjust = scale[0] + scale[1] if scale is not None else np.nanmin(values) + np.nanmax(values)
            flip = np.array([nm in kept_keys for nm in names])
            values = values.copy()
            values[:, flip] = adjust - values[:, flip]
        return names, values, kept_keys, _accumulate(values, chunk_rows=chunk_rows)

    names, values, keys, st = run_pass(frame)
    # infinite answers and degenerate items are read off the pass (per-item range, counts): no pre-pass needed
    bad_inf = np.isneginf(st.col_min) | np.isposinf(st.col_max)
    if bad_inf.any():
        c = int(np.argmax(bad_inf))
        r = int(np.argmax(np.isinf(values[:, c])))
        raise DataError("infinite value in an item column", column=names[c], row=frame.index[r],
                        value=values[r, c], expected="finite numbers")
    if np.any(~(st.col_max > st.col_min)):  # all-missing or constant item: drop (as psych) and redo the pass
        frame, exclusions, warns = drop_degenerate_items(frame)
        names, values, keys, st = run_pass(frame)
    n_rows, k = values.shape
    n_pair = st.n_pair
    with np.errstate(invalid="ignore", divide="ignore"):
        c = (st.cross - st.sum_pair * st.sum_pair.T / n_pair) / (n_pair - 1)
    if np.isnan(c).any():
        i, j = np.argwhere(np.isnan(c))[0]
        from ..errors import InsufficientDataError
        raise InsufficientDataError(f"items {names[i]} and {names[j]} are answered together by fewer than 2 "
                                    "respondents; their covariance cannot be estimated",
                                    column=names[i], expected="at least 2 respondents answering both items")
    r = cov2cor(c)
    min_eig = float(np.linalg.eigvalsh(r)[0])
    if min_eig < 100 * np.finfo(float).eps:
        warns = list(warns) + [QualityWarning(
            "W-REL-06", "warning",
            f"The item correlation matrix is singular or not positive definite (smallest eigenvalue {min_eig:.2e}): "
            "some items are (nearly) linear combinations of others; G6 and r_cor use a pseudo-inverse (as psych).",
            evidence={"min_eigenvalue": min_eig},
            message_zh="题项相关矩阵奇异或非正定：部分题项几乎是其他题项的线性组合；G6 与 r_cor 使用伪逆计算（同 psych）。")]
    total = _alpha_core(c, r)

    # item statistics from the sufficient statistics
    n_i = np.diag(n_pair)
    mean_i = np.diag(st.sum_pair) / n_i
    var_i = np.diag(c)
    sd_i = np.sqrt(var_i)
    t_mean_j = st.t_sum_j / n_i
    with np.errstate(invalid="ignore", divide="ignore"):
        cov_tj = (st.t_cross_j - st.t_sum_j * mean_i) / (n_i - 1)
        var_t_j = (st.t_sumsq_j - st.t_sum_j * t_mean_j) / (n_i - 1)
        r_raw = cov_tj / np.sqrt(var_t_j * var_i)
    sum_r = r.sum()
    r_std = r.sum(axis=0) / np.sqrt(sum_r)
    rc = r.copy()
    np.fill_diagonal(rc, smc(r))
    r_cor = rc.sum(axis=0) / np.sqrt(rc.sum())
    col_sum = c.sum(axis=0)
    v_drop = c.sum() - 2 * col_sum + var_i
    r_drop = (col_sum - var_i) / np.sqrt(var_i * v_drop)

    # alpha if item deleted: k x k sub-matrices of C and R (no further pass over the data)
    drop_rows = []
    for i in range(k):
        keep = np.arange(k) != i
        if k > 2:
            d = _alpha_core(c[np.ix_(keep, keep)], r[np.ix_(keep, keep)])
        else:  # psych's two-item convention
            j = 1 - i
            rr = r[0, 1]
            d = {"raw": c[0, 1] / c[j, j], "std": rr, "g6": smc(r)[0], "av_r": rr, "sn": rr / (1 - rr),
                 "q": np.nan, "var_r": 0.0, "med_r": rr}
        drop_rows.append(d)
    drop = pd.DataFrame(drop_rows)

    t_mean = st.t_sum / st.t_n
    t_sd = np.sqrt((st.t_sumsq - st.t_n * t_mean ** 2) / (st.t_n - 1))
    n_used = n_rows
    ase = float(np.sqrt(total["q"] / n_used))
    z = stats.norm.ppf(1 - (1 - level) / 2)
    ci_f = feldt_ci(total["raw"], n_used, k, level)
    ci_d = (float(total["raw"] - z * ase), float(total["raw"] + z * ase))
    ci_b = None
    if ci_method == "bootstrap":
        ci_b = _bootstrap_alpha(values, level, n_boot, seed)
    chosen = {"feldt": ci_f, "duhachek": ci_d, "bootstrap": ci_b}[ci_method]

    item_stats = pd.DataFrame({
        "n": n_i.astype(int), "mean": mean_i, "sd": sd_i, "r_raw": r_raw, "r_std": r_std, "r_cor": r_cor,
        "r_drop": r_drop, "alpha_if_deleted": drop["raw"].to_numpy(),
        "std_alpha_if_deleted": drop["std"].to_numpy(), "g6_if_deleted": drop["g6"].to_numpy(),
        "average_r_if_deleted": drop["av_r"].to_numpy(), "sn_if_deleted": drop["sn"].to_numpy(),
        "ase_if_deleted": np.sqrt(drop["q"].to_numpy() / n_used), "var_r_if_deleted": drop["var_r"].to_numpy(),
        "median_r_if_deleted": drop["med_r"].to_numpy(), "reverse_keyed": [nm in keys for nm in names]},
        index=pd.Index(names, name="item"))

    freq = None
    if st.counts:
        vals = sorted(st.counts)
        mat = np.vstack([st.counts[v] for v in vals]).T.astype(float)
        answered = mat.sum(axis=1, keepdims=True)
        freq = pd.DataFrame(mat / answered, index=pd.Index(names, name="item"),
                            columns=[int(v) if float(v).is_integer() else v for v in vals])
        freq["miss"] = 1 - answered[:, 0] / n_rows

    n_complete = st.n_complete
    warns = list(warns) + _alpha_warnings(total["raw"], ci_f, item_stats, names, keys, n_used, n_complete,
                                          missing, r_drop_threshold, exclusions)
    return AlphaResult(
        alpha=float(total["raw"]), std_alpha=float(total["std"]), g6=float(total["g6"]),
        average_r=float(total["av_r"]), median_r=float(total["med_r"]), signal_noise=float(total["sn"]), ase=ase,
        ci=chosen, ci_method=ci_method, ci_level=level, ci_feldt=ci_f, ci_duhachek=ci_d, ci_bootstrap=ci_b,
        n=int(n_used), n_rows=int(n_rows_input), n_complete=n_complete, k=k, missing=missing,
        mean_total=float(t_mean), sd_total=float(t_sd), item_stats=item_stats, response_freq=freq, keys=keys,
        cov=pd.DataFrame(c, index=names, columns=names), cor=pd.DataFrame(r, index=names, columns=names),
        n_pairwise=pd.DataFrame(n_pair.astype(int), index=names, columns=names), exclusions=exclusions,
        warnings=warns)


def _raw_alpha_from_values(values: np.ndarray) -> float:
    st = _accumulate(values, count_answers=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = (st.cross - st.sum_pair * st.sum_pair.T / st.n_pair) / (st.n_pair - 1)
    k = c.shape[0]
    return float((1 - np.trace(c) / c.sum()) * k / (k - 1))


def _bootstrap_alpha(values: np.ndarray, level: float, n_boot: int, seed: int) -> tuple[float, float]:
    """Percentile bootstrap of raw alpha, respondents resampled with replacement (psych ``n.iter``)."""
    if n_boot < 100:
        raise ParameterError(f"n_boot must be at least 100 for a bootstrap CI, got {n_boot}")
    rng = np.random.default_rng(seed)
    n = values.shape[0]
    boots = np.empty(n_boot)
    for b in range(n_boot):
        boots[b] = _raw_alpha_from_values(values[rng.integers(0, n, n)])
    boots = boots[np.isfinite(boots)]
    p = (1 - level) / 2
    return float(np.quantile(boots, p)), float(np.quantile(boots, 1 - p))


def _alpha_warnings(a, ci_f, item_stats, names, keys, n, n_complete, missing, thr, exclusions):
    out = []
    neg = item_stats.index[item_stats["r_drop"] < 0].tolist()
    if neg:
        out.append(QualityWarning(
            "W-REL-01", "critical",
            f"Item(s) {', '.join(neg)} correlate negatively with the rest of the scale: probably negatively "
            f"worded and not reverse-keyed. Re-run with keys={neg!r} if the wording is reversed (Methods §1.10, W-SQ-07).",
            evidence={"r_drop": {i: round(float(item_stats.loc[i, 'r_drop']), 4) for i in neg}, "spec_code": "W-SQ-07"},
            subject=",".join(neg),
            message_zh=f"题项 {', '.join(neg)} 与量表其余题项负相关：可能是反向措辞而未反向计分，请确认后用 keys 参数反向计分。"))
    weak = item_stats.index[(item_stats["r_drop"] >= 0) & (item_stats["r_drop"] < thr)].tolist()
    for item in weak:
        row = item_stats.loc[item]
        out.append(QualityWarning(
            "W-REL-02", "warning",
            f"Item {item} is weak: corrected item–total correlation {row['r_drop']:.2f} < {thr}; alpha would be "
            f"{row['alpha_if_deleted']:.3f} without it (now {a:.3f}).",
            evidence={"r_drop": float(row["r_drop"]), "threshold": thr,
                      "alpha_if_deleted": float(row["alpha_if_deleted"]), "alpha": float(a)}, subject=item,
            message_zh=f"题项 {item} 较弱：校正后题总相关 {row['r_drop']:.2f} < {thr}；删去后 α 为 "
                       f"{row['alpha_if_deleted']:.3f}（现为 {a:.3f}）。"))
    if a < 0.70:
        out.append(QualityWarning(
            "W-REL-03", "warning",
            f"Internal consistency is low: alpha = {a:.3f} (95% CI {ci_f[0]:.3f}–{ci_f[1]:.3f}) < 0.70.",
            evidence={"alpha": float(a), "ci_low": ci_f[0], "ci_high": ci_f[1], "threshold": 0.70},
            message_zh=f"内部一致性偏低：α = {a:.3f}（95% CI {ci_f[0]:.3f}–{ci_f[1]:.3f}）< 0.70。"))
    n_eff = n_complete if missing == "listwise" else n
    if n_eff < 30:
        out.append(QualityWarning(
            "W-REL-05", "warning", f"Only {n_eff} respondents: alpha and its CI are imprecise.",
            evidence={"n": int(n_eff), "n_min": 30}, message_zh=f"仅 {n_eff} 名受访者：α 及其置信区间不精确。"))
    return out
