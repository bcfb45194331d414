"""The `photocritic` command line: a thin layer over the rooms below it.

Each sub-command lives in its own module here and only parses arguments, calls
the library, and prints. Machine output goes to stdout; progress and messages
go to stderr.

Exit codes (README, "Exit codes"): 0 every photo done; 1 some photos (or sidecars) failed, their
records say why; 2 usage or environment error (a one-line message); 3 internal error, a bug in
photocritic (a one-line message asking for a report; PHOTOCRITIC_DEBUG=1 shows the traceback);
130 interrupted. `main` is the one place that turns exceptions into these codes, so no traceback
reaches a user from any command.
"""
from __future__ import annotations

import os
import sys

import typer

from photocritic.cli.ava import ava_app
from photocritic.cli.common import EXIT_INTERNAL, EXIT_USAGE, missing_extra
from photocritic.cli.cull import CULL_EPILOG, cull_command
from photocritic.cli.evaluate import EVALUATE_EPILOG, evaluate_command
from photocritic.cli.score import SCORE_EPILOG, score_command
from photocritic.cli.serve import SERVE_EPILOG, serve_command
from photocritic.cli.taste import taste_app
from photocritic.cli.train import IMPORT_EPILOG, TRAIN_EPILOG, import_keras_command, train_command

app = typer.Typer(
    name="photocritic",
    help="Judge photos the way a careful photographer would: score them, cull bursts, learn your taste, "
    "review a shoot in the browser, train models.",
    epilog="""
**Examples**

* `photocritic score ~/Pictures/trip` : a score and the reasons for each photo
* `photocritic cull ~/Pictures/trip --report sheet/` : the best shot of each burst, a contact sheet
* `photocritic serve ~/Pictures/trip` : review and cull the folder in the browser

**Exit codes**: 0 done; 1 some photos failed (their records say why); 2 usage or environment error;
3 internal error (a bug: please report it); 130 interrupted.
""",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from photocritic import __version__

        typer.echo(f"photocritic {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Judge photos the way a careful photographer would: score them, cull bursts, learn your taste,
    review a shoot in the browser, train models."""


app.command("score", epilog=SCORE_EPILOG)(score_command)
app.command("cull", epilog=CULL_EPILOG)(cull_command)
app.command("serve", epilog=SERVE_EPILOG)(serve_command)
app.add_typer(ava_app, name="ava")
app.add_typer(taste_app, name="taste")
app.command("train", epilog=TRAIN_EPILOG)(train_command)
app.command("evaluate", epilog=EVALUATE_EPILOG)(evaluate_command)
app.command("import-keras", epilog=IMPORT_EPILOG)(import_keras_command)


def _say(message: str) -> None:
    print(f"photocritic: {message}", file=sys.stderr, flush=True)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _internal_error(exc: BaseException) -> int:
    _say(f"internal error: {type(exc).__name__}: {_one_line(exc)[:300]}")
    _say("this is a bug in photocritic; please report it with the command you ran and this message "
         "(PHOTOCRITIC_DEBUG=1 shows the traceback)")
    return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> None:
    from photocritic.cli.help import install

    command = typer.main.get_command(app)
    install(command)
    try:
        code = command.main(args=argv, prog_name="photocritic", standalone_mode=False)
    except typer.Exit as exc:  # raised outside a command's invocation (an eager option)
        code = exc.exit_code
    except typer.TyperException as exc:  # click's usage errors: one line, like our own
        if type(exc).__name__ == "NoArgsIsHelpError":  # `photocritic` or `photocritic taste` alone: the help
            print(exc.format_message(), end="")
            code = 0
        else:
            context = getattr(exc, "ctx", None)
            hint = f" (see '{context.command_path} --help')" if context is not None else ""
            _say(f"error: {_one_line(exc.format_message())}{hint}")
            code = EXIT_USAGE
    except typer.Abort:
        _say("interrupted")
        code = 130
    except KeyboardInterrupt:
        _say("interrupted; finished photos are kept in the catalog")
        code = 130
    except BrokenPipeError:
        # `photocritic score ... | head`: the reader left; stop quietly like other Unix tools
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    except OSError as exc:  # the machine said no: a full disk, a folder we may not write, ...
        if os.environ.get("PHOTOCRITIC_DEBUG"):
            raise
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        _say(f"error: {_one_line(exc.strerror or exc)}{where}")
        code = EXIT_USAGE
    except ImportError as exc:  # an optional part (an extra) is not installed: say which, or it is a bug
        message = missing_extra(exc)
        if os.environ.get("PHOTOCRITIC_DEBUG"):
            raise
        if message is None:
            code = _internal_error(exc)
        else:
            _say(f"error: {message}")
            code = EXIT_USAGE
    except MemoryError:
        _say("error: out of memory (try a smaller --batch-size or fewer --workers)")
        code = EXIT_USAGE
    except Exception as exc:  # a bug: say so, ask for a report, keep the traceback out of the way
        if os.environ.get("PHOTOCRITIC_DEBUG"):
            raise
        code = _internal_error(exc)
    sys.stdout.flush()
    sys.exit(code if isinstance(code, int) else 0)
