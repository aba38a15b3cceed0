from __future__ import annotations

import pytest

from pagemill.domain.errors import InvalidInput, NotFound
from pagemill.domain.pipelines import (
    check_composition,
    decode_json_setting,
    parse_steps,
    select_version,
)


@pytest.mark.parametrize(
    "types",
    [
        ["convert"],
        ["convert", "extract"],
        ["convert", "segment"],
        ["convert", "segment", "extract"],
        ["convert", "custom", "extract"],
        ["convert", "custom"],
        ["fill"],
    ],
)
def test_documented_patterns_are_valid(types: list[str]) -> None:
    check_composition(types)


@pytest.mark.parametrize(
    ("types", "fragment"),
    [
        (["extract"], "first step must be convert"),
        (["segment", "convert"], "first step must be convert"),
        (["convert", "convert"], "convert may only be the first"),
        (["convert", "extract", "segment"], "extract must be the last"),
        (["convert", "segment", "custom"], "custom may not follow segment"),
        (["convert", "segment", "segment"], "segment may not follow segment"),
        (["fill", "convert"], "fill step must be the only"),
        (["convert", "fill"], "fill must be the only"),
    ],
)
def test_invalid_patterns_are_refused(types: list[str], fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        check_composition(types)


def test_parse_steps_checks_shape_and_keeps_the_raw_step() -> None:
    raw = {"type": "convert", "settings": {"paginate": True}, "pending_name": "x"}
    (step,) = parse_steps([raw])
    assert step.type == "convert" and step.settings == {"paginate": True} and step.raw == raw
    with pytest.raises(InvalidInput, match="at least one step"):
        parse_steps([])
    with pytest.raises(InvalidInput, match="settings must be an object"):
        parse_steps([{"type": "convert", "settings": [1]}])
    with pytest.raises(InvalidInput, match="custom_processor_id is required"):
        parse_steps([{"type": "convert"}, {"type": "custom"}])
    with pytest.raises(InvalidInput, match="at most 16 steps"):
        parse_steps([{"type": "convert"}] * 17)


def test_version_selection_rules() -> None:
    assert select_version(None, active_version=0, published=[]) == 0  # draft when unpublished
    assert select_version(None, active_version=2, published=[1, 2]) == 2
    assert select_version(0, active_version=2, published=[1, 2]) == 0
    assert select_version(1, active_version=2, published=[1, 2]) == 1
    with pytest.raises(NotFound, match="Pipeline version 3 not found"):
        select_version(3, active_version=2, published=[1, 2])
    with pytest.raises(InvalidInput):
        select_version(-1, active_version=0, published=[])


def test_json_settings_accept_objects_and_strings() -> None:
    schema = {"type": "object", "properties": {"total": {"type": "number"}}}
    assert decode_json_setting(schema, "page_schema") == schema
    assert decode_json_setting('{"properties": {}}', "page_schema") == {"properties": {}}
    with pytest.raises(InvalidInput, match="page_schema is not valid JSON"):
        decode_json_setting("{nope", "page_schema")
