"""The `photocritic` command line: a thin layer over the rooms below it.

Each sub-command lives in its own module here and only parses arguments, calls
the library, and prints. Machine output goes to stdout; progress and messages
go to stderr.
"""
from __future__ import annotations

import os
import sys

import typer

from photocritic.cli.ava import ava_app
from photocritic.cli.cull import cull_command
from photocritic.cli.evaluate import EVALUATE_EPILOG, evaluate_command
from photocritic.cli.score import SCORE_EPILOG, score_command
from photocritic.cli.serve import serve_command
from photocritic.cli.taste import taste_app
from photocritic.cli.train import IMPORT_EPILOG, TRAIN_EPILOG, import_keras_command, train_command

app = typer.Typer(
    name="photocritic",
    help="Judge photos the way a careful photographer would.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
app.command("score", epilog=SCORE_EPILOG)(score_command)
app.command("cull")(cull_command)
app.command("serve")(serve_command)
app.add_typer(ava_app, name="ava")
app.add_typer(taste_app, name="taste")
app.command("train", epilog=TRAIN_EPILOG)(train_command)
app.command("evaluate", epilog=EVALUATE_EPILOG)(evaluate_command)
app.command("import-keras", epilog=IMPORT_EPILOG)(import_keras_command)


def main() -> None:
    try:
        app()
    except BrokenPipeError:
        # `photocritic score ... | head`: the reader left; stop quietly like other Unix tools
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt:
        print("photocritic: interrupted; finished photos are kept in the catalog", file=sys.stderr)
        sys.exit(130)
