"""The ``extract`` step: a JSON schema filled from the upstream document checkpoint.

Offline by default (``offline.extract_offline``); with a ``StructuredExtractor`` configured the
LLM path is the default and ``"extraction_mode": "offline"`` still selects the built-in one.
After a ``segment`` step the checkpoint carries the segments and extraction runs once per
segment: ``{"segments": [{"segment", "pages", "data"}]}``.

``extraction_schema_json`` is a JSON string holding the filled fields and, for each filled
top-level field, ``<field>_citations`` (the block ids the value came from). Values the schema
refuses are dropped, never fatal, and listed in ``metadata.invalid_fields``.

A saved schema (``schema_id``) is never looked up here: the service layer freezes it into the
settings as ``page_schema`` when the run starts, with ``_schema`` naming the version (echoed in
``metadata.extraction_schema``), so the processor stays pure and a run reproducible.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.domain.extraction_schemas import SCHEMA_ID, SCHEMA_KEY, SCHEMA_VERSION, schema_ref
from pagemill.ports.extractor import StructuredExtractor
from pagemill.ports.processing import Processor, ProcessorInput, ProcessorOutput
from pagemill.processors.document import SEGMENTS_KEY, Block, Document, read_checkpoint
from pagemill.processors.extract.candidates import Extraction
from pagemill.processors.extract.llm import CITATIONS, extract_with
from pagemill.processors.extract.offline import extract_offline
from pagemill.processors.extract.schema import SETTING, fields_of, load_schema, prune_invalid
from pagemill.processors.step_settings import refuse_unknown

OFFLINE, LLM = "offline", "llm"
# Hosted modes are accepted; each uses the configured extractor, or the offline one.
MODES = (OFFLINE, LLM, "fast", "balanced", "accurate", "turbo")
VERSION = "offline-3"
# ``{"name": "Item 4"}`` (or the name alone): after a segment step, extract from that segment
# only (the legacy workflows' form).
SEGMENT_REFERENCE = "segment_reference"
KNOWN_SETTINGS = (SETTING, SCHEMA_ID, SCHEMA_VERSION, "extraction_mode", SEGMENT_REFERENCE)


class ExtractProcessor(Processor):
    step_type = "extract"
    cpu_heavy = False

    def __init__(self, extractor: StructuredExtractor | None = None) -> None:
        self._extractor = extractor
        self.version = VERSION if extractor is None else f"{VERSION}+{extractor.name}"

    def check_settings(self, settings: dict[str, Any]) -> None:
        """The settings a client may write: ``page_schema`` or a saved ``schema_id``."""
        if SCHEMA_KEY in settings:
            raise InvalidInput(
                f"Setting {SCHEMA_KEY!r} is reserved: pagemill sets it when a run starts."
            )
        refuse_unknown(settings, KNOWN_SETTINGS, self.step_type)
        saved = schema_ref(settings)
        inline = settings.get(SETTING) not in (None, "")
        if saved is not None and inline:
            raise InvalidInput(
                f"Set either {SETTING} or {SCHEMA_ID} (a saved extraction schema), not both."
            )
        if saved is None and not inline:
            raise InvalidInput(
                f"The extract step needs a {SETTING} (a JSON schema) or a {SCHEMA_ID}."
            )
        if inline:
            load_schema(settings[SETTING])
        if SEGMENT_REFERENCE in settings:
            _segment_name(settings[SEGMENT_REFERENCE])
        mode = settings.get("extraction_mode")
        if mode is not None and mode not in MODES:
            raise InvalidInput(
                f"Setting 'extraction_mode' must be one of {', '.join(MODES)}, not {mode!r}."
            )
        if mode == LLM and self._extractor is None:
            raise InvalidInput(
                "extraction_mode 'llm' needs an LLM endpoint, and this server has none "
                "configured (PAGEMILL_LLM_BASE_URL, PAGEMILL_LLM_API_KEY, PAGEMILL_LLM_MODEL)."
            )

    def run(self, job: ProcessorInput) -> ProcessorOutput:
        started = time.perf_counter()
        # A saved schema was frozen into the settings as page_schema when the run started.
        frozen = job.settings.get(SCHEMA_KEY)
        settings = {k: v for k, v in job.settings.items() if k != SCHEMA_KEY}
        try:
            if schema_ref(settings) is not None:
                raise InvalidInput(
                    f"{SCHEMA_ID}: the saved extraction schema was not resolved when the run "
                    "started; run the pipeline again."
                )
            self.check_settings(settings)
            schema = load_schema(settings[SETTING])
        except InvalidInput as error:
            raise ProcessingError(error.detail) from error
        document = read_checkpoint(job)
        mode = settings.get("extraction_mode")
        use_llm = self._extractor is not None and mode != OFFLINE
        method = LLM if use_llm else OFFLINE
        segments = _segments(document)
        if SEGMENT_REFERENCE in settings:
            wanted = _segment_name(settings[SEGMENT_REFERENCE])
            if segments is None:
                raise ProcessingError(
                    f"{SEGMENT_REFERENCE} names the segment {wanted!r}, but no segment step "
                    "ran before this extract step."
                )
            segments = [s for s in segments if s["name"].casefold() == wanted.casefold()]
            if not segments:
                raise ProcessingError(f"The segment step found no segment named {wanted!r}.")
        notes: dict[str, Any] = {"extraction_method": method}
        if isinstance(frozen, dict):
            notes["extraction_schema"] = {"id": frozen.get("id"), "version": frozen.get("version")}
        if segments is None:
            output, notes_one = self._extract(document.blocks, schema, use_llm)
            notes.update(notes_one)
        else:
            parts = []
            per_segment = []
            for segment in segments:
                pages = set(segment["pages"])
                blocks = [block for block in document.blocks if block.page in pages]
                data, segment_notes = self._extract(blocks, schema, use_llm)
                parts.append({"segment": segment["name"], "pages": segment["pages"], "data": data})
                per_segment.append({"segment": segment["name"], **segment_notes})
            output = {"segments": parts}
            notes["segments"] = per_segment
        result = {
            "status": "complete",
            "success": True,
            "extraction_schema_json": json.dumps(output, ensure_ascii=False),
            "page_count": len(document.pages),
            "metadata": notes,
            "error": None,
            "runtime": round(time.perf_counter() - started, 4),
        }
        return ProcessorOutput(
            result=result,
            page_count=len(document.pages),
            metadata={"extraction_method": method, "segmented": segments is not None},
        )

    def _extract(
        self, blocks: Sequence[Block], schema: dict[str, Any], use_llm: bool
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if use_llm and self._extractor is not None:
            extraction = extract_with(self._extractor, blocks, schema)
        else:
            extraction = extract_offline(blocks, fields_of(schema))
        return finish(schema, extraction)


def finish(schema: dict[str, Any], extraction: Extraction) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validated data with ``<field>_citations``, and notes on what was dropped or missing."""
    data = dict(extraction.data)
    dropped, problems = prune_invalid(schema, data)
    output: dict[str, Any] = {}
    for key, value in data.items():
        output[key] = value
        output[f"{key}{CITATIONS}"] = list(dict.fromkeys(extraction.citations.get(key, [])))
    notes: dict[str, Any] = dict(extraction.notes)
    notes["unfilled_fields"] = [key for key in schema.get("properties", {}) if key not in data]
    if dropped:
        notes["invalid_fields"] = dropped
    if problems:
        notes["schema_problems"] = problems
    return output, notes


def _segment_name(value: Any) -> str:
    name = value.get("name") if isinstance(value, dict) else value
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(
            f'Setting {SEGMENT_REFERENCE!r} must be {{"name": "<segment name>"}} or the name.'
        )
    return name.strip()


def _segments(document: Document) -> list[dict[str, Any]] | None:
    """The segments a segment step recorded in the checkpoint, if any."""
    segments = document.metadata.get(SEGMENTS_KEY)
    if not isinstance(segments, list):
        return None
    valid = [
        s
        for s in segments
        if isinstance(s, dict)
        and isinstance(s.get("name"), str)
        and isinstance(s.get("pages"), list)
    ]
    return valid or None
