"""Retention: how long an execution's results and checkpoints are kept once it ended.

The pipeline's own setting wins, then the team's, then the server's; the answer is fixed when
the execution is submitted (changing a setting later applies to later runs). ``None``: kept
until deleted.
"""

from __future__ import annotations

from datetime import datetime

from pagemill.domain.errors import InvalidInput

MIN_RETENTION_SECONDS = 60
MAX_RETENTION_SECONDS = 10 * 366 * 86400


def check_retention(seconds: int | None) -> int | None:
    """A team's or pipeline's retention as set through the API (None: not set, inherit)."""
    if seconds is None:
        return None
    if not MIN_RETENTION_SECONDS <= seconds <= MAX_RETENTION_SECONDS:
        raise InvalidInput(
            f"retention_seconds must be between {MIN_RETENTION_SECONDS} and "
            f"{MAX_RETENTION_SECONDS} (ten years), or null to inherit."
        )
    return seconds


def effective_retention(
    pipeline_seconds: int | None, team_seconds: int | None, server_seconds: float
) -> tuple[int | None, str]:
    """The retention a run gets and what set it (``pipeline``, ``team`` or ``server``); the
    server's 0 means kept until deleted."""
    if pipeline_seconds is not None:
        return pipeline_seconds, "pipeline"
    if team_seconds is not None:
        return team_seconds, "team"
    return (int(server_seconds) or None), "server"


def expired(expires_at: datetime | None, purged_at: datetime | None, now: datetime) -> bool:
    return purged_at is not None or (expires_at is not None and expires_at <= now)


def gone_detail(
    execution_id: str,
    what: str,
    expires_at: datetime | None,
    retention_seconds: int | None,
    set_by: str | None,
) -> str:
    """Why a result is gone, for the 410's ``detail``."""
    when = expires_at.isoformat().replace("+00:00", "Z") if expires_at else "an earlier time"
    kept = (
        f"results are kept {retention_seconds} s after an execution ends"
        + (f" (the {set_by}'s retention)" if set_by else "")
        if retention_seconds is not None
        else "its retention ran out"
    )
    return f"The {what} of execution {execution_id} expired at {when}: {kept}."
