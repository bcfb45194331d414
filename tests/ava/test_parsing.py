"""Parsing AVA.txt-format files: the real rows, and malformed files with line-numbered errors."""
from __future__ import annotations

import numpy as np
import pytest

from photocritic.ava.parsing import (
    AvaFormatError,
    parse_ava_text,
    read_ava,
    read_id_list,
    read_names,
)


def test_real_file_parses_to_the_same_numbers_as_plain_python(ava_dir, plain_rows):
    data = read_ava(ava_dir / "AVA_partial.txt")
    assert data.bad_rows == []
    assert len(data) == len(plain_rows)
    matrix = np.array(plain_rows)
    assert np.array_equal(data.to_matrix(), matrix)
    assert data.votes.sum() == sum(sum(row[2:12]) for row in plain_rows)
    assert data.line[0] == 1 and data.line[-1] == len(plain_rows)


def _real_lines(ava_dir, n=60):
    with open(ava_dir / "AVA_partial.txt") as stream:
        return [next(stream).rstrip("\n") for _ in range(n)]


def test_malformed_rows_are_reported_with_line_numbers_and_excluded(ava_dir, tmp_path):
    lines = _real_lines(ava_dir)
    expected = {}
    lines[16] = "1 2 3 4 5 6 7 8 9"
    expected[17] = "expected 15 columns, got 9"
    lines[20] = lines[20] + " 99"
    expected[21] = "expected 15 columns, got 16"
    tokens = lines[24].split()
    tokens[5] = "x7"
    lines[24] = " ".join(tokens)
    expected[25] = "column 6 (votes for 4) is not a non-negative integer: 'x7'"
    tokens = lines[29].split()
    tokens[14] = "-3"
    lines[29] = " ".join(tokens)
    expected[30] = "column 15 (challenge) is negative: '-3'"
    tokens = lines[33].split()
    tokens[3] = "2.5"
    lines[33] = "\t".join(tokens)
    expected[34] = "column 4 (votes for 2) is not a non-negative integer: '2.5'"
    tokens = lines[40].split()
    lines[40] = " ".join(tokens[:2] + ["0"] * 10 + tokens[12:])
    expected[41] = "no votes (all 10 vote counts are 0), so it has no score"
    lines[50] = lines[3]  # a repeated image id: the later row is the bad one
    expected[51] = f"image id {lines[3].split()[1]} repeats line 4"
    lines[55] = ""  # blank lines are ignored, and keep the numbering physical
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(lines) + "\n")

    data = read_ava(path)
    got = {row.line: row.reason for row in data.bad_rows}
    assert got == expected
    assert str(data.bad_rows[0]) == "line 17: expected 15 columns, got 9"
    assert len(data) == len(lines) - len(expected) - 1
    good_lines = [i + 1 for i, line in enumerate(lines) if line and (i + 1) not in expected]
    assert data.line.tolist() == good_lines
    assert data.image_id.tolist() == [int(lines[n - 1].split()[1]) for n in good_lines]


def test_strict_mode_raises_and_lists_every_bad_line(tmp_path):
    path = tmp_path / "bad.txt"
    good = "1 100 0 0 1 2 3 2 1 0 0 0 1 2 3"
    path.write_text("\n".join([good, "2 101 1 2 3", good.replace("1 100", "3 102"), "4 103 a b c d e f g h i j k l m"]))
    with pytest.raises(AvaFormatError) as info:
        read_ava(path, strict=True)
    assert [row.line for row in info.value.bad_rows] == [2, 4]
    assert "line 2: expected 15 columns, got 5" in str(info.value)
    assert "line 4: column 3 (votes for 1) is not a non-negative integer: 'a'" in str(info.value)
    assert len(read_ava(path)) == 2  # not strict: the two good rows are kept


def test_a_file_without_any_usable_row_is_an_error(tmp_path):
    path = tmp_path / "junk.txt"
    path.write_text("hello world\n\n")
    with pytest.raises(AvaFormatError, match="no usable rows") as info:
        read_ava(path)
    assert str(info.value.bad_rows[0]) == "line 1: expected 15 columns, got 2"


def test_windows_line_endings_and_tabs_parse():
    text = "1\t5\t0 0 0 0 4 0 0 0 0 0 0 0 7\r\n2 6 0 0 0 0 0 0 0 0 0 2 1 2 7\r\n"
    data = parse_ava_text(text)
    assert data.bad_rows == []
    assert data.image_id.tolist() == [5, 6]
    assert data.counts.sum(axis=1).tolist() == [4, 2]


def test_name_lists_and_image_lists(ava_dir, plain_names, tmp_path):
    tags, challenges = plain_names
    assert read_names(ava_dir / "tags.txt") == tags
    assert read_names(ava_dir / "challenges.txt") == challenges
    ids = read_id_list(ava_dir / "aesthetics_image_lists" / "generic_test.jpgl")
    plain = [int(t) for t in (ava_dir / "aesthetics_image_lists" / "generic_test.jpgl").read_text().split()]
    assert ids.tolist() == plain
    bad = tmp_path / "bad.jpgl"
    bad.write_text("12\n13\nabc\n")
    with pytest.raises(AvaFormatError, match="line 3"):
        read_id_list(bad)
    bad_names = tmp_path / "tags.txt"
    bad_names.write_text("1 Abstract\nnope\n")
    with pytest.raises(AvaFormatError, match="line 2"):
        read_names(bad_names)
