"""The custom step on real convert checkpoints, and installed transforms (entry points)."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from docgen.pdfgen import make_pdf
from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.ports.processing import ProcessorInput, ProcessorOutput
from pagemill.processors.convert import ConvertProcessor
from pagemill.processors.custom import CustomStepProcessor, load_transforms
from pagemill.processors.document import Block, Document
from pagemill.processors.registry import ProcessorRegistry

PAGES = [
    [
        ("h1", "Invoice 2024-17"),
        ("p", "Invoice number 17. Amount due: 120 EUR."),
        ("p", "Payment within 30 days."),
    ],
    [
        ("h2", "Terms"),
        ("p", "This agreement is between each party."),
        ("li", "First item"),
        ("li", "Second item"),
    ],
    [("p", "Appendix text"), ("p", "Section 4 Notes")],
]
REF = {"id": "cp_test", "version": 3}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The convert step's checkpoint of a three-page PDF with known blocks."""
    folder = tmp_path_factory.mktemp("custom")
    pdf = make_pdf(folder / "doc.pdf", PAGES)
    converted = ConvertProcessor().run(ProcessorInput(pdf, "doc.pdf", {}))
    assert converted.checkpoint is not None
    path = folder / "checkpoint.json"
    path.write_bytes(converted.checkpoint)
    return path


def run(
    checkpoint: Path | None,
    definition: dict[str, Any] | None = None,
    processor: CustomStepProcessor | None = None,
    **settings: Any,
) -> ProcessorOutput:
    frozen: dict[str, Any] = {**settings, "_processor": settings.pop("_processor", REF)}
    if definition is not None:
        frozen["_definition"] = definition
    job = ProcessorInput(Path("unused.pdf"), "doc.pdf", frozen, checkpoint=checkpoint)
    return (processor or CustomStepProcessor()).run(job)


def blocks(output: ProcessorOutput) -> list[Block]:
    assert output.checkpoint is not None
    return Document.from_json_bytes(output.checkpoint).blocks


def test_drop_by_type_and_keep_by_page(checkpoint: Path) -> None:
    dropped = run(checkpoint, {"rules": [{"action": "drop", "match": {"type": "list_item"}}]})
    kept = run(checkpoint, {"rules": [{"action": "keep", "match": {"pages": "0,2"}}]})

    assert "First item" not in dropped.result["markdown"]
    assert {b.type for b in blocks(dropped)} == {"heading", "paragraph"}
    assert {b.page for b in blocks(kept)} == {0, 2}
    assert "Terms" not in kept.result["markdown"]


def test_rules_apply_in_order_and_keep_block_ids(checkpoint: Path) -> None:
    original = Document.from_json_bytes(checkpoint.read_bytes())
    output = run(
        checkpoint,
        {
            "rules": [
                {"action": "rename", "match": {"pattern": r"(\d+) EUR"}, "to": r"€\1"},
                {"action": "relabel", "match": {"pattern": "^Section \\d"}, "to": "heading"},
                {"action": "drop", "match": {"type": "paragraph", "pattern": "^Payment"}},
            ]
        },
    )

    markdown = output.result["markdown"]
    assert "Amount due: €120." in markdown and "EUR" not in markdown
    assert "## Section 4 Notes" in markdown
    assert "Payment within" not in markdown
    changed = {b.block_id: b for b in blocks(output)}
    assert set(changed) == {b.block_id for b in original.blocks} - {"/page/0/Paragraph/2"}
    relabelled = changed["/page/2/Paragraph/1"]  # the id of the convert block is kept
    assert (relabelled.type, relabelled.level) == ("heading", 2)
    assert output.result["page_count"] == 3 and output.page_count == 3
    assert output.result["custom_processor"] == REF


def test_pages_are_classified_by_keywords(checkpoint: Path) -> None:
    output = run(
        checkpoint,
        {"classify_pages": {"invoice": ["invoice", "amount due"], "contract": ["agreement"]}},
    )

    assert output.result["page_classification"] == [
        {"page": 0, "label": "invoice"},
        {"page": 1, "label": "contract"},
        {"page": 2, "label": None},
    ]
    assert len(blocks(output)) == 9  # no rules: the document passes through


def test_output_format_and_render_flags_come_from_the_step_settings(checkpoint: Path) -> None:
    definition = {"rules": [{"action": "drop", "match": {"pages": "1-2"}}]}

    output = run(checkpoint, definition, output_format="json,chunks,html", paginate=True)

    result = output.result
    assert result["output_format"] == "json,chunks,html" and "markdown" not in result
    # Pages stay (a rule drops blocks, not pages): 1 and 2 are now empty.
    assert [len(page["children"]) for page in result["json"]["children"]] == [3, 0, 0]
    assert len(result["chunks"]["blocks"]) == 3
    assert '<div class="page" data-page-id="0">' in result["html"]
    assert (result["status"], result["success"], result["error"]) == ("complete", True, None)
    json.dumps(result)  # the engine stores it as JSON


def test_tables_are_renamed_cell_by_cell_and_flatten_to_text(tmp_path: Path) -> None:
    table = Block(
        block_id="/page/0/Table/0",
        page=0,
        bbox=(0.0, 0.0, 10.0, 10.0),
        type="table",
        text="",
        rows=(("Item", "Price"), ("Tea", "3 EUR")),
    )
    checkpoint = tmp_path / "checkpoint.json"
    checkpoint.write_bytes(Document(page_count=1, pages=[0], blocks=[table]).to_json_bytes())

    renamed = run(
        checkpoint, {"rules": [{"action": "rename", "match": {"pattern": "EUR"}, "to": "€"}]}
    )
    flattened = run(
        checkpoint,
        {"rules": [{"action": "relabel", "match": {"pattern": "Tea"}, "to": "paragraph"}]},
    )

    assert blocks(renamed)[0].rows == (("Item", "Price"), ("Tea", "3 €"))
    assert "| Tea | 3 € |" in renamed.result["markdown"]
    flat = blocks(flattened)[0]
    assert (flat.type, flat.rows, flat.text) == ("paragraph", None, "Item Price\nTea 3 EUR")


def test_a_step_needs_its_frozen_processor_and_the_checkpoint(checkpoint: Path) -> None:
    definition = {"rules": [{"action": "drop", "match": {"type": "heading"}}]}
    with pytest.raises(ProcessingError, match="not resolved to a custom processor version"):
        run(checkpoint, definition, _processor=None)
    with pytest.raises(ProcessingError, match="no document checkpoint"):
        run(None, definition)
    with pytest.raises(ProcessingError, match=r"cp_test version 3 is not valid: definition\.rules"):
        run(checkpoint, {"rules": [{"action": "nope"}]})
    with pytest.raises(ProcessingError, match="not installed on this worker"):
        run(checkpoint, None, _processor={"id": "cp_gone", "version": 1, "entry_point": "gone"})


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"_definition": {}}, "'_definition' is reserved"),
        ({"_processor": {}}, "'_processor' is reserved"),
        ({"version": 0}, "Setting 'version'"),
        ({"output_format": "pdf"}, "Unknown output_format 'pdf'"),
        ({"paginate": "yes"}, "'paginate' must be true or false"),
    ],
)
def test_settings_are_checked(settings: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        CustomStepProcessor().check_settings(settings)
    assert fragment in caught.value.detail


def test_check_settings_accepts_a_pinned_version_and_free_keys() -> None:
    CustomStepProcessor().check_settings({"version": 2, "output_format": "html", "tag": "x"})


# -- installed transforms ------------------------------------------------------------------
class UpperTransform:
    """An operator's transform: upper-cases paragraphs and labels every page "shouting"."""

    name = "Upper-caser"
    version = "1.2"

    def apply(self, document: Document, settings: dict[str, Any]) -> Document:
        changed = [
            dataclasses.replace(b, text=b.text.upper()) if b.type == "paragraph" else b
            for b in document.blocks
        ]
        labels = {str(page): settings.get("label", "shouting") for page in document.pages}
        return dataclasses.replace(
            document, blocks=changed, metadata={**document.metadata, "page_labels": labels}
        )


class FailingTransform:
    name = "fails"
    version = "0"

    def apply(self, document: Document, settings: dict[str, Any]) -> Document:
        raise RuntimeError("boom")


class WrongResultTransform:
    name = "wrong"
    version = "0"

    def apply(self, document: Document, settings: dict[str, Any]) -> Any:
        return {"not": "a document"}


class NotATransform:
    name = "incomplete"


def fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    here = __name__
    points = [
        ("upper", f"{here}:UpperTransform"),
        ("fails", f"{here}:FailingTransform"),
        ("wrong", f"{here}:WrongResultTransform"),
        ("missing_module", "tests.no_such_module:Thing"),
        ("incomplete", f"{here}:NotATransform"),
        ("bad-name", f"{here}:UpperTransform"),
        ("upper", f"{here}:FailingTransform"),  # a second package claiming the same name
    ]

    def entry_points(**params: Any) -> list[importlib.metadata.EntryPoint]:
        assert params == {"group": "pagemill.processors"}
        return [
            importlib.metadata.EntryPoint(name, value, "pagemill.processors")
            for name, value in points
        ]

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


def test_broken_entry_points_are_logged_and_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fake_entry_points(monkeypatch)
    caplog.set_level(logging.INFO, logger="pagemill.processors.custom")

    registry = ProcessorRegistry.builtin()

    transforms = registry.custom_transforms
    assert sorted(transforms) == ["fails", "upper", "wrong"]
    upper = transforms["upper"]
    assert (upper.processor_id, upper.name, upper.version) == ("cp_upper", "Upper-caser", "1.2")
    assert upper.target.endswith(":UpperTransform")
    errors = "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert "'missing_module'" in errors and "ModuleNotFoundError" in errors
    assert "'incomplete'" in errors and "missing version, apply" in errors
    assert "'bad-name'" in errors and "letters, digits or underscores" in errors
    assert "'upper'" in errors and "already uses that name" in errors


def test_listing_entry_points_failing_loads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**params: Any) -> list[importlib.metadata.EntryPoint]:
        raise RuntimeError("metadata is corrupt")

    monkeypatch.setattr(importlib.metadata, "entry_points", broken)

    assert load_transforms() == {}


def test_an_installed_transform_runs_with_the_user_settings(
    monkeypatch: pytest.MonkeyPatch, checkpoint: Path
) -> None:
    fake_entry_points(monkeypatch)
    processor = CustomStepProcessor(load_transforms())
    ref = {"id": "cp_upper", "version": 1, "entry_point": "upper"}

    output = run(checkpoint, None, processor, _processor=ref, label="loud")

    assert "AMOUNT DUE: 120 EUR." in output.result["markdown"]
    assert "# Invoice 2024-17" in output.result["markdown"]  # headings untouched
    assert output.result["page_classification"][0] == {"page": 0, "label": "loud"}
    with pytest.raises(ProcessingError, match="cp_fails failed: RuntimeError: boom"):
        run(
            checkpoint,
            None,
            processor,
            _processor={**ref, "id": "cp_fails", "entry_point": "fails"},
        )
    with pytest.raises(ProcessingError, match="returned dict, not a Document"):
        run(
            checkpoint,
            None,
            processor,
            _processor={**ref, "id": "cp_wrong", "entry_point": "wrong"},
        )
