"""The configuration reference, generated from ``pagemill.settings.Settings``."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from pagemill.domain.rates import DEFAULT_RATES_CENTS_PER_1000_PAGES
from pagemill.settings import Settings
from tools.docgen.cli_page import Command, is_option, walk
from tools.docgen.markdown import code, json_value, table

SOURCE = "src/pagemill/settings.py"

_SCALARS: dict[Any, str] = {
    int: "integer",
    float: "number",
    str: "string",
    bool: "boolean",
    Path: "path",
    SecretStr: "secret string",
}
_BOUNDS = (
    (annotated_types.Ge, "ge", "≥"),
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Le, "le", "≤"),
    (annotated_types.Lt, "lt", "<"),
)


def env_var(name: str) -> str:
    return f"{Settings.model_config.get('env_prefix', '')}{name}".upper()


def type_text(annotation: Any) -> str:
    """The type of a setting as an operator writes it in the environment."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        return " or ".join(type_text(arg) for arg in args if arg is not type(None))
    if origin is Literal:
        return "one of " + ", ".join(code(str(arg)) for arg in args)
    if origin is list:
        return f"JSON list of {type_text(args[0])}s"
    if origin is dict:
        return f"JSON object of {type_text(args[1])}s"
    return _SCALARS.get(annotation, getattr(annotation, "__name__", str(annotation)))


def bounds_text(field: FieldInfo) -> str:
    found = []
    for meta in field.metadata:
        for kind, attribute, symbol in _BOUNDS:
            if isinstance(meta, kind):
                found.append(f"{symbol} {_number(getattr(meta, attribute))}")
    return ", ".join(found)


def default_text(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return code(str(value).lower())
    if isinstance(value, (list, dict)):
        return code(json_value(value))
    if isinstance(value, float):
        return code(_number(value))
    return code(str(value))


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def cli_options(command: Command) -> dict[str, list[str]]:
    """Setting name → the command-line options that set it and the commands that take them,
    e.g. ``--data-dir`` (every command)."""
    leaves = [
        " ".join(path[1:]) for path, sub in walk(command) if not getattr(sub, "commands", None)
    ]
    commands: dict[tuple[str, str], list[str]] = {}
    for path, sub in walk(command):
        for param in sub.params:
            if is_option(param) and param.name in Settings.model_fields:
                commands.setdefault((param.name, param.opts[0]), []).append(" ".join(path[1:]))
    options: dict[str, list[str]] = {}
    for (name, option), used_by in commands.items():
        where = "every command" if used_by == leaves else ", ".join(f"`{c}`" for c in used_by)
        options.setdefault(name, []).append(f"{code(option)} ({where})")
    return options


def render(command: Command) -> str:
    """The page: every field of ``Settings`` with its variable, type, default and meaning."""
    options = cli_options(command)
    rows = []
    for name, field in Settings.model_fields.items():
        kind = type_text(field.annotation)
        bounds = bounds_text(field)
        description = field.description or ""
        if name in options:
            description += " Option: " + "; ".join(options[name]) + "."
        rows.append(
            (
                code(env_var(name)),
                f"{kind}, {bounds}" if bounds else kind,
                default_text(field),
                description,
            )
        )
    rates = DEFAULT_RATES_CENTS_PER_1000_PAGES.items()
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from the Settings class (" + SOURCE + ") by `make docs-config`: "
        "edit the descriptions there, not here. -->",
        "",
        "Every setting is an environment variable `PAGEMILL_<NAME>`, read once when a process "
        "starts. The commands also take the common ones as options (listed below), which win "
        "over the environment. A value that does not fit the type or bounds stops the command "
        "with a message naming the setting.",
        "",
        f"This page is generated from the `Settings` class (`{SOURCE}`), so it lists every "
        "setting the code reads, with its default.",
        "",
        *table(("variable", "type", "default", "what it does"), rows),
        "",
        "## Rates",
        "",
        "`GET …/rate` and each execution's `rate_breakdown` use per-processor rates in cents per "
        "1,000 pages, additive across the steps of a pipeline. Defaults:",
        "",
        *table(
            ("processor", "cents / 1,000 pages"),
            ((code(step), str(cents)) for step, cents in rates),
        ),
        "",
        'Override some or all: `PAGEMILL_RATES=\'{"convert": 250, "extract": 900}\'`.',
        "",
    ]
    return "\n".join(lines)
