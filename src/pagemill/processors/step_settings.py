"""Checks shared by the processors' ``check_settings``: known keys only, typed values.

Every step type lists the settings it understands; anything else is refused with an
``InvalidInput`` that names the unknown keys (the API answers 422), so a misspelt option is
never stored and run without a word. ``timeout_seconds`` is common to every step type (the
registry checks its value).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pagemill.domain.errors import InvalidInput
from pagemill.domain.page_ranges import parse_page_range

COMMON_SETTINGS = frozenset({"timeout_seconds"})


def refuse_unknown(settings: Mapping[str, Any], known: Collection[str], step_type: str) -> None:
    """``InvalidInput`` naming every key of ``settings`` that is neither known nor common."""
    unknown = sorted(key for key in settings if key not in known and key not in COMMON_SETTINGS)
    if not unknown:
        return
    accepted = ", ".join(sorted({*known, *COMMON_SETTINGS}))
    plural = "s" if len(unknown) > 1 else ""
    raise InvalidInput(
        f"Unknown setting{plural} for the {step_type} step: "
        f"{', '.join(repr(key) for key in unknown)}. Accepted: {accepted}."
    )


def check_bools(settings: Mapping[str, Any], keys: Iterable[str]) -> None:
    for key in keys:
        value = settings.get(key)
        if value is not None and not isinstance(value, bool):
            raise InvalidInput(f"Setting {key!r} must be true or false, not {value!r}.")


def check_choice(settings: Mapping[str, Any], key: str, choices: Collection[str]) -> None:
    value = settings.get(key)
    if value is not None and value not in choices:
        raise InvalidInput(f"Setting {key!r} must be one of {', '.join(choices)}, not {value!r}.")


def check_pages(settings: Mapping[str, Any]) -> None:
    """``page_range`` (a string such as ``0,2-4``; "" means none) and ``max_pages`` (≥ 1)."""
    page_range = settings.get("page_range")
    if page_range is not None:
        if not isinstance(page_range, str):
            raise InvalidInput("Setting 'page_range' must be a string such as '0,2-4'.")
        if page_range.strip():  # form clients send "" for "no range"
            parse_page_range(page_range)
    max_pages = settings.get("max_pages")
    if max_pages is not None and (
        isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1
    ):
        raise InvalidInput(f"Setting 'max_pages' must be a whole number ≥ 1, not {max_pages!r}.")


def page_range_of(settings: Mapping[str, Any], run_level: str | None = None) -> str | None:
    """The page range in force: the run-level one, else the step's; blank means none."""
    value = run_level or settings.get("page_range") or ""
    return str(value).strip() or None


def comma_list(value: Any, allowed: Collection[str], what: str) -> list[str]:
    """``"a, b"`` or ``["a", "b"]`` → ``["a", "b"]`` (lower-cased, deduplicated, in order);
    a name not in ``allowed`` → ``InvalidInput`` naming it."""
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        parts = value
    else:
        raise InvalidInput(f"Setting {what!r} must be a comma-separated string of names.")
    names = list(dict.fromkeys(part.strip().lower() for part in parts if part.strip()))
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise InvalidInput(
            f"Unknown {what} {', '.join(repr(name) for name in unknown)}; expected one or more "
            f"of {', '.join(allowed)} (comma-separated)."
        )
    return names
