"""Eval rubric definitions: the format, and clear errors for every kind of mistake."""

from __future__ import annotations

from typing import Any

import pytest

from pagemill.domain.errors import InvalidInput
from pagemill.domain.eval_rubrics import PathStep, parse_eval_definition, parse_field_path

VALID = {
    "name": "Invoice checks",
    "rules": [
        {"name": "has number", "type": "field_present", "field": "invoice_number"},
        {"type": "regex", "field": "invoice_number", "pattern": "^INV-\\d+$"},
        {"type": "numeric_range", "field": "total", "min": 0, "max": 1000000},
        {"type": "enum", "field": "currency", "values": ["EUR", "USD"], "optional": True},
        {"type": "sum_equals", "addends": ["items[].amount"], "total": "total"},
    ],
}


def test_a_valid_definition_is_parsed_with_default_names() -> None:
    definition = parse_eval_definition(VALID)

    assert definition.name == "Invoice checks"
    assert [r.name for r in definition.rules] == [
        "has number",
        "regex invoice_number",
        "numeric_range total",
        "enum currency",
        "sum of items[].amount = total",
    ]
    assert definition.rules[3].optional is True
    assert definition.rules[4].tolerance == 0.01


def test_field_paths() -> None:
    assert parse_field_path("items[].amount", "f") == (
        PathStep("items", every=True),
        PathStep("amount"),
    )
    assert parse_field_path("a[2].b c", "f") == (PathStep("a", index=2), PathStep("b c"))


def rule(**fields: Any) -> dict[str, Any]:
    return {"rules": [fields]}


@pytest.mark.parametrize(
    ("definition", "fragment"),
    [
        ([], "must be an object"),
        ({"rules": []}, "non-empty list of rules"),
        ({"rules": [{}], "extra": 1}, "Unknown eval definition key(s): 'extra'"),
        (rule(type="magic", field="a"), "rules[0].type must be one of"),
        (rule(type="regex", field="a"), "rules[0].pattern must be a non-empty"),
        (rule(type="regex", field="a", pattern="(a+)+$"), "exponential time"),
        (rule(type="regex", field="a", pattern="["), "not a valid regular expression"),
        (rule(type="numeric_range", field="a"), "needs 'min', 'max' or both"),
        (rule(type="numeric_range", field="a", min=5, max=1), "'min' is above 'max'"),
        (rule(type="numeric_range", field="a", min="5"), "finite number"),
        (rule(type="enum", field="a", values=[]), "non-empty list"),
        (rule(type="enum", field="a", values=[{"x": 1}]), "strings, numbers"),
        (rule(type="field_present", field="a..b"), "is not a path step"),
        (rule(type="field_present"), "field path"),
        (rule(type="field_present", field="a", pattern="x"), "unknown key(s) 'pattern'"),
        (rule(type="sum_equals", addends=[], total="t"), "addends must be a non-empty"),
        (rule(type="sum_equals", addends=["a"], total="t[]"), "must name one field"),
        (rule(type="sum_equals", addends=["a"], total="t", tolerance=-1), "0 or more"),
        (rule(type="regex", field="a", pattern="x", optional="yes"), "optional must be true"),
        (
            {"rules": [{"type": "field_present", "field": "a", "name": "x"}] * 2},
            "Two rules are named 'x'",
        ),
    ],
)
def test_mistakes_are_named(definition: Any, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_eval_definition(definition)
    assert fragment in caught.value.detail
