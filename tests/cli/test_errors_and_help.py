"""The newcomer's first day through the real CLI: every mistake is one line and a documented exit code,
never a traceback; --help reads like a man page."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import photocritic

BOX = set("╭╮╰╯│─")


def run_cli(*args: str, cwd: Path | None = None, catalog: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PHOTOCRITIC_CATALOG": str(catalog or Path(cwd or ".") / "catalog.sqlite")}
    env.pop("PHOTOCRITIC_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "photocritic", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and not BOX & set(result.stderr), result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("photocritic: error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture()
def photo(shared_data) -> Path:
    return shared_data / "photos" / "Apple iPhone 4.jpg"


@pytest.mark.parametrize("command", ["score", "cull"])
def test_output_that_is_a_folder_is_refused_before_any_work(command, photo, tmp_path):
    (tmp_path / "out").mkdir()
    result = run_cli(command, str(photo), "-o", "out", cwd=tmp_path)
    assert_one_line_error(result, "'out' is a folder")
    # refused before the scoring started: no catalog was opened, nothing half-written is left
    assert not (tmp_path / "catalog.sqlite").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and not any((tmp_path / "out").iterdir())


def test_cull_report_that_is_a_file(photo, tmp_path):
    (tmp_path / "sheet.jpg").write_bytes(b"x")
    result = run_cli("cull", str(photo), "--report", "sheet.jpg", cwd=tmp_path)
    assert_one_line_error(result, "--report 'sheet.jpg' is a file")
    assert not (tmp_path / "catalog.sqlite").exists()


def test_train_csv_missing(tmp_path):
    result = run_cli("train", "runs/x", "--csv", "missing.csv", cwd=tmp_path)
    assert_one_line_error(result, "--csv 'missing.csv': no such file")
    assert "Errno" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_train_csv_that_is_a_photo(photo, tmp_path):
    (tmp_path / "ratings.csv").write_bytes(photo.read_bytes())
    result = run_cli("train", "runs/x", "--csv", "ratings.csv", cwd=tmp_path)
    assert_one_line_error(result, "not a CSV text file")
    assert not (tmp_path / "runs").exists()


def test_ava_report_on_a_file_that_is_not_ava(tmp_path):
    (tmp_path / "notes.txt").write_text("these are my notes\nnothing to see\n")
    result = run_cli("ava", "report", "notes.txt", "--out", "report", cwd=tmp_path)
    assert_one_line_error(result, "no usable rows", "photocritic ava check")
    assert not (tmp_path / "report").exists()


def test_serve_on_a_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run_cli("serve", "--port", str(port), cwd=tmp_path, timeout=120)
    assert_one_line_error(result, f"port {port}", "in use", "--port")


@pytest.mark.parametrize("args, words", [
    (["score", "--no-such-option", "x.jpg"], ["No such option: --no-such-option", "photocritic score --help"]),
    (["score"], ["Missing argument 'PATH'"]),
    (["score", "x.jpg", "--batch-size", "0"], ["--batch-size"]),
    (["nosuchcommand"], ["nosuchcommand"]),
    (["score", "does-not-exist.jpg"], ["does-not-exist.jpg"]),
])
def test_usage_errors_share_the_one_line_style(args, words, tmp_path):
    assert_one_line_error(run_cli(*args, cwd=tmp_path), *words)


def test_a_bug_exits_3_with_a_plea_not_a_traceback(tmp_path):
    # a command that fails as a bug would, run through the real entry point and its handler
    script = textwrap.dedent("""
        from photocritic.cli import app, main
        @app.command("explode")
        def explode():
            {}["missing"]
        main(["explode"])
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error: KeyError" in result.stderr and "please report" in result.stderr
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PHOTOCRITIC_DEBUG": "1"})
    assert "Traceback" in shown.stderr  # the developer's way to see it


def test_no_partial_file_is_left_when_writing_fails(tmp_path):
    from photocritic.cli.common import output_stream

    target = tmp_path / "records.jsonl"
    with pytest.raises(RuntimeError):
        with output_stream(target) as stream:
            stream.write("half a record")
            raise RuntimeError("the scorer died")
    assert list(tmp_path.iterdir()) == []


def _commands():
    import typer

    from photocritic.cli import app

    def walk(command, path):
        subs = getattr(command, "commands", None)
        yield path, not subs
        for name, sub in (subs or {}).items():
            yield from walk(sub, path + [name])

    return list(walk(typer.main.get_command(app), []))


def test_help_reads_like_a_man_page(capsys):
    from photocritic.cli import main

    for path, leaf in _commands():
        with pytest.raises(SystemExit) as exit_:
            main([*path, "--help"])
        text = capsys.readouterr().out
        assert exit_.value.code == 0, path
        assert text.startswith(f"Usage: {' '.join(['photocritic', *path])} "), (path, text[:80])
        for tag in ("<bool>", "<str>", "<path>", "<int>", "<float>", "list[", "{"):
            assert tag not in text, (path, tag)
        assert not BOX & set(text), path
        if leaf or not path:
            assert "Examples:" in text or "Example:" in text, path
        else:
            assert f"photocritic {path[0]} COMMAND --help" in text


def test_help_of_score_shows_flags_without_values_and_values_with_metavars(capsys):
    from photocritic.cli import main

    with pytest.raises(SystemExit):
        main(["score", "--help"])
    text = capsys.readouterr().out
    lines = {line.split()[0].rstrip(","): line for line in text.splitlines() if line.strip().startswith("-")}
    assert lines["-r"].split()[:2] == ["-r,", "--recursive"] and lines["-r"].split()[2] == "Descend"
    assert "-o, --output FILE" in lines["-o"]
    assert "--top N" in text and "--sort KEY" in text
    assert "Usage: photocritic score [OPTIONS] PATH..." in text


@pytest.mark.parametrize("args", [[], ["taste"], ["ava"]])
def test_a_bare_command_shows_its_help(args, capsys):
    from photocritic.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(args)
    captured = capsys.readouterr()
    assert exit_.value.code == 0 and captured.err == ""
    assert captured.out.startswith(f"Usage: {' '.join(['photocritic', *args])} [OPTIONS] COMMAND")


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"photocritic {photocritic.__version__}"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_a_full_disk_is_an_environment_error_and_a_device_is_never_replaced(photo, tmp_path):
    import stat

    result = run_cli("score", str(photo), "-f", "jsonl", "-o", "/dev/full", cwd=tmp_path)
    assert_one_line_error(result, "No space left on device")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # written into, not renamed over
    assert not os.path.exists("/dev/full.partial")


@pytest.mark.parametrize("setup, words", [
    (lambda d: None, ["a finished training run"]),
    (lambda d: ((d / "predictions-test.csv").write_text("x\n"), (d / "train_stats.json").write_text("{}")), ["damaged"]),
])
def test_evaluate_on_a_folder_that_is_not_a_run(setup, words, tmp_path):
    (tmp_path / "run").mkdir()
    setup(tmp_path / "run")
    assert_one_line_error(run_cli("evaluate", "run", cwd=tmp_path), *words)
