"""Loading layer: one way for notebooks, the pipeline and the served app to read data.

Reads CSV (any encoding, comma/semicolon/tab), Excel and Parquet exports and validates each table against its
schema (:mod:`sqc.tables`). :func:`load_network` goes through the embedded store (:mod:`sqc.store`): the folder
is ingested (incrementally) with set-based checks over whole tables (keys across monthly files, rows in the
wrong monthly file, the export's cut-off, references between tables), and small tables come back as pandas
frames while the hotline stays in the store until accessed. Bad input raises a :class:`~sqc.errors.DataError`
subclass naming the file, column, row, value and what was expected; with ``on_error="exclude"`` offending rows
are dropped and counted in ``NetworkData.reports``.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from .errors import DataError
from .schema import Exclusion, TableSchema, ValidationReport, validate

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
    if path.is_file() and path.stat().st_size == 0:
        raise DataError("the file is empty (0 bytes)", file=str(path), expected=f"a {kind} file with the table's rows "
                        "(was the export interrupted?)")
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
    except (pd.errors.ParserError, ValueError, OSError, csv.Error) as exc:
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


class TableMap(MutableMapping):
    """The tables of a :class:`NetworkData`: pandas frames, except the big ones (the hotline), which are read
    from the store only when first accessed (``data.hotline``, ``data.tables["hotline"]``) and then kept."""

    def __init__(self, frames: dict[str, pd.DataFrame] | None = None,
                 lazy: dict[str, Callable[[], pd.DataFrame]] | None = None):
        self._frames = dict(frames or {})
        self._lazy = dict(lazy or {})

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._frames and name in self._lazy:
            self._frames[name] = self._lazy.pop(name)()
        return self._frames[name]

    def __setitem__(self, name: str, frame: pd.DataFrame) -> None:
        self._lazy.pop(name, None)
        self._frames[name] = frame

    def __delitem__(self, name: str) -> None:
        if name in self._lazy:
            del self._lazy[name]
        else:
            del self._frames[name]

    def __iter__(self):
        return iter(list(self._frames) + [n for n in self._lazy if n not in self._frames])

    def __len__(self) -> int:
        return len(set(self._frames) | set(self._lazy))

    def is_loaded(self, name: str) -> bool:
        """Whether a table is in memory (False for a big table not accessed yet)."""
        return name in self._frames

    def __repr__(self) -> str:
        return f"TableMap(loaded={sorted(self._frames)}, lazy={sorted(self._lazy)})"


@dataclass
class NetworkData:
    """The validated tables of one service network (see :mod:`sqc.tables` for their columns).

    Built by :func:`load_network` from the store (:mod:`sqc.store`): small tables are pandas frames; the hotline's
    raw rows stay in the store until ``data.hotline`` is accessed. ``store`` gives SQL/Ibis access to every table;
    ``periods``, ``load_summary()``, ``fingerprint()`` and ``data_gaps`` come from the store's metadata.
    """

    data_dir: Path
    tables: MutableMapping
    reports: dict[str, list[ValidationReport]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    extras: dict[str, Path] = field(default_factory=dict)
    store: Any = None
    file_fingerprints: dict[str, str] = field(default_factory=dict)
    # where the raw rows are aggregated when that is not the store (Spark: see sqc.engine.attach_engine)
    aggregation_source: Any = None

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(f"NetworkData has no table {name!r}; tables: {sorted(tables)}")

    def _loaded_tables(self) -> set[str]:
        return set(self.reports) or set(self.tables)

    @property
    def periods(self) -> list[str]:
        """Months covered by the hotline data, ``YYYY-MM``, sorted (from the store's metadata: no scan)."""
        if self.store is not None:
            return self.store.periods("hotline") if "hotline" in self._loaded_tables() else []
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

    @property
    def data_gaps(self) -> pd.DataFrame:
        """Branch × month cells with no hotline contacts or no exposure although the branch has other data that
        month: ``branch, month, missing, has`` (see :func:`sqc.store.checks.data_gaps`). KPIs of those cells are
        missing, not zero."""
        if "_data_gaps" not in self.__dict__:
            from .store.checks import data_gaps

            if self.store is None:
                raise DataError("data gaps are computed from the store; load with load_network()")
            counts = self.store.month_counts()
            self.__dict__["_data_gaps"] = data_gaps(counts.loc[counts["tbl"].isin(self._loaded_tables())])
        return self.__dict__["_data_gaps"]

    @property
    def warnings(self) -> list:
        """Data-quality warnings of the loaded data (``W-DATA-01`` / ``W-DATA-02`` data gaps)."""
        from .store.checks import gap_warnings

        return gap_warnings(self.data_gaps) if self.store is not None else []

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
        """SHA-256 over the names and content fingerprints of every input file (recorded in each report's
        manifest). Data files' fingerprints come from the store (hashed once, at ingest)."""
        h = hashlib.sha256()
        entries = [(p.relative_to(self.data_dir).as_posix() if p.is_relative_to(self.data_dir) else p.name,
                    self.file_fingerprints.get(str(p)) or _sha256(p))
                   for p in self.files + list(self.extras.values())]
        for name, digest in sorted(entries):
            h.update(name.encode())
            h.update(digest.encode())
        return h.hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_network(data_dir: str | os.PathLike | None = None, *, store=None, tables: Iterable[str] | None = None,
                 on_error: str = "raise", cutoff=None, encoding: str | None = None) -> NetworkData:
    """Load and validate the tables of a service network from ``data_dir``, through its store.

    The folder is first ingested into its store (:func:`sqc.store.ingest`; incremental, so cheap when nothing
    changed); small tables are then read from the store as pandas frames, and the hotline's raw rows only when
    ``data.hotline`` is accessed (aggregate them in the store instead: ``data.store``).

    Parameters
    ----------
    data_dir : path, optional
        Folder laid out as :data:`sqc.tables.TABLE_FILES` says (the bundled demo data when None).
    store : sqc.store.Store or path, optional
        The store to use (default :func:`sqc.store.default_store_path`: ``$SQC_STORE``, else
        ``<data_dir>/.sqc/store.duckdb``, else a per-user cache file).
    tables : iterable of str, optional
        Load only these tables (all by default).
    on_error : {"raise", "exclude"}
        Raise on the first bad value (default), or drop offending rows and count them in ``.reports``.
    cutoff : date or timestamp, optional
        The export's cut-off (rows dated after it are refused or excluded); default the time of the ingest.
    encoding : str, optional
        Text encoding of CSV exports that are not UTF-8 (e.g. ``"gb18030"`` for Chinese Windows exports); UTF-8
        is always tried first.

    Raises
    ------
    DataError / SchemaError
        Naming the file, column, row and value and what was expected.
    """
    from .store import Store
    from .store.ingestion import BIG_TABLES, ingest

    result = ingest(data_dir, store=store, tables=tables, on_error=on_error, cutoff=cutoff, encoding=encoding)
    data_dir, wanted = result.data_dir, result.tables
    st: Store = result.store
    files_frame = st.files()
    reports, files, fps = {}, [], {}
    for name in wanted:
        reps = []
        for rec in files_frame.loc[files_frame["tbl"] == name].to_dict("records"):
            path = data_dir / rec["path"]
            exclusions = [Exclusion(**e) for e in json.loads(rec["reasons"] or "[]")]
            reps.append(ValidationReport(name, str(path), int(rec["rows_read"]), int(rec["rows_kept"]), exclusions))
            files.append(path)
            fps[str(path)] = rec["fingerprint"]
        reports[name] = reps
    frames = st.read_tables(n for n in wanted if n not in BIG_TABLES)
    lazy = {n: (lambda n=n: st.read_table(n)) for n in wanted if n in BIG_TABLES}
    extras = {p.stem: p for p in sorted(data_dir.glob("survey_instrument*.csv"))}
    data = NetworkData(data_dir, TableMap(frames, lazy), reports, files, extras, st, fps)
    from .engine import attach_engine

    return attach_engine(data)  # --engine spark / $SQC_ENGINE: aggregate on Spark; DuckDB: the store itself


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

