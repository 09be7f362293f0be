"""Table schemas and validation for everything sqc loads.

A :class:`TableSchema` declares the columns of a table (type, unit, allowed values, range, nullability) and
doubles as the data dictionary (``TableSchema.dictionary()``). :func:`validate` checks a DataFrame against it
and either raises a :class:`~sqc.errors.SchemaError` that names the file, column, 1-based row and value and what
was expected, or (``on_error="exclude"``) drops the offending rows and *counts and reports* them in a
:class:`ValidationReport`. Nothing is silently coerced to NaN.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import ParameterError, SchemaError

DTYPES = ("int", "float", "str", "bool", "datetime", "period", "category")


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Parameters
    ----------
    name : str
    dtype : {"int", "float", "str", "bool", "datetime", "period", "category"}
        ``period`` is a month written ``YYYY-MM``; ``category`` is a string restricted to ``allowed``.
    description : str
    unit : str, optional
        e.g. ``"s"``, ``"points"``, ``"1-7 Likert"``.
    allowed : sequence, optional
        The allowed values (for ``category``/``str``/``int``).
    min, max : float, optional
        Inclusive numeric range.
    nullable : bool
        Whether missing values are allowed (a missing value is never invented by the loader).
    required : bool
        Whether the column must be present (optional columns are validated when present).
    """

    name: str
    dtype: str
    description: str = ""
    unit: str | None = None
    allowed: Sequence[Any] | None = None
    min: float | None = None
    max: float | None = None
    nullable: bool = False
    required: bool = True

    def __post_init__(self):
        if self.dtype not in DTYPES:
            raise ParameterError(f"column {self.name!r}: dtype must be one of {DTYPES}, got {self.dtype!r}")

    def expected_text(self) -> str:
        bits = {"int": "a whole number", "float": "a number", "str": "text", "bool": "true/false (or 1/0, yes/no)",
                "datetime": "a timestamp such as 2026-10-31 14:05:00", "period": "a month written YYYY-MM",
                "category": "one of the allowed values"}[self.dtype]
        if self.allowed is not None:
            shown = list(self.allowed)
            bits += f" in {shown[:12]}{' ...' if len(shown) > 12 else ''}"
        if self.min is not None and self.max is not None:
            bits += f" between {self.min:g} and {self.max:g}"
        elif self.min is not None:
            bits += f" ≥ {self.min:g}"
        elif self.max is not None:
            bits += f" ≤ {self.max:g}"
        if self.unit:
            bits += f" ({self.unit})"
        return bits


@dataclass(frozen=True)
class TableSchema:
    """A table's columns, key and description; also its data dictionary."""

    name: str
    columns: tuple[Column, ...]
    description: str = ""
    key: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def dictionary(self) -> pd.DataFrame:
        """The data dictionary: one row per column with type, unit, allowed values/range, nullability."""
        rows = []
        for c in self.columns:
            allowed = ", ".join(map(str, c.allowed)) if c.allowed is not None else ""
            rng = ""
            if c.min is not None or c.max is not None:
                rng = f"{'' if c.min is None else f'{c.min:g}'}–{'' if c.max is None else f'{c.max:g}'}"
            rows.append({"column": c.name, "type": c.dtype, "unit": c.unit or "", "allowed": allowed, "range": rng,
                         "nullable": c.nullable, "required": c.required, "description": c.description})
        return pd.DataFrame(rows)


@dataclass
class Exclusion:
    """Rows removed by validation, counted by reason (reported, never silent)."""

    table: str
    column: str
    reason: str
    count: int
    first_rows: list[int]
    first_values: list[Any]

    def __str__(self) -> str:
        return (f"{self.table}: excluded {self.count} row(s) because column {self.column!r} {self.reason} "
                f"(first rows {self.first_rows}, values {self.first_values})")


@dataclass
class ValidationReport:
    table: str
    file: str | None
    n_rows_in: int
    n_rows_out: int
    exclusions: list[Exclusion] = field(default_factory=list)

    @property
    def n_excluded(self) -> int:
        return self.n_rows_in - self.n_rows_out

    def summary(self) -> str:
        head = f"{self.table}: {self.n_rows_in} rows read, {self.n_rows_out} kept"
        return "\n".join([head] + [f"  - {e}" for e in self.exclusions])


# Reasons shared by the pandas validator below and the SQL validator of the store (sqc.store.checks), so that an
# error reads the same whichever path found it.
MISSING_REASON = "has a missing value where one is required"
ALLOWED_REASON = "has a value outside the allowed set"
RANGE_REASON = "has a value out of range"
INFINITE_REASON = "has an infinite value"


def type_reason(col: Column) -> str:
    return f"has a value that is not {col.expected_text().split(' in ')[0]}"


def key_reason(schema: TableSchema, where: str = "an earlier row") -> str:
    return f"repeats the key {list(schema.key)} of {where}"


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def _user_row(df: pd.DataFrame, positions: np.ndarray, from_file: bool) -> list:
    """Row numbers as a user sees them: 1-based data rows for files, index labels otherwise."""
    if from_file:
        return [int(p) + 1 for p in positions]
    return [df.index[p] for p in positions]


def _coerce(series: pd.Series, col: Column) -> tuple[pd.Series, np.ndarray]:
    """Convert a column to its declared type. Returns the converted series and a mask of values that could not
    be converted (originally non-missing but unparseable)."""
    was_na = series.isna().to_numpy()
    if col.dtype in ("int", "float"):
        if pd.api.types.is_bool_dtype(series):
            out = series.astype(float)
        else:
            out = pd.to_numeric(series, errors="coerce")
        bad = out.isna().to_numpy() & ~was_na
        if col.dtype == "int":
            frac = out.notna().to_numpy() & ~np.isclose(np.mod(out.fillna(0).to_numpy(dtype=float), 1), 0)
            bad |= frac
            if bad.any():  # keep the offending values visible for the error message; rows are raised/excluded
                return out, bad
            out = out.astype("Int64") if out.isna().any() else out.astype("int64")
        else:
            out = out.astype(float)
        return out, bad
    if col.dtype == "bool":
        if pd.api.types.is_bool_dtype(series):
            return series.astype("boolean"), np.zeros(len(series), bool)
        s = series.astype("string").str.strip().str.lower()
        out = pd.Series(pd.NA, index=series.index, dtype="boolean")
        out[s.isin(_TRUE).fillna(False).to_numpy()] = True
        out[s.isin(_FALSE).fillna(False).to_numpy()] = False
        bad = out.isna().to_numpy() & ~was_na
        return out, bad
    if col.dtype == "datetime":
        if pd.api.types.is_datetime64_any_dtype(series):
            return series, np.zeros(len(series), bool)
        out = pd.to_datetime(series, errors="coerce", format="mixed")
        return out, out.isna().to_numpy() & ~was_na
    if col.dtype == "period":
        s = series.astype("string").str.strip()
        ok = s.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").fillna(False).to_numpy()
        bad = ~ok & ~was_na
        return s, bad
    # str / category. Columns that already have a text dtype are kept as read; mixed object columns (e.g. ids read
    # as numbers) become text, trimmed. Stray spaces in ids are not hidden: an id like 'B07 ' fails the reference
    # check with its value named.
    if series.dtype == object or not pd.api.types.is_string_dtype(series):
        return series.astype("string").str.strip(), np.zeros(len(series), bool)
    return series, np.zeros(len(series), bool)


def validate(df: pd.DataFrame, schema: TableSchema, *, file: str | None = None, on_error: str = "raise",
             extra_columns: str = "keep") -> tuple[pd.DataFrame, ValidationReport]:
    """Check ``df`` against ``schema`` and return ``(clean_df, report)``.

    Parameters
    ----------
    on_error : {"raise", "exclude"}
        ``"raise"`` (default): the first problem raises :class:`SchemaError` naming file, column, row, value and
        what was expected, with the count of affected rows. ``"exclude"``: offending rows are removed and each
        reason is counted in ``report.exclusions``. Missing *required columns* always raise.
    extra_columns : {"keep", "drop", "raise"}
        What to do with columns the schema does not declare.
    """
    if on_error not in ("raise", "exclude"):
        raise ParameterError(f"on_error must be 'raise' or 'exclude', got {on_error!r}")
    if extra_columns not in ("keep", "drop", "raise"):
        raise ParameterError(f"extra_columns must be 'keep', 'drop' or 'raise', got {extra_columns!r}")
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"{schema.name}: expected a pandas DataFrame, got {type(df).__name__}")
    from_file = file is not None
    present = set(map(str, df.columns))
    missing = [c.name for c in schema.columns if c.required and c.name not in present]
    if missing:
        close = {m: _closest(m, present) for m in missing}
        hint = "; ".join(f"{m!r} (did you mean {close[m]!r}?)" if close[m] else repr(m) for m in missing)
        raise SchemaError(f"table {schema.name!r} is missing required column(s) {hint}", file=file,
                          expected=f"columns {schema.names}")
    extra = [c for c in df.columns if str(c) not in set(schema.names)]
    if extra and extra_columns == "raise":
        raise SchemaError(f"table {schema.name!r} has undeclared column(s) {extra}", file=file,
                          expected=f"only columns {schema.names}")
    out = df.drop(columns=extra) if (extra and extra_columns == "drop") else df.copy()
    out = out.reset_index(drop=True) if from_file else out
    report = ValidationReport(schema.name, file, len(df), len(df))
    keep = np.ones(len(out), dtype=bool)

    def problem(col: Column, mask: np.ndarray, reason: str, values: pd.Series):
        nonlocal keep
        if not mask.any():
            return
        pos = np.flatnonzero(mask)
        if on_error == "raise":
            raise SchemaError(f"table {schema.name!r}: {reason}", file=file, column=col.name,
                              row=_user_row(out, pos[:1], from_file)[0], value=_plain(values.iloc[pos[0]]),
                              expected=col.expected_text(), count=int(mask.sum()))
        report.exclusions.append(Exclusion(schema.name, col.name, reason, int(mask.sum()),
                                           _user_row(out, pos[:5], from_file),
                                           [_plain(values.iloc[p]) for p in pos[:5]]))
        keep &= ~mask

    for col in schema.columns:
        if col.name not in out.columns:
            continue
        raw = out[col.name]
        conv, bad = _coerce(raw, col)
        problem(col, bad, type_reason(col), raw)
        isna = conv.isna().to_numpy()
        if col.dtype == "float":
            with np.errstate(invalid="ignore"):
                infinite = np.isinf(conv.to_numpy(dtype=float, na_value=np.nan))
            problem(col, infinite & ~bad, INFINITE_REASON, raw)
        else:
            infinite = np.zeros(len(conv), bool)
        if not col.nullable:
            problem(col, isna & ~bad, MISSING_REASON, raw)
        if col.allowed is not None:
            allowed = set(col.allowed)
            not_allowed = ~conv.isin(allowed).fillna(False).to_numpy() & ~isna
            problem(col, not_allowed & ~bad, ALLOWED_REASON, raw)
        if col.dtype in ("int", "float") and (col.min is not None or col.max is not None):
            vals = conv.astype(float).to_numpy()
            with np.errstate(invalid="ignore"):
                low = (vals < col.min) if col.min is not None else np.zeros(len(vals), bool)
                high = (vals > col.max) if col.max is not None else np.zeros(len(vals), bool)
            problem(col, (low | high) & ~np.isnan(vals) & ~infinite, RANGE_REASON, raw)
        out[col.name] = conv
    if schema.key and all(k in out.columns for k in schema.key):
        dup = out.duplicated(list(schema.key), keep="first").to_numpy() & keep
        if dup.any():
            kcol = schema.column(schema.key[0])
            problem(kcol, dup, key_reason(schema), out[schema.key[0]])
    if not keep.all():
        out = out.loc[keep].reset_index(drop=True) if from_file else out.loc[keep]
        for col in schema.columns:  # integer columns that held excluded non-integers are now whole again
            if col.dtype == "int" and col.name in out.columns and out[col.name].dtype.kind == "f":
                out[col.name] = out[col.name].astype("Int64" if out[col.name].isna().any() else "int64")
    report.n_rows_out = len(out)
    return out, report


def conform(df: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Give already-validated columns (e.g. read back from the store) the dtypes :func:`validate` gives, without
    checking them again."""
    out = df.copy()
    for col in schema.columns:
        if col.name in out.columns:
            conv, _ = _coerce(out[col.name], col)
            if col.dtype == "int" and conv.dtype.kind == "f":
                conv = conv.astype("Int64" if conv.isna().any() else "int64")
            out[col.name] = conv
    return out


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


def _closest(name: str, candidates: Iterable[str]) -> str | None:
    import difflib

    m = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return m[0] if m else None
