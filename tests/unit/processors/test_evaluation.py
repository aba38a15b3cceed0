"""Running eval rubrics on extraction and convert results: the ``evaluation`` object."""

from __future__ import annotations

import json
from typing import Any

from pagemill.domain.eval_rubrics import parse_eval_definition
from pagemill.processors.evaluation import evaluate

INVOICE = {
    "invoice_number": "INV-17",
    "invoice_number_citations": ["/page/0/Paragraph/1"],
    "currency": "eur",
    "total": "1,250.50",
    "items": [{"amount": 1000}, {"amount": "250.50"}, {"amount": None}],
}
RUBRIC = {
    "name": "Invoice checks",
    "rules": [
        {"name": "number", "type": "field_present", "field": "invoice_number"},
        {"name": "format", "type": "regex", "field": "invoice_number", "pattern": "^INV-\\d+$"},
        {"name": "amounts", "type": "numeric_range", "field": "items[].amount", "min": 1},
        {"name": "currency", "type": "enum", "field": "currency", "values": ["EUR", "USD"]},
        {"name": "sum", "type": "sum_equals", "addends": ["items[].amount"], "total": "total"},
        {"name": "due date", "type": "regex", "field": "due_date", "pattern": "\\d"},
        {"name": "po", "type": "regex", "field": "po", "pattern": "\\d", "optional": True},
    ],
}


def extraction(data: Any) -> dict[str, Any]:
    return {"status": "complete", "extraction_schema_json": json.dumps(data)}


def by_name(evaluation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in evaluation["evaluations"]}


def test_the_evaluation_object_has_the_documented_shape() -> None:
    evaluation = evaluate(parse_eval_definition(RUBRIC), extraction(INVOICE))

    assert set(evaluation) == {
        "eval_definition_name",
        "evaluations",
        "total_items_evaluated",
        "score",
    }
    assert evaluation["eval_definition_name"] == "Invoice checks"
    for item in evaluation["evaluations"]:
        assert set(item) == {"name", "type", "rule_score", "items_evaluated", "individual_results"}
    assert evaluation["total_items_evaluated"] == sum(
        e["items_evaluated"] for e in evaluation["evaluations"]
    )


def test_each_rule_scores_the_share_of_items_that_pass() -> None:
    results = by_name(evaluate(parse_eval_definition(RUBRIC), extraction(INVOICE)))

    assert results["number"]["rule_score"] == 1.0
    assert results["format"]["individual_results"][0]["value"] == "INV-17"
    amounts = results["amounts"]
    assert amounts["items_evaluated"] == 3 and amounts["rule_score"] == round(2 / 3, 4)
    assert [r["path"] for r in amounts["individual_results"]] == [
        "items[0].amount",
        "items[1].amount",
        "items[2].amount",
    ]
    assert amounts["individual_results"][2]["message"] == "missing"
    assert results["currency"]["rule_score"] == 1.0  # case-insensitive by default
    assert results["sum"]["rule_score"] == 1.0
    assert results["sum"]["individual_results"][0]["value"] == {
        "sum": 1250.5,
        "total": 1250.5,
        "addends": 2,
    }
    assert results["due date"]["rule_score"] == 0.0  # absent and not optional
    assert results["po"] == {
        "name": "po",
        "type": "regex",
        "rule_score": 1.0,
        "items_evaluated": 0,
        "individual_results": [],
    }


def test_a_sum_outside_the_tolerance_fails_and_says_by_how_much() -> None:
    definition = parse_eval_definition(
        {"rules": [{"type": "sum_equals", "addends": ["a", "b"], "total": "t", "tolerance": 0.5}]}
    )

    near = evaluate(definition, extraction({"a": 1, "b": 2, "t": 3.4}))
    far = evaluate(definition, extraction({"a": 1, "b": 2, "t": 4}))

    assert near["evaluations"][0]["rule_score"] == 1.0
    assert far["evaluations"][0]["individual_results"][0]["message"] == (
        "the addends sum to 3, not 4 (±0.5)"
    )


def test_segmented_extractions_are_checked_segment_by_segment() -> None:
    data = {
        "segments": [
            {"segment": "Invoice", "pages": [0], "data": {"total": 5}},
            {"segment": "Invoice", "pages": [1], "data": {"total": -1}},
        ]
    }
    definition = parse_eval_definition(
        {"rules": [{"type": "numeric_range", "field": "total", "min": 0}]}
    )

    (result,) = evaluate(definition, extraction(data), name="Stored rubric")["evaluations"]

    assert [r["path"] for r in result["individual_results"]] == [
        "segments[0].data.total",
        "segments[1].data.total",
    ]
    assert result["rule_score"] == 0.5


def test_convert_results_are_checked_as_they_are() -> None:
    convert = {"markdown": "# Invoice\n\nTotal due", "page_count": 2, "metadata": {"x": 1}}
    definition = parse_eval_definition(
        {
            "name": "Convert checks",
            "rules": [
                {"type": "regex", "field": "markdown", "pattern": "(?i)total due"},
                {"type": "numeric_range", "field": "page_count", "max": 1},
            ],
        }
    )

    results = evaluate(definition, convert)

    assert [e["rule_score"] for e in results["evaluations"]] == [1.0, 0.0]
    assert results["score"] == 0.5
