"""The steps of each single-shot endpoint, from its (already typed) form fields.

The hosted endpoints are the operations pipeline steps are built on, so each maps onto the
same processors: ``/convert`` is a convert step; ``/extract``, ``/segment`` and
``/custom-processor`` of a file parse it first (convert, then the step), and of a
``checkpoint_id`` run the step alone on that checkpoint; ``/ocr``, ``/fill``,
``/track-changes`` and ``/create-document`` are their own step types; the deprecated
``/marker`` is convert, then segment when it has a ``segmentation_schema``, then extract when
it has a ``page_schema``.

Fields the form carries for the whole request (``page_range``, ``output_format`` of a convert,
``skip_cache``/``force_new``, ``webhook_url``) become run options; the rest become the steps'
settings, where the processors check them (an unknown or mistyped one is a 422).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pagemill.domain.errors import InvalidInput
from pagemill.services.executions import RunOptions
from pagemill.services.requests import SingleShot

# What the /convert form sets on the convert step (output_format and page_range are run-level).
CONVERT_SETTINGS = (
    "mode",
    "max_pages",
    "paginate",
    "add_block_ids",
    "include_markdown_in_chunks",
    "disable_image_extraction",
    "disable_image_captions",
    "fence_synthetic_captions",
    "token_efficient_markdown",
    "additional_config",
    "extras",
    "save_checkpoint",
)
# The parse before an extract, segment or custom processor of a file.
PARSE_SETTINGS = ("mode", "max_pages", "disable_image_extraction", "disable_image_captions")
EXTRACT_SETTINGS = ("page_schema", "schema_id", "schema_version", "extraction_mode")
CUSTOM_RENDER = ("output_format", "paginate", "add_block_ids", "include_markdown_in_chunks")
FILL_SETTINGS = (
    "field_data",
    "context",
    "confidence_threshold",
    "matching",
    "output_format",
    "max_pages",
)
TRACK_CHANGES_SETTINGS = ("output_format", "paginate", "max_pages")


def plan(endpoint: str, form: Mapping[str, Any], traceparent: str | None = None) -> SingleShot:
    """The request's steps and options; ``InvalidInput`` for a form that can never run."""
    builder = _PLANS.get(endpoint)
    if builder is None:
        raise InvalidInput(f"Unknown endpoint {endpoint!r}.")
    steps, run_level_format = builder(form)
    checkpoint_id = form.get("checkpoint_id") or None
    eval_rubric_id = form.get("eval_rubric_id")
    if form.get("run_eval") and eval_rubric_id is None:
        raise InvalidInput(
            "run_eval: a custom processor on this server carries no eval rubric; send "
            "eval_rubric_id naming one of the team's rubrics (POST /api/v1/eval_rubrics)."
        )
    if eval_rubric_id is not None:
        # The rubric evaluates the request's last step, as on a pipeline step.
        steps[-1]["eval_rubric_id"] = eval_rubric_id
    options = RunOptions(
        page_range=form.get("page_range") or None,
        output_format=(form.get("output_format") or None) if run_level_format else None,
        skip_cache=bool(form.get("skip_cache") or form.get("force_new")),
        webhook_url=form.get("webhook_url") or None,
        run_evals=eval_rubric_id is not None,
        traceparent=traceparent,
    )
    return SingleShot(endpoint, steps, options, checkpoint_id)


def _pick(form: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The fields that say something: unset, blank and false ones are the defaults."""
    return {key: form[key] for key in keys if form.get(key) not in (None, "", False)}


def _step(step_type: str, settings: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": step_type, "settings": settings, **extra}


Steps = tuple[list[dict[str, Any]], bool]  # and whether output_format is run-level


def _convert(form: Mapping[str, Any]) -> Steps:
    return [_step("convert", _pick(form, CONVERT_SETTINGS))], True


def _after_parse(form: Mapping[str, Any], step: dict[str, Any]) -> list[dict[str, Any]]:
    """``step`` on the named checkpoint, or after a parse of the file."""
    if form.get("checkpoint_id"):
        return [step]
    parse = _pick(form, PARSE_SETTINGS)
    if form.get("save_checkpoint"):
        parse["save_checkpoint"] = True
    return [_step("convert", parse), step]


def _extract(form: Mapping[str, Any]) -> Steps:
    return _after_parse(form, _step("extract", _pick(form, EXTRACT_SETTINGS))), True


def _segment(form: Mapping[str, Any]) -> Steps:
    schema = form.get("segmentation_schema")
    settings = {} if schema in (None, "") else {"segmentation_schema": schema}
    return _after_parse(form, _step("segment", settings)), True


def _custom(form: Mapping[str, Any]) -> Steps:
    processor_id = form.get("pipeline_id")
    if not processor_id:
        raise InvalidInput("pipeline_id (the custom processor's cp_… id) is required.")
    settings = _pick(form, CUSTOM_RENDER)
    if form.get("version") is not None:
        settings["version"] = form["version"]
    steps = [
        _step("convert", _pick(form, PARSE_SETTINGS)),
        _step("custom", settings, custom_processor_id=processor_id),
    ]
    return steps, False


def _ocr(form: Mapping[str, Any]) -> Steps:
    return [_step("ocr", _pick(form, ("max_pages",)))], False


def _fill(form: Mapping[str, Any]) -> Steps:
    settings = _pick(form, FILL_SETTINGS)
    settings.setdefault("field_data", form.get("field_data") or {})
    return [_step("fill", settings)], False


def _track_changes(form: Mapping[str, Any]) -> Steps:
    return [_step("track_changes", _pick(form, TRACK_CHANGES_SETTINGS))], False


def _create_document(form: Mapping[str, Any]) -> Steps:
    return [_step("create_document", _pick(form, ("output_format",)))], False


def _marker(form: Mapping[str, Any]) -> Steps:
    steps = [_step("convert", _pick(form, CONVERT_SETTINGS))]
    if form.get("segmentation_schema") not in (None, ""):
        steps.append(_step("segment", {"segmentation_schema": form["segmentation_schema"]}))
    if form.get("page_schema") not in (None, ""):
        steps.append(_step("extract", {"page_schema": form["page_schema"]}))
    return steps, True


_PLANS = {
    "convert": _convert,
    "ocr": _ocr,
    "extract": _extract,
    "segment": _segment,
    "custom-processor": _custom,
    "fill": _fill,
    "track-changes": _track_changes,
    "create-document": _create_document,
    "marker": _marker,
}
