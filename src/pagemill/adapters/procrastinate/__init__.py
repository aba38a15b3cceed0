"""Step delivery through Procrastinate, a job queue in the ledger's own PostgreSQL."""

from pagemill.adapters.procrastinate.queue import (
    REAP_TASK,
    RUN_STEP_TASK,
    ProcrastinateDispatcher,
    ProcrastinateQueue,
)

__all__ = ["REAP_TASK", "RUN_STEP_TASK", "ProcrastinateDispatcher", "ProcrastinateQueue"]
