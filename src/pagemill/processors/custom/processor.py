"""The ``custom`` step: the convert checkpoint → a changed document, rendered like convert.

The processor is pure: the definition it applies is not looked up here but frozen into the
step's settings when the execution is created (``_definition``, with ``_processor`` naming the
processor version it came from), so a run is reproducible whatever happens to the processor
later. Installed transforms (entry points) are named by ``_processor.entry_point``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pagemill.domain.custom_processors import (
    DEFINITION_KEY,
    PROCESSOR_KEY,
    RESERVED_SETTINGS,
    parse_definition,
    pinned_version,
)
from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.ports.processing import Processor, ProcessorInput, ProcessorOutput
from pagemill.processors.convert.processor import document_result
from pagemill.processors.convert.render import parse_output_formats
from pagemill.processors.custom.apply import apply_definition, classify_pages
from pagemill.processors.custom.transforms import InstalledTransform
from pagemill.processors.document import Document, read_checkpoint

RENDER_FLAGS = ("paginate", "add_block_ids", "include_markdown_in_chunks")


class CustomStepProcessor(Processor):
    step_type = "custom"
    version = "custom-1"
    cpu_heavy = False

    def __init__(self, transforms: Mapping[str, InstalledTransform] | None = None) -> None:
        self.transforms: dict[str, InstalledTransform] = dict(transforms or {})

    def check_settings(self, settings: dict[str, Any]) -> None:
        reserved = [key for key in RESERVED_SETTINGS if key in settings]
        if reserved:
            raise InvalidInput(
                f"Setting {reserved[0]!r} is reserved: pagemill sets it when a run starts."
            )
        _check_output_settings(settings)
        pinned_version(settings)

    def run(self, job: ProcessorInput) -> ProcessorOutput:
        started = time.perf_counter()
        settings = job.settings
        ref = settings.get(PROCESSOR_KEY)
        if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
            raise ProcessingError(
                "This custom step was not resolved to a custom processor version when the run "
                "started; run the pipeline again."
            )
        document = read_checkpoint(job)
        options = {k: v for k, v in settings.items() if k not in RESERVED_SETTINGS}
        try:
            _check_output_settings(options)
            formats = parse_output_formats(str(options.get("output_format") or "markdown"))
        except InvalidInput as error:
            raise ProcessingError(error.detail) from error

        if DEFINITION_KEY in settings:
            changed, pages = self._apply_definition(document, settings[DEFINITION_KEY], ref)
        else:
            changed, pages = self._apply_transform(document, options, ref)

        result = {
            **document_result(changed, formats, options),
            "page_classification": pages,
            "custom_processor": {"id": ref["id"], "version": ref.get("version")},
        }
        result["runtime"] = round(time.perf_counter() - started, 4)
        return ProcessorOutput(
            result=result,
            page_count=len(changed.pages),
            checkpoint=changed.to_json_bytes(),
            metadata={
                "custom_processor": ref["id"],
                "custom_processor_version": ref.get("version"),
                "blocks_in": len(document.blocks),
                "blocks_out": len(changed.blocks),
            },
        )

    def _apply_definition(
        self, document: Document, raw: Any, ref: dict[str, Any]
    ) -> tuple[Document, list[dict[str, Any]]]:
        try:
            definition = parse_definition(raw)
        except InvalidInput as error:
            raise ProcessingError(
                f"The definition of {ref['id']} version {ref.get('version')} is not valid: "
                f"{error.detail}"
            ) from error
        changed = apply_definition(document, definition)
        return changed, classify_pages(changed, definition)

    def _apply_transform(
        self, document: Document, options: dict[str, Any], ref: dict[str, Any]
    ) -> tuple[Document, list[dict[str, Any]]]:
        installed = self.transforms.get(str(ref.get("entry_point")))
        if installed is None:
            raise ProcessingError(
                f"The custom processor {ref['id']} is not installed on this worker "
                f"(entry point {ref.get('entry_point')!r} of group pagemill.processors)."
            )
        try:
            changed = installed.transform.apply(document, options)
        except ProcessingError:
            raise
        except Exception as error:
            raise ProcessingError(
                f"The custom processor {ref['id']} failed: {type(error).__name__}: {error}"
            ) from error
        if not isinstance(changed, Document):
            raise ProcessingError(
                f"The custom processor {ref['id']} returned {type(changed).__name__}, "
                "not a Document."
            )
        labels = changed.metadata.get("page_labels")
        labels = labels if isinstance(labels, dict) else {}
        pages = [{"page": page, "label": labels.get(str(page))} for page in changed.pages]
        return changed, pages


def _check_output_settings(settings: Mapping[str, Any]) -> None:
    for flag in RENDER_FLAGS:
        value = settings.get(flag)
        if value is not None and not isinstance(value, bool):
            raise InvalidInput(f"Setting {flag!r} must be true or false, not {value!r}.")
    output_format = settings.get("output_format")
    if output_format is not None:
        if not isinstance(output_format, str):
            raise InvalidInput("Setting 'output_format' must be a string such as 'markdown'.")
        parse_output_formats(output_format)
