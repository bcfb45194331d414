"""`--help` as a man page reads: a usage line with metavars, flags without type tags, examples.

typer's own help draws boxes and tags every option with its Python type (`-r <bool>`,
`<list[str]>`), so flags look as if they took a value. The commands keep their typer
declarations; only the rendering is replaced here, for every command and group alike.
"""
from __future__ import annotations

import re
import shutil
import textwrap

# Metavars by option name where the upper-cased name would mislead (a FILE is not a PATH, N is a count)
METAVARS = {
    "output": "FILE",
    "catalog": "FILE",
    "model": "MODEL",
    "format": "FORMAT",
    "report": "DIR",
    "move_rejects": "DIR",
    "journal": "FILE",
    "undo": "JOURNAL",
    "parquet": "DIR",
    "cache": "DIR",
    "config_file": "FILE",
    "csv_path": "FILE",
    "csv_file": "FILE",
    "good_bad": "DIR",
    "good": "DIR",
    "bad": "DIR",
    "out": "DIR",
    "ava": "FILE",
    "images": "DIR",
    "train_list": "FILE",
    "test_list": "FILE",
    "ratings": "PATH",
    "ray_address": "ADDRESS",
    "allow_host": "HOST",
    "host": "HOST",
    "port": "PORT",
    "sort": "KEY",
    "binary_rule": "RULE",
    "pick_label": "LABEL",
    "reject_label": "LABEL",
    "sidecar": "STYLE",
    "log_level": "LEVEL",
    "challenges": "FILE",
    "tags": "FILE",
    "drop_challenges": "NAMES",
    "drop_tags": "NAMES",
    "lists": "DIR",
    "unlisted": "PART",
    "formats": "LIST",
    "score": "KIND",
    "base_model": "MODEL",
    "backbone": "NAME",
}


def _width() -> int:
    return max(60, min(shutil.get_terminal_size((100, 24)).columns, 100))


def _plain(text: str) -> str:
    """The epilogs are written in markdown for typer; a terminal wants the words without the marks."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    return text.replace("`", "")


def _metavar(param) -> str:
    if param.metavar:
        return param.metavar
    name = METAVARS.get(param.name)
    if name:
        return name
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None) or getattr(getattr(param, "type", None), "name", None)
    if annotation in (int, "integer", "integer range"):
        return "N"
    if annotation in (float, "float", "float range"):
        return "X"
    return param.name.upper()


def argument_usage(param) -> str:
    name = param.metavar or param.name.upper()
    multiple = param.nargs != 1 and not name.endswith("...")
    if multiple:
        name += "..."
    return name if param.required else f"[{name}]"


def _is_flag(param) -> bool:
    return bool(getattr(param, "is_flag", False)) or bool(getattr(param, "count", False))


def _option_label(param) -> str:
    shorts = [o for o in param.opts if not o.startswith("--")]
    longs = [o for o in param.opts if o.startswith("--")]
    label = ", ".join(shorts + longs) if shorts else "    " + ", ".join(longs)
    if param.secondary_opts:
        label += " / " + ", ".join(param.secondary_opts)
    if not _is_flag(param):
        label += f" {_metavar(param)}"
        if getattr(param, "multiple", False):
            label += " (repeatable)"
    return label


def _option_help(param) -> str:
    text = _plain(param.help or "")
    extra = []
    default = param.default
    shown = "[default:" not in text and param.show_default is not False
    if shown and not _is_flag(param) and default not in (None, "", (), []) and not callable(default):
        extra.append(f"default: {default}")
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is None and high is None and hasattr(param, "type"):
        low, high = getattr(param.type, "min", None), getattr(param.type, "max", None)
    if low is not None and high is not None:
        extra.append(f"{low} to {high}")
    elif low is not None:
        extra.append(f"at least {low}")
    if param.envvar and "PHOTOCRITIC" in str(param.envvar):
        extra.append(f"env: {param.envvar}")
    if param.required:
        extra.append("required")
    return f"{text}  [{'; '.join(extra)}]" if extra else text


def _rows(rows: list[tuple[str, str]], width: int) -> list[str]:
    column = min(max((len(label) for label, _ in rows), default=0) + 4, 30)
    lines = []
    for label, help_text in rows:
        wrapped = textwrap.wrap(help_text, width - column - 2) or [""]
        if len(label) + 4 > column:
            lines.append(f"  {label}")
            lines += [" " * column + line for line in wrapped]
        else:
            lines.append(f"  {label.ljust(column - 2)}{wrapped[0]}")
            lines += [" " * column + line for line in wrapped[1:]]
    return lines


def _prose(text: str, width: int, indent: str = "  ") -> list[str]:
    """Paragraphs and `* item` bullets of a docstring or epilog, wrapped."""
    lines: list[str] = []
    for block in re.split(r"\n\s*\n", textwrap.dedent(_plain(text)).strip()):
        block_lines = block.splitlines()
        if len(block_lines) == 1 and block_lines[0].strip() in ("Examples", "Example"):
            lines.append(f"{block_lines[0].strip()}:")
            continue
        items, current = [], None
        for line in block_lines:
            stripped = line.strip()
            if stripped.startswith("* "):
                current = [stripped[2:]]
                items.append(current)
            elif current is not None and line.startswith((" ", "\t")):
                current.append(stripped)
            else:
                current = None
                items.append([stripped, "\0para"])
        paragraph: list[str] = []
        for item in items:
            if item[-1] == "\0para":
                paragraph.append(item[0])
                continue
            if paragraph:
                lines += textwrap.wrap(" ".join(paragraph), width, initial_indent=indent, subsequent_indent=indent)
                paragraph = []
            command, _, why = " ".join(item).partition(" : ")
            lines += textwrap.wrap(command, width, initial_indent=indent + "  ", subsequent_indent=indent + "      ")
            if why:
                lines += textwrap.wrap(why, width, initial_indent=indent + "      ", subsequent_indent=indent + "      ")
        if paragraph:
            lines += textwrap.wrap(" ".join(paragraph), width, initial_indent=indent, subsequent_indent=indent)
        lines.append("")
    return lines


def format_help(command, ctx) -> str:
    width = _width()
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    arguments = [p for p in params if p.param_type_name == "argument"]
    options = [p for p in params if p.param_type_name == "option"]
    subcommands = []
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                subcommands.append((name, sub.get_short_help_str(limit=width - 16)))
    usage = [ctx.command_path]
    if options:
        usage.append("[OPTIONS]")
    usage += [argument_usage(p) for p in arguments]
    if subcommands:
        usage.append("COMMAND [ARGS]...")
    out = [f"Usage: {' '.join(usage)}", ""]
    doc = command.help or ""
    if doc:
        out += _prose(doc, width)
    if arguments:
        out.append("Arguments:")
        out += _rows([(argument_usage(p).strip("[]"), _plain(p.help or "")) for p in arguments], width)
        out.append("")
    if options:
        out.append("Options:")
        out += _rows([(_option_label(p), _option_help(p)) for p in options], width)
        out.append("")
    if subcommands:
        out.append("Commands:")
        out += _rows(subcommands, width)
        out.append("")
        out.append(f"  See '{ctx.command_path} COMMAND --help' for each command's options and examples.")
        out.append("")
    if command.epilog:
        out += _prose(command.epilog, width)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def install(command) -> None:
    """Give `command` and every command under it the plain help."""

    def render(self, ctx, formatter) -> None:
        formatter.write(format_help(self, ctx))

    command.format_help = render.__get__(command)
    for sub in getattr(command, "commands", {}).values():
        install(sub)
