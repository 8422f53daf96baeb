"""framework.data.text_files: the whole-file and line-by-line UTF-8 checks report a bad file alike."""

import pytest

from framework.data.text_files import check_utf8_lines, read_utf8
from framework.errors import DataError


def _error(read, path) -> str:
    with pytest.raises(DataError) as info:
        read(path)
    return str(info.value)


def test_the_line_check_reports_what_the_whole_file_read_does(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes("\ufeffA man.\nZwei Männer.\nnot \xe9 here\n".encode("utf-8").replace(b"\xc3\xa9", b"\xe9"))
    assert _error(check_utf8_lines, bad) == _error(read_utf8, bad) == f"{bad}:3: not UTF-8: byte 0xe9 at column 5"
    cut = tmp_path / "cut.txt"  # a multi-byte character cut short by the end of its line
    cut.write_bytes(b"ok\nM\xc3\nnext\n")
    assert _error(check_utf8_lines, cut) == _error(read_utf8, cut) == f"{cut}:2: not UTF-8: byte 0xc3 at column 2"
    missing = tmp_path / "missing.txt"
    assert _error(check_utf8_lines, missing) == _error(read_utf8, missing) == f"{missing}: file not found"


def test_the_line_check_passes_utf8_and_empty_files(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("Zwei Männer.\n\nA dog — runs\n", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert check_utf8_lines(good) is None and check_utf8_lines(empty) is None
