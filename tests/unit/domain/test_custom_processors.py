"""Custom processor definitions: validation (every refusal names its rule) and page labels."""

from __future__ import annotations

from typing import Any

import pytest

from pagemill.domain.custom_processors import (
    has_nested_quantifier,
    parse_definition,
    pinned_version,
)
from pagemill.domain.errors import InvalidInput


def test_a_full_definition_parses() -> None:
    definition = parse_definition(
        {
            "rules": [
                {"action": "drop", "match": {"type": ["page_header", "page_footer"]}},
                {"action": "keep", "match": {"pages": "0,2-4"}},
                {"action": "rename", "match": {"pattern": r"(\d+) EUR"}, "to": r"€\1"},
                {"action": "relabel", "match": {"pattern": "^Section"}, "to": "heading"},
                {"action": "relabel", "match": {"type": "heading"}, "to": "paragraph"},
            ],
            "classify_pages": {"invoice": ["invoice", "amount due"]},
        }
    )

    drop, keep, rename, relabel, flatten = definition.rules
    assert drop.match.types == frozenset({"page_header", "page_footer"})
    assert keep.match.pages == frozenset({0, 2, 3, 4})
    assert rename.rename("total 12 EUR") == "total €12"
    assert (relabel.to, relabel.level) == ("heading", 2)  # a heading needs a level
    assert (flatten.to, flatten.level) == ("paragraph", None)
    assert relabel.match.matches("paragraph", "Section 3", 0)
    assert not relabel.match.matches("paragraph", "See Section 3", 0)


@pytest.mark.parametrize(
    ("definition", "fragment"),
    [
        ([], "definition must be an object"),
        ({}, "at least one rule or a classify_pages label"),
        ({"rules": [], "steps": []}, "definition: unknown key 'steps'"),
        ({"rules": {"action": "drop"}}, "definition.rules must be a list"),
        ({"rules": ["drop"]}, "definition.rules[0] must be an object"),
        ({"rules": [{"action": "delete"}]}, "definition.rules[0].action must be one of"),
        (
            {"rules": [{"action": "drop", "match": {"type": "paragraph"}, "when": 1}]},
            "definition.rules[0]: unknown key 'when'",
        ),
        (
            {"rules": [{"action": "drop", "match": {"text": "x"}}]},
            "definition.rules[0].match: unknown key 'text'",
        ),
        (
            {
                "rules": [
                    {"action": "drop", "match": {"type": "paragraph"}},
                    {"action": "drop", "match": {"type": "Paragraph"}},
                ]
            },
            "definition.rules[1].match.type: unknown block type 'Paragraph'",
        ),
        ({"rules": [{"action": "drop", "match": {"type": []}}]}, "non-empty list of block types"),
        (
            {"rules": [{"action": "drop", "match": {"pattern": "a" * 501}}]},
            "definition.rules[0].match.pattern is longer than 500 characters",
        ),
        (
            {"rules": [{"action": "drop", "match": {"pattern": "(a+)+$"}}]},
            "definition.rules[0].match.pattern: a repeated group contains a repetition",
        ),
        (
            {"rules": [{"action": "drop", "match": {"pattern": "(x"}}]},
            "definition.rules[0].match.pattern is not a valid regular expression",
        ),
        (
            {"rules": [{"action": "drop", "match": {"pattern": r"(a)\1"}}]},
            "backreferences are not allowed",
        ),
        ({"rules": [{"action": "drop", "match": {"pattern": ""}}]}, "non-empty regular"),
        (
            {"rules": [{"action": "drop", "match": {"pages": "2-1"}}]},
            "definition.rules[0].match.pages: page_range part '2-1' runs backwards",
        ),
        ({"rules": [{"action": "drop", "match": {"pages": 3}}]}, "page range string"),
        ({"rules": [{"action": "drop", "match": {}}]}, "needs at least one of type, pattern"),
        ({"rules": [{"action": "keep"}]}, "needs at least one of type, pattern"),
        (
            {"rules": [{"action": "drop", "match": {"type": "picture"}, "to": "x"}]},
            "definition.rules[0].to is not allowed on drop rules",
        ),
        (
            {"rules": [{"action": "rename", "match": {"type": "paragraph"}, "to": "x"}]},
            "definition.rules[0].match.pattern is required",
        ),
        (
            {"rules": [{"action": "rename", "match": {"pattern": "a"}}]},
            "definition.rules[0].to must be the replacement text",
        ),
        (
            {"rules": [{"action": "rename", "match": {"pattern": "(a)"}, "to": r"\2"}]},
            "definition.rules[0].to is not a valid replacement",
        ),
        (
            {"rules": [{"action": "relabel", "match": {"type": "paragraph"}, "to": "table"}]},
            "definition.rules[0].to must be the new block type",
        ),
        (
            {"rules": [{"action": "drop", "match": {"type": "paragraph"}, "level": 1}]},
            "level is only allowed on relabel rules",
        ),
        (
            {
                "rules": [
                    {
                        "action": "relabel",
                        "match": {"type": "heading"},
                        "to": "list_item",
                        "level": 1,
                    }
                ]
            },
            "level is only allowed when relabelling to heading",
        ),
        (
            {
                "rules": [
                    {
                        "action": "relabel",
                        "match": {"type": "paragraph"},
                        "to": "heading",
                        "level": 9,
                    }
                ]
            },
            "level must be a whole number from 1 to 6",
        ),
        ({"classify_pages": ["invoice"]}, "classify_pages must be an object"),
        ({"classify_pages": {"invoice": []}}, "classify_pages['invoice'] must be a list"),
        ({"classify_pages": {"invoice": ["ok", 3]}}, "keywords are non-blank strings"),
        ({"classify_pages": {" ": ["x"]}}, "labels are 1 to 100 characters"),
    ],
)
def test_invalid_definitions_name_the_rule(definition: Any, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_definition(definition)
    assert fragment in caught.value.detail


@pytest.mark.parametrize(
    "pattern",
    ["(a+)+", "(a*)*", "(?:ab+c){2,}", "([a-z]+)*b", "((a)+)+", "((a+)?)*", r"(\w+\s?)+$"],
)
def test_nested_repetition_is_detected(pattern: str) -> None:
    assert has_nested_quantifier(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        "(a|b)+",
        r"\d+\s+\w+",
        "(ab)+",
        "(a{1})+",
        "(a+)?",
        "[(a+)+]",
        r"\(a+\)+",
        r"^Page \d+ of \d+$",
        "(?i)total(?:s)?",
    ],
)
def test_safe_patterns_pass(pattern: str) -> None:
    assert not has_nested_quantifier(pattern)


def test_pages_get_the_best_scoring_label_or_none() -> None:
    definition = parse_definition(
        {
            "classify_pages": {
                "invoice": ["invoice", "amount due"],
                "contract": ["agreement", "party"],
                "tie": ["party"],
            }
        }
    )

    assert definition.classify("INVOICE no. 4 — Amount due: 30") == "invoice"
    assert definition.classify("This agreement binds each party. Invoice.") == "contract"
    assert definition.classify("A party.") == "contract"  # ties go to the label written first
    assert definition.classify("invoices and partying") is None  # whole words only
    assert definition.classify("") is None


@pytest.mark.parametrize(("value", "expected"), [(None, None), (2, 2), ("3", 3), (" 1 ", 1)])
def test_pinned_version(value: Any, expected: int | None) -> None:
    assert pinned_version({"version": value}) == expected


@pytest.mark.parametrize("value", [0, -1, "two", 1.5, True, [1]])
def test_pinned_version_must_be_a_positive_number(value: Any) -> None:
    with pytest.raises(InvalidInput, match="Setting 'version'"):
        pinned_version({"version": value})
