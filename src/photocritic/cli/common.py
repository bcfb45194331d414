"""What every command shares: exit codes, output streams, progress on stderr."""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import typer

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2


def usage_error(message: str) -> typer.Exit:
    typer.echo(f"photocritic: error: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


def default_format() -> str:
    """A table for people at a terminal, JSONL for pipes and scripts."""
    return "table" if sys.stdout.isatty() else "jsonl"


@contextlib.contextmanager
def output_stream(output: Path | None) -> Iterator[IO[str]]:
    """stdout, or a file written beside its final name and renamed into place when complete."""
    if output is None:
        yield sys.stdout
        return
    output = output.expanduser()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(partial, output)
    finally:
        # any failure (a bug, Ctrl-C, a full disk) leaves neither a half file nor its .partial
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


@contextlib.contextmanager
def progress_bar(description: str, enabled: bool = True):
    """A rich progress bar on stderr when it is a terminal; yields an (done, total) callback."""
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

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update
