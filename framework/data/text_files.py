"""Read a whole UTF-8 text file, with the one-line errors every line-based reader shares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from framework.errors import DataError


def _not_utf8(path: Path, line: int, byte: int, column: int) -> DataError:
    """The one error both UTF-8 readers give for a bad byte (``column`` counts bytes from 1)."""
    return DataError(path, line, f"not UTF-8: byte 0x{byte:02x} at column {column}")


def read_utf8(path: str | Path) -> str:
    """The file's text without a leading BOM, which may be empty (a run's outputs can be).

    Raises:
        DataError: a missing or unreadable file, or a byte that is not UTF-8 (with line and column).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "file not found")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(path, None, f"cannot read the file: {err.strerror or err}") from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise _not_utf8(path, line, data[err.start], column) from None


def check_utf8_lines(path: str | Path) -> None:
    """Read the file line by line and check that it exists and is UTF-8, as :func:`read_utf8` reports it,
    without holding it whole: the recipes call it on a predict input before they import TensorFlow,
    so a bad file is refused in a second, not after the import and the model's loading."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "file not found")
    try:
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as err:  # "\n" never ends a multi-byte character: lines decode alone
                    raise _not_utf8(path, number, line[err.start], err.start + 1) from None
    except OSError as err:
        raise DataError(path, None, f"cannot read the file: {err.strerror or err}") from None


def decode_utf8(path: str | Path) -> str:
    """The file's text without a leading BOM; a missing file, an empty or whitespace-only file (a BOM
    alone counts as empty) or a non-UTF-8 byte is a DataError."""
    text = read_utf8(path)
    if not text.strip():  # after the BOM is dropped: a BOM and blank lines hold no text either
        raise DataError(path, None, "file is empty")
    return text


def read_json_object(path: str | Path, what: str) -> dict[str, Any]:
    """A JSON file holding an object (``what`` names it in the error, e.g. "metrics")."""
    value = read_json(path)
    if not isinstance(value, dict):
        raise DataError(path, None, f"expected a JSON object of {what}, found {type(value).__name__}")
    return value


def yaml_data_error(path: str | Path, err: Exception) -> DataError:
    """The one-line DataError for a YAML parser's error: its problem, at its line where it has one."""
    mark = getattr(err, "problem_mark", None)
    problem = " ".join(str(getattr(err, "problem", None) or err).split())
    return DataError(path, mark.line + 1 if mark else None, f"not valid YAML: {problem}")


def read_json(path: str | Path) -> Any:
    """A JSON file's value; a bad file is a DataError naming the line (see :func:`read_utf8`)."""
    try:
        return json.loads(read_utf8(path))
    except json.JSONDecodeError as err:
        raise DataError(path, err.lineno, f"not valid JSON: {err.msg} (column {err.colno})") from None
