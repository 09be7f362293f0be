"""Exception types raised by sqc.

Every error says *what* was wrong, *where* (file, column, row, value) and *what was expected*, so that
an analyst or a scheduled run can fix the input without reading a traceback from inside pandas.
"""
from __future__ import annotations

from typing import Any


class SqcError(Exception):
    """Base class of every error sqc raises on purpose."""


class ParameterError(SqcError, ValueError):
    """A function argument or run parameter is invalid (bad period, unknown option, negative weight...)."""


class DataError(SqcError, ValueError):
    """Input data does not meet what an analysis needs.

    Parameters
    ----------
    message : str
        What is wrong, in plain words.
    file, column, row, value : optional
        Where the problem is. ``row`` is the 1-based data row as a user sees it in the file (header excluded)
        when the data came from a file, otherwise the DataFrame index label.
    expected : str, optional
        What was expected instead.
    """

    def __init__(self, message: str, *, file: str | None = None, column: str | None = None,
                 row: Any = None, value: Any = None, expected: str | None = None, count: int | None = None):
        self.file, self.column, self.row, self.value = file, column, row, value
        self.expected, self.count, self.reason = expected, count, message
        parts = []
        if file is not None:
            parts.append(f"file {file!s}")
        if column is not None:
            parts.append(f"column {column!r}")
        if row is not None:
            parts.append(f"row {row}")
        if value is not None:
            parts.append(f"value {value!r}")
        where = (", ".join(parts) + ": ") if parts else ""
        tail = f"; expected {expected}" if expected else ""
        more = f" ({count} rows affected in all)" if count and count > 1 else ""
        super().__init__(f"{where}{message}{tail}{more}")


class SchemaError(DataError):
    """A table does not match its declared schema (missing column, wrong type, value outside the allowed set)."""


class InsufficientDataError(DataError):
    """There is too little data for the requested statistic (e.g. fewer than 2 subgroups in a baseline)."""


class PipelineError(SqcError):
    """The monthly report pipeline failed; the message says which period and where the failed run is kept."""
