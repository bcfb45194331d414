"""`photocritic ava` for real: CliRunner on the typer app, and one run through `python -m photocritic`."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from photocritic.cli.ava import ava_app


def _write_with_bad_rows(ava_dir, tmp_path, n=1500):
    with open(ava_dir / "AVA_partial.txt") as stream:
        lines = [next(stream).rstrip("\n") for _ in range(n)]
    lines[16] = "17 999999 1 2 3 4 5 6 7"
    lines[99] = lines[99].replace(" ", " oops ", 1)
    path = tmp_path / "AVA.txt"
    path.write_text("\n".join(lines) + "\n")
    for name in ("tags.txt", "challenges.txt"):  # found beside the AVA file
        (tmp_path / name).write_text((ava_dir / name).read_text())
    return path


def test_report_with_bad_rows_lists_them_writes_the_report_and_exits_1(ava_dir, cli, tmp_path):
    path = _write_with_bad_rows(ava_dir, tmp_path)
    out = tmp_path / "report"
    result = cli.invoke(ava_app, ["report", str(path), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "line 17: expected 15 columns, got 9" in result.stderr
    assert "line 100: expected 15 columns, got 16" in result.stderr
    assert result.stdout.strip() == str(out / "report.html")
    assert (out / "report.html").is_file()
    assert "line 17: expected 15 columns, got 9" in (out / "bad_rows.txt").read_text()
    assert "line 17: expected 15 columns, got 9" in (out / "report.html").read_text()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["bad_rows"] == 2 and summary["photos_analysed"] == 1498 and summary["rows"] == 1500


def test_strict_writes_nothing(ava_dir, cli, tmp_path):
    path = _write_with_bad_rows(ava_dir, tmp_path)
    out = tmp_path / "strict"
    result = cli.invoke(ava_app, ["report", str(path), "--out", str(out), "--strict"])
    assert result.exit_code == 1
    assert "line 17: expected 15 columns, got 9" in result.stderr
    assert not out.exists()


def test_usage_errors_exit_2(ava_dir, cli, tmp_path):
    source = str(ava_dir / "AVA_partial.txt")
    result = cli.invoke(ava_app, ["report", source, "--drop-tags", "Politcal", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "did you mean Political" in result.stderr
    assert cli.invoke(ava_app, ["report", str(tmp_path / "missing.txt")]).exit_code == 2
    assert cli.invoke(ava_app, ["export", source, "--out", str(tmp_path / "e"), "--score", "median"]).exit_code == 2
    assert cli.invoke(ava_app, ["export", source]).exit_code == 2  # --out is required


def test_export_cli_official_split(ava_dir, cli, tmp_path):
    out = tmp_path / "clean"
    result = cli.invoke(ava_app, ["export", str(ava_dir / "AVA_partial.txt"), "--out", str(out), "--split", "official",
                                  "--drop-tags", "bias", "--min-votes", "120", "--format", "ava,csv", "-q"])
    assert result.exit_code == 0, result.output
    written = result.stdout.split()
    assert str(out / "test.txt") in written and str(out / "ava_clean.csv") in written
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["split"]["test_list"].endswith("generic_test.jpgl")
    assert [f["left_out"] for f in manifest["filters"]][-1] == "fewer than 120 votes"
    assert result.stderr == ""


def test_help_teaches_with_examples(cli):
    for command in ("report", "export", "check"):
        result = cli.invoke(ava_app, [command, "--help"])
        assert result.exit_code == 0
        assert "Examples" in result.output and f"photocritic ava {command}" in result.output


def test_check_through_the_real_entry_point(ava_dir, tmp_path):
    path = _write_with_bad_rows(ava_dir, tmp_path)
    result = subprocess.run([sys.executable, "-m", "photocritic", "ava", "check", str(path)], capture_output=True, text=True, check=False,
                            timeout=300, env={**os.environ})
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == ["line 17: expected 15 columns, got 9", "line 100: expected 15 columns, got 16"]
    assert "1,498 good rows, 2 bad rows" in result.stderr
    clean = tmp_path / "clean.txt"
    clean.write_text("".join(line + "\n" for line in (ava_dir / "AVA_partial.txt").read_text().splitlines()[:50]))
    ok = CliRunner().invoke(ava_app, ["check", str(clean)])
    assert ok.exit_code == 0 and ok.stdout == "" and "50 good rows, 0 bad rows" in ok.stderr


def test_the_ava_package_imports_neither_torch_nor_the_cli():
    code = ("import sys, photocritic.ava.report, photocritic.ava.export, photocritic.ava.filters;"
            "bad = [m for m in sys.modules if m == 'torch' or m.startswith('photocritic.cli')]; print(bad); sys.exit(bool(bad))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
