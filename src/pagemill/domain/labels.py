"""Names and descriptions people give to saved things (custom processors, schemas)."""

from __future__ import annotations

from pagemill.domain.errors import InvalidInput

MAX_NAME = 200
MAX_DESCRIPTION = 2000


def check_name(name: str) -> str:
    """The name without surrounding blanks; refused when empty or too long."""
    clean = name.strip()
    if not clean:
        raise InvalidInput("name must not be empty.")
    if len(clean) > MAX_NAME:
        raise InvalidInput(f"name has at most {MAX_NAME} characters.")
    return clean


def check_description(description: str | None) -> str | None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description has at most {MAX_DESCRIPTION} characters.")
    return description
