"""The form fields of the single-shot endpoints, typed: every field SDK 0.5.0's option classes
send (``ConvertOptions``, ``ExtractOptions``, …), with the hosted API's defaults.

A field no endpoint knows is refused (422 naming it) rather than ignored; booleans accept the
``"True"``/``"False"`` the SDK sends; blank text fields mean "not given".
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pagemill.api.schemas import MAX_INT, StoredText
from pagemill.domain.ids import PUBLIC_NUMBER_MAX

SHORT = 4096
SCHEMA = 64 * 1024  # the streaming form reader's cap on one field


class CommonForm(BaseModel):
    """``ProcessingOptions`` of the SDK, and the document: ``file`` (a part) or ``file_url``."""

    model_config = ConfigDict(extra="forbid")

    file_url: StoredText | None = Field(default=None, max_length=SHORT)
    max_pages: int | None = Field(default=None, ge=1, le=MAX_INT)
    page_range: StoredText | None = Field(default=None, max_length=2000)
    skip_cache: bool = False
    webhook_url: StoredText | None = Field(default=None, max_length=SHORT)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class RenderForm(CommonForm):
    mode: str = Field(default="fast", max_length=20)
    output_format: StoredText | None = Field(default=None, max_length=100)
    paginate: bool = False
    add_block_ids: bool = False
    include_markdown_in_chunks: bool = False
    disable_image_extraction: bool = False
    disable_image_captions: bool = False


class ConvertForm(RenderForm):
    fence_synthetic_captions: bool = False
    token_efficient_markdown: bool = False
    save_checkpoint: bool = False
    force_new: bool = False
    additional_config: StoredText | None = Field(default=None, max_length=SCHEMA)
    extras: StoredText | None = Field(default=None, max_length=500)
    eval_rubric_id: int | None = Field(default=None, ge=1, le=PUBLIC_NUMBER_MAX)
    # The hosted form's internal link to a legacy workflow step; nothing here reads it.
    workflowstepdata_id: int | None = Field(default=None, ge=0, le=MAX_INT, exclude=True)


class ExtractForm(CommonForm):
    page_schema: StoredText | None = Field(default=None, max_length=SCHEMA)
    schema_id: StoredText | None = Field(default=None, max_length=80)
    schema_version: int | None = Field(default=None, ge=1, le=MAX_INT)
    checkpoint_id: StoredText | None = Field(default=None, max_length=200)
    mode: str = Field(default="fast", max_length=20)
    output_format: StoredText | None = Field(default=None, max_length=100)
    save_checkpoint: bool = False
    extraction_mode: StoredText | None = Field(default=None, max_length=20)
    eval_rubric_id: int | None = Field(default=None, ge=1, le=PUBLIC_NUMBER_MAX)


class SegmentForm(CommonForm):
    segmentation_schema: StoredText | None = Field(default=None, max_length=SCHEMA)
    checkpoint_id: StoredText | None = Field(default=None, max_length=200)
    mode: str = Field(default="fast", max_length=20)
    save_checkpoint: bool = False


class CustomProcessorForm(RenderForm):
    pipeline_id: StoredText | None = Field(default=None, max_length=80)
    version: int | None = Field(default=None, ge=1, le=MAX_INT)
    run_eval: bool = False
    # Extension: the rubric run_eval checks the result against (a processor here has none).
    eval_rubric_id: int | None = Field(default=None, ge=1, le=PUBLIC_NUMBER_MAX)


class TrackChangesForm(CommonForm):
    output_format: StoredText | None = Field(default=None, max_length=100)
    paginate: bool = False


class OcrForm(CommonForm):
    pass


class FillForm(CommonForm):
    field_data: StoredText | None = Field(default=None, max_length=SCHEMA)
    context: StoredText | None = Field(default=None, max_length=20_000)
    confidence_threshold: float | None = Field(default=None, ge=0, le=1)
    # Extensions: how fields are matched (auto, offline, llm) and pdf or png pages.
    matching: StoredText | None = Field(default=None, max_length=20)
    output_format: StoredText | None = Field(default=None, max_length=10)


class MarkerForm(ConvertForm):
    page_schema: StoredText | None = Field(default=None, max_length=SCHEMA)
    segmentation_schema: StoredText | None = Field(default=None, max_length=SCHEMA)


class CreateDocumentBody(BaseModel):
    """The JSON body of ``POST /api/v1/create-document`` (what the SDK sends)."""

    model_config = ConfigDict(extra="forbid")

    # The body is JSON, under the server's 1 MiB limit of non-streamed bodies.
    markdown: str = Field(min_length=1, max_length=1024 * 1024)
    output_format: str = Field(default="docx", max_length=10)
    webhook_url: StoredText | None = Field(default=None, max_length=SHORT)


FORMS: dict[str, type[BaseModel]] = {
    "convert": ConvertForm,
    "ocr": OcrForm,
    "extract": ExtractForm,
    "segment": SegmentForm,
    "custom-processor": CustomProcessorForm,
    "fill": FillForm,
    "track-changes": TrackChangesForm,
    "marker": MarkerForm,
}
