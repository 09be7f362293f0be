"""Input checks shared by the reliability functions (Methods §0.2, issue 5 "Bad input").

Every function in :mod:`sqc.reliability` takes ``items`` as a DataFrame (respondents × items) or a 2-D array.
Checks done here, each raising a :class:`~sqc.errors.DataError` that names the column / row / value, or a
documented, counted handling:

* not 2-D, fewer than 2 items or fewer than 2 respondents -> ``InsufficientDataError``;
* a non-numeric value (e.g. ``"n/a"`` text in an item column) -> ``DataError`` naming column, row and value;
* a value outside ``scale`` (when a scale is given) -> ``DataError`` naming column, row, value and the scale;
* infinite values -> ``DataError``;
* an all-missing item or a zero-variance item -> dropped and counted in ``exclusions`` (psych's handling:
  ``alpha`` deletes items with no variance) with a QualityWarning (W-REL-04), or an error when fewer than 2 items
  remain.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..diagnostics import QualityWarning
from ..errors import DataError, InsufficientDataError, ParameterError


def as_item_frame(items, *, scale=None, min_items: int = 2, min_rows: int = 2, name: str = "items",
                  check_inf: bool = True) -> pd.DataFrame:
    """Validate and return a float DataFrame (respondents × items) with NaN for missing answers."""
    if isinstance(items, pd.DataFrame):
        df = items
    elif isinstance(items, np.ndarray) or isinstance(items, (list, tuple)):
        arr = np.asarray(items)
        if arr.ndim != 2:
            raise DataError(f"{name} must be a 2-D table (respondents × items), got an array with {arr.ndim} "
                            "dimension(s)", expected="a DataFrame or 2-D array")
        df = pd.DataFrame(arr, columns=[f"V{i + 1}" for i in range(arr.shape[1])])
    else:
        raise DataError(f"{name} must be a DataFrame or a 2-D array, got {type(items).__name__}",
                        expected="a DataFrame (respondents × items)")
    if df.columns.duplicated().any():
        dup = df.columns[df.columns.duplicated()][0]
        raise DataError("duplicated item column", column=str(dup), expected="unique item names")
    if df.shape[1] < min_items:
        raise InsufficientDataError(f"{name} has {df.shape[1]} item column(s); at least {min_items} are needed",
                                    expected=f">= {min_items} items")
    if df.shape[0] < min_rows:
        raise InsufficientDataError(f"{name} has {df.shape[0]} respondent row(s); at least {min_rows} are needed",
                                    expected=f">= {min_rows} respondents")
    if all(dt == np.float64 for dt in df.dtypes) and scale is None:
        # already float: no per-column conversion / copy (large survey tables), only the finiteness check
        values = df.to_numpy()
        if check_inf and np.isinf(values).any():
            r, c = np.argwhere(np.isinf(values))[0]
            raise DataError("infinite value in an item column", column=str(df.columns[c]), row=df.index[r],
                            value=values[r, c], expected="finite numbers")
        return df
    out = {}
    for col in df.columns:
        s = df[col]
        if s.dtype == bool:
            s = s.astype(float)
        if not pd.api.types.is_numeric_dtype(s):
            conv = pd.to_numeric(s, errors="coerce")
            bad = conv.isna() & s.notna()
            if bad.any():
                row = s.index[bad.to_numpy()][0]
                raise DataError("non-numeric answer in an item column", column=str(col), row=row,
                                value=s.loc[row], expected="numbers (missing answers as empty/NaN)",
                                count=int(bad.sum()))
            s = conv
        out[col] = s.to_numpy(dtype=float, na_value=np.nan)
    frame = pd.DataFrame(out, index=df.index)
    values = frame.to_numpy()
    if np.isinf(values).any():
        r, c = np.argwhere(np.isinf(values))[0]
        raise DataError("infinite value in an item column", column=str(frame.columns[c]), row=frame.index[r],
                        value=values[r, c], expected="finite numbers")
    if scale is not None:
        lo, hi = scale
        if not lo < hi:
            raise ParameterError(f"scale must be (min, max) with min < max, got {scale!r}")
        outside = (values < lo) | (values > hi)
        if outside.any():
            r, c = np.argwhere(outside)[0]
            raise DataError("answer outside the response scale", column=str(frame.columns[c]), row=frame.index[r],
                            value=values[r, c], expected=f"values in [{lo}, {hi}] or missing",
                            count=int(outside.sum()))
    return frame


def drop_degenerate_items(frame: pd.DataFrame, *, min_items: int = 2):
    """Remove all-missing and zero-variance items; return (frame, exclusions dict, warnings)."""
    values = frame.to_numpy()
    n_obs = np.sum(~np.isnan(values), axis=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns give NaN, handled below
        sd = np.nanstd(values, axis=0, ddof=1) if values.shape[0] > 1 else np.zeros(values.shape[1])
    exclusions: dict[str, str] = {}
    for col, n_i, s in zip(frame.columns, n_obs, sd):
        if n_i == 0:
            exclusions[str(col)] = "all answers missing"
        elif n_i < 2 or not np.isfinite(s) or s <= 0:
            exclusions[str(col)] = "no variance (every answer identical)"
    warns = []
    if exclusions:
        warns.append(QualityWarning(
            "W-REL-04", "warning",
            "Item(s) " + ", ".join(exclusions) + " were left out: " + "; ".join(f"{k}: {v}" for k, v in exclusions.items()),
            evidence={"excluded": dict(exclusions)}, subject=",".join(exclusions),
            message_zh="以下题项被排除（全部缺失或无变异）：" + "、".join(exclusions)))
    keep = [c for c in frame.columns if str(c) not in exclusions]
    if len(keep) < min_items:
        raise InsufficientDataError(
            f"only {len(keep)} usable item(s) remain after leaving out all-missing / zero-variance items "
            f"({', '.join(f'{k}: {v}' for k, v in exclusions.items())})", expected=f">= {min_items} usable items")
    return frame[keep], exclusions, warns


def check_missing(missing: str) -> str:
    if missing not in ("pairwise", "listwise"):
        raise ParameterError(f"missing must be 'pairwise' or 'listwise', got {missing!r}")
    return missing


def pairwise_cov(values: np.ndarray):
    """Pairwise-complete covariance (R ``cov(x, use="pairwise")``) from sufficient statistics.

    Returns (cov, n_pairs). Means of each pair are taken over the rows where both items are present.
    """
    mask = ~np.isnan(values)
    m = mask.astype(float)
    x0 = np.where(mask, values, 0.0)
    n = m.T @ m
    s = x0.T @ m  # s[i, j] = sum of x_i over rows where i and j are present
    q = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (q - s * s.T / n) / (n - 1)
    return cov, n


def cov2cor(c: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diag(c))
    r = c / np.outer(d, d)
    np.fill_diagonal(r, 1.0)
    return r


def pinv_psych(x: np.ndarray) -> np.ndarray:
    """psych::Pinv: SVD pseudo-inverse with tolerance sqrt(eps) * largest singular value."""
    u, d, vt = np.linalg.svd(x)
    keep = d > max(np.sqrt(np.finfo(float).eps) * d[0], 0)
    return (vt[keep].T / d[keep]) @ u[:, keep].T


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations 1 - 1/diag(R^-1) as psych::smc (pseudo-inverse, clipped to [0, 1])."""
    inv = pinv_psych(r)
    out = 1.0 - 1.0 / np.diag(inv)
    return np.clip(out, 0.0, 1.0)
