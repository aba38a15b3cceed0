"""Legacy workflow definitions: the graph checks, the paths, and the translated settings."""

from __future__ import annotations

from typing import Any

import pytest

from pagemill.domain.errors import InvalidInput
from pagemill.domain.signing import sign_fields, verify_fields
from pagemill.domain.workflows import parse_workflow_steps, paths_of, pipeline_steps


def step(key: str, name: str, after: list[str] | None = None, **settings: Any) -> dict[str, Any]:
    return {"step_key": key, "unique_name": name, "settings": settings, "depends_on": after or []}


def test_paths_follow_every_branch_in_order() -> None:
    steps = parse_workflow_steps(
        [
            step("marker_parse", "a"),
            step("marker_segment", "s", ["a"]),
            step("marker_extract", "x", ["s"], page_schema={"t": {"type": "string"}}),
            step("marker_extract", "y", ["a"], page_schema={"t": {"type": "string"}}),
            step("marker_parse", "b"),
            step("marker_extract", "z", ["s"], page_schema={"t": {"type": "string"}}),
        ]
    )

    assert paths_of(steps) == [("a", "s", "x"), ("a", "s", "z"), ("a", "y"), ("b",)]


def test_a_bare_field_map_becomes_a_schema_and_a_full_schema_is_kept() -> None:
    fields = {"title": {"type": "string"}}
    full = {"type": "object", "properties": fields}
    steps = parse_workflow_steps(
        [
            step("marker_parse", "p", max_pages=2),
            step("marker_extract", "bare", ["p"], page_schema=fields),
            step("marker_extract", "full", ["p"], page_schema=full),
            step("marker_extract", "text", ["p"], page_schema='{"title": {"type": "string"}}'),
        ]
    )

    assert pipeline_steps(steps, ("p", "bare")) == [
        {"type": "convert", "settings": {"max_pages": 2}},
        {"type": "extract", "settings": {"page_schema": full}},
    ]
    assert pipeline_steps(steps, ("p", "full"))[1]["settings"]["page_schema"] == full
    assert pipeline_steps(steps, ("p", "text"))[1]["settings"]["page_schema"] == full


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"segmentation_strategy": "document_boundary"}, {}),
        ({"segmentation_strategy": "auto"}, {}),
        (
            {"segmentation_strategy": "custom", "segments": [{"name": "A"}]},
            {"segments": [{"name": "A"}]},
        ),
        ({"A": "the first part"}, {"A": "the first part"}),  # no strategy: unchanged
    ],
)
def test_segmentation_strategies(schema: dict[str, Any], expected: dict[str, Any]) -> None:
    steps = parse_workflow_steps(
        [step("marker_parse", "p"), step("marker_segment", "s", ["p"], segmentation_schema=schema)]
    )

    assert pipeline_steps(steps, ("p", "s"))[1]["settings"] == {"segmentation_schema": expected}


@pytest.mark.parametrize(
    ("schema", "fault"),
    [
        ({"segmentation_strategy": "custom"}, "needs the segments"),
        ({"segmentation_strategy": "auto", "segments": [{"name": "A"}]}, "detects the segments"),
        ({"segmentation_strategy": 3}, "must be one of"),
    ],
)
def test_contradictory_segmentation_is_refused(schema: dict[str, Any], fault: str) -> None:
    steps = parse_workflow_steps(
        [step("marker_parse", "p"), step("marker_segment", "s", ["p"], segmentation_schema=schema)]
    )

    with pytest.raises(InvalidInput, match=fault):
        pipeline_steps(steps, ("p", "s"))


@pytest.mark.parametrize(
    ("steps", "fault"),
    [
        ([], "non-empty list"),
        ([{"unique_name": "p"}], "unknown step_key None"),
        ([step("marker_parse", "")], "unique_name must be"),
        ([step("marker_parse", "p", ["p"])], "depends on no other step"),
        ([step("marker_parse", "p"), step("marker_segment", "s")], "exactly one step, not 0"),
        ([{**step("marker_parse", "p"), "settings": []}], "settings must be an object"),
        ([{**step("marker_parse", "p"), "depends_on": "x"}], "depends_on must be a list"),
        ([step("marker_parse", "p")] * 33, "at most 32 steps"),
    ],
)
def test_malformed_workflows_are_refused(steps: list[dict[str, Any]], fault: str) -> None:
    with pytest.raises(InvalidInput, match=fault):
        parse_workflow_steps(steps)


def test_signed_fields_are_bound_to_every_field_and_the_expiry() -> None:
    secret = b"s" * 32
    fields: tuple[str | int, ...] = ("team_a", "pex_1", 0)
    signature = sign_fields(secret, "workflow-output", fields, 1000)

    assert verify_fields(secret, "workflow-output", fields, 1000, signature, now=999)
    assert not verify_fields(secret, "workflow-output", fields, 1000, signature, now=1001)
    assert not verify_fields(secret, "workflow-output", ("team_b", "pex_1", 0), 1000, signature, 0)
    assert not verify_fields(secret, "workflow-output", ("team_a", "pex_1", 1), 1000, signature, 0)
    assert not verify_fields(secret, "other", fields, 1000, signature, now=0)
    assert not verify_fields(secret, "workflow-output", fields, 1001, signature, now=0)
