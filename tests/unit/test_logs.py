"""Log lines: JSON for collectors, text for people, each with the fields bound for the task
writing it (``log_context``) and those passed as ``extra=``."""

from __future__ import annotations

import asyncio
import json
import logging
import sys

from pagemill.logs import formatter, log_context


def record(message: str = "requeued %s", *args: object) -> logging.LogRecord:
    return logging.LogRecord(
        "pagemill.engine", logging.WARNING, "x.py", 1, message, args or ("r",), None
    )


def test_json_lines_carry_the_fields_passed_as_extra() -> None:
    entry = record()
    entry.execution_id = "pex_1"
    entry.step_index = 0
    line = json.loads(formatter("json").format(entry))
    assert line["message"] == "requeued r"
    assert line["level"] == "warning" and line["logger"] == "pagemill.engine"
    assert (line["execution_id"], line["step_index"]) == ("pex_1", 0)
    assert line["ts"].endswith("+00:00")
    assert list(line)[:4] == ["ts", "level", "logger", "message"]


def test_fields_bound_once_are_on_every_line_of_the_block_and_its_tasks() -> None:
    json_lines = formatter("json")

    async def in_a_task() -> dict[str, object]:
        return dict(json.loads(json_lines.format(record("from a task %s"))))

    async def scenario() -> list[dict[str, object]]:
        with log_context(execution_id="pex_1", step_index=2):
            inside = json.loads(json_lines.format(record()))
            started = await asyncio.create_task(in_a_task())
        after = json.loads(json_lines.format(record()))
        return [inside, started, after]

    inside, started, after = asyncio.run(scenario())
    assert (inside["execution_id"], inside["step_index"]) == ("pex_1", 2)
    assert (started["execution_id"], started["step_index"]) == ("pex_1", 2)
    assert "execution_id" not in after


def test_text_lines_put_the_fields_after_the_message() -> None:
    with log_context(execution_id="pex_1"):
        line = formatter("text").format(record())
    assert line.endswith(" WARNING pagemill.engine requeued r execution_id=pex_1")


def test_an_exception_is_in_the_line() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        entry = logging.LogRecord(
            "pagemill.engine", logging.ERROR, "x.py", 1, "failed", (), exc_info=sys.exc_info()
        )
    line = json.loads(formatter("json").format(entry))
    assert "ValueError: broken" in line["exception"]
