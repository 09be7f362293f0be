"""Set-based checks over the store, in SQL (DuckDB), so that a table of hundreds of millions of rows is checked
where it lives, in one pass per file, without pulling it into pandas.

Row checks (run by ``sqc ingest`` on each file, inside the ingest transaction)
    the schema rules of :func:`sqc.schema.validate` (type, infinite value, missing value, allowed set, range),
    written as SQL predicates with the same wording; dates after the export's cut-off; rows dated outside the
    month a monthly file holds; keys repeated within a file or across files; branch and checklist-item
    references. Each failure names the file, the column, the 1-based row, the value and what was expected.
Whole-store checks (run by ``sqc ingest`` and ``sqc validate`` after the ingest)
    data gaps (a branch with no hotline contacts, or no exposure, in a month where it has other data: warnings
    ``W-DATA-01`` / ``W-DATA-02``), and the consistency checks the report also applies (a complaint closed before
    it was opened, an audit score above the item's maximum).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..diagnostics import QualityWarning
from ..errors import SchemaError
from ..schema import (ALLOWED_REASON, INFINITE_REASON, MISSING_REASON, RANGE_REASON, Column, Exclusion, TableSchema,
                      key_reason, type_reason)

#: The column that dates a row of each table (months covered, cut-off, monthly files, data gaps).
DATE_COLUMNS = {"hotline": "ts", "complaints": "opened_at", "volumes": "period", "survey": "wave",
                "audit_visits": "period", "incidents": "period"}
#: Columns that refer to another table: (table, column) -> (referenced table, its column, how it is named).
REFERENCES = {"branch": ("branches", "branch", "branches.csv"), "item_id": ("checklist", "item_id", "the checklist"),
              "chart": ("branches", "branch", "branches.csv")}
#: Values a reference column may hold besides the referenced ids: a stage-table row for the network's chart
REFERENCE_EXTRAS = {"chart": ("ALL",)}
_TRUE = ("true", "1", "yes", "y", "t")
_FALSE = ("false", "0", "no", "n", "f")
_FLOAT_TYPES = ("FLOAT", "DOUBLE", "REAL")
_INT_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")


def ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def literal(value: Any) -> str:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return repr(float(value)) if isinstance(value, (float, np.floating)) else str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Rule:
    """A row check: rows where ``predicate`` (SQL, NULL counts as false) holds fail with ``reason``."""

    column: str
    reason: str
    predicate: str
    expected: str


def _numeric(c: str, raw_type: str) -> str:
    if raw_type in _FLOAT_TYPES:
        return f"(CASE WHEN isnan({c}) THEN NULL ELSE CAST({c} AS DOUBLE) END)"
    if raw_type in _INT_TYPES or raw_type.startswith("DECIMAL"):
        return f"CAST({c} AS DOUBLE)"
    return f"(CASE WHEN isnan(TRY_CAST({c} AS DOUBLE)) THEN NULL ELSE TRY_CAST({c} AS DOUBLE) END)"


def _raw_missing(c: str, raw_type: str) -> str:
    return f"({c} IS NULL OR isnan({c}))" if raw_type in _FLOAT_TYPES else f"({c} IS NULL)"


def converted(col: Column, raw_type: str) -> tuple[str, str]:
    """SQL for the value converted to the column's type, and for "the raw value cannot be converted" (the same
    conversions as :func:`sqc.schema.validate`)."""
    c = ident(col.name)
    raw_type = raw_type.upper()
    if col.dtype in ("int", "float"):
        num = _numeric(c, raw_type)
        if col.dtype == "int":
            bad = f"(NOT {_raw_missing(c, raw_type)} AND ({num} IS NULL OR isinf({num}) OR {num} <> floor({num})))"
            return f"TRY_CAST({num} AS BIGINT)", bad
        return num, f"(NOT {_raw_missing(c, raw_type)} AND {num} IS NULL)"
    if col.dtype == "bool":
        if raw_type == "BOOLEAN":
            return c, "false"
        text = f"lower(trim(CAST({c} AS VARCHAR)))"
        conv = (f"(CASE WHEN {text} IN ({', '.join(map(literal, _TRUE))}) THEN true "
                f"WHEN {text} IN ({', '.join(map(literal, _FALSE))}) THEN false END)")
        return conv, f"({c} IS NOT NULL AND {conv} IS NULL)"
    if col.dtype == "datetime":
        if raw_type.startswith(("TIMESTAMP", "DATE")):
            return f"CAST({c} AS TIMESTAMP)", "false"
        conv = f"TRY_CAST({c} AS TIMESTAMP)"
        return conv, f"({c} IS NOT NULL AND {conv} IS NULL)"
    conv = c if raw_type == "VARCHAR" else f"trim(CAST({c} AS VARCHAR))"
    if col.dtype == "period":
        return conv, f"({c} IS NOT NULL AND NOT regexp_full_match({conv}, '\\d{{4}}-(0[1-9]|1[0-2])'))"
    return conv, "false"


def schema_rules(schema: TableSchema, raw_types: dict[str, str]) -> list[Rule]:
    """The rules of :func:`sqc.schema.validate`, in its order (column by column: type, infinite, missing,
    allowed, range), as SQL over the raw columns."""
    rules = []
    for col in schema.columns:
        if col.name not in raw_types:
            continue
        conv, bad = converted(col, raw_types[col.name])
        expected = col.expected_text()
        rules.append(Rule(col.name, type_reason(col), bad, expected))
        if col.dtype == "float":
            rules.append(Rule(col.name, INFINITE_REASON, f"isinf({conv})", expected))
        if not col.nullable:
            rules.append(Rule(col.name, MISSING_REASON, f"({conv} IS NULL AND NOT {bad})", expected))
        if col.allowed is not None:
            rules.append(Rule(col.name, ALLOWED_REASON, f"({conv} NOT IN ({', '.join(map(literal, col.allowed))}) "
                                                        f"AND NOT {bad})", expected))
        if col.dtype in ("int", "float") and (col.min is not None or col.max is not None):
            tests = ([f"{conv} < {literal(float(col.min))}"] if col.min is not None else []) + \
                    ([f"{conv} > {literal(float(col.max))}"] if col.max is not None else [])
            finite = f" AND NOT isinf({conv})" if col.dtype == "float" else ""
            rules.append(Rule(col.name, RANGE_REASON, f"(({' OR '.join(tests)}) AND NOT {bad}{finite})", expected))
    return rules


def date_rules(schema: TableSchema, raw_types: dict[str, str], *, cutoff: pd.Timestamp,
               month: str | None = None, file_name: str = "") -> list[Rule]:
    """Rows dated after the export's cut-off (every date and month column), and, for a monthly file
    (``YYYY-MM.parquet``), rows of the table's date column that fall in another month."""
    rules = []
    cut_text = cutoff.strftime("%Y-%m-%d %H:%M:%S")
    cut_month = cutoff.strftime("%Y-%m")
    date_column = DATE_COLUMNS.get(schema.name)
    for col in schema.columns:
        if col.name not in raw_types or col.dtype not in ("datetime", "period"):
            continue
        conv, bad = converted(col, raw_types[col.name])
        if month is not None and col.name == date_column:
            if col.dtype == "datetime":  # a range test: much cheaper than formatting every timestamp
                start = pd.Period(month, freq="M")
                outside = (f"({conv} < TIMESTAMP {literal(start.start_time.strftime('%Y-%m-%d'))} OR {conv} >= "
                           f"TIMESTAMP {literal((start + 1).start_time.strftime('%Y-%m-%d'))})")
            else:
                outside = f"{conv} <> {literal(month)}"
            rules.append(Rule(col.name, f"is dated outside the month {month} that the file {file_name} holds",
                              f"({outside} AND NOT {bad})",
                              f"a date in {month} (rows of another month belong in that month's file)"))
        if col.dtype == "datetime":
            rules.append(Rule(col.name, f"is dated after the export's cut-off {cut_text}",
                              f"({conv} > TIMESTAMP {literal(cut_text)} AND NOT {bad})",
                              f"a date on or before the cut-off {cut_text} (set it with --cutoff)"))
        else:
            rules.append(Rule(col.name, f"is a month after the export's cut-off {cut_month}",
                              f"({conv} > {literal(cut_month)} AND NOT {bad})",
                              f"a month up to {cut_month} (set the cut-off with --cutoff)"))
    return rules


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return str(v)
    return v


def evaluate(con, source: str, rules: list[Rule], *, table: str, file: str, on_error: str
             ) -> tuple[int, list[Exclusion], str]:
    """Run ``rules`` over ``source`` (a relation with a ``_row`` column) in one scan.

    Returns ``(rows, exclusions, keep_predicate)``. With ``on_error="raise"`` the first failing rule (in rule
    order) raises :class:`SchemaError` naming the file, column, 1-based row and value.
    """
    def cond(r: Rule) -> str:
        return f"coalesce({r.predicate}, false)"

    counts = con.execute(f"SELECT count(*){''.join(f', count_if({cond(r)})' for r in rules)} FROM {source}"
                         ).fetchall()[0]
    n_rows, failing = int(counts[0]), [(r, int(c)) for r, c in zip(rules, counts[1:]) if c]
    exclusions = []
    for rule, count in failing:
        first = con.execute(f"SELECT _row, {ident(rule.column)} FROM {source} WHERE {cond(rule)} ORDER BY _row "
                            f"LIMIT {1 if on_error == 'raise' else 5}").fetchall()
        if on_error == "raise":
            raise SchemaError(f"table {table!r}: {rule.reason}", file=file, column=rule.column, row=int(first[0][0]),
                              value=_plain(first[0][1]), expected=rule.expected, count=count)
        exclusions.append(Exclusion(table, rule.column, rule.reason, count, [int(r) for r, _ in first],
                                    [_plain(v) for _, v in first]))
    keep = "true" if not failing else "NOT (" + " OR ".join(cond(r) for r, _ in failing) + ")"
    return n_rows, exclusions, keep


def duplicate_keys(con, schema: TableSchema, file_id: int, paths: dict[int, str], *, file: str, on_error: str
                   ) -> list[Exclusion]:
    """Rows of file ``file_id`` whose key another row already has, in this file (an earlier row) or in another
    ingested file. Only rows within the new file's key range are looked at, so that monthly files with disjoint
    keys cost one small scan."""
    if not schema.key:
        return []
    t, keys = ident(schema.name), ", ".join(ident(k) for k in schema.key)
    k0 = ident(schema.key[0])
    lo, hi = con.execute(f"SELECT min({k0}), max({k0}) FROM {t} WHERE _file_id = ?", [file_id]).fetchall()[0]
    if lo is None:
        return []
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _sqc_dups AS
        WITH cand AS (SELECT {keys}, _file_id, _row FROM {t} WHERE {k0} BETWEEN ? AND ?),
             dupkeys AS (SELECT {keys} FROM cand GROUP BY ALL HAVING count(*) > 1),
             ranked AS (SELECT c.*, row_number() OVER w AS rn, first_value(_file_id) OVER w AS first_file,
                               first_value(_row) OVER w AS first_row
                        FROM cand c SEMI JOIN dupkeys USING ({keys})
                        WINDOW w AS (PARTITION BY {keys} ORDER BY (_file_id = ?), _file_id, _row))
        SELECT _row, {k0} AS key, first_file, first_row FROM ranked WHERE rn > 1 AND _file_id = ?""",
                [lo, hi, file_id, file_id])
    n = con.execute("SELECT count(*) FROM _sqc_dups").fetchall()[0][0]
    if not n:
        return []
    first = con.execute("SELECT _row, key, first_file, first_row FROM _sqc_dups ORDER BY _row LIMIT 5").fetchall()
    row, key, other_file, other_row = first[0]
    where = (f"row {other_row} of the same file" if other_file == file_id
             else f"row {other_row} of {paths.get(other_file, 'another file')}")
    col = schema.column(schema.key[0])
    if on_error == "raise":
        raise SchemaError(f"table {schema.name!r}: {key_reason(schema, where)}", file=file, column=col.name,
                          row=int(row), value=_plain(key), expected="a key no other row has", count=int(n))
    con.execute(f"DELETE FROM {t} WHERE _file_id = ? AND _row IN (SELECT _row FROM _sqc_dups)", [file_id])
    return [Exclusion(schema.name, col.name, key_reason(schema, "another row (in this or another file)"), int(n),
                      [int(r[0]) for r in first], [_plain(r[1]) for r in first])]


def unknown_references(con, table: str, columns: list[str], file_ids: list[int] | None, *, on_error: str,
                       files: dict[int, str]) -> dict[int, list[Exclusion]]:
    """Rows whose branch (or checklist item) is not declared in branches.csv (the checklist); per file."""
    out: dict[int, list[Exclusion]] = {}
    for column in columns:
        ref_table, ref_col, source = REFERENCES[column]
        extras = REFERENCE_EXTRAS.get(column, ())
        known = [r[0] for r in con.execute(f"SELECT DISTINCT {ident(ref_col)} FROM {ident(ref_table)}").fetchall()]
        known += list(extras)
        scope = "" if file_ids is None else f"AND _file_id IN ({', '.join(map(str, file_ids)) or 'NULL'})"
        also = "".join(f" AND {ident(column)} <> '{x}'" for x in extras)  # constants of this module, not data
        bad = (f"FROM {ident(table)} WHERE {ident(column)} NOT IN (SELECT {ident(ref_col)} FROM {ident(ref_table)})"
               f"{also} {scope}")
        per_file = con.execute(f"SELECT _file_id, count(*) {bad} GROUP BY _file_id ORDER BY _file_id").fetchall()
        for fid, count in per_file:
            first = con.execute(f"SELECT _row, {ident(column)} {bad} AND _file_id = ? ORDER BY _row LIMIT 5",
                                [fid]).fetchall()
            if on_error == "raise":
                raise SchemaError(f"table {table!r}: unknown {column} (not declared in {source})", file=files[fid],
                                  column=column, row=int(first[0][0]), value=first[0][1],
                                  expected=f"one of {sorted(known)[:12]}", count=int(count))
            con.execute(f"DELETE {bad} AND _file_id = ?", [fid])
            out.setdefault(fid, []).append(Exclusion(table, column, f"is not declared in {source}", int(count),
                                                     [int(r[0]) for r in first], [r[1] for r in first]))
    return out


# ------------------------------------------------------------------------------------------ whole-store checks
GAP_WHAT = {"hotline": ("W-DATA-01", "no hotline contacts", "没有热线来电记录"),
            "volumes": ("W-DATA-02", "no exposure (volumes)", "没有业务量（暴露量）数据")}


def data_gaps(month_counts: pd.DataFrame) -> pd.DataFrame:
    """Branch × month cells where a branch has data in some table but no hotline contacts, or no exposure
    (``volumes``), within the months that table covers.

    Parameters
    ----------
    month_counts : DataFrame
        ``tbl, branch, month, n`` (:meth:`sqc.store.Store.month_counts`).

    Returns
    -------
    DataFrame ``branch, month, missing`` (``"hotline"`` or ``"volumes"``), ``has`` (the tables that do have rows).
    """
    cols = ["branch", "month", "missing", "has"]
    mc = month_counts.loc[month_counts["n"] > 0]
    if mc.empty:
        return pd.DataFrame(columns=cols)
    has = mc.groupby(["branch", "month"])["tbl"].agg(lambda s: ", ".join(sorted(set(s)))).rename("has")
    rows = []
    for missing in GAP_WHAT:
        sub = mc.loc[mc["tbl"] == missing]
        if sub.empty:
            continue
        lo, hi = sub["month"].min(), sub["month"].max()
        present = set(zip(sub["branch"], sub["month"]))
        for (branch, month), tables in has.items():
            if lo <= month <= hi and (branch, month) not in present:
                rows.append((branch, month, missing, tables))
    return pd.DataFrame(rows, columns=cols).sort_values(["month", "branch", "missing"], ignore_index=True)


def gap_warnings(gaps: pd.DataFrame) -> list[QualityWarning]:
    """One warning per data gap (``W-DATA-01`` no hotline contacts, ``W-DATA-02`` no exposure): the KPIs of that
    branch and month are missing, not zero, and the branch must not be ranked on the partial data."""
    out = []
    for r in gaps.itertuples(index=False):
        code, what_en, what_zh = GAP_WHAT[r.missing]
        out.append(QualityWarning(
            code, "warning", f"Branch {r.branch} has {what_en} in {r.month} although it has other data "
            f"({r.has}): its KPIs for that month are missing, not zero.",
            {"branch": r.branch, "month": r.month, "missing": r.missing, "has": r.has}, f"{r.branch} {r.month}",
            f"网点 {r.branch} 在 {r.month} {what_zh}（但有其他数据：{r.has}），该月相关指标缺失，不能视为零。"))
    return out


@dataclass
class Finding:
    """A row that breaks a rule across tables (found by :func:`consistency_findings`)."""

    table: str
    reason: str
    file: str
    column: str
    row: int
    value: Any
    expected: str
    count: int

    def error(self) -> SchemaError:
        return SchemaError(f"table {self.table!r}: {self.reason}", file=self.file, column=self.column, row=self.row,
                           value=self.value, expected=self.expected, count=self.count)

    def __str__(self) -> str:
        return str(self.error())


_CONSISTENCY = (
    # (table, needs, reason, column, expected, select of (path, row, value, detail), from/where)
    ("complaints", ("complaints",), "a complaint closed before it was opened", "closed_at",
     "closed_at on or after opened_at ({detail})",
     "SELECT f.path, c._row, CAST(c.closed_at AS VARCHAR), CAST(c.opened_at AS VARCHAR) FROM complaints c "
     "JOIN _sqc_files f ON c._file_id = f.file_id WHERE c.closed_at < c.opened_at"),
    ("audit_visits", ("audit_visits", "checklist"), "an audit score above the item's maximum", "score",
     "0 ≤ score ≤ the item's max_score ({detail})",
     "SELECT f.path, a._row, a.score, k.max_score FROM audit_visits a JOIN checklist k ON a.item_id = k.item_id "
     "JOIN _sqc_files f ON a._file_id = f.file_id WHERE a.score > k.max_score"),
)


def consistency_findings(con, tables: set[str], data_dir) -> list[Finding]:
    """The checks the report applies when it prepares complaints and audit scores (there the rows are excluded
    and counted), run over whole tables so that ``sqc validate`` names the file and row of each."""
    out = []
    for table, needs, reason, column, expected, query in _CONSISTENCY:
        if not set(needs) <= tables:
            continue
        count = con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0]
        if count:
            path, row, value, detail = con.execute(f"{query} ORDER BY f.path, 2 LIMIT 1").fetchall()[0]
            label = f"opened_at {detail}" if table == "complaints" else f"max_score {detail}"
            out.append(Finding(table, reason, str(data_dir / path), column, int(row), _plain(value),
                               expected.format(detail=label), int(count)))
    return out


def whole_store_checks(store, tables: set[str] | None = None) -> tuple[list[Finding], pd.DataFrame]:
    """The consistency findings and the data gaps of a store (what ``sqc ingest`` and ``sqc validate`` print)."""
    from ..tables import TABLE_FILES

    tables = set(TABLE_FILES) if tables is None else set(tables)
    with store.connect() as con:
        findings = consistency_findings(con, tables, store.data_dir)
    counts = store.month_counts()
    return findings, data_gaps(counts.loc[counts["tbl"].isin(tables)])
