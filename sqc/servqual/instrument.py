"""The SERVQUAL instrument as data, and validation of survey answers against it (Methods §0.2, §1.1).

An :class:`Instrument` is an item dictionary: one row per item with its id, dimension, whether it is
reverse-keyed (negatively worded), its scale (min/max, e.g. 1-7 or 1-9), its wording in English and Simplified
Chinese, and the names of the columns that hold its answers in an export (``E{item}``, ``P{item}``, ``A{item}``,
``D{item}`` unless mapped). sqc ships a default 22-item / 5-dimension instrument for a telecom operator's branches
and hotline, written by us (the published SERVQUAL wording is not reproduced); an organisation loads its own with
:meth:`Instrument.from_csv` (any number of items and dimensions, 5/7/9-point or other scales).

:func:`prepare_responses` turns a wide export into numeric item arrays, one per component (E expectation,
P perception, A adequate, D desired), applying, in this order:

1. "don't know" / "not applicable" codes → missing (counted);
2. non-numeric codes and values outside the item's scale or between scale points → a :class:`~sqc.errors.DataError`
   naming column, row, value and what was expected (``on_invalid="raise"``, the default) or → missing and
   counted (``on_invalid="exclude"``);
3. reverse-keyed items recoded ``x' = min + max − x`` (Methods §0.2).

Every exclusion is counted in ``PreparedResponses.exclusions`` (a DataFrame: component, item, column, reason,
count, first rows, first values); nothing becomes NaN silently.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, ParameterError

COMPONENTS = ("E", "P", "A", "D")
COMPONENT_NAMES = {"E": "expectation", "P": "perception", "A": "adequate service", "D": "desired service"}
REQUIRED_COLUMNS = ("item", "dimension", "reverse_keyed", "scale_min", "scale_max", "text_en", "text_zh")
MAPPING_COLUMNS = {"E": "e_column", "P": "p_column", "A": "a_column", "D": "d_column"}
DEFAULT_INSTRUMENT_FILE = Path(__file__).resolve().parents[1] / "data" / "servqual_instrument.csv"

#: Codes treated as "don't know / not applicable" by default. A numeric code that lies inside an item's own scale
#: (e.g. 0 on a 0-10 scale, 9 on a 1-9 scale) is never treated as "don't know" for that item.
DEFAULT_DONT_KNOW: tuple = (0, 98, 99, 999, -1, -9, -99, "dk", "don't know", "dont know", "n/a", "na", "not applicable",
                            "不知道", "不适用", "不清楚", "无法回答")

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


def _normalise_item_ids(values: Sequence[Any]) -> list:
    """Item ids stay integers when they all look like integers (``1``, ``"1"``, ``1.0``), else strings."""
    out_int = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            return [str(v).strip() for v in values]
        if not np.isfinite(f) or f != int(f):
            return [str(v).strip() for v in values]
        out_int.append(int(f))
    return out_int


def _parse_bool(value: Any, *, row: int, column: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    s = str(value).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise DataError("reverse_keyed is not true/false", column=column, row=row, value=value,
                    expected="true/false, yes/no or 1/0")


@dataclass(frozen=True)
class Instrument:
    """An item dictionary: which item belongs to which dimension, its scale, keying, wording and export columns.

    Build one with :func:`default_instrument`, :meth:`from_csv` or :meth:`from_frame`; do not mutate
    ``items`` (use :meth:`with_reverse_keyed` etc., which return a new instrument).

    Attributes
    ----------
    items : pandas.DataFrame
        One row per item, in questionnaire order, with columns ``item, dimension, reverse_keyed, scale_min,
        scale_max, text_en, text_zh, e_column, p_column, a_column, d_column``.
    name : str
        A label shown in summaries (e.g. ``"default"`` or the file name).
    importance_columns : dict
        Dimension → column of the 100-point importance allocation (default ``I_<dimension>``).

    Examples
    --------
    >>> from sqc.servqual import default_instrument
    >>> inst = default_instrument()
    >>> inst.k, inst.dimensions[:2], inst.dimension_items["reliability"]
    (22, ['tangibles', 'reliability'], [5, 6, 7, 8, 9])
    """

    items: pd.DataFrame
    name: str = "instrument"
    importance_columns: Mapping[str, str] = field(default_factory=dict)

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, name: str = "instrument",
                   importance_columns: Mapping[str, str] | None = None, file: str | None = None) -> "Instrument":
        """Build and validate an instrument from a table with columns ``item, dimension, reverse_keyed, scale_min,
        scale_max, text_en, text_zh`` (+ optional ``e_column, p_column, a_column, d_column``).

        Raises
        ------
        DataError
            A required column is missing, an item id repeats, a dimension is empty, a scale is not two integers
            with ``scale_min < scale_max``, or two items map to the same export column.
        """
        if not isinstance(frame, pd.DataFrame):
            raise ParameterError(f"Instrument.from_frame expects a pandas DataFrame, got {type(frame).__name__}")
        cols = {str(c).strip().lower(): c for c in frame.columns}
        missing = [c for c in REQUIRED_COLUMNS if c not in cols]
        if missing:
            hints = []
            for m in missing:
                close = difflib.get_close_matches(m, list(cols), n=1, cutoff=0.6)
                hints.append(f"{m!r}" + (f" (did you mean {cols[close[0]]!r}?)" if close else ""))
            raise DataError(f"instrument table is missing column(s) {', '.join(hints)}", file=file,
                            expected=f"columns {list(REQUIRED_COLUMNS)} (+ optional {list(MAPPING_COLUMNS.values())})")
        if len(frame) == 0:
            raise DataError("instrument table has no items", file=file, expected="at least one item row")
        df = pd.DataFrame({c: frame[cols[c]].to_numpy() for c in REQUIRED_COLUMNS})
        for opt in MAPPING_COLUMNS.values():
            if opt in cols:
                df[opt] = frame[cols[opt]].to_numpy()
        if df["item"].isna().any():
            row = int(np.flatnonzero(df["item"].isna().to_numpy())[0]) + 1
            raise DataError("item id is missing", file=file, column="item", row=row, expected="an item id such as 1")
        df["item"] = _normalise_item_ids(df["item"].tolist())
        dup = df["item"].duplicated().to_numpy()
        if dup.any():
            row = int(np.flatnonzero(dup)[0]) + 1
            raise DataError("item id repeats an earlier item", file=file, column="item", row=row,
                            value=df["item"].iloc[row - 1], expected="each item listed once")
        dims = df["dimension"]
        bad_dim = dims.isna().to_numpy() | (dims.astype(str).str.strip() == "").to_numpy()
        if bad_dim.any():
            row = int(np.flatnonzero(bad_dim)[0]) + 1
            raise DataError("dimension is empty", file=file, column="dimension", row=row,
                            expected="a dimension name such as 'reliability'")
        df["dimension"] = dims.astype(str).str.strip()
        df["reverse_keyed"] = [_parse_bool(v, row=i + 1, column="reverse_keyed")
                               for i, v in enumerate(df["reverse_keyed"].tolist())]
        for c in ("scale_min", "scale_max"):
            num = pd.to_numeric(df[c], errors="coerce")
            bad = num.isna().to_numpy() | ~np.isclose(num.fillna(0.5).to_numpy() % 1, 0)
            if bad.any():
                row = int(np.flatnonzero(bad)[0]) + 1
                raise DataError(f"{c} is not a whole number", file=file, column=c, row=row, value=df[c].iloc[row - 1],
                                expected="an integer scale point such as 1 or 7")
            df[c] = num.astype(int)
        bad = (df["scale_min"] >= df["scale_max"]).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 1
            raise DataError("scale_min is not below scale_max", file=file, column="scale_max", row=row,
                            value=int(df["scale_max"].iloc[row - 1]), expected=f"> {int(df['scale_min'].iloc[row - 1])}")
        for c in ("text_en", "text_zh"):
            df[c] = [str(item) if (v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "")
                     else str(v).strip() for item, v in zip(df["item"], df[c])]
        for comp, mc in MAPPING_COLUMNS.items():
            default = [f"{comp}{item}" for item in df["item"]]
            if mc in df.columns:
                given = df[mc].tolist()
                df[mc] = [d if (g is None or (isinstance(g, float) and np.isnan(g)) or str(g).strip() == "")
                          else str(g).strip() for d, g in zip(default, given)]
            else:
                df[mc] = default
        all_cols = pd.Series(np.concatenate([df[mc].to_numpy() for mc in MAPPING_COLUMNS.values()]))
        dupc = all_cols.duplicated()
        if dupc.any():
            raise DataError("two items (or components) map to the same export column", file=file,
                            value=all_cols[dupc].iloc[0], expected="a distinct column for each item and component")
        dims_order = list(dict.fromkeys(df["dimension"]))
        imp = {d: f"I_{d}" for d in dims_order}
        if importance_columns:
            unknown = set(importance_columns) - set(dims_order)
            if unknown:
                raise ParameterError(f"importance_columns names unknown dimension(s) {sorted(unknown)}; "
                                     f"the instrument's dimensions are {dims_order}")
            imp.update({str(k): str(v) for k, v in importance_columns.items()})
        return cls(items=df.reset_index(drop=True), name=name, importance_columns=imp)

    @classmethod
    def from_csv(cls, path: str | Path, *, encoding: str = "utf-8-sig", name: str | None = None,
                 importance_columns: Mapping[str, str] | None = None) -> "Instrument":
        """Read an instrument file (CSV with the columns of :meth:`from_frame`; UTF-8 by default).

        Raises
        ------
        DataError
            The file cannot be read, or its content is not a valid instrument (the message names file, column
            and row).
        """
        path = Path(path)
        try:
            frame = pd.read_csv(path, encoding=encoding, dtype={"item": str}, keep_default_na=True)
        except FileNotFoundError:
            raise DataError("instrument file not found", file=str(path), expected="an existing CSV file") from None
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise DataError(f"instrument file cannot be read ({exc.__class__.__name__}: {exc})", file=str(path),
                            expected=f"a CSV file in {encoding}") from None
        return cls.from_frame(frame, name=name or path.stem, importance_columns=importance_columns, file=str(path))

    def to_frame(self) -> pd.DataFrame:
        """The item dictionary as a DataFrame (a copy, round-trips through :meth:`from_frame`)."""
        return self.items.copy()

    def to_csv(self, path: str | Path) -> None:
        """Write the item dictionary as UTF-8 CSV (readable by :meth:`from_csv`)."""
        self.items.to_csv(path, index=False, encoding="utf-8")

    # ---------------------------------------------------------------- views
    @property
    def k(self) -> int:
        """Number of items."""
        return len(self.items)

    @property
    def item_ids(self) -> list:
        return self.items["item"].tolist()

    @property
    def dimensions(self) -> list[str]:
        """Dimensions in questionnaire order (first appearance)."""
        return list(dict.fromkeys(self.items["dimension"]))

    @property
    def dimension_items(self) -> dict[str, list]:
        return {d: self.items.loc[self.items["dimension"] == d, "item"].tolist() for d in self.dimensions}

    @property
    def dimension_index(self) -> np.ndarray:
        """For each item (in order), the position of its dimension in :attr:`dimensions`."""
        pos = {d: i for i, d in enumerate(self.dimensions)}
        return np.array([pos[d] for d in self.items["dimension"]], dtype=int)

    @property
    def scale_min(self) -> np.ndarray:
        return self.items["scale_min"].to_numpy(dtype=float)

    @property
    def scale_max(self) -> np.ndarray:
        return self.items["scale_max"].to_numpy(dtype=float)

    @property
    def reverse_keyed(self) -> np.ndarray:
        return self.items["reverse_keyed"].to_numpy(dtype=bool)

    @property
    def common_scale(self) -> tuple[int, int] | None:
        """``(min, max)`` when every item uses the same scale, else ``None`` (then never average across items
        of different scales; Methods §0.2)."""
        lo, hi = set(self.items["scale_min"]), set(self.items["scale_max"])
        return (int(lo.pop()), int(hi.pop())) if len(lo) == 1 and len(hi) == 1 else None

    def columns(self, component: str) -> list[str]:
        """Export column names of one component (``"E"``, ``"P"``, ``"A"`` or ``"D"``) in item order."""
        if component not in MAPPING_COLUMNS:
            raise ParameterError(f"component must be one of {list(MAPPING_COLUMNS)}, got {component!r}")
        return self.items[MAPPING_COLUMNS[component]].tolist()

    def text(self, item: Any, lang: str = "en") -> str:
        """The wording of one item in ``"en"`` or ``"zh"``."""
        if lang not in ("en", "zh"):
            raise ParameterError(f"lang must be 'en' or 'zh', got {lang!r}")
        rows = self.items.loc[self.items["item"] == item]
        if rows.empty:
            raise ParameterError(f"item {item!r} is not in instrument {self.name!r}; items are {self.item_ids}")
        return str(rows[f"text_{lang}"].iloc[0])

    def with_reverse_keyed(self, items: Iterable[Any], *, name: str | None = None) -> "Instrument":
        """A copy in which exactly ``items`` are reverse-keyed (e.g. an older questionnaire version with two
        negatively worded statements)."""
        items = list(items)
        unknown = [i for i in items if i not in set(self.item_ids)]
        if unknown:
            raise ParameterError(f"items {unknown} are not in instrument {self.name!r}")
        df = self.items.copy()
        df["reverse_keyed"] = df["item"].isin(items).to_numpy()
        return replace(self, items=df, name=name or self.name)

    def compatible_with(self, other: "Instrument") -> bool:
        """Same items, dimensions, scales and columns (wording and reverse keying may differ)."""
        cols = ["item", "dimension", "scale_min", "scale_max"] + list(MAPPING_COLUMNS.values())
        return self.items[cols].reset_index(drop=True).equals(other.items[cols].reset_index(drop=True))

    def summary(self) -> str:
        lines = [f"Instrument {self.name!r}: {self.k} items, {len(self.dimensions)} dimensions"]
        for d, its in self.dimension_items.items():
            rev = [i for i in its if bool(self.items.loc[self.items['item'] == i, 'reverse_keyed'].iloc[0])]
            lines.append(f"  {d}: items {its}" + (f" (reverse-keyed: {rev})" if rev else ""))
        sc = self.common_scale
        lines.append(f"  scale: {sc[0]}-{sc[1]}" if sc else "  scale: differs between items")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Instrument(name={self.name!r}, k={self.k}, dimensions={self.dimensions})"


def default_instrument() -> Instrument:
    """The default 22-item, 5-dimension instrument (tangibles 1-4, reliability 5-9, responsiveness 10-13,
    assurance 14-17, empathy 18-22; 1-7 scale; all positively worded), with wording written by us for a telecom
    operator's branches and hotline in English and Simplified Chinese. Read from ``sqc/data/servqual_instrument.csv``.
    """
    return Instrument.from_csv(DEFAULT_INSTRUMENT_FILE, name="default")


# ==================================================================== response validation
@dataclass
class PreparedResponses:
    """Survey answers validated against an instrument.

    Attributes
    ----------
    instrument : Instrument
    values : dict
        Component (``"E"``, ``"P"``, ``"A"``, ``"D"``) → float array of shape ``(n, k)`` after don't-know mapping,
        exclusion of invalid answers and reverse-keyed recoding (NaN = missing). Only components present.
    index : pandas.Index
        The respondents' index labels (rows of the input).
    other : pandas.DataFrame
        The input's other columns (branch, wave, segment, importance, overall ...), unchanged.
    exclusions : pandas.DataFrame
        One row per (component, item, reason) with the count of answers set to missing and the first rows/values.
    recoded : dict
        Component → list of item ids that were reverse-recoded (for audit trails).
    """

    instrument: Instrument
    values: dict[str, np.ndarray]
    index: pd.Index
    other: pd.DataFrame
    exclusions: pd.DataFrame
    recoded: dict[str, list]

    @property
    def n(self) -> int:
        return len(self.index)

    def frame(self, component: str) -> pd.DataFrame:
        """One component as a DataFrame (respondents × items, recoded)."""
        return pd.DataFrame(self.values[component], index=self.index, columns=self.instrument.item_ids)


_EXCLUSION_COLUMNS = ["component", "item", "column", "reason", "count", "first_rows", "first_values"]


def _split_dont_know(dont_know) -> tuple[np.ndarray, set[str]]:
    if dont_know is None:
        return np.array([], dtype=float), set()
    if isinstance(dont_know, (str, int, float)):
        dont_know = [dont_know]
    nums, strs = [], set()
    for c in dont_know:
        if isinstance(c, (bool, np.bool_)):
            raise ParameterError("dont_know codes must be numbers or strings, not booleans")
        if isinstance(c, (int, float, np.integer, np.floating)):
            nums.append(float(c))
        else:
            strs.add(str(c).strip().casefold())
            try:
                nums.append(float(str(c)))
            except ValueError:
                pass
    return np.array(nums, dtype=float), strs


def prepare_responses(responses: pd.DataFrame, instrument: Instrument | Mapping[str, Instrument] | None = None, *,
                      components: Sequence[str] = ("E", "P"), optional_components: Sequence[str] = ("A", "D"),
                      dont_know=DEFAULT_DONT_KNOW, on_invalid: str = "raise", recode_reverse: bool = True,
                      instrument_column: str = "instrument") -> PreparedResponses:
    """Validate a wide survey export against an instrument and return numeric, recoded item arrays.

    Parameters
    ----------
    responses : DataFrame
        One row per respondent; item columns named as the instrument maps them (default ``E1..Ek``, ``P1..Pk``).
    instrument : Instrument, dict of Instrument, or None
        ``None`` = :func:`default_instrument`. A dict ``{version: Instrument}`` applies each version's reverse
        keying to the rows whose ``instrument_column`` holds that version (versions must share items, dimensions,
        scales and columns; e.g. an older questionnaire with negatively worded items).
    components : sequence of str
        Components that must be present (their columns missing → :class:`DataError`).
    optional_components : sequence of str
        Components used when all their columns are present (e.g. ``A``/``D`` for the zone of tolerance). A
        component with only some columns present raises :class:`DataError` (a half-mapped export is a mistake).
    dont_know : sequence of numbers/strings, or None
        Codes meaning "don't know" / "not applicable", mapped to missing and counted. Numeric codes inside an
        item's own scale are never applied to that item; strings match case-insensitively.
    on_invalid : {"raise", "exclude"}
        What to do with a non-numeric code, a value outside the item's scale or between scale points: raise a
        :class:`DataError` naming column, row, value and the expected range, or set it missing and count it.
    recode_reverse : bool
        Recode reverse-keyed items ``x' = min + max − x`` (default). Turn off only for data already recoded.

    Returns
    -------
    PreparedResponses

    Examples
    --------
    >>> import pandas as pd
    >>> from sqc.servqual import default_instrument, prepare_responses
    >>> inst = default_instrument()
    >>> df = pd.DataFrame({**{f"E{i}": [7, 6] for i in range(1, 23)}, **{f"P{i}": [5, 99] for i in range(1, 23)}})
    >>> prep = prepare_responses(df, inst)
    >>> int(prep.exclusions["count"].sum())     # the 99s are "don't know"
    22
    """
    if not isinstance(responses, pd.DataFrame):
        raise ParameterError(f"responses must be a pandas DataFrame (one row per respondent), "
                             f"got {type(responses).__name__}")
    if on_invalid not in ("raise", "exclude"):
        raise ParameterError(f"on_invalid must be 'raise' or 'exclude', got {on_invalid!r}")
    versions: dict[str, Instrument] | None = None
    if instrument is None:
        instrument = default_instrument()
    elif isinstance(instrument, Mapping):
        if not instrument:
            raise ParameterError("instrument dict is empty; give at least one {version: Instrument}")
        versions = {str(k): v for k, v in instrument.items()}
        for v in versions.values():
            if not isinstance(v, Instrument):
                raise ParameterError("every value of the instrument dict must be an Instrument")
        base = next(iter(versions.values()))
        for key, v in versions.items():
            if not base.compatible_with(v):
                raise ParameterError(f"instrument versions must share items, dimensions, scales and columns; "
                                     f"version {key!r} differs from {next(iter(versions))!r}")
        if instrument_column not in responses.columns:
            raise DataError("responses have no instrument-version column but several instrument versions were "
                            "given", column=instrument_column, expected=f"a column with values in {sorted(versions)}")
        instrument = base
    elif not isinstance(instrument, Instrument):
        raise ParameterError(f"instrument must be an Instrument, a dict of Instruments or None, "
                             f"got {type(instrument).__name__}")
    for c in list(components) + list(optional_components):
        if c not in COMPONENTS:
            raise ParameterError(f"unknown component {c!r}; use {list(COMPONENTS)}")

    present = set(map(str, responses.columns))
    use: list[str] = []
    for comp in list(dict.fromkeys(list(components) + list(optional_components))):
        cols = instrument.columns(comp)
        miss = [c for c in cols if c not in present]
        if not miss:
            use.append(comp)
            continue
        required = comp in components
        if required or len(miss) < len(cols):
            folded = {c.casefold().strip(): c for c in present}
            close = ([folded[miss[0].casefold().strip()]] if miss[0].casefold().strip() in folded
                     else difflib.get_close_matches(miss[0], sorted(present), n=1, cutoff=0.6))
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            what = "required" if required else "partly present"
            raise DataError(f"{COMPONENT_NAMES[comp]} ({comp}) columns are {what} but {len(miss)} of {len(cols)} "
                            f"are missing, e.g. {miss[0]!r}{hint}", column=miss[0],
                            expected=f"columns {cols[:3]}... as mapped by instrument {instrument.name!r}")

    dk_num, dk_str = _split_dont_know(dont_know)
    if dont_know is not DEFAULT_DONT_KNOW and dk_num.size:
        lo, hi = instrument.scale_min.min(), instrument.scale_max.max()
        inside = dk_num[(dk_num >= lo) & (dk_num <= hi)]
        if inside.size and np.any([((inside >= a) & (inside <= b)).any()
                                   for a, b in zip(instrument.scale_min, instrument.scale_max)]):
            raise ParameterError(f"dont_know codes {sorted(set(inside.tolist()))} lie inside an item's scale; "
                                 f"a valid answer cannot also mean 'don't know' - choose codes outside the scale")

    n = len(responses)
    index = responses.index
    smin, smax = instrument.scale_min, instrument.scale_max
    values: dict[str, np.ndarray] = {}
    excl_rows: list[dict] = []

    def record(comp, item, col, reason, mask, raw):
        pos = np.flatnonzero(mask)
        excl_rows.append({"component": comp, "item": item, "column": col, "reason": reason, "count": int(pos.size),
                          "first_rows": [index[p] for p in pos[:5]],
                          "first_values": [_plain(raw[p]) for p in pos[:5]]})

    for comp in use:
        arr = np.empty((n, instrument.k), dtype=float)
        for j, col in enumerate(instrument.columns(comp)):
            s = responses[col]
            item = instrument.item_ids[j]
            if pd.api.types.is_bool_dtype(s):
                raise DataError("answers are true/false, not scale points", column=col, value=_plain(s.iloc[0]),
                                expected=f"whole numbers {int(smin[j])}-{int(smax[j])}")
            if pd.api.types.is_numeric_dtype(s):
                x = s.to_numpy(dtype=float, na_value=np.nan)
                raw = x
                non_numeric = np.zeros(n, dtype=bool)
                dk_s = np.zeros(n, dtype=bool)
            else:
                raw = s.to_numpy(dtype=object)
                txt = s.astype("string").str.strip()
                low = txt.str.casefold()
                dk_s = low.isin(dk_str).fillna(False).to_numpy(dtype=bool) if dk_str else np.zeros(n, dtype=bool)
                empty = (txt == "").fillna(False).to_numpy(dtype=bool)
                num = pd.to_numeric(txt.where(~(pd.Series(dk_s, index=s.index) | pd.Series(empty, index=s.index))),
                                    errors="coerce")
                x = num.to_numpy(dtype=float, na_value=np.nan)
                was_na = s.isna().to_numpy() | empty
                non_numeric = np.isnan(x) & ~was_na & ~dk_s
                x = np.where(dk_s, np.nan, x)
            # numeric don't-know codes outside this item's scale
            codes = dk_num[(dk_num < smin[j]) | (dk_num > smax[j])] if dk_num.size else dk_num
            dk_n = np.isin(x, codes) if codes.size else np.zeros(n, dtype=bool)
            if dk_s.any() or dk_n.any():
                record(comp, item, col, "don't-know / not-applicable code → missing", dk_s | dk_n, raw)
            x = np.where(dk_n, np.nan, x)
            with np.errstate(invalid="ignore"):
                out_range = ~np.isnan(x) & ((x < smin[j]) | (x > smax[j]))
                between = ~np.isnan(x) & ~out_range & (np.abs(x - np.round(x)) > 1e-9)
            for mask, reason in ((non_numeric, "non-numeric code"), (out_range, "value outside the item's scale"),
                                 (between, "value between scale points")):
                if mask.any():
                    if on_invalid == "raise":
                        p = int(np.flatnonzero(mask)[0])
                        raise DataError(f"{reason} in {COMPONENT_NAMES[comp]} item {item}", column=col,
                                        row=index[p], value=_plain(raw[p]),
                                        expected=f"a whole number {int(smin[j])}-{int(smax[j])}, a missing value "
                                                 f"or a don't-know code (or use on_invalid='exclude')",
                                        count=int(mask.sum()))
                    record(comp, item, col, reason + " → missing", mask, raw)
                    x = np.where(mask, np.nan, x)
            arr[:, j] = x
        values[comp] = arr

    recoded: dict[str, list] = {}
    if recode_reverse:
        if versions is None:
            rev = instrument.reverse_keyed
            if rev.any():
                for comp, arr in values.items():
                    arr[:, rev] = (smin + smax)[rev] - arr[:, rev]
                    recoded[comp] = [i for i, r in zip(instrument.item_ids, rev) if r]
        else:
            ver = responses[instrument_column].astype("string").to_numpy(dtype=object)
            unknown = ~np.isin(ver, list(versions))
            if unknown.any():
                p = int(np.flatnonzero(unknown)[0])
                raise DataError("unknown instrument version", column=instrument_column, row=index[p],
                                value=_plain(ver[p]), expected=f"one of {sorted(versions)}", count=int(unknown.sum()))
            for key, inst in versions.items():
                rows = ver == key
                rev = inst.reverse_keyed
                if rows.any() and rev.any():
                    for comp, arr in values.items():
                        sub = arr[rows]
                        sub[:, rev] = (smin + smax)[rev] - sub[:, rev]
                        arr[rows] = sub
                        recoded.setdefault(comp, []).append(
                            {"version": key, "items": [i for i, r in zip(inst.item_ids, rev) if r],
                             "rows": int(rows.sum())})
    item_cols = {c for comp in use for c in instrument.columns(comp)}
    other = responses[[c for c in responses.columns if str(c) not in item_cols]]
    exclusions = pd.DataFrame(excl_rows, columns=_EXCLUSION_COLUMNS)
    return PreparedResponses(instrument=instrument, values=values, index=index, other=other,
                             exclusions=exclusions, recoded=recoded)


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    return v
