"""The command's surface: every command in ``--help``, Typer's shell completion, and the
library's public names."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import pagemill
import pagemill.library
from pagemill.cli import app


def test_help_lists_every_command_by_group() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})

    assert result.exit_code == 0
    for command in ("serve", "worker", "reaper", "migrate", "keys", "teams", "run"):
        assert f" {command} " in result.stdout
    for group in ("pipelines", "executions"):
        assert f" {group} " in result.stdout
        sub = CliRunner().invoke(app, [group, "--help"], env={"COLUMNS": "200"})
        assert sub.exit_code == 0


@pytest.mark.parametrize(
    ("words", "expected"),
    [("pagemill pip", "pipelines"), ("pagemill executions wa", "watch"), ("pagemill ru", "run")],
)
def test_shell_completion_completes_commands(words: str, expected: str) -> None:
    env = {
        "_PAGEMILL_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }

    result = CliRunner().invoke(app, [], env=env, prog_name="pagemill")

    assert result.stdout.split() == [expected]


def test_the_top_level_names_are_the_library_s() -> None:
    top = set(pagemill.__all__) - {"__version__"}
    assert top <= set(pagemill.library.__all__)
    for name in top:
        assert getattr(pagemill, name) is getattr(pagemill.library, name)
