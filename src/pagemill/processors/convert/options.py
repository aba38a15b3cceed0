"""The convert step's settings: which keys exist, their checks, and what a run does with them.

The keys are those of the hosted convert step and of the ``/convert`` form the SDK sends. A key
that cannot change this run's output (a flag about synthetic captions, which pagemill never
writes; an extra that needs a model) is not dropped silently: ``notes`` explains it, and the
result carries the notes in ``metadata["settings_notes"]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pagemill.domain.errors import InvalidInput
from pagemill.processors.convert.render import parse_output_formats
from pagemill.processors.step_settings import (
    check_bools,
    check_choice,
    check_pages,
    comma_list,
    refuse_unknown,
)

STEP_TYPE = "convert"
MODES = ("fast", "balanced", "accurate")
BOOL_SETTINGS = (
    "paginate",
    "add_block_ids",
    "include_markdown_in_chunks",
    "include_headers_footers",
    "include_images",
    "include_image_captions",
    "fence_synthetic_captions",
    "disable_image_extraction",
    "disable_image_captions",
    "token_efficient_markdown",
    "keep_spreadsheet_formatting",
    "save_checkpoint",
    "skip_cache",
    "force_new",
)
OTHER_SETTINGS = ("mode", "output_format", "page_range", "max_pages", "additional_config", "extras")
KNOWN_SETTINGS = frozenset((*BOOL_SETTINGS, *OTHER_SETTINGS))
ADDITIONAL_CONFIG_KEYS = ("keep_spreadsheet_formatting",)

# Extras pagemill implements offline, and those that need a model it does not have.
EXTRAS_IMPLEMENTED = ("extract_links", "table_row_bboxes", "track_changes")
EXTRAS_NEEDING_A_MODEL = ("chart_understanding", "infographic", "new_block_types")
EXTRAS = (*EXTRAS_IMPLEMENTED, *EXTRAS_NEEDING_A_MODEL)
NO_CAPTIONS = "pagemill writes no synthetic image captions (alt text comes from the document)"
NEEDS_A_MODEL = "needs a vision or layout model, which this offline server does not run; ignored"


def check_settings(settings: Mapping[str, Any]) -> None:
    refuse_unknown(settings, KNOWN_SETTINGS, STEP_TYPE)
    check_bools(settings, BOOL_SETTINGS)
    check_choice(settings, "mode", MODES)
    output_format = settings.get("output_format")
    if output_format is not None:
        if not isinstance(output_format, str):
            raise InvalidInput("Setting 'output_format' must be a string such as 'markdown'.")
        parse_output_formats(output_format)
    check_pages(settings)
    additional_config(settings)
    extras(settings)


def additional_config(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``additional_config``: an object or its JSON string (as the form sends it)."""
    raw = settings.get("additional_config")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise InvalidInput(
                f"Setting 'additional_config' is not valid JSON: {error.msg}."
            ) from error
    if not isinstance(raw, dict):
        raise InvalidInput("Setting 'additional_config' must be an object.")
    unknown = sorted(key for key in raw if key not in ADDITIONAL_CONFIG_KEYS)
    if unknown:
        raise InvalidInput(
            f"Unknown additional_config key{'s' if len(unknown) > 1 else ''}: "
            f"{', '.join(repr(key) for key in unknown)}. "
            f"Accepted: {', '.join(ADDITIONAL_CONFIG_KEYS)}."
        )
    check_bools(raw, ADDITIONAL_CONFIG_KEYS)
    return dict(raw)


def extras(settings: Mapping[str, Any]) -> list[str]:
    """``extras``: a comma-separated string (as the SDK sends it) or a list of names."""
    raw = settings.get("extras")
    return [] if raw is None else comma_list(raw, EXTRAS, "extras")


@dataclass(frozen=True, slots=True)
class ConvertOptions:
    """What a run of the convert step does, decided once from its (checked) settings."""

    include_images: bool
    keep_spreadsheet_formatting: bool
    token_efficient_markdown: bool
    extras: tuple[str, ...]
    notes: dict[str, str] = field(default_factory=dict)

    def wants(self, extra: str) -> bool:
        return extra in self.extras


def convert_options(settings: Mapping[str, Any]) -> ConvertOptions:
    """Resolve the settings (already checked) into a run's options and notes.

    Pictures are extracted when ``include_images`` is true, or when ``disable_image_extraction``
    is explicitly false (the form always sends it: the hosted ``/convert`` extracts pictures by
    default); ``disable_image_extraction: true`` wins over both.
    """
    notes: dict[str, str] = {}
    disabled = settings.get("disable_image_extraction")
    include_images = bool(settings.get("include_images")) or disabled is False
    if disabled:
        include_images = False
    for key in ("fence_synthetic_captions", "include_image_captions"):
        if settings.get(key):
            notes[key] = NO_CAPTIONS
    if settings.get("disable_image_captions"):
        notes["disable_image_captions"] = f"{NO_CAPTIONS}, so there are none to disable"
    keep_formatting = bool(
        settings.get("keep_spreadsheet_formatting")
        or additional_config(settings).get("keep_spreadsheet_formatting")
    )
    wanted = extras(settings)
    for name in wanted:
        if name in EXTRAS_NEEDING_A_MODEL:
            notes[f"extras.{name}"] = NEEDS_A_MODEL
    return ConvertOptions(
        include_images=include_images,
        keep_spreadsheet_formatting=keep_formatting,
        token_efficient_markdown=bool(settings.get("token_efficient_markdown")),
        extras=tuple(wanted),
        notes=notes,
    )
