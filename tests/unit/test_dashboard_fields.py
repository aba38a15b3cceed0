"""The dashboard's reading of an extract step's result: fields, values and cited blocks."""

from __future__ import annotations

import json

from pagemill.services.dashboard import _fields


def result(data: object) -> dict[str, object]:
    return {"extraction_schema_json": json.dumps(data)}


def test_top_level_fields_with_their_citations() -> None:
    found = _fields(
        result(
            {
                "number": "INV-1",
                "number_citations": ["/page/0/Text/1", "/page/0/Text/1"],
                "total": 9.5,
                "lines": [{"sku": "A"}],
                "lines_citations": "not a list",
            }
        )
    )

    assert found == [
        ("number", "INV-1", ["/page/0/Text/1", "/page/0/Text/1"]),
        ("total", 9.5, []),
        ("lines", [{"sku": "A"}], []),
    ]


def test_segmented_results_name_each_segment() -> None:
    found = _fields(
        result(
            {
                "segments": [
                    {"segment": "Invoice", "pages": [0], "data": {"n": "1", "n_citations": ["b"]}},
                    {"segment": "Receipt", "pages": [1], "data": {"n": None}},
                    {"segment": "Broken", "data": "not an object"},
                ]
            }
        )
    )

    assert found == [("Invoice / n", "1", ["b"]), ("Receipt / n", None, [])]


def test_unreadable_results_have_no_fields() -> None:
    assert _fields({"extraction_schema_json": "{not json"}) == []
    assert _fields({"extraction_schema_json": "[1, 2]"}) == []
    assert _fields({"status": "failed"}) == []
