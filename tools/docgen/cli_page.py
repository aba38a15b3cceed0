"""The command-line reference, generated from the ``pagemill`` Typer app.

Typer carries its own copy of Click, so commands and parameters are read by their attributes
(``params``, ``commands``, ``opts``, ``type_descriptor``), not by Click's classes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from pagemill import cli
from tools.docgen.markdown import anchor, code, paragraphs, table

Command = Any  # a Typer command or group (Typer's own Click classes)

_TYPES = {str: "text", int: "integer", float: "number", Path: "path", bool: "flag"}


def root_command() -> Command:
    return typer.main.get_command(cli.app)


def walk(
    command: Command, path: tuple[str, ...] = ("pagemill",)
) -> Iterator[tuple[tuple[str, ...], Command]]:
    """Every command under ``command`` (itself first), with its path of names."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        if not getattr(sub, "hidden", False):
            yield from walk(sub, (*path, name))


def is_option(param: Any) -> bool:
    return bool(param.param_type_name == "option")


def _type(param: Any) -> str:
    annotation = param.type_descriptor.annotation
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        text = "one of " + ", ".join(code(str(member.value)) for member in annotation)
    else:
        text = _TYPES.get(annotation, getattr(annotation, "__name__", str(annotation)))
    bounds = [
        f"{symbol} {value}"
        for symbol, value in (
            ("≥", getattr(param, "min", None)),
            ("≤", getattr(param, "max", None)),
        )
        if value is not None
    ]
    return ", ".join([text, *bounds])


def _default(param: Any) -> str:
    if param.required:
        return "required"
    value = param.default
    if value is None or (param.is_flag and value is False):
        return "-"
    if isinstance(value, enum.Enum):
        value = value.value
    return code(str(value))


def _names(param: Any) -> str:
    if not is_option(param):
        return code(param.name.upper())
    names = [*param.opts, *param.secondary_opts]
    return " / ".join(code(name) for name in names)


def _usage(path: tuple[str, ...], command: Command) -> str:
    pieces = [*path]
    if any(is_option(p) for p in command.params):
        pieces.append("[OPTIONS]")
    pieces += [p.name.upper() for p in command.params if not is_option(p)]
    if getattr(command, "commands", None):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _section(path: tuple[str, ...], command: Command) -> list[str]:
    title = " ".join(path)
    lines = [f"{'#' * min(len(path) + 1, 4)} `{title}` {{ #{anchor(*path)} }}", ""]
    lines += paragraphs(command.help or "")
    lines += ["```text", _usage(path, command), "```", ""]
    params = [p for p in command.params if not getattr(p, "hidden", False)]
    if params:
        rows = ((_names(p), _type(p), _default(p), p.help or "") for p in params)
        lines += [*table(("argument or option", "type", "default", "what it does"), rows), ""]
    subcommands = getattr(command, "commands", {})
    if subcommands:
        commands = (
            (f"[`{title} {name}`](#{anchor(*path, name)})", (sub.help or "").split("\n")[0])
            for name, sub in subcommands.items()
        )
        lines += [*table(("command", "what it does"), commands), ""]
    return lines


def render(command: Command | None = None) -> str:
    command = command or root_command()
    lines = [
        "# Command line",
        "",
        "Generated from the `pagemill` command's own definition (`src/pagemill/cli.py`) when the "
        "documentation is built; `pagemill COMMAND --help` prints the same. Options named after "
        "a setting (`--data-dir`, `--database-url`, …) win over its environment variable: see "
        "[Configuration](../configuration.md).",
        "",
    ]
    for path, sub in walk(command):
        lines += _section(path, sub)
    return "\n".join(lines)
