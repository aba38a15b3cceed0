"""The convert settings the SDK sends: each implemented or noted, and unknown keys refused by
every step type."""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen.canvas import Canvas

from docgen.officegen import make_html
from docgen.pdfgen import make_pdf
from pagemill.domain.errors import InvalidInput
from pagemill.ports.processing import ProcessorInput
from pagemill.processors.convert import ConvertProcessor
from pagemill.processors.create_document import CreateDocumentProcessor
from pagemill.processors.registry import ProcessorRegistry

TABLE_PAGE = [[("h1", "Prices"), ("table", "Item | Price\nTea | 3\nCake | 4"), ("image", "60x40")]]


def convert(path: Path, **settings: Any) -> dict[str, Any]:
    job = ProcessorInput(document=path, filename=path.name, settings=settings)
    return ConvertProcessor().run(job).result


@pytest.fixture
def table_pdf(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "table.pdf", TABLE_PAGE)


@pytest.mark.parametrize(
    ("step_type", "settings"),
    [
        ("convert", {"paginate": True, "totally_bogus": 1}),
        ("extract", {"page_schema": {"properties": {"a": {"type": "string"}}}, "totally_bogus": 1}),
        ("segment", {"totally_bogus": 1}),
        ("fill", {"field_data": {"a": "b"}, "totally_bogus": 1}),
        ("ocr", {"totally_bogus": 1}),
        ("track_changes", {"totally_bogus": 1}),
        ("create_document", {"totally_bogus": 1}),
    ],
)
def test_every_step_type_refuses_unknown_keys_by_name(
    step_type: str, settings: dict[str, Any]
) -> None:
    registry = ProcessorRegistry.builtin()
    with pytest.raises(InvalidInput) as caught:
        registry.check_steps([(step_type, settings)])
    assert "'totally_bogus'" in caught.value.detail
    assert caught.value.detail.startswith(f"Step 0 ({step_type}): Unknown setting")


def test_the_settings_pipelines_use_are_accepted() -> None:
    registry = ProcessorRegistry.builtin()
    registry.check_steps(
        [
            ("convert", {"mode": "fast", "paginate": True, "timeout_seconds": 60}),
            ("segment", {"segmentation_schema": {"Invoice": "An invoice"}}),
            ("extract", {"schema_id": "sch_x", "schema_version": 2, "extraction_mode": "fast"}),
            ("custom", {"version": 2, "output_format": "html", "label": "for a transform"}),
        ]
    )


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"additional_config": "{not json"}, "not valid JSON"),
        ({"additional_config": ["x"]}, "must be an object"),
        ({"additional_config": {"colour": True}}, "Unknown additional_config key: 'colour'"),
        ({"additional_config": {"keep_spreadsheet_formatting": "yes"}}, "true or false"),
        ({"extras": "extract_links,telepathy"}, "Unknown extras 'telepathy'"),
        ({"extras": 3}, "comma-separated"),
        ({"token_efficient_markdown": "true"}, "true or false"),
    ],
)
def test_convert_settings_values_are_checked(settings: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ConvertProcessor().check_settings(settings)
    assert fragment in caught.value.detail


def test_the_sdk_form_settings_are_accepted() -> None:
    # What ConvertOptions.to_form_data sends, as strings decoded by the form layer.
    ConvertProcessor().check_settings(
        {
            "paginate": False,
            "disable_image_extraction": False,
            "disable_image_captions": False,
            "fence_synthetic_captions": False,
            "additional_config": json.dumps({"keep_spreadsheet_formatting": True}),
            "save_checkpoint": False,
            "output_format": "markdown",
            "mode": "fast",
            "extras": "track_changes,chart_understanding,table_row_bboxes,extract_links",
            "add_block_ids": False,
            "include_markdown_in_chunks": False,
            "token_efficient_markdown": False,
            "max_pages": 3,
            "skip_cache": False,
            "page_range": "0-2",
        }
    )


def test_token_efficient_markdown_compacts_tables(table_pdf: Path) -> None:
    plain = convert(table_pdf)["markdown"]
    compact = convert(table_pdf, token_efficient_markdown=True)["markdown"]

    assert "| Item | Price |" in plain
    assert "|Item|Price|\n|-|-|\n|Tea|3|" in compact
    assert len(compact) < len(plain)


def test_pictures_follow_disable_image_extraction(table_pdf: Path) -> None:
    assert convert(table_pdf)["images"] == {}
    assert len(convert(table_pdf, disable_image_extraction=False)["images"]) == 1
    assert convert(table_pdf, include_images=True, disable_image_extraction=True)["images"] == {}


def test_settings_that_cannot_change_the_output_are_noted(table_pdf: Path) -> None:
    result = convert(
        table_pdf,
        fence_synthetic_captions=True,
        extras="chart_understanding,infographic",
        additional_config={"keep_spreadsheet_formatting": True},
    )

    notes = result["metadata"]["settings_notes"]
    assert "no synthetic image captions" in notes["fence_synthetic_captions"]
    assert "vision or layout model" in notes["extras.chart_understanding"]
    assert "extras.infographic" in notes
    assert notes["keep_spreadsheet_formatting"] == "applies to spreadsheets; this is pdf"
    assert "settings_notes" not in convert(table_pdf)["metadata"]


def test_table_row_bboxes_for_pdf_tables(table_pdf: Path) -> None:
    result = convert(table_pdf, extras="table_row_bboxes", output_format="json")

    table = next(
        block
        for page in result["json"]["children"]
        for block in page["children"]
        if block["block_type"] == "Table"
    )
    rows = result["metadata"]["table_row_bboxes"][table["id"]]
    assert len(rows) == 3
    assert all(r[1] < s[1] for r, s in itertools.pairwise(rows))  # top to bottom
    x0, y0, x1, y1 = table["bbox"]
    assert all(x0 - 2 <= r[0] and r[2] <= x1 + 2 and y0 - 2 <= r[1] < r[3] <= y1 + 2 for r in rows)


def test_extract_links_from_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "links.pdf"
    canvas = Canvas(str(path), pagesize=LETTER)
    canvas.setFont("Helvetica", 12)
    canvas.drawString(72, 700, "Read the manual online.")
    canvas.linkURL("https://example.org/manual", (72, 695, 200, 712), relative=0)
    canvas.save()

    links = convert(path, extras="extract_links")["metadata"]["links"]

    assert links == [
        {
            "page": 0,
            "url": "https://example.org/manual",
            "text": links[0]["text"],
            "bbox": [72.0, 80.0, 200.0, 97.0],
        }
    ]
    assert "manual" in links[0]["text"]


def test_extract_links_from_html_and_docx(tmp_path: Path) -> None:
    html = make_html(
        tmp_path / "page.html",
        [
            (
                "raw",
                '<p>See <a href="https://example.org/x">the docs</a> '
                'and <a href="#top">top</a>.</p>',
            )
        ],
    )
    source = tmp_path / "in.md"
    source.write_text("A [real link](https://example.org/d).", encoding="utf-8")
    made = CreateDocumentProcessor().run(ProcessorInput(source, "in.md", {})).result
    docx = tmp_path / "links.docx"
    docx.write_bytes(base64.b64decode(made["output_base64"]))

    html_links = convert(html, extras="extract_links")["metadata"]["links"]
    docx_links = convert(docx, extras="extract_links")["metadata"]["links"]

    assert html_links == [{"page": 0, "url": "https://example.org/x", "text": "the docs"}]
    assert docx_links == [{"page": 0, "url": "https://example.org/d", "text": "real link"}]


def test_track_changes_extra_marks_up_a_docx(tmp_path: Path) -> None:
    source = tmp_path / "in.md"
    source.write_text('Fee: <del author="Ann">100</del><ins author="Ann">120</ins>.')
    made = CreateDocumentProcessor().run(ProcessorInput(source, "in.md", {})).result
    docx = tmp_path / "tracked.docx"
    docx.write_bytes(base64.b64decode(made["output_base64"]))

    plain = convert(docx, output_format="markdown,html")
    tracked = convert(docx, output_format="markdown,html", extras="track_changes")

    assert "<ins" not in plain["markdown"]
    assert tracked["markdown"] == (
        'Fee: <del data-author="Ann">100</del><ins data-author="Ann">120</ins>.'
    )
    assert tracked["html"].startswith('<p>Fee: <del data-author="Ann">100</del>')
    assert tracked["metadata"]["track_changes"]["counts"]["insertion"] == 1
    assert "settings_notes" not in tracked["metadata"]


def test_track_changes_extra_on_other_formats_is_noted(table_pdf: Path) -> None:
    notes = convert(table_pdf, extras="track_changes")["metadata"]["settings_notes"]
    assert notes["extras.track_changes"] == "tracked changes are read from DOCX; not pdf"


def test_keep_spreadsheet_formatting_shows_number_formats(tmp_path: Path) -> None:
    import datetime as dt

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Sales"
    sheet.append(["Item", "Price", "Share", "Date"])
    sheet.append(["Tea", 1234.5, 0.256, dt.datetime(2024, 3, 5)])
    sheet["B2"].number_format = "$#,##0.00"
    sheet["C2"].number_format = "0.0%"
    sheet["D2"].number_format = "dd/mm/yyyy"
    path = tmp_path / "sales.xlsx"
    workbook.save(str(path))

    plain = convert(path)["markdown"]
    formatted = convert(path, additional_config=json.dumps({"keep_spreadsheet_formatting": True}))

    assert "| Tea | 1234.5 | 0.256 | 2024-03-05 |" in plain
    assert "| Tea | $1,234.50 | 25.6% | 05/03/2024 |" in formatted["markdown"]
    assert "settings_notes" not in formatted["metadata"]
