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

import contextlib
import os
import signal
import sys
import threading

import typer

from photocritic.cli.ava import ava_app
from photocritic.cli.common import EXIT_INTERNAL, EXIT_USAGE, OutputClosed, missing_extra
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


class Stopped(KeyboardInterrupt):
    """Ctrl-C, SIGTERM or SIGHUP: every cleanup runs, as for Ctrl-C (no FILE.partial is left)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: The signals met while a command ran (typer turns an interrupt into a silent exit 130).
_RECEIVED: list[int] = []


def _stop(signum: int, frame: object) -> None:
    _RECEIVED.append(signum)
    raise Stopped(signum)


def _interrupted(signum: int) -> int:
    """One line for an interrupt, and its exit code: 130 for Ctrl-C, 128 + N for signal N."""
    with contextlib.suppress(OSError):  # a hung-up terminal takes no message
        _say("interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}")
    return 128 + signum


def main(argv: list[str] | None = None) -> None:
    from photocritic.cli.help import install

    command = typer.main.get_command(app)
    install(command)
    # Ctrl-C, SIGTERM and SIGHUP alike: cleanups run, one line, exit 128 + N; only where their
    # handling is still the default (not in a test runner's process, not in a thread)
    defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    if hasattr(signal, "SIGHUP"):
        defaults[signal.SIGHUP] = signal.SIG_DFL
    handled = [s for s, default in defaults.items() if signal.getsignal(s) is default]
    if threading.current_thread() is not threading.main_thread():
        handled = []
    for signum in handled:
        signal.signal(signum, _stop)
    _RECEIVED.clear()
    try:
        code = command.main(args=argv, prog_name="photocritic", standalone_mode=False)
        if _RECEIVED:
            code = _interrupted(_RECEIVED[0])
    except typer.Exit as exc:  # raised outside a command's invocation (an eager option)
        code = exc.exit_code
    except OutputClosed:
        # `photocritic score ... | head`: the reader left; stop quietly like other Unix tools, exit 0
        # (what a script with `set -o pipefail` expects from a reader that took what it needed)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    except typer.TyperException as exc:  # click's usage errors: one line, like our own
        if type(exc).__name__ == "NoArgsIsHelpError":  # `photocritic` or `photocritic taste` alone: the help
            print(exc.format_message(), end="")
            code = 0
        else:
            context = getattr(exc, "ctx", None)
            hint = f" (see '{context.command_path} --help')" if context is not None else ""
            _say(f"error: {_one_line(exc.format_message())}{hint}")
            code = EXIT_USAGE
    except (typer.Abort, KeyboardInterrupt):
        code = _interrupted(_RECEIVED[0] if _RECEIVED else signal.SIGINT)
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
    finally:
        for signum in handled:
            signal.signal(signum, defaults[signum])
    with contextlib.suppress(OSError):
        sys.stdout.flush()
    sys.exit(code if isinstance(code, int) else 0)
