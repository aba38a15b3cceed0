"""Logging set-up for the command-line entry points: text for people, JSON for collectors.

Every line goes through the standard library's ``logging`` (pagemill's own modules and every
library's), formatted by structlog: the fields bound with ``log_context`` (``execution_id``,
``step_index``, ``attempt``, ``delivery_id`` …) for the task running, and those passed as
``extra=``, are added to each line.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger


def log_context(**fields: Any) -> contextlib.AbstractContextManager[object]:
    """Add ``fields`` to every log line written inside the block (by this task, and by the
    tasks it starts there)."""
    return structlog.contextvars.bound_contextvars(**fields)


def _created(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    # The time the record was made, not the time it was formatted.
    record = event.get("_record")
    created = record.created if isinstance(record, logging.LogRecord) else None
    event["ts"] = datetime.fromtimestamp(created, UTC).isoformat() if created else None
    return event


def _ordered(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    ordered: EventDict = {key: event.pop(key) for key in ("ts", "level", "logger", "message")}
    ordered.update(event)
    return ordered


def _text(_: WrappedLogger, __: str, event: EventDict) -> str:
    # Not structlog's ConsoleRenderer: its padded, coloured columns suit a terminal, not the
    # journald and container logs a server writes to. The fields follow the message as
    # key=value, in the order they were bound.
    head = f"{event.pop('ts')} {event.pop('level').upper()} {event.pop('logger')} "
    message = str(event.pop("message"))
    error = event.pop("exception", None)
    fields = "".join(f" {key}={value}" for key, value in event.items())
    return head + message + fields + (f"\n{error}" if error else "")


def _chain() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.ExtraAdder(),
        _created,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.EventRenamer("message"),
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.format_exc_info,
        _ordered,
    ]


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``log_format`` (``json``: one JSON object per line; else text)."""
    renderer: Processor = (
        structlog.processors.JSONRenderer(default=str) if log_format == "json" else _text
    )
    return structlog.stdlib.ProcessorFormatter(processors=[*_chain(), renderer])


def configure(log_format: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # Procrastinate logs every job at INFO, the reaper's included: keep its warnings only.
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    # Alembic logs its dialect and every revision at INFO on each start; the migrations env
    # logs one line per migration actually applied instead (``pagemill.migrations``).
    logging.getLogger("alembic").setLevel(logging.WARNING)
