"""``eval_rubric_id`` on the single-shot endpoints (``/convert``, ``/extract``, and with
``run_eval`` on ``/custom-processor``): the rubric is frozen into the request's execution like a
pipeline run's, and the poll's result carries the ``evaluation`` object."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from docgen.pdfgen import make_pdf
from pagemill.processors.registry import ProcessorRegistry
from tests.component.test_single_shot import SCHEMA, poll, started, submit
from tests.support.app import TestServer, test_server

TOTAL_RULES: dict[str, Any] = {
    "name": "invoice checks",
    "rules": [
        {"name": "has total", "type": "field_present", "field": "total"},
        {"name": "total in range", "type": "numeric_range", "field": "total", "min": 40, "max": 50},
    ],
}
MARKDOWN_RULES: dict[str, Any] = {
    "rules": [{"name": "mentions invoice", "type": "regex", "field": "markdown", "pattern": "Inv"}]
}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(tmp_path / "data", ProcessorRegistry.builtin()) as running:
        yield running


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, bytes, str]:
    pages = [[("h1", "Invoice"), ("p", "Total: 42.00 USD")]]
    path = make_pdf(tmp_path_factory.mktemp("evals") / "invoice.pdf", pages)
    return ("invoice.pdf", path.read_bytes(), "application/pdf")


async def rubric(server: TestServer, definition: dict[str, Any], team: str = "alpha") -> int:
    response = await server.client.post(
        "/api/v1/eval_rubrics",
        json={"name": "checks", "eval_definition": definition},
        headers=server.headers(team),
    )
    assert response.status_code == 200, response.text
    rubric_id = response.json()["id"]
    assert isinstance(rubric_id, int) and rubric_id > 2**32  # past a 32-bit form field
    return rubric_id


def rules(evaluation: dict[str, Any]) -> dict[str, list[bool]]:
    return {
        rule["name"]: [item["passed"] for item in rule["individual_results"]]
        for rule in evaluation["evaluations"]
    }


async def test_extract_with_eval_rubric_id_answers_the_evaluation(
    server: TestServer, pdf: tuple[str, bytes, str]
) -> None:
    rubric_id = await rubric(server, TOTAL_RULES)
    form = {"page_schema": json.dumps(SCHEMA), "eval_rubric_id": str(rubric_id)}

    result = await poll(server, await started(await submit(server, "extract", form, pdf)))

    assert result["status"] == "complete", result
    evaluation = result["evaluation"]
    assert evaluation["eval_definition_name"] == "invoice checks"
    assert evaluation["eval_rubric_id"] == rubric_id and evaluation["eval_rubric_version"] == 1
    total = json.loads(result["extraction_schema_json"]).get("total")
    in_range = isinstance(total, int | float) and 40 <= total <= 50
    assert rules(evaluation) == {"has total": [total is not None], "total in range": [in_range]}

    unevaluated = await submit(server, "extract", {"page_schema": form["page_schema"]}, pdf)
    plain = await poll(server, await started(unevaluated))
    assert plain["status"] == "complete" and "evaluation" not in plain


async def test_convert_and_custom_processor_are_evaluated_too(
    server: TestServer, pdf: tuple[str, bytes, str]
) -> None:
    rubric_id = await rubric(server, MARKDOWN_RULES)
    converted = await poll(
        server,
        await started(await submit(server, "convert", {"eval_rubric_id": str(rubric_id)}, pdf)),
    )
    assert rules(converted["evaluation"]) == {"mentions invoice": [True]}

    processor = await server.client.post(
        "/api/v1/custom_processors",
        json={
            "name": "drop footers",
            "definition": {"rules": [{"action": "drop", "match": {"type": "page_footer"}}]},
        },
        headers=server.headers(),
    )
    assert processor.status_code == 200, processor.text
    form = {"pipeline_id": processor.json()["processor_id"], "run_eval": "True"}
    refused = await submit(server, "custom-processor", form, pdf)
    assert refused.status_code == 422 and "eval_rubric_id" in refused.text

    custom = await poll(
        server,
        await started(
            await submit(
                server, "custom-processor", {**form, "eval_rubric_id": str(rubric_id)}, pdf
            )
        ),
    )
    assert custom["status"] == "complete", custom
    assert rules(custom["evaluation"]) == {"mentions invoice": [True]}


async def test_another_teams_rubric_is_refused_like_an_unknown_one(
    server: TestServer, pdf: tuple[str, bytes, str]
) -> None:
    theirs = await rubric(server, TOTAL_RULES, team="beta")
    schema = json.dumps(SCHEMA)

    answers = [
        await submit(server, "extract", {"page_schema": schema, "eval_rubric_id": str(rid)}, pdf)
        for rid in (theirs, theirs + 1)
    ]

    assert [a.status_code for a in answers] == [422, 422]
    stolen, unknown = (a.json()["detail"][0]["msg"] for a in answers)
    assert stolen.replace(str(theirs), "N") == unknown.replace(str(theirs + 1), "N")
    assert "not found" in stolen
