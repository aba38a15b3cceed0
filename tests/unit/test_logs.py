from __future__ import annotations

import json
import logging

from pagemill.logs import JsonFormatter


def test_json_lines_carry_the_step_fields() -> None:
    record = logging.LogRecord(
        "pagemill.engine", logging.WARNING, "x.py", 1, "requeued %s", ("r",), None
    )
    record.execution_id = "pex_1"
    record.step_index = 0
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "requeued r"
    assert line["level"] == "warning" and line["logger"] == "pagemill.engine"
    assert (line["execution_id"], line["step_index"]) == ("pex_1", 0)
    assert line["ts"].endswith("+00:00")
