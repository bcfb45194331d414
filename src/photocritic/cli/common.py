"""What every command shares: exit codes, output streams, progress on stderr."""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import typer

from photocritic.writers import plural  # noqa: F401 (every command counts in words)

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


def usage_error(message: str) -> typer.Exit:
    typer.echo(f"photocritic: error: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


#: Modules the core install leaves out: the distribution that brings each, and the extra that adds it.
EXTRAS = {
    "sklearn": ("scikit-learn", "taste"),
    "matplotlib": ("matplotlib", "plots"),
    "scipy": ("scipy", "ava"),
    "torch": ("PyTorch", "train"),
    "efficientnet_lite_pytorch": ("efficientnet-lite-pytorch", "train"),
    "h5py": ("h5py", "train"),
    "onnx": ("onnx", "train"),
    "faiss": ("faiss-cpu", "large"),
    "ray": ("Ray", "ray"),
    "pyarrow": ("pyarrow", "ray"),
}


def missing_extra(exc: ImportError) -> str | None:
    """The one-line message for a module of an extra that is not installed; None for anything else."""
    name = (getattr(exc, "name", None) or "").split(".")[0]
    if name not in EXTRAS:
        return None
    distribution, extra = EXTRAS[name]
    return f'this needs {distribution}, which the core install leaves out: pip install "photocritic[{extra}]"'


def builtin_models() -> str:
    """The shipped model names for a help text, without importing the model code (and torch) for --help."""
    zoo = Path(__file__).resolve().parent.parent / "zoo"
    names = sorted(p.name for p in zoo.iterdir() if (p / "config.json").is_file()) if zoo.is_dir() else []
    return ", ".join(names) or "default"


def display_names(paths: list[str]) -> dict[str, str]:
    """Each path relative to the folder all of them share, so two `IMG_1.jpg` of two folders differ."""
    if not paths:
        return {}
    parents = [os.path.dirname(os.path.abspath(p)) for p in paths]
    try:
        root = os.path.commonpath(parents)
    except ValueError:  # different drives
        return {p: p for p in paths}
    return {p: os.path.relpath(os.path.abspath(p), root) for p in paths}


def default_format() -> str:
    """A table for people at a terminal, JSONL for pipes and scripts."""
    return "table" if sys.stdout.isatty() else "jsonl"


def check_output_file(output: Path | None, option: str = "--output", example: str = "records.jsonl") -> None:
    """Refuse an output that cannot become a file before any work starts, not after it."""
    if output is None:
        return
    output = output.expanduser()
    if output.is_dir():
        raise usage_error(f"{option} {str(output)!r} is a folder; give a file name (e.g. {str(output / example)!r})")
    parent = next((p for p in output.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise usage_error(f"{option} {str(output)!r}: {str(parent)!r} is a file, not a folder")
    if parent is not None and not os.access(parent, os.W_OK):
        raise usage_error(f"{option} {str(output)!r}: the folder {str(parent)!r} is not writable")


def check_output_folder(folder: Path | None, option: str) -> None:
    """A folder option (a report, a move target) must not name an existing file."""
    if folder is None:
        return
    folder = folder.expanduser()
    if folder.exists() and not folder.is_dir():
        raise usage_error(f"{option} {str(folder)!r} is a file; give a folder (it is created if missing)")
    parent = next((p for p in folder.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise usage_error(f"{option} {str(folder)!r}: {str(parent)!r} is a file, not a folder")


def _check_input(path: Path | None, option: str, want_folder: bool) -> None:
    if path is None:
        return
    path = path.expanduser()
    wanted, other = ("folder", "file") if want_folder else ("file", "folder")
    if not path.exists():
        raise usage_error(f"{option} {str(path)!r}: no such {wanted}")
    if path.is_dir() != want_folder:
        raise usage_error(f"{option} {str(path)!r} is a {other}, not a {wanted}")


def check_input_file(path: Path | None, option: str) -> None:
    _check_input(path, option, want_folder=False)


def check_input_folder(path: Path | None, option: str) -> None:
    _check_input(path, option, want_folder=True)


class OutputClosed(Exception):
    """The reader of our output went away (``photocritic score ... | head -1``). Not an OSError, so
    that click does not turn it into exit 1; the CLI stops quietly (exit 0)."""


@contextlib.contextmanager
def output_stream(output: Path | None) -> Iterator[IO[str]]:
    """stdout, or a file written beside its final name and renamed into place when complete.

    A run that fails or is interrupted leaves neither a half-written file nor its ``.partial``.
    A reader that went away (a closed pipe) raises :class:`OutputClosed`.
    """
    try:
        if output is None:
            yield sys.stdout
            return
        output = output.expanduser()
        if output.exists() and not output.is_file():
            # a device, a FIFO, /dev/stdout: written straight into, never replaced by a rename
            with open(output, "w", encoding="utf-8", newline="") as stream:
                yield stream
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".partial")
        try:
            with open(partial, "w", encoding="utf-8", newline="") as stream:
                yield stream
            os.replace(partial, output)
        except BaseException:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
    except BrokenPipeError:
        raise OutputClosed() from None


@contextlib.contextmanager
def progress_bar(description: str, enabled: bool = True):
    """A rich progress bar on stderr when it is a terminal; yields a (done, total[, phase]) callback.

    A *phase* other than the current one (culling: "grouping look-alikes", "ranking", ...) restarts the
    bar under that name, so every step that takes a while shows that it is moving."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int, phase: str | None = None) -> None:
            if phase is not None and phase != progress.tasks[0].description:
                progress.reset(task, description=phase)
            progress.update(task, completed=done, total=total)

        yield update
