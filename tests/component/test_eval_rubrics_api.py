"""Eval rubrics through the ASGI app: CRUD and versions, tenancy, and ``run_evals`` runs whose
step results carry the ``evaluation`` object.

The server runs the real convert and extract processors on a generated invoice whose field
values are known, so every rule's outcome follows from the invoice's truth.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from docgen.extractgen import INVOICE_SCHEMA, GeneratedDoc, invoice, write_pdf
from pagemill.processors.registry import ProcessorRegistry
from tests.support.app import TestServer, test_server

ER = "/api/v1/eval_rubrics"
RUBRIC_KEYS = {
    "id",
    "name",
    "description",
    "eval_definition",
    "source",
    "source_processor_id",
    "archived",
    "version",
    "created",
    "updated",
    "version_history",
}
SIMPLE: dict[str, Any] = {"rules": [{"type": "field_present", "field": "total"}]}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(tmp_path / "data", ProcessorRegistry.builtin()) as running:
        yield running


@pytest.fixture(scope="module")
def doc() -> GeneratedDoc:
    return invoice(0)


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory, doc: GeneratedDoc) -> bytes:
    return write_pdf(tmp_path_factory.mktemp("evals") / "invoice.pdf", [doc]).read_bytes()


async def create(
    server: TestServer, definition: dict[str, Any] | None = None, team: str = "alpha"
) -> dict[str, Any]:
    response = await server.client.post(
        ER,
        json={"name": "Checks", "eval_definition": definition or SIMPLE},
        headers=server.headers(team),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def message(response: Any) -> str:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    return str(detail if isinstance(detail, str) else detail[0]["msg"])


async def test_create_get_list_update_and_archive(server: TestServer) -> None:
    h = server.headers()
    body = await create(server)
    url = f"{ER}/{body['id']}"
    got = (await server.client.get(url, headers=h)).json()
    listed = (await server.client.get(ER, headers=h)).json()
    renamed = (await server.client.put(url, json={"name": "Renamed"}, headers=h)).json()
    second: dict[str, Any] = {"rules": [{"type": "numeric_range", "field": "total", "min": 0}]}
    changed = (
        await server.client.put(
            url, json={"eval_definition": second, "description": "ranges"}, headers=h
        )
    ).json()
    same = (await server.client.put(url, json={"eval_definition": second}, headers=h)).json()
    archived = await server.client.delete(url, headers=h)
    hidden = (await server.client.get(ER, headers=h)).json()
    shown = (await server.client.get(ER, params={"include_archived": "true"}, headers=h)).json()
    frozen = await server.client.put(url, json={"eval_definition": SIMPLE}, headers=h)

    assert set(body) == RUBRIC_KEYS
    assert isinstance(body["id"], int) and 2**32 <= body["id"] < 2**53
    assert (body["name"], body["version"], body["archived"], body["source"]) == (
        "Checks",
        1,
        False,
        "manual",
    )
    assert body["eval_definition"] == SIMPLE
    assert got == body
    assert listed == {"rubrics": [body], "total": 1}
    assert (renamed["name"], renamed["version"]) == ("Renamed", 1)
    assert (changed["version"], changed["eval_definition"], changed["description"]) == (
        2,
        second,
        "ranges",
    )
    assert same["version"] == 2  # the same definition again is no new version
    assert [v["version"] for v in changed["version_history"]] == [2, 1]
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert hidden == {"rubrics": [], "total": 0}
    assert [r["id"] for r in shown["rubrics"]] == [body["id"]]
    assert frozen.status_code == 400
    assert "archived" in frozen.json()["detail"]


async def test_invalid_definitions_are_422_naming_the_fault(server: TestServer) -> None:
    h = server.headers()

    async def post(definition: Any) -> Any:
        return await server.client.post(
            ER, json={"name": "x", "eval_definition": definition}, headers=h
        )

    no_rules = await post({"rules": []})
    bad_type = await post({"rules": [{"type": "vibes", "field": "a"}]})
    bad_key = await post({"rules": [{"type": "regex", "field": "a", "pattern": "x", "flags": 1}]})
    slow = await post({"rules": [{"type": "regex", "field": "a", "pattern": "(a+)+$"}]})
    low_high = await post({"rules": [{"type": "numeric_range", "field": "a", "min": 2, "max": 1}]})

    assert "non-empty list of rules" in message(no_rules)
    assert "rules[0].type must be one of" in message(bad_type)
    assert "unknown key(s) 'flags'" in message(bad_key)
    assert slow.status_code == 422
    assert "'min' is above 'max'" in message(low_high)


async def test_another_teams_rubric_is_not_found(server: TestServer) -> None:
    body = await create(server, team="alpha")
    url = f"{ER}/{body['id']}"
    beta = server.headers("beta")

    assert (await server.client.get(url, headers=beta)).status_code == 404
    assert (await server.client.put(url, json={"name": "x"}, headers=beta)).status_code == 404
    assert (await server.client.delete(url, headers=beta)).status_code == 404
    assert (await server.client.get(ER, headers=beta)).json() == {"rubrics": [], "total": 0}
    assert (await server.client.get(f"{ER}/12345", headers=server.headers())).status_code == 404
    assert (await server.client.get(f"{ER}/abc", headers=server.headers())).status_code == 422


async def pipeline(server: TestServer, steps: list[dict[str, Any]], team: str = "alpha") -> Any:
    return await server.client.post(
        "/api/v1/pipelines", json={"steps": steps}, headers=server.headers(team)
    )


async def run(server: TestServer, pipeline_id: str, pdf: bytes, **form: str) -> Any:
    return await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/run",
        files={"file": ("invoice.pdf", pdf, "application/pdf")},
        data=form,
        headers=server.headers(),
    )


async def results(server: TestServer, execution_id: str) -> list[dict[str, Any]]:
    for _ in range(1500):
        body = (
            await server.client.get(
                f"/api/v1/pipelines/executions/{execution_id}", headers=server.headers()
            )
        ).json()
        if body["status"] in {"completed", "completed_with_errors", "failed"}:
            assert body["status"] == "completed", body
            return [
                (await server.client.get(step["result_url"], headers=server.headers())).json()
                for step in body["steps"]
            ]
        await asyncio.sleep(0.02)
    raise AssertionError("the run did not finish")


async def test_run_evals_adds_the_evaluation_to_each_evaluated_step(
    server: TestServer, doc: GeneratedDoc, pdf: bytes
) -> None:
    truth = doc.expected
    on_markdown = await create(
        server,
        {
            "rules": [
                {
                    "name": "number shown",
                    "type": "regex",
                    "field": "markdown",
                    "pattern": re.escape(truth["invoice_number"]),
                }
            ]
        },
    )
    on_fields = await create(
        server,
        {
            "name": "Invoice checks",
            "rules": [
                {"type": "field_present", "field": "invoice_number"},
                {
                    "name": "total",
                    "type": "numeric_range",
                    "field": "total",
                    "min": truth["total"] - 0.005,
                    "max": truth["total"] + 0.005,
                },
                {
                    "name": "too small",
                    "type": "numeric_range",
                    "field": "total",
                    "max": truth["total"] - 1,
                },
                {"name": "currency", "type": "enum", "field": "currency", "values": ["EUR"]},
                {
                    "name": "lines add up",
                    "type": "sum_equals",
                    "addends": ["line_items[].amount"],
                    "total": "subtotal",
                },
            ],
        },
    )
    created = await pipeline(
        server,
        [
            {"type": "convert", "settings": {}, "eval_rubric_id": on_markdown["id"]},
            {
                "type": "extract",
                "settings": {"page_schema": INVOICE_SCHEMA},
                "eval_rubric_id": on_fields["id"],
            },
        ],
    )
    assert created.status_code == 200, created.text
    pipeline_id = created.json()["pipeline_id"]

    evaluated = await run(server, pipeline_id, pdf, run_evals="True")
    assert evaluated.status_code == 200, evaluated.text
    convert, extract = await results(server, evaluated.json()["execution_id"])
    plain = await run(server, pipeline_id, pdf)
    plain_results = await results(server, plain.json()["execution_id"])

    extracted = json.loads(extract["extraction_schema_json"])
    assert extracted["total"] == truth["total"]  # the rules below are judged on the truth
    markdown_eval = convert["evaluation"]
    assert markdown_eval["eval_definition_name"] == "Checks"
    assert markdown_eval["eval_rubric_id"] == on_markdown["id"]
    assert [(e["name"], e["rule_score"]) for e in markdown_eval["evaluations"]] == [
        ("number shown", 1.0)
    ]
    evaluation = extract["evaluation"]
    assert evaluation["eval_definition_name"] == "Invoice checks"
    assert evaluation["eval_rubric_version"] == 1
    scores = {e["name"]: e["rule_score"] for e in evaluation["evaluations"]}
    assert scores == {
        "field_present invoice_number": 1.0,
        "total": 1.0,
        "too small": 0.0,
        "currency": 0.0,  # the schema has no currency: a required field that is missing
        "lines add up": 1.0,
    }
    currency = next(e for e in evaluation["evaluations"] if e["name"] == "currency")
    assert currency["individual_results"][0]["message"] == "missing"
    assert evaluation["total_items_evaluated"] == 5
    assert all("evaluation" not in result for result in plain_results)


async def test_run_evals_is_refused_when_it_would_do_nothing(
    server: TestServer, pdf: bytes
) -> None:
    plain = (await pipeline(server, [{"type": "convert", "settings": {}}])).json()["pipeline_id"]
    foreign = await create(server, team="beta")
    other = await pipeline(
        server, [{"type": "convert", "settings": {}, "eval_rubric_id": foreign["id"]}]
    )
    mine = await create(server)
    later_archived = (
        await pipeline(server, [{"type": "convert", "settings": {}, "eval_rubric_id": mine["id"]}])
    ).json()["pipeline_id"]
    await server.client.delete(f"{ER}/{mine['id']}", headers=server.headers())
    not_a_number = await pipeline(
        server, [{"type": "convert", "settings": {}, "eval_rubric_id": "x"}]
    )
    zero = await pipeline(server, [{"type": "convert", "settings": {}, "eval_rubric_id": 0}])

    assert "no step of this pipeline names an eval_rubric_id" in message(
        await run(server, plain, pdf, run_evals="True")
    )
    assert f"Step 0 (convert): eval rubric {foreign['id']} not found" in message(other)
    assert f"eval rubric {mine['id']} is archived" in message(
        await run(server, later_archived, pdf, run_evals="True")
    )
    assert not_a_number.status_code == 422
    assert "eval_rubric_id" in not_a_number.json()["detail"][0]["loc"]
    assert "eval_rubric_id must be a positive integer" in message(zero)
