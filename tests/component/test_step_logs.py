"""A step attempt's log lines, from the step runner and from the processor it runs, carry the
execution, step and attempt: bound once when the attempt starts."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pagemill.logs import formatter
from pagemill.ports.processing import ProcessorInput, ProcessorOutput
from pagemill.processors.registry import ProcessorRegistry
from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.support.app import test_server
from tests.support.processors import EchoConvert, UpperSegment


class LoggingConvert(EchoConvert):
    def run(self, job: ProcessorInput) -> ProcessorOutput:
        logging.getLogger("tests.converter").info("converting %s", job.filename)
        return super().run(job)


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    loggers = [logging.getLogger("tests.converter"), logging.getLogger("pagemill")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_lines_of_an_attempt_carry_its_execution_step_and_attempt(
    tmp_path: Path, json_lines: io.StringIO
) -> None:
    marker = tmp_path / "failed-once"
    registry = ProcessorRegistry([LoggingConvert(), UpperSegment()])
    async with test_server(tmp_path / "d", registry) as server:
        steps = [{"type": "convert", "settings": {"fail_marker": str(marker)}}]
        pipeline_id = await make_pipeline(server, steps)
        started = await run(server, pipeline_id)
        execution_id = started.json()["execution_id"]
        await wait_done(server, execution_id)

    written = lines(json_lines)
    converting = [line for line in written if line["message"].startswith("converting")]
    assert [line["attempt"] for line in converting] == [1, 2]  # failed once, then retried
    for line in converting:
        assert (line["execution_id"], line["step_index"]) == (execution_id, 0)
        assert line["logger"] == "tests.converter"
    # Lines outside any attempt carry none of it.
    assert all("execution_id" not in line for line in written if line not in converting)
