"""The convert processor on generated PDFs whose content is known."""

from __future__ import annotations

import json
import multiprocessing
import pickle
import re
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from docgen.pdfgen import filler_paragraph, make_large_pdf, make_pdf
from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.ports.processing import ProcessorInput, ProcessorOutput
from pagemill.processors.convert import ConvertProcessor
from pagemill.processors.convert.pdf.parse import join_lines
from pagemill.processors.document import Document

SEPARATOR = "-" * 48
LONG_PARAGRAPH = filler_paragraph(1, 80)  # wraps over several lines
REPORT_PAGES = [
    [
        ("h1", "Annual Report"),
        ("p", LONG_PARAGRAPH),
        ("h2", "Scope"),
        ("p", "This section describes the docu-\nment format in detail."),
    ],
    [
        ("h2", "Findings"),
        ("h3", "Key points"),
        ("p", "We found the following:"),
        ("li", "Apples from the market"),
        ("li", "Pears " + filler_paragraph(2, 25)),
        ("p", "Second page closing words."),
    ],
    [("h2", "Appendix"), ("p", "Third page text.")],
]
BLOCK_ID = re.compile(r"^/page/(\d+)/(SectionHeader|Paragraph|ListItem)/(\d+)$")


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pdf(tmp_path_factory.mktemp("pdf") / "report.pdf", REPORT_PAGES)


def convert(
    path: Path,
    settings: dict[str, Any] | None = None,
    *,
    output_format: str | None = None,
    page_range: str | None = None,
) -> ProcessorOutput:
    job = ProcessorInput(
        document=path,
        filename=path.name,
        settings=settings or {},
        page_range=page_range,
        output_format=output_format,
    )
    return ConvertProcessor().run(job)


def markdown_of(path: Path, settings: dict[str, Any] | None = None, **kwargs: Any) -> str:
    markdown = convert(path, settings, **kwargs).result["markdown"]
    assert isinstance(markdown, str)
    return markdown


# --- structure ------------------------------------------------------------------------------


def test_headings_become_markdown_headings_by_size_rank(report_pdf: Path) -> None:
    lines = markdown_of(report_pdf).splitlines()
    assert "# Annual Report" in lines
    assert "## Scope" in lines
    assert "## Findings" in lines
    assert "### Key points" in lines  # bold at body size: one level below the larger sizes


def test_heading_levels_rank_sizes_within_the_parsed_pages(report_pdf: Path) -> None:
    # Only the selected pages are parsed, so without the 22 pt title the 15 pt headings rank first.
    lines = markdown_of(report_pdf, page_range="1-2").splitlines()
    assert "# Findings" in lines
    assert "## Key points" in lines


def test_bold_contents_entries_are_not_headings(tmp_path: Path) -> None:
    pages = [[("h1", "Contents"), ("h3", "1 Introduction . . . . . . . . 4"), ("p", "Body text.")]]
    lines = markdown_of(make_pdf(tmp_path / "toc.pdf", pages)).splitlines()
    assert "# Contents" in lines
    assert "1 Introduction . . . . . . . . 4" in lines


def test_wrapped_paragraph_lines_are_joined(report_pdf: Path) -> None:
    paragraphs = markdown_of(report_pdf).split("\n\n")
    assert LONG_PARAGRAPH in paragraphs


def test_word_broken_across_lines_is_rejoined(report_pdf: Path) -> None:
    markdown = markdown_of(report_pdf)
    assert "This section describes the document format in detail." in markdown
    assert "docu-" not in markdown


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["docu-", "ment here"], "document here"),
        (["Jean-", "Paul"], "Jean-Paul"),
        (["2019-", "2020"], "2019-2020"),
        (["a dash -", "then"], "a dash - then"),
        (["state-of-the-art", "work"], "state-of-the-art work"),
        (["one", "", "two"], "one two"),
    ],
)
def test_join_lines(lines: list[str], expected: str) -> None:
    assert join_lines(lines) == expected


def test_bulleted_lines_become_list_items(report_pdf: Path) -> None:
    output = convert(report_pdf, output_format="markdown,html")
    assert (
        "We found the following:\n\n- Apples from the market\n- Pears " in output.result["markdown"]
    )
    assert "<ul>\n<li>Apples from the market</li>\n<li>Pears " in output.result["html"]


def test_page_without_text_has_no_blocks(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "blank.pdf", [[("p", "Only page one has text.")], []])
    output = convert(pdf, {"paginate": True})
    assert output.result["markdown"] == (
        f"\n\n{{0}}{SEPARATOR}\n\nOnly page one has text.\n\n{{1}}{SEPARATOR}\n\n"
    )
    assert output.result["metadata"]["page_stats"][1]["block_counts"] == []
    assert output.metadata["pages_without_text"] == [1]


# --- page selection and pagination ----------------------------------------------------------


def test_page_range_selects_zero_based_pages(report_pdf: Path) -> None:
    output = convert(report_pdf, output_format="json", page_range="1")
    pages = output.result["json"]["children"]
    assert [page["page"] for page in pages] == [1]
    assert {block["page"] for block in pages[0]["children"]} == {1}
    assert output.page_count == 1
    assert output.result["page_count"] == 1
    assert output.result["metadata"]["total_pages"] == 3


def test_run_page_range_overrides_settings_and_max_pages(report_pdf: Path) -> None:
    markdown = markdown_of(report_pdf, {"page_range": "0", "max_pages": 1}, page_range="2")
    assert "Appendix" in markdown
    assert "Annual Report" not in markdown


def test_settings_page_range_and_max_pages(report_pdf: Path) -> None:
    assert "Findings" not in markdown_of(report_pdf, {"page_range": "0,2"})
    output = convert(report_pdf, {"max_pages": 2})
    assert output.page_count == 2
    assert "Appendix" not in output.result["markdown"]


def test_page_range_past_the_end_is_a_processing_error(report_pdf: Path) -> None:
    with pytest.raises(ProcessingError, match="selects no page") as caught:
        convert(report_pdf, page_range="7-9")
    assert caught.value.retryable is False


def test_paginate_puts_the_hosted_separator_before_each_page(report_pdf: Path) -> None:
    markdown = markdown_of(report_pdf, {"paginate": True}, page_range="1-2")
    assert markdown.startswith(f"\n\n{{1}}{SEPARATOR}\n\n# Findings\n\n")
    assert f"Second page closing words.\n\n{{2}}{SEPARATOR}\n\n# Appendix" in markdown
    assert "{0}" not in markdown


def test_without_paginate_there_are_no_separators(report_pdf: Path) -> None:
    assert SEPARATOR not in markdown_of(report_pdf)


# --- output formats -------------------------------------------------------------------------


def test_result_has_the_hosted_result_keys(report_pdf: Path) -> None:
    result = convert(report_pdf).result
    assert result["status"] == "complete"
    assert result["success"] is True
    assert result["error"] is None
    assert result["images"] == {}
    assert result["output_format"] == "markdown"
    assert isinstance(result["runtime"], float)
    assert not {"html", "json", "chunks"} & result.keys()
    stats = result["metadata"]["page_stats"]
    assert [stat["page"] for stat in stats] == [0, 1, 2]
    assert stats[0]["text_extraction_method"] == "pdftext"
    assert dict(stats[0]["block_counts"]) == {"SectionHeader": 2, "Paragraph": 2}
    json.dumps(result)  # the payload is stored and served as JSON


def test_several_formats_in_one_run(report_pdf: Path) -> None:
    result = convert(report_pdf, {"output_format": "html"}, output_format="markdown, json").result
    assert result["output_format"] == "markdown,json"
    assert {"markdown", "json"} <= result.keys()
    assert "html" not in result


def test_html_uses_heading_and_paragraph_tags(report_pdf: Path) -> None:
    html = convert(report_pdf, {"output_format": "html"}).result["html"]
    assert "<h1>Annual Report</h1>" in html
    assert "<h2>Scope</h2>" in html
    assert f"<p>{LONG_PARAGRAPH}</p>" in html
    assert "data-block-id" not in html


def test_add_block_ids_marks_html_blocks(report_pdf: Path) -> None:
    html = convert(report_pdf, {"output_format": "html", "add_block_ids": True}).result["html"]
    assert '<h1 data-block-id="/page/0/SectionHeader/0">Annual Report</h1>' in html
    assert '<p data-block-id="/page/0/Paragraph/1">' in html


def test_json_is_a_document_page_block_tree(report_pdf: Path) -> None:
    tree = convert(report_pdf, output_format="json").result["json"]
    assert tree["block_type"] == "Document"
    pages = tree["children"]
    assert [page["id"] for page in pages] == ["/page/0/Page/0", "/page/1/Page/0", "/page/2/Page/0"]
    assert pages[0]["block_type"] == "Page"
    assert pages[0]["bbox"] == [0.0, 0.0, 612.0, 792.0]
    title = pages[0]["children"][0]
    assert title == {
        "id": "/page/0/SectionHeader/0",
        "block_type": "SectionHeader",
        "html": "<h1>Annual Report</h1>",
        "bbox": title["bbox"],
        "polygon": title["polygon"],
        "page": 0,
        "text": "Annual Report",
        "level": 1,
    }
    x0, y0, x1, y1 = title["bbox"]
    assert 70 < x0 < x1 < 612
    assert 0 < y0 < y1 < 150  # origin at the top left: the title is near the top


def test_chunks_are_flat_blocks(report_pdf: Path) -> None:
    chunks = convert(report_pdf, output_format="chunks").result["chunks"]["blocks"]
    assert {"id", "block_type", "page", "bbox", "html"} <= chunks[0].keys()
    assert "markdown" not in chunks[0]
    assert [chunk["page"] for chunk in chunks] == sorted(chunk["page"] for chunk in chunks)


def test_chunks_can_carry_markdown(report_pdf: Path) -> None:
    settings = {"output_format": "chunks", "include_markdown_in_chunks": True}
    chunks = convert(report_pdf, settings).result["chunks"]["blocks"]
    assert chunks[0]["markdown"] == "# Annual Report"


def test_block_ids_are_unique_and_name_their_page(report_pdf: Path) -> None:
    chunks = convert(report_pdf, output_format="chunks").result["chunks"]["blocks"]
    ids = [chunk["id"] for chunk in chunks]
    assert len(ids) == len(set(ids))
    for chunk in chunks:
        match = BLOCK_ID.match(chunk["id"])
        assert match is not None, chunk["id"]
        assert int(match[1]) == chunk["page"]
        assert match[2] == chunk["block_type"]


# --- checkpoint and process boundary --------------------------------------------------------


def test_checkpoint_round_trips_to_the_same_document(report_pdf: Path) -> None:
    output = convert(report_pdf, output_format="json")
    assert output.checkpoint is not None
    document = Document.from_json_bytes(output.checkpoint)
    assert document.page_count == 3
    assert document.pages == [0, 1, 2]
    assert Document.from_json_bytes(document.to_json_bytes()) == document
    tree_ids = [b["id"] for page in output.result["json"]["children"] for b in page["children"]]
    assert [block.block_id for block in document.blocks] == tree_ids
    assert document.blocks[0].text == "Annual Report"
    assert document.blocks[0].level == 1


@pytest.mark.parametrize("data", [b"", b"not json", b'{"format": "other"}', b"[1, 2]"])
def test_unreadable_checkpoint_is_a_processing_error(data: bytes) -> None:
    with pytest.raises(ProcessingError, match="checkpoint"):
        Document.from_json_bytes(data)


def test_processor_pickles() -> None:
    processor = pickle.loads(pickle.dumps(ConvertProcessor()))  # noqa: S301 - our own bytes
    assert isinstance(processor, ConvertProcessor)
    assert (processor.step_type, processor.version, processor.cpu_heavy) == (
        "convert",
        "convert-8",
        True,
    )


def test_run_works_in_a_child_process(tmp_path: Path) -> None:
    pdf = make_large_pdf(tmp_path / "large.pdf", 3)
    job = ProcessorInput(document=pdf, filename="large.pdf", settings={})
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        output = pool.submit(ConvertProcessor().run, job).result(timeout=120)
    assert output.page_count == 3
    assert output.result["markdown"].startswith("# Generated Report\n\n## Section 1\n\n")


# --- documents that cannot be converted -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("memo.rtf", b"{\\rtf1\\ansi hello}", "RTF document"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "legacy Office"),
        ("blob.bin", bytes(range(128, 256)) * 4, "unrecognised binary"),
    ],
)
def test_non_pdf_input_is_unsupported(tmp_path: Path, name: str, data: bytes, kind: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ProcessingError, match="Unsupported document type") as caught:
        convert(path)
    assert kind in caught.value.message
    assert "this server converts: pdf" in caught.value.message
    assert caught.value.retryable is False


def test_a_zip_named_pdf_is_judged_by_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"  # the name lies; the bytes decide
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "not an office document")
    with pytest.raises(ProcessingError, match=r"ZIP archive that is not DOCX"):
        convert(path)


def test_zero_byte_file_is_a_processing_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(ProcessingError, match="empty"):
        convert(path)


def test_truncated_pdf_is_a_processing_error(tmp_path: Path, report_pdf: Path) -> None:
    data = report_pdf.read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ProcessingError, match="corrupt or truncated") as caught:
        convert(path)
    assert caught.value.retryable is False


def test_corrupt_pdf_is_a_processing_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    with pytest.raises(ProcessingError, match="corrupt or truncated"):
        convert(path)


def test_encrypted_pdf_is_a_processing_error(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "secret.pdf", [[("p", "Top secret.")]], password="hunter2")
    with pytest.raises(ProcessingError, match="encrypted") as caught:
        convert(pdf)
    assert caught.value.retryable is False


def test_pdf_header_after_leading_junk_is_accepted(tmp_path: Path, report_pdf: Path) -> None:
    path = tmp_path / "prefixed.pdf"
    path.write_bytes(b"\n" * 100 + report_pdf.read_bytes())
    assert "# Annual Report" in markdown_of(path)


# --- settings -------------------------------------------------------------------------------


def test_empty_page_range_means_all_pages(report_pdf: Path) -> None:
    assert convert(report_pdf, {"page_range": ""}, page_range=" ").page_count == 3


def test_hosted_settings_are_accepted() -> None:
    ConvertProcessor().check_settings(
        {
            "mode": "balanced",
            "output_format": "markdown,chunks",
            "paginate": True,
            "add_block_ids": False,
            "include_markdown_in_chunks": True,
            "include_headers_footers": True,
            "include_images": True,
            "page_range": "0,2-4",
            "max_pages": 10,
        }
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"output_format": "pdf"},
        {"output_format": "markdown,docx"},
        {"output_format": ""},
        {"output_format": ["markdown"]},
        {"mode": "turbo"},
        {"paginate": "yes"},
        {"add_block_ids": 1},
        {"include_headers_footers": "false"},
        {"page_range": "a-b"},
        {"page_range": "4-2"},
        {"page_range": 3},
        {"max_pages": 0},
        {"max_pages": True},
        {"max_pages": "5"},
    ],
)
def test_bad_settings_are_invalid_input(settings: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        ConvertProcessor().check_settings(settings)


def test_bad_run_level_output_format_fails_the_run(report_pdf: Path) -> None:
    with pytest.raises(ProcessingError, match="Unknown output_format"):
        convert(report_pdf, output_format="docx")


# --- parser contract: modes, metadata, errors -------------------------------------------------


def test_text_pdf_metadata_names_no_ocr_pages(report_pdf: Path) -> None:
    document = Document.from_json_bytes(convert(report_pdf).checkpoint or b"")
    assert document.metadata["ocr_pages"] == []
    assert document.metadata["mode"] == "fast"
    assert document.metadata["body_font_size"] == 10.5


@pytest.mark.parametrize(
    ("chars", "bad", "coverage", "paths", "expected"),
    [
        # (visible chars, unmapped chars, image coverage, paths) → OCR in fast/balanced/accurate
        (0, 0, 0.95, 0, (True, True, True)),  # a scan
        (0, 0, 0.0, 0, (False, False, False)),  # a blank page
        (3, 0, 0.05, 0, (False, False, True)),  # a small logo and a page number
        (0, 0, 0.0, 40, (False, False, True)),  # text drawn as outlines
        (900, 600, 0.0, 0, (False, True, True)),  # a font without a Unicode map
        (900, 10, 0.9, 0, (False, False, False)),  # text over a background image
    ],
)
def test_which_pages_need_ocr_in_each_mode(
    chars: int, bad: int, coverage: float, paths: int, expected: tuple[bool, bool, bool]
) -> None:
    from pagemill.processors.convert.pdf.objects import PageObjects
    from pagemill.processors.convert.pdf.parse import _needs_ocr
    from pagemill.processors.convert.pdf.textlayer import PageText

    text = PageText(page=0, width=612, height=792, lines=[], chars=chars, bad_chars=bad)
    objects = PageObjects(image_coverage=coverage, paths=paths)
    modes = ("fast", "balanced", "accurate")
    assert tuple(_needs_ocr(text, objects, mode) for mode in modes) == expected


def test_unexpected_failures_inside_the_parser_are_processing_errors(
    report_pdf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pagemill.processors.convert.pdf import parse as pdf

    def broken(*args: object, **kwargs: object) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setattr(pdf, "reading_order", broken)
    with pytest.raises(ProcessingError, match="IndexError") as caught:
        convert(report_pdf)
    assert caught.value.retryable is False


def test_parser_turns_a_bad_range_into_a_processing_error(report_pdf: Path) -> None:
    from pagemill.processors.convert.formats import ParseRequest
    from pagemill.processors.convert.pdf.parse import parse

    with pytest.raises(ProcessingError, match="selects no page"):
        parse(ParseRequest(path=report_pdf, filename="report.pdf", page_range="9"))
