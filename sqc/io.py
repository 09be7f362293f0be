"""Loading layer: one way for notebooks, the pipeline and the served app to read data.

Reads CSV (any encoding, comma/semicolon/tab), Excel and Parquet exports, validates each table against its
schema (:mod:`sqc.tables`) and checks references between tables (every branch and checklist item known). Bad
input raises a :class:`~sqc.errors.DataError` subclass naming the file, column, row, value and what was expected;
with ``on_error="exclude"`` offending rows are dropped and counted in ``NetworkData.reports``.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pandas as pd

from .errors import DataError, ParameterError, SchemaError
from .schema import TableSchema, ValidationReport, validate

READERS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "excel", ".xls": "excel", ".xlsm": "excel",
           ".parquet": "parquet", ".pq": "parquet"}
ENV_DATA_DIR = "SQC_DATA_DIR"
PERIOD_STEM = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def default_data_dir() -> Path:
    """The data directory used when none is given: ``$SQC_DATA_DIR`` if set, else the bundled demo data
    (``datasets/`` at the root of a source checkout)."""
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser().resolve()
    bundled = Path(__file__).resolve().parents[1] / "datasets"
    if (bundled / "branches.csv").exists():
        return bundled
    raise DataError(f"no data directory given and no bundled demo data at {bundled}; pass data_dir=..., set "
                    f"${ENV_DATA_DIR}, or generate the demo data with `python -m sqc.demo --out DIR`")


def read_frame(path: str | os.PathLike, *, encoding: str | None = None, sheet: str | int | None = None,
               sep: str | None = None) -> pd.DataFrame:
    """Read one export file into a DataFrame without validating it.

    CSV: ``encoding`` defaults to UTF-8 (with or without BOM); the separator is sniffed (comma, semicolon, tab)
    unless given. Excel: ``sheet`` defaults to the first sheet. A file that cannot be read raises
    :class:`DataError` naming the file and what to try.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", file=str(path), expected="an existing CSV, Excel or Parquet file")
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"unsupported file type {path.suffix!r}", file=str(path),
                        expected=f"one of {sorted(READERS)}")
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        if kind == "excel":
            return pd.read_excel(path, sheet_name=0 if sheet is None else sheet)
        enc = encoding or "utf-8-sig"
        return pd.read_csv(path, encoding=enc, sep=sep, engine="python" if sep is None else "c",
                           keep_default_na=True, na_values=["", "NA", "N/A", "NaN", "null"])
    except UnicodeDecodeError as exc:
        raise DataError(f"cannot decode the text as {encoding or 'UTF-8'} at byte {exc.start}", file=str(path),
                        expected="pass encoding=... (e.g. 'cp949' for Korean Windows exports, 'gb18030' for "
                                 "Chinese ones, 'cp1252' for Western European ones)") from None
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        raise DataError(f"cannot read the file: {exc}", file=str(path),
                        expected=f"a well-formed {kind} file") from None


def read_table(path: str | os.PathLike, schema: TableSchema, *, on_error: str = "raise", **read_kwargs
               ) -> tuple[pd.DataFrame, ValidationReport]:
    """Read a file and validate it against ``schema``; returns ``(frame, report)``.

    Examples
    --------
    >>> from sqc.tables import SCHEMAS                                  # doctest: +SKIP
    >>> complaints, report = read_table("complaints.xlsx", SCHEMAS["complaints"])  # doctest: +SKIP
    """
    frame = read_frame(path, **read_kwargs)
    return validate(frame, schema, file=str(path), on_error=on_error)


def _table_files(data_dir: Path, rel: str) -> list[Path]:
    """A table is one file, or a folder of files (e.g. the hotline partitioned by month) read in name order."""
    target = data_dir / rel
    if target.is_dir():
        files = sorted(p for p in target.iterdir() if p.suffix.lower() in READERS and not p.name.startswith("."))
        if not files:
            raise DataError("folder holds no data files", file=str(target), expected="CSV, Excel or Parquet files")
        return files
    if target.exists():
        return [target]
    # accept the same table exported in another supported format (complaints.csv instead of complaints.parquet)
    stem = target.with_suffix("")
    for suffix in READERS:
        alt = stem.with_suffix(suffix)
        if alt.exists():
            return [alt]
    raise DataError("table file not found", file=str(target), expected=f"a file {target.name} (or the same name "
                    f"as .csv/.xlsx/.parquet) in {data_dir}")


@dataclass
class NetworkData:
    """The validated tables of one service network (see :mod:`sqc.tables` for their columns)."""

    data_dir: Path
    tables: dict[str, pd.DataFrame]
    reports: dict[str, list[ValidationReport]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    extras: dict[str, Path] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(f"NetworkData has no table {name!r}; tables: {sorted(tables)}")

    @property
    def periods(self) -> list[str]:
        """Months covered by the hotline data, ``YYYY-MM``, sorted."""
        hot = self.tables.get("hotline")
        if hot is None or hot.empty:
            return []
        return sorted(hot["ts"].dt.to_period("M").astype(str).unique())

    @property
    def latest_period(self) -> str:
        periods = self.periods
        if not periods:
            raise DataError("the hotline table is empty: no period to report", file=str(self.data_dir))
        return periods[-1]

    def n_excluded(self) -> int:
        return sum(r.n_excluded for reps in self.reports.values() for r in reps)

    def load_summary(self) -> pd.DataFrame:
        """Rows read, kept and excluded per table (shown in the run log and the data-quality panel)."""
        rows = []
        for name, reps in self.reports.items():
            rows.append({"table": name, "files": len(reps), "rows_read": sum(r.n_rows_in for r in reps),
                         "rows_kept": sum(r.n_rows_out for r in reps),
                         "excluded": sum(r.n_excluded for r in reps),
                         "reasons": "; ".join(str(e) for r in reps for e in r.exclusions)})
        return pd.DataFrame(rows)

    def fingerprint(self) -> str:
        """SHA-256 over the names and bytes of every input file (recorded in each report's manifest)."""
        h = hashlib.sha256()
        for path in sorted(self.files + list(self.extras.values())):
            h.update(path.name.encode())
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        return h.hexdigest()


def load_network(data_dir: str | os.PathLike | None = None, *, tables: Iterable[str] | None = None,
                 on_error: str = "raise") -> NetworkData:
    """Load and validate the tables of a service network from ``data_dir``.

    Parameters
    ----------
    data_dir : path, optional
        Folder laid out as :data:`sqc.tables.TABLE_FILES` says (the bundled demo data when None).
    tables : iterable of str, optional
        Load only these tables (all by default).
    on_error : {"raise", "exclude"}
        Raise on the first bad value (default), or drop offending rows and count them in ``.reports``.

    Raises
    ------
    DataError / SchemaError
        Naming the file, column, row and value and what was expected.
    """
    from .tables import SCHEMAS, TABLE_FILES

    data_dir = default_data_dir() if data_dir is None else Path(data_dir).expanduser().resolve()
    if not data_dir.is_dir():
        raise DataError("data directory not found", file=str(data_dir), expected="a folder with the network's tables")
    wanted = list(TABLE_FILES) if tables is None else list(tables)
    unknown = [t for t in wanted if t not in TABLE_FILES]
    if unknown:
        raise ParameterError(f"unknown table(s) {unknown}; known tables: {sorted(TABLE_FILES)}")
    loaded, reports, files = {}, {}, []
    for name in wanted:
        parts, reps = [], []
        for path in _table_files(data_dir, TABLE_FILES[name]):
            frame, rep = read_table(path, SCHEMAS[name], on_error=on_error)
            parts.append(frame)
            reps.append(rep)
            files.append(path)
        loaded[name] = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        reports[name] = reps
    extras = {p.stem: p for p in sorted(data_dir.glob("survey_instrument*.csv"))}
    data = NetworkData(data_dir, loaded, reports, files, extras)
    _check_references(data, on_error)
    return data


def _check_references(data: NetworkData, on_error: str) -> None:
    """Every branch id and checklist item referenced by a table must be declared (branches, checklist)."""
    checks = []
    if "branches" in data.tables:
        known = set(data.tables["branches"]["branch"])
        checks += [(t, "branch", known, "branches.csv") for t in data.tables if t != "branches"
                   and "branch" in data.tables[t].columns]
    if "checklist" in data.tables and "audit_visits" in data.tables:
        checks.append(("audit_visits", "item_id", set(data.tables["checklist"]["item_id"]), "the checklist"))
    for table, column, known, source in checks:
        frame = data.tables[table]
        bad = ~frame[column].isin(known).to_numpy()
        if not bad.any():
            continue
        first = frame.loc[bad, column]
        if on_error == "raise":
            raise SchemaError(f"table {table!r}: unknown {column} (not declared in {source})",
                              file=str(data.data_dir / table), column=column, row=first.index[0],
                              value=first.iloc[0], expected=f"one of {sorted(known)[:12]}", count=int(bad.sum()))
        from .schema import Exclusion

        data.tables[table] = frame.loc[~bad].reset_index(drop=True)
        rep = data.reports[table][-1]
        rep.exclusions.append(Exclusion(table, column, f"is not declared in {source}", int(bad.sum()),
                                        list(first.index[:5]), list(first.iloc[:5])))
        rep.n_rows_out -= int(bad.sum())


def latest_period(data_dir: str | os.PathLike | None = None) -> str:
    """The latest month in a data folder's hotline table, read cheaply (file names of a month-partitioned folder,
    else the timestamp column only)."""
    from .tables import SCHEMAS, TABLE_FILES

    data_dir = default_data_dir() if data_dir is None else Path(data_dir).expanduser().resolve()
    target = data_dir / TABLE_FILES["hotline"]
    if target.is_dir():
        months = sorted(p.stem for p in target.iterdir() if PERIOD_STEM.fullmatch(p.stem))
        if months:
            return months[-1]
    files = _table_files(data_dir, TABLE_FILES["hotline"])
    frame = pd.concat([read_frame(f)[["ts"]] for f in files])
    frame, _ = validate(frame, TableSchema("hotline", (SCHEMAS["hotline"].column("ts"),)), file=str(files[0]))
    if frame.empty:
        raise DataError("the hotline table is empty: no period to report", file=str(target))
    return str(frame["ts"].max().to_period("M"))

