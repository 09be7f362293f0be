"""``sqc ingest``: load a data folder into the store, incrementally, in one transaction.

Each file is fingerprinted (SHA-256 of its bytes). A file already in the store with the same fingerprint is
skipped; a new or changed file is validated and (re)loaded; a file that disappeared has its rows removed. All of
a run's changes are applied in ONE transaction: an error (bad data with ``on_error="raise"``), an interrupt or a
crash leaves the store exactly as it was.

Small tables are read with pandas (CSV, Excel, Parquet) and validated by
:func:`sqc.schema.validate`. The hotline (``hotline/YYYY-MM.parquet``, tens of millions of rows a month at a
national operator) is validated and loaded by DuckDB straight from each Parquet file, one file at a time, with
the same rules written in SQL (:mod:`sqc.store.checks`); it never passes through pandas.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from ..errors import DataError, ParameterError
from ..schema import Exclusion, validate
from . import checks
from .store import (DEFAULT_MEMORY, ENV_STORE_MEMORY, META_DDL, Store, default_store_path, dumps, schema_version,
                    table_ddl)

#: Tables validated and loaded by DuckDB directly (never materialised in pandas at ingest).
BIG_TABLES = frozenset({"hotline"})
#: Reference tables are ingested first: the others are checked against them.
_FIRST = ("branches", "checklist")
_MONTH_STEM = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_WRITE_LOCK = threading.Lock()
#: Test hook: called with the relative path after each file is loaded, inside the transaction.
_after_file_hook: Callable[[str], None] | None = None


def parse_cutoff(cutoff) -> pd.Timestamp:
    """The export's cut-off. A date alone means the end of that day; default: now (no row of an export can be
    dated in the future)."""
    if cutoff is None or cutoff == "":
        return pd.Timestamp.now().floor("s")
    try:
        ts = pd.Timestamp(cutoff)
    except (ValueError, TypeError):
        raise ParameterError(f"cut-off {cutoff!r} is not a date; give YYYY-MM-DD or 'YYYY-MM-DD HH:MM'") from None
    if isinstance(cutoff, str) and len(cutoff.strip()) <= 10:
        ts = ts + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    return ts.tz_localize(None) if ts.tzinfo else ts


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror or exc}", file=str(path),
                        expected="a readable file (check its permissions)") from None
    return h.hexdigest()


@dataclass
class IngestResult:
    """What one ingest did."""

    store: Store
    data_dir: Path
    cutoff: pd.Timestamp
    tables: list[str] = field(default_factory=list)
    ingested: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.ingested or self.removed)

    def summary(self) -> str:
        return (f"store {self.store.path}: {len(self.ingested)} file(s) ingested, {len(self.skipped)} unchanged, "
                f"{len(self.removed)} removed in {self.seconds:.1f} s (cut-off {self.cutoff})")


def _discover(data_dir: Path, wanted: list[str]) -> list[tuple[str, Path, str]]:
    from ..io import _table_files
    from ..tables import OPTIONAL_TABLES, TABLE_FILES

    out = []
    for name in sorted(wanted, key=lambda t: (t not in _FIRST, _FIRST.index(t) if t in _FIRST else 0)):
        try:
            paths = _table_files(data_dir, TABLE_FILES[name])
        except DataError:
            if name in OPTIONAL_TABLES:  # an optional table (e.g. the intervention register) may be absent
                continue
            raise
        for path in paths:
            out.append((name, path, path.relative_to(data_dir).as_posix()))
    return out


def _needs_ingest(rec: dict | None, table: str, fp: str, on_error: str, cutoff: pd.Timestamp) -> bool:
    if rec is None or rec["fingerprint"] != fp or rec["tbl"] != table:
        return True
    if on_error == "raise" and rec["rows_excluded"] > 0:
        return True  # rows excluded by an earlier --exclude run must now raise, as a direct load would
    max_date = rec["max_date"]
    return max_date is not None and not pd.isna(max_date) and pd.Timestamp(max_date) > cutoff


def ingest(data_dir=None, *, store: Store | str | os.PathLike | None = None, tables: Iterable[str] | None = None,
           on_error: str = "raise", cutoff=None, encoding: str | None = None,
           progress: Callable[[str], None] | None = None) -> IngestResult:
    """Bring the store of ``data_dir`` up to date with its files.

    Parameters
    ----------
    data_dir : path, optional
        The data folder (default: ``$SQC_DATA_DIR`` or the bundled demo data).
    store : Store or path, optional
        Default :func:`sqc.store.default_store_path` (``$SQC_STORE``, else ``<data_dir>/.sqc/store.duckdb``,
        else a per-user cache file).
    tables : iterable of str, optional
        Only these tables (default all of :data:`sqc.tables.TABLE_FILES`).
    on_error : {"raise", "exclude"}
        Refuse the first bad value (nothing is changed), or leave bad rows out and count them per file.
    cutoff : date or timestamp, optional
        The export's cut-off: rows dated after it are refused (or excluded). Default: the time of the ingest.
    encoding : str, optional
        Text encoding of CSV exports that are not UTF-8 (e.g. ``"gb18030"``, ``"cp949"``); UTF-8 (with or
        without BOM) is always tried first.
    progress : callable, optional
        Called with a line of text per file. If it has a ``total`` attribute (a progress bar), that is set to the
        number of files to load or remove before the first one.

    Raises
    ------
    DataError / SchemaError
        Naming the file, column, 1-based row, value and what was expected; the store is left unchanged.
    StoreLockedError
        Another process is writing the store.
    """
    from ..io import default_data_dir
    from ..tables import TABLE_FILES

    started = time.perf_counter()
    if on_error not in ("raise", "exclude"):
        raise ParameterError(f"on_error must be 'raise' or 'exclude', got {on_error!r}")
    data_dir = default_data_dir() if data_dir is None else Path(data_dir).expanduser().resolve()
    if not data_dir.is_dir():
        raise DataError("data directory not found", file=str(data_dir), expected="a folder with the network's tables")
    wanted = list(TABLE_FILES) if tables is None else list(dict.fromkeys(tables))
    unknown = [t for t in wanted if t not in TABLE_FILES]
    if unknown:
        raise ParameterError(f"unknown table(s) {unknown}; known tables: {sorted(TABLE_FILES)}")
    cut = parse_cutoff(cutoff)
    if not isinstance(store, Store):
        store = Store(default_store_path(data_dir) if store is None else store, data_dir)
    store.data_dir = data_dir
    say = progress or (lambda _msg: None)

    hashed = [(table, path, rel, sha256_file(path)) for table, path, rel in _discover(data_dir, wanted)]
    result = IngestResult(store, data_dir, cut, wanted)
    if store.path.exists():
        # under the process's write lock: DuckDB refuses a read-only connection in a process that holds a
        # read-write one to the same file, which another thread's ingest may be holding right now
        with _WRITE_LOCK, store.connect(read_only=True) as con:
            stored, meta = _read_state(con)
        plan = _plan(hashed, stored, meta, wanted, on_error, cut, store)
        if not plan.changes:
            result.skipped = plan.skipped
            result.seconds = time.perf_counter() - started
            return result
    with _WRITE_LOCK:  # one writer per process (DuckDB's file lock keeps other processes out)
        con = store.connect(read_only=False)
        try:
            # bounded memory whatever the size of a monthly file (DuckDB spills to <store>.tmp beyond it)
            con.execute(f"SET memory_limit = '{os.environ.get(ENV_STORE_MEMORY, DEFAULT_MEMORY)}'")
            con.execute("SET preserve_insertion_order = false")
            con.execute("BEGIN TRANSACTION")
            # plan again inside the transaction: another ingest may have run since the read-only look
            stored, meta = _read_state(con)
            plan = _plan(hashed, stored, meta, wanted, on_error, cut, store)
            result.skipped = plan.skipped
            if stored and not plan.changes:
                con.execute("ROLLBACK")
            else:
                _apply(con, plan, stored, result, data_dir, on_error, cut, encoding, say)
                con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except Exception:  # the transaction may already be over; the store is unchanged either way
                pass
            raise
        finally:
            con.close()
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class _Plan:
    todo: list[tuple[str, Path, str, str]]
    skipped: list[str]
    gone: list[str]
    rebuild: bool

    @property
    def changes(self) -> bool:
        return bool(self.todo or self.gone or self.rebuild)


def _read_state(con) -> tuple[dict[str, dict], dict[str, str]]:
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "_sqc_files" not in names:
        return {}, {}
    meta = dict(con.execute("SELECT key, value FROM _sqc_meta").fetchall())
    frame = con.execute("SELECT * FROM _sqc_files").df()
    return {r["path"]: r for r in frame.to_dict("records")}, meta


def _plan(hashed, stored: dict[str, dict], meta: dict[str, str], wanted: list[str], on_error: str,
          cut: pd.Timestamp, store: Store) -> _Plan:
    """Which files to (re)load, which are unchanged, which were removed."""
    # a store kept inside its data folder (the default DIR/.sqc/) moves with it: a copied or renamed folder keeps
    # using it (its paths are relative); a store elsewhere serves one folder only
    inside = Path(store.path).resolve().is_relative_to(Path(store.data_dir).resolve())
    if stored and not inside and meta.get("data_dir") not in (None, str(store.data_dir)):
        raise DataError(f"the store holds the data folder {meta['data_dir']}, not this one", file=str(store.path),
                        expected=f"a store of {store.data_dir}: pass --store PATH (or unset $SQC_STORE), or delete "
                                 "the store file to rebuild it")
    rebuild = bool(stored) and meta.get("schema_version") != schema_version()
    todo, skipped = [], []
    for table, path, rel, fp in hashed:
        if rebuild or _needs_ingest(stored.get(rel), table, fp, on_error, cut):
            todo.append((table, path, rel, fp))
        else:
            skipped.append(rel)
    if any(t in _FIRST for t, *_ in todo):  # rows left out for an undeclared branch/item may be valid now
        queued = {rel for _, _, rel, _ in todo}
        by_rel = {rel: (table, path, fp) for table, path, rel, fp in hashed}
        for rel, rec in stored.items():
            if rel in by_rel and rel not in queued and "is not declared in" in (rec["reasons"] or ""):
                table, path, fp = by_rel[rel]
                todo.append((table, path, rel, fp))
                skipped.remove(rel)
    present = {rel for *_, rel, _ in hashed}
    gone = [rel for rel, rec in stored.items() if rec["tbl"] in wanted and rel not in present]
    return _Plan(todo, skipped, [] if rebuild else gone, rebuild)


def _apply(con, plan: _Plan, stored: dict[str, dict], result: IngestResult, data_dir: Path, on_error: str,
           cut: pd.Timestamp, encoding: str | None, say: Callable[[str], None]) -> None:
    """Carry out a plan inside the caller's transaction."""
    from ..tables import TABLE_FILES

    if plan.rebuild:
        say("store built by another version of sqc: rebuilding it from the exports")
        for name in [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]:
            con.execute(f"DROP TABLE {checks.ident(name)}")
        stored = {}
    for ddl in META_DDL:
        con.execute(ddl)
    for name in TABLE_FILES:
        con.execute(table_ddl(name))
    con.execute("DELETE FROM _sqc_meta")
    con.executemany("INSERT INTO _sqc_meta VALUES (?, ?)",
                    [("data_dir", str(data_dir)), ("schema_version", schema_version())])
    for rel in plan.gone + [rel for _, _, rel, _ in plan.todo if rel in stored]:
        _drop_file(con, stored[rel])
        if rel in plan.gone:
            say(f"removed {rel}")
    result.removed = plan.gone
    if hasattr(say, "total"):
        say.total = len(plan.gone) + len(plan.todo)
    next_id = (con.execute("SELECT max(file_id) FROM _sqc_files").fetchall()[0][0] or 0) + 1
    loaded: dict[str, list[int]] = {}
    paths = dict(con.execute("SELECT file_id, path FROM _sqc_files").fetchall())
    for table, path, rel, fp in plan.todo:
        t0 = time.perf_counter()
        paths[next_id] = rel
        rows = _load_file(con, table, path, rel, next_id, fp, on_error, cut, paths, encoding)
        loaded.setdefault(table, []).append(next_id)
        result.ingested.append(rel)
        say(f"ingested {rel}: {rows:,} rows in {time.perf_counter() - t0:.1f} s")
        next_id += 1
        if _after_file_hook is not None:
            _after_file_hook(rel)
    _check_all_references(con, loaded, on_error, data_dir)


def _drop_file(con, rec: dict) -> None:
    con.execute(f"DELETE FROM {checks.ident(rec['tbl'])} WHERE _file_id = ?", [rec["file_id"]])
    con.execute("DELETE FROM _sqc_months WHERE file_id = ?", [rec["file_id"]])
    con.execute("DELETE FROM _sqc_files WHERE file_id = ?", [rec["file_id"]])


def _source_types(con, source: str) -> dict[str, str]:
    return {r[0]: str(r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall() if r[0] != "_row"}


def _load_file(con, table: str, path: Path, rel: str, file_id: int, fp: str, on_error: str, cutoff: pd.Timestamp,
               paths: dict[int, str], encoding: str | None = None) -> int:
    """Validate one file and append its rows (inside the caller's transaction). Returns the rows kept."""
    import duckdb

    from ..io import READERS
    from ..tables import SCHEMAS, TABLE_FILES

    schema = SCHEMAS[table]
    file = str(path)
    month = path.stem if ("." not in TABLE_FILES[table] and _MONTH_STEM.fullmatch(path.stem)) else None
    exclusions: list[Exclusion] = []
    big_parquet = table in BIG_TABLES and READERS.get(path.suffix.lower()) == "parquet"
    if big_parquet:
        if path.stat().st_size == 0:
            raise DataError("the file is empty (0 bytes)", file=file, expected="a Parquet file with the table's rows")
        source = (f"(SELECT *, file_row_number + 1 AS _row FROM read_parquet({checks.literal(str(path))}, "
                  "file_row_number = true))")
        try:
            raw_types = _source_types(con, source)
        except duckdb.Error as exc:
            raise DataError(f"cannot read the file as Parquet: {str(exc).splitlines()[0]}", file=file,
                            expected="a well-formed Parquet file (is it really Parquet?)") from None
        raw_types.pop("file_row_number", None)
        validate(pd.DataFrame(columns=list(raw_types)), schema, file=file)  # missing columns, did-you-mean
        rules = checks.schema_rules(schema, raw_types)
        rows_read = None
    else:
        frame = _read_export(path, encoding)
        frame = frame.assign(_row=range(1, len(frame) + 1))
        if table in BIG_TABLES:  # a CSV/Excel month of the big table: typed by the SQL rules, like Parquet
            rows_read = None
            validate(frame.iloc[:0], schema, file=file)
            rules_frame = frame
        else:
            rules_frame, report = validate(frame, schema, file=file, on_error=on_error)
            rows_read, exclusions = report.n_rows_in, list(report.exclusions)
        con.register("_sqc_src_frame", rules_frame)
        source = "_sqc_src_frame"
        raw_types = _source_types(con, source)
        rules = checks.schema_rules(schema, raw_types) if table in BIG_TABLES else []
    rules += checks.date_rules(schema, raw_types, cutoff=cutoff, month=month, file_name=Path(rel).name)
    try:
        n_rows, more, keep = checks.evaluate(con, source, rules, table=table, file=file, on_error=on_error)
        exclusions += more
        columns = [c.name for c in schema.columns if c.name in raw_types]
        select = ", ".join(checks.converted(schema.column(c), raw_types[c])[0] for c in columns)
        con.execute(f"INSERT INTO {checks.ident(table)} ({', '.join(map(checks.ident, columns))}, _file_id, _row) "
                    f"SELECT {select}, {file_id}, _row FROM {source} WHERE {keep}")
    except duckdb.Error as exc:
        raise DataError(f"cannot load the file: {str(exc).splitlines()[0]}", file=file,
                        expected=f"a well-formed {path.suffix.lstrip('.')} file with the columns of {table}"
                        ) from None
    finally:
        if source == "_sqc_src_frame":
            con.unregister("_sqc_src_frame")
    if table in BIG_TABLES or "/" in rel:  # a table split over the files of a folder: keys across them
        exclusions += checks.duplicate_keys(con, schema, file_id, paths, file=file, on_error=on_error)
    rows_read = n_rows if rows_read is None else rows_read
    date_col = checks.DATE_COLUMNS.get(table)
    date_cols = [c.name for c in schema.columns if c.dtype in ("datetime", "period") and c.name in columns]
    max_date = None
    if date_cols:
        parts = [f"max({checks.ident(c)})" if schema.column(c).dtype == "datetime"
                 else f"max(strptime({checks.ident(c)} || '-01', '%Y-%m-%d'))" for c in date_cols]
        max_date = con.execute(f"SELECT greatest({', '.join(parts)}) FROM {checks.ident(table)} WHERE _file_id = ?",
                               [file_id]).fetchall()[0][0]
    con.execute("INSERT INTO _sqc_files VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?, now())",
                [file_id, rel, table, fp, path.stat().st_size, rows_read,
                 dumps([e.__dict__ for e in exclusions]), json.dumps(columns), on_error, cutoff.to_pydatetime(),
                 max_date])
    _refresh_counts(con, table, file_id, date_col if date_col in columns else None)
    return con.execute("SELECT rows_kept FROM _sqc_files WHERE file_id = ?", [file_id]).fetchall()[0][0]


def _read_export(path: Path, encoding: str | None) -> pd.DataFrame:
    """UTF-8 first (valid UTF-8 is almost never another encoding by accident), then ``encoding`` if given, so
    that one folder can mix UTF-8 files with, say, GB18030 ones from an older system."""
    from ..io import read_frame

    try:
        return read_frame(path)
    except DataError as exc:
        if encoding is None or not str(exc.reason).startswith("cannot decode"):
            raise
    return read_frame(path, encoding=encoding)


def _refresh_counts(con, table: str, file_id: int, date_col: str | None) -> None:
    """Rows kept and excluded of one file, and its rows per branch and month (the metadata behind ``periods`` and
    the data-gap check)."""
    from ..tables import SCHEMAS

    t = checks.ident(table)
    con.execute(f"UPDATE _sqc_files SET rows_kept = (SELECT count(*) FROM {t} WHERE _file_id = ?), "
                "rows_excluded = rows_read - (SELECT count(*) FROM {t} WHERE _file_id = ?) WHERE file_id = ?"
                .replace("{t}", t), [file_id, file_id, file_id])
    con.execute("DELETE FROM _sqc_months WHERE file_id = ?", [file_id])
    if date_col is None or "branch" not in SCHEMAS[table].names:
        return
    if SCHEMAS[table].column(date_col).dtype == "datetime":  # truncate, then format once per group
        month, label = f"date_trunc('month', {checks.ident(date_col)})", "strftime(month, '%Y-%m')"
    else:
        month, label = checks.ident(date_col), "month"
    con.execute(f"INSERT INTO _sqc_months SELECT ?, ?, branch, {label}, n FROM (SELECT branch, {month} AS month, "
                f"count(*) AS n FROM {t} WHERE _file_id = ? GROUP BY ALL)", [file_id, table, file_id])


def _check_all_references(con, loaded: dict[str, list[int]], on_error: str, data_dir: Path) -> None:
    """Branch and checklist-item references of the files loaded in this run; every file of a table when the
    referenced table itself changed (a branch removed from branches.csv must fail where it is still used)."""
    from ..tables import SCHEMAS

    have = {r[0] for r in con.execute("SELECT DISTINCT tbl FROM _sqc_files").fetchall()}
    files = {fid: str(data_dir / rel) for fid, rel in con.execute("SELECT file_id, path FROM _sqc_files").fetchall()}
    for table, schema in SCHEMAS.items():
        columns = [c for c in checks.REFERENCES if c in schema.names and checks.REFERENCES[c][0] in have
                   and checks.REFERENCES[c][0] != table]
        if not columns or table not in have:
            continue
        ref_changed = any(checks.REFERENCES[c][0] in loaded for c in columns)
        if not ref_changed and table not in loaded:
            continue
        scope = None if ref_changed else loaded[table]
        found = checks.unknown_references(con, table, columns, scope, on_error=on_error, files=files)
        date_col = checks.DATE_COLUMNS.get(table)
        for fid, exclusions in found.items():
            old = json.loads(con.execute("SELECT reasons FROM _sqc_files WHERE file_id = ?", [fid]).fetchall()[0][0])
            con.execute("UPDATE _sqc_files SET reasons = ? WHERE file_id = ?",
                        [dumps(old + [e.__dict__ for e in exclusions]), fid])
            _refresh_counts(con, table, fid, date_col)
