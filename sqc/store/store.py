"""Where the store lives, how it is opened (one writer, many readers, a clear message when locked) and what it
answers without scanning raw rows.

Layout of the DuckDB file
-------------------------
* one table per data-contract table (``hotline``, ``complaints`` ...) with the schema's columns plus ``_file_id``
  (the ingested file the row came from) and ``_row`` (its 1-based data row in that file, for error messages);
* ``_sqc_files``: one row per ingested file: path (relative to the data folder), table, SHA-256, rows read, kept,
  excluded, the exclusion reasons (JSON), the columns present, the cut-off it was checked against, ingest time;
* ``_sqc_months``: rows per file, branch and month (``periods`` and the data-gap check read this, not raw rows);
* ``_sqc_meta``: the data folder the store belongs to and the schema version it was built with.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from ..errors import DataError

ENV_STORE = "SQC_STORE"
ENV_STORE_WAIT = "SQC_STORE_WAIT"
#: DuckDB's memory limit for ingests and queries (``$SQC_STORE_MEMORY`` overrides, e.g. "4GB"): past it DuckDB
#: spills to disk, so a run's memory follows the aggregates, not the raw rows (DuckDB's own default is 80 % of RAM,
#: and its buffer pool keeps what it read).
ENV_STORE_MEMORY = "SQC_STORE_MEMORY"
DEFAULT_MEMORY = "1GB"
#: Seconds to wait for another process's ingest to finish before giving up (``$SQC_STORE_WAIT`` overrides).
DEFAULT_WAIT_S = 120.0
STORE_DIRNAME = ".sqc"
STORE_FILENAME = "store.duckdb"
#: Bumped when the layout of the store changes; a store of another version is rebuilt from the exports.
FORMAT_VERSION = "1"

_DUCK_TYPES = {"int": "BIGINT", "float": "DOUBLE", "str": "VARCHAR", "category": "VARCHAR", "period": "VARCHAR",
               "bool": "BOOLEAN", "datetime": "TIMESTAMP"}

META_DDL = (
    "CREATE TABLE IF NOT EXISTS _sqc_meta (key VARCHAR, value VARCHAR)",
    "CREATE TABLE IF NOT EXISTS _sqc_files (file_id INTEGER, path VARCHAR, tbl VARCHAR, fingerprint VARCHAR, "
    "size BIGINT, rows_read BIGINT, rows_kept BIGINT, rows_excluded BIGINT, reasons VARCHAR, columns VARCHAR, "
    "on_error VARCHAR, cutoff TIMESTAMP, max_date TIMESTAMP, ingested_at TIMESTAMP)",
    "CREATE TABLE IF NOT EXISTS _sqc_months (file_id INTEGER, tbl VARCHAR, branch VARCHAR, month VARCHAR, "
    "n BIGINT)",
)


class StoreLockedError(DataError):
    """Another process is writing the store (DuckDB allows one writer); nothing was changed."""


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sqc" / "stores"


def _writable(folder: Path) -> bool:
    target = folder / STORE_DIRNAME
    if target.is_symlink():  # e.g. a copy of a data folder that links the original's entries: not this folder's
        return False
    if target.exists():
        return os.access(target, os.W_OK | os.X_OK)
    return os.access(folder, os.W_OK | os.X_OK)


def default_store_path(data_dir: str | os.PathLike) -> Path:
    """Where the store of ``data_dir`` lives when none is given.

    ``$SQC_STORE`` if set; else ``<data_dir>/.sqc/store.duckdb`` when the data folder is writable (and ``.sqc`` is
    not a link to another folder's); else a per-user cache file ``$XDG_CACHE_HOME/sqc/stores/<folder name>-<hash of its path>.duckdb`` (``~/.cache`` by default).
    """
    env = os.environ.get(ENV_STORE)
    if env:
        return Path(env).expanduser().resolve()
    data_dir = Path(data_dir).expanduser().resolve()
    if _writable(data_dir):
        return data_dir / STORE_DIRNAME / STORE_FILENAME
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return _cache_dir() / f"{data_dir.name or 'data'}-{digest}.duckdb"


def schema_version() -> str:
    """Changes whenever a table schema (columns, types, ranges, allowed values) or the store layout changes."""
    from ..tables import SCHEMAS

    return hashlib.sha256((FORMAT_VERSION + repr(sorted(SCHEMAS.items()))).encode()).hexdigest()[:16]


def table_ddl(name: str) -> str:
    from ..tables import SCHEMAS

    cols = ", ".join(f'"{c.name}" {_DUCK_TYPES[c.dtype]}' for c in SCHEMAS[name].columns)
    return f'CREATE TABLE IF NOT EXISTS "{name}" ({cols}, _file_id INTEGER, _row BIGINT)'


def _wait_seconds(wait: float | None) -> float:
    if wait is not None:
        return float(wait)
    try:
        return float(os.environ.get(ENV_STORE_WAIT, DEFAULT_WAIT_S))
    except ValueError:
        return DEFAULT_WAIT_S


class Store:
    """An embedded DuckDB store of one data folder.

    Parameters
    ----------
    path : path
        The DuckDB file.
    data_dir : path, optional
        The data folder it holds (recorded at ingest; used to resolve file paths).
    wait : float, optional
        Seconds to wait for another process's ingest before :class:`StoreLockedError` (default 120 s, or
        ``$SQC_STORE_WAIT``).

    Connections are opened per use and closed at once, so that another process (the next ``sqc ingest``, a
    report's notebook kernel) can open the file: hold one only while you query.

    Examples
    --------
    >>> store = load_network("datasets").store                                # doctest: +SKIP
    >>> with store.connect() as con:                                           # doctest: +SKIP
    ...     con.sql("SELECT branch, count(*) FROM hotline GROUP BY ALL").df()
    >>> t = store.table("hotline"); t.group_by("branch").agg(n=t.count())     # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike, data_dir: str | os.PathLike | None = None, *,
                 wait: float | None = None):
        self.path = Path(path).expanduser().resolve()
        self.data_dir = None if data_dir is None else Path(data_dir).expanduser().resolve()
        self.wait = _wait_seconds(wait)
        self._ibis = None

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # ---------------------------------------------------------------------------------------------- connections
    def connect(self, read_only: bool = True):
        """A new DuckDB connection (use it in a ``with`` block so that it is closed).

        Waits up to ``self.wait`` seconds while another process writes the store, then raises
        :class:`StoreLockedError`. A file that is not a DuckDB store raises :class:`DataError`.
        """
        import duckdb

        if read_only and not self.path.exists():
            raise DataError("the store does not exist yet", file=str(self.path),
                            expected="a store built by `sqc ingest --data DIR` (or load_network(DIR))")
        if not read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DataError(f"cannot create the store's folder: {exc.strerror or exc}", file=str(self.path),
                                expected=f"a writable location: pass --store PATH or set ${ENV_STORE}") from None
        deadline = time.monotonic() + self.wait
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                text = str(exc)
                if "lock" not in text.lower():
                    raise DataError(f"cannot open the store: {text.splitlines()[0]}", file=str(self.path),
                                    expected="a DuckDB file written by `sqc ingest` and a writable location "
                                             f"(pass --store PATH or set ${ENV_STORE})") from None
                if time.monotonic() >= deadline:
                    holder = text.split("PID", 1)[-1].strip(" )") if "PID" in text else "unknown"
                    raise StoreLockedError(
                        f"the store is locked by another process (PID {holder}) that is writing it",
                        file=str(self.path), expected="that ingest to finish (then run again), or another store "
                        f"(--store PATH or ${ENV_STORE})") from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except duckdb.ConnectionException as exc:
                if "different configuration" not in str(exc):
                    raise DataError(f"cannot open the store: {str(exc).splitlines()[0]}", file=str(self.path),
                                    expected="a DuckDB file written by `sqc ingest`") from None
                raise DataError("the store is still open read-only in this process, so it cannot be updated",
                                file=str(self.path), expected="the earlier connection closed first: "
                                "data.store.close() for Ibis, con.close() for a DuckDB connection") from None
            except duckdb.Error as exc:
                raise DataError(f"cannot open the store: {str(exc).splitlines()[0]}", file=str(self.path),
                                expected="a DuckDB file written by `sqc ingest`; delete it to rebuild") from None

    def ibis(self):
        """An Ibis DuckDB backend on the store (read-only; cached on this object, close it with
        :meth:`close`)."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.connect(str(self.path), read_only=True)
            # set after connecting: a connection opened with another configuration than this process's other
            # connections to the file is refused by DuckDB
            self._ibis.raw_sql(f"SET memory_limit = '{os.environ.get(ENV_STORE_MEMORY, DEFAULT_MEMORY)}'")
        return self._ibis

    def table(self, name: str):
        """The Ibis table expression of a store table (``hotline``, ``complaints`` ...)."""
        return self.ibis().table(name)

    def close(self) -> None:
        if self._ibis is not None:
            self._ibis.disconnect()
            self._ibis = None

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a read-only SQL query and return a DataFrame."""
        with self.connect() as con:
            return con.execute(sql, params or []).df()

    # ----------------------------------------------------------------------------------------------- metadata
    def files(self, table: str | None = None) -> pd.DataFrame:
        """The ingested files (path, table, fingerprint, rows read/kept/excluded, reasons, cut-off, time)."""
        where, params = ("WHERE tbl = ?", [table]) if table else ("", [])
        return self.query(f"SELECT * FROM _sqc_files {where} ORDER BY tbl, path", params)

    def month_counts(self, table: str | None = None) -> pd.DataFrame:
        """Rows per table, branch and month (``YYYY-MM``), from the metadata kept at ingest."""
        where, params = ("WHERE tbl = ?", [table]) if table else ("", [])
        return self.query(f"SELECT tbl, branch, month, sum(n)::BIGINT AS n FROM _sqc_months {where} "
                          "GROUP BY ALL ORDER BY tbl, month, branch", params)

    def periods(self, table: str = "hotline") -> list[str]:
        """Months (``YYYY-MM``) a table covers, from the metadata (no scan of raw rows)."""
        frame = self.query("SELECT DISTINCT month FROM _sqc_months WHERE tbl = ? AND n > 0 ORDER BY month",
                           [table])
        return frame["month"].tolist()

    def meta(self) -> dict[str, str]:
        return dict(self.query("SELECT key, value FROM _sqc_meta").itertuples(index=False, name=None))

    # ------------------------------------------------------------------------------------------------- tables
    def read_table(self, name: str, *, columns: list[str] | None = None) -> pd.DataFrame:
        """A whole table as pandas, rows in file-name then file order, with the dtypes the validator gives
        (:func:`sqc.schema.conform`). Optional columns that no ingested file had are left out, as the files
        were."""
        with self.connect() as con:
            return _read_table(con, name, columns)

    def read_tables(self, names: Iterable[str]) -> dict[str, pd.DataFrame]:
        """:meth:`read_table` of several tables over one connection (opening the file costs more than reading a
        small table)."""
        with self.connect() as con:
            return {name: _read_table(con, name, None) for name in names}


def _read_table(con, name: str, columns: list[str] | None) -> pd.DataFrame:
    from ..schema import conform
    from ..tables import SCHEMAS

    schema = SCHEMAS[name]
    present: set[str] = set()
    for cols in con.execute("SELECT columns FROM _sqc_files WHERE tbl = ?", [name]).fetchall():
        present.update(json.loads(cols[0]))
    wanted = [c.name for c in schema.columns if c.required or c.name in present]
    if columns is not None:
        wanted = [c for c in wanted if c in columns]
    select = ", ".join(f't."{c}"' for c in wanted)
    frame = con.execute(f'SELECT {select} FROM "{name}" t JOIN _sqc_files f ON t._file_id = f.file_id '
                        "ORDER BY f.path, t._row").df()
    return conform(frame, schema)


def dumps(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)
