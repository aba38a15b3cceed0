"""What each single-shot endpoint runs, from its typed form fields."""

from __future__ import annotations

import pytest

from pagemill.domain.errors import InvalidInput
from pagemill.services.request_plans import plan


def steps_of(endpoint: str, **form: object) -> list[tuple[str, dict[str, object]]]:
    return [(s["type"], dict(s["settings"])) for s in plan(endpoint, form).steps]


def test_convert_puts_step_settings_on_the_step_and_the_rest_on_the_run() -> None:
    shot = plan(
        "convert",
        {
            "mode": "balanced",
            "paginate": True,
            "disable_image_captions": False,  # a default: not written
            "output_format": "markdown,html",
            "page_range": "0-2",
            "force_new": True,
            "webhook_url": "https://hooks.example.com/x",
            "eval_rubric_id": 7,
        },
        traceparent="00-abc-def-01",
    )
    assert [dict(s) for s in shot.steps] == [
        {"type": "convert", "settings": {"mode": "balanced", "paginate": True}, "eval_rubric_id": 7}
    ]
    options = shot.options
    assert (options.output_format, options.page_range) == ("markdown,html", "0-2")
    assert options.skip_cache and options.run_evals
    assert (options.webhook_url, options.traceparent) == (
        "https://hooks.example.com/x",
        "00-abc-def-01",
    )


def test_extract_and_segment_parse_a_file_first_but_not_a_checkpoint() -> None:
    assert steps_of("extract", page_schema="{}", mode="accurate", save_checkpoint=True) == [
        ("convert", {"mode": "accurate", "save_checkpoint": True}),
        ("extract", {"page_schema": "{}"}),
    ]
    on_checkpoint = plan("extract", {"schema_id": "sch_x", "checkpoint_id": "ckpt_a"})
    assert on_checkpoint.checkpoint_id == "ckpt_a"
    assert [s["type"] for s in on_checkpoint.steps] == ["extract"]
    assert steps_of("segment", segmentation_schema="{}", checkpoint_id="ckpt_a") == [
        ("segment", {"segmentation_schema": "{}"})
    ]


def test_the_other_endpoints() -> None:
    assert steps_of("ocr", max_pages=2) == [("ocr", {"max_pages": 2})]
    assert steps_of("fill", field_data='{"a": {"value": "1"}}', confidence_threshold=0.7) == [
        ("fill", {"field_data": '{"a": {"value": "1"}}', "confidence_threshold": 0.7})
    ]
    assert steps_of("track-changes", output_format="html", paginate=True) == [
        ("track_changes", {"output_format": "html", "paginate": True})
    ]
    assert steps_of("create-document", output_format="docx") == [
        ("create_document", {"output_format": "docx"})
    ]
    custom = plan("custom-processor", {"pipeline_id": "cp_x", "version": 2, "paginate": True})
    assert [dict(s) for s in custom.steps] == [
        {"type": "convert", "settings": {}},
        {
            "type": "custom",
            "settings": {"paginate": True, "version": 2},
            "custom_processor_id": "cp_x",
        },
    ]
    assert custom.options.output_format is None  # the custom step renders its own output
    assert [t for t, _ in steps_of("marker", page_schema="{}", segmentation_schema="{}")] == [
        "convert",
        "segment",
        "extract",
    ]


def test_a_custom_processor_request_needs_its_id() -> None:
    with pytest.raises(InvalidInput, match="pipeline_id"):
        plan("custom-processor", {"mode": "fast"})
    with pytest.raises(InvalidInput, match="Unknown endpoint"):
        plan("workflows", {})
