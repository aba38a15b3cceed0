"""What the deployment files may name: the CLI's commands and options, the settings' variables,
the app's paths; and small readers for the Dockerfile and systemd unit formats."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from pagemill.settings import Settings
from tools.docgen.cli_page import is_option, root_command, walk
from tools.docgen.openapi_page import openapi_document

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_PORT = Settings.model_fields["port"].default
SETTINGS_VARIABLES = frozenset(f"PAGEMILL_{name.upper()}" for name in Settings.model_fields)


@cache
def _commands() -> dict[tuple[str, ...], Any]:
    return {path[1:]: command for path, command in walk(root_command())}


@cache
def api_paths() -> frozenset[str]:
    return frozenset(openapi_document()["paths"])


def check_command_line(args: list[str]) -> tuple[str, ...]:
    """The command ``pagemill ARGS…`` runs; fails when it or one of its options does not exist."""
    commands = _commands()
    path: tuple[str, ...] = ()
    rest = list(args)
    while rest and (*path, rest[0]) in commands:
        path = (*path, rest.pop(0))
    command = commands[path]
    assert path and not getattr(command, "commands", None), f"not a command: pagemill {args}"
    options = {
        name: param
        for param in command.params
        if is_option(param)
        for name in (*param.opts, *param.secondary_opts)
    }
    arguments = [param for param in command.params if not is_option(param)]
    while rest:
        word = rest.pop(0)
        if word.startswith("--"):
            assert word in options, f"pagemill {' '.join(path)} has no option {word}"
            if not options[word].is_flag:
                assert rest, f"{word} needs a value"
                rest.pop(0)
        else:
            assert arguments, f"pagemill {' '.join(path)} takes no argument {word!r}"
            arguments.pop(0)
    return path


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def exec_form(arguments: str) -> list[str]:
    """A JSON-array (exec form) instruction's argument list."""
    parsed = json.loads(arguments)
    assert isinstance(parsed, list), arguments
    return [str(item) for item in parsed]


def systemd_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Section → its (key, value) lines; keys may repeat, as in systemd."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"{path.name}: {line!r} outside a section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: {line!r} is not key=value"
        current.append((key.strip(), value.strip()))
    return sections


def env_file_variables(path: Path) -> dict[str, str]:
    """Variables of an environment file, the commented-out examples included."""
    found = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip().removeprefix("#")
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            found[match[1]] = match[2]
    return found
