"""DOCX, PPTX and XLSX parsers on generated files, and the zip guards they share."""

from __future__ import annotations

import base64
import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest

from docgen.officegen import (
    Image,
    Table,
    billion_laughs,
    make_docx,
    make_pptx,
    make_xlsx,
    replace_member,
    tiny_png,
    zip_with,
)
from pagemill.domain.errors import ProcessingError
from pagemill.ports.processing import ProcessorInput
from pagemill.processors.convert.formats import ParseRequest, detect_format
from pagemill.processors.convert.office import docx as docx_parser
from pagemill.processors.convert.office import pptx as pptx_parser
from pagemill.processors.convert.office import safety as office_safety
from pagemill.processors.convert.office import xlsx as xlsx_parser
from pagemill.processors.convert.processor import ConvertProcessor
from pagemill.processors.convert.render import RenderOptions, render
from pagemill.processors.convert.web import epub as epub_parser
from pagemill.processors.convert.web import html as html_parser
from pagemill.processors.document import Document

PRICES = Table([["Fruit", "Price"], ["Apple", "3"], ["Pear", "5"]])
MERGED = Table(
    [["A", "B", "C"], ["wide", "", "tall"], ["m", "n", ""]], merges=[(1, 0, 1, 1), (1, 2, 2, 2)]
)
REPORT = [
    [
        ("title", "Annual Report"),
        ("p", "Opening words."),
        ("h1", "Scope"),
        ("li", "Apples"),
        ("li", "Pears"),
        ("ol", "First step"),
        ("ol", "Second step"),
        ("table", PRICES),
    ],
    [("h2", "Findings"), ("h3", "Detail"), ("p", "Second page text."), ("table", MERGED)],
    [("h6", "Deep heading"), ("p", "Third page text."), ("image", Image("A red square"))],
]
SEPARATOR = "-" * 48


def parse_with(parser: Any, path: Path, **options: Any) -> Document:
    document: Document = parser.parse(ParseRequest(path=path, filename=path.name, **options))
    return document


def summary(document: Document) -> list[tuple[int, str, str, int | None]]:
    return [(b.page, b.type, b.text, b.level) for b in document.blocks if b.type != "table"]


def markdown(document: Document, *, paginate: bool = False) -> str:
    text = render(document, ["markdown"], RenderOptions(paginate=paginate))["markdown"]
    assert isinstance(text, str)
    return text


def convert(path: Path, filename: str | None = None, **settings: Any) -> dict[str, Any]:
    job = ProcessorInput(document=path, filename=filename or path.name, settings=settings)
    return ConvertProcessor().run(job).result


@pytest.fixture(scope="module")
def report_docx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_docx(tmp_path_factory.mktemp("docx") / "report.docx", REPORT)


# --- DOCX -------------------------------------------------------------------------------------


def test_docx_blocks_in_body_order_with_levels_lists_and_pages(report_docx: Path) -> None:
    document = parse_with(docx_parser, report_docx)
    assert summary(document) == [
        (0, "heading", "Annual Report", 1),
        (0, "paragraph", "Opening words.", None),
        (0, "heading", "Scope", 1),
        (0, "list_item", "Apples", None),
        (0, "list_item", "Pears", None),
        (0, "list_item", "1. First step", None),
        (0, "list_item", "2. Second step", None),
        (1, "heading", "Findings", 2),
        (1, "heading", "Detail", 3),
        (1, "paragraph", "Second page text.", None),
        (2, "heading", "Deep heading", 4),  # Heading 6, capped at 4
        (2, "paragraph", "Third page text.", None),
    ]
    assert (document.page_count, document.pages) == (3, [0, 1, 2])
    assert [b.block_id for b in document.blocks if b.page == 1] == [
        "/page/1/SectionHeader/0",
        "/page/1/SectionHeader/1",
        "/page/1/Paragraph/2",
        "/page/1/Table/3",
    ]
    assert {b.bbox for b in document.blocks} == {(0.0, 0.0, 0.0, 0.0)}


def test_docx_tables_keep_cells_and_merged_text_in_the_first_cell(report_docx: Path) -> None:
    tables = [b for b in parse_with(docx_parser, report_docx).blocks if b.type == "table"]
    assert [t.rows for t in tables] == [
        (("Fruit", "Price"), ("Apple", "3"), ("Pear", "5")),
        (("A", "B", "C"), ("wide", "", "tall"), ("m", "n", "")),
    ]
    assert tables[0].text == "Fruit | Price\nApple | 3\nPear | 5"


def test_docx_markdown(report_docx: Path) -> None:
    document = parse_with(docx_parser, report_docx, page_range="0")
    assert markdown(document) == (
        "# Annual Report\n\nOpening words.\n\n# Scope\n\n- Apples\n- Pears\n1. First step\n"
        "2. Second step\n\n| Fruit | Price |\n|---|---|\n| Apple | 3 |\n| Pear | 5 |"
    )


def test_docx_page_range_selects_explicit_pages(report_docx: Path) -> None:
    document = parse_with(docx_parser, report_docx, page_range="1-2")
    assert document.pages == [1, 2]
    assert document.page_count == 3
    assert {b.page for b in document.blocks} == {1, 2}
    assert markdown(document, paginate=True).startswith(f"\n\n{{1}}{SEPARATOR}\n\n## Findings")
    assert parse_with(docx_parser, report_docx, max_pages=1).pages == [0]


def test_docx_page_break_before_splits_pages_too(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "before.docx", REPORT, break_before=True)
    assert summary(parse_with(docx_parser, path)) == summary(
        parse_with(docx_parser, make_docx(tmp_path / "runs.docx", REPORT))
    )


def test_docx_without_breaks_is_one_page(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "flat.docx", [[("h1", "Only"), ("p", "One page.")]])
    document = parse_with(docx_parser, path)
    assert (document.page_count, document.pages) == (1, [0])
    with pytest.raises(ProcessingError, match="selects no page"):
        parse_with(docx_parser, path, page_range="1")


def test_docx_pictures_only_with_include_images(report_docx: Path) -> None:
    assert not [b for b in parse_with(docx_parser, report_docx).blocks if b.type == "picture"]
    document = parse_with(docx_parser, report_docx, include_images=True)
    pictures = [b for b in document.blocks if b.type == "picture"]
    assert [(p.page, p.text, p.image) for p in pictures] == [
        (2, "A red square", "page_2_picture_0.png")
    ]
    assert base64.b64decode(document.images["page_2_picture_0.png"]) == tiny_png()
    assert parse_with(docx_parser, report_docx, include_images=True, page_range="0").images == {}


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def test_docx_body_xml_walk(tmp_path: Path) -> None:
    """Tracked changes, content controls, mid-paragraph page and section breaks, raw spans."""
    body = (
        "<w:p><w:r><w:t>Kept </w:t></w:r><w:del><w:r><w:delText>deleted</w:delText></w:r></w:del>"
        "<w:ins><w:r><w:t>inserted</w:t></w:r></w:ins><w:hyperlink><w:r><w:t> link</w:t></w:r>"
        "</w:hyperlink></w:p>"
        "<w:sdt><w:sdtContent><w:p><w:r><w:t>In a control</w:t></w:r></w:p></w:sdtContent></w:sdt>"
        "<w:p><w:r><w:t>Before</w:t><w:br w:type='page'/><w:t>after</w:t></w:r></w:p>"
        "<w:p><w:pPr><w:outlineLvl w:val='1'/><w:sectPr/></w:pPr>"
        "<w:r><w:t>Outlined</w:t></w:r></w:p>"
        "<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val='2'/></w:tcPr><w:p><w:r><w:t>span</w:t>"
        "</w:r></w:p></w:tc><w:tc><w:tcPr><w:vMerge w:val='restart'/></w:tcPr><w:p><w:r>"
        "<w:t>down</w:t></w:r></w:p></w:tc></w:tr><w:tr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p>"
        "</w:tc><w:tc><w:p><w:r><w:t>b</w:t></w:r></w:p></w:tc><w:tc><w:tcPr><w:vMerge/>"
        "</w:tcPr><w:p/></w:tc></w:tr></w:tbl>"
    )
    xml = f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    source = make_docx(tmp_path / "base.docx", [[("p", "placeholder")]])
    path = replace_member(source, tmp_path / "walk.docx", "word/document.xml", xml.encode())
    document = parse_with(docx_parser, path)
    assert summary(document) == [
        (0, "paragraph", "Kept inserted link", None),
        (0, "paragraph", "In a control", None),
        (0, "paragraph", "Before", None),
        (1, "paragraph", "after", None),
        (1, "heading", "Outlined", 2),
    ]
    tables = [b for b in document.blocks if b.type == "table"]
    assert tables[0].page == 2  # the section break ended page 1
    assert tables[0].rows == (("span", "", "down"), ("a", "b", ""))
    assert document.page_count == 3


def test_docx_custom_styles_inherit_heading_and_list_properties(tmp_path: Path) -> None:
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    word = docx.Document()
    chapter = word.styles.add_style("Chapter", WD_STYLE_TYPE.PARAGRAPH)
    chapter.base_style = word.styles["Heading 2"]
    bullets = word.styles.add_style("My Bullets", WD_STYLE_TYPE.PARAGRAPH)
    bullets.base_style = word.styles["List Bullet"]
    word.add_paragraph("Custom chapter", style="Chapter")
    word.add_paragraph("Custom bullet", style="My Bullets")
    word.save(str(tmp_path / "styles.docx"))
    assert summary(parse_with(docx_parser, tmp_path / "styles.docx")) == [
        (0, "heading", "Custom chapter", 2),
        (0, "list_item", "Custom bullet", None),
    ]


# --- PPTX -------------------------------------------------------------------------------------

DECK = [
    [("title", "Quarterly Review"), ("h2", "Prepared by the team")],
    [
        ("h1", "Agenda"),
        ("li", "Results"),
        ("li", "Plans"),
        ("p", "A plain remark."),
        ("ol", "Open"),
        ("ol", "Close"),
    ],
    [("h1", "Numbers"), ("table", MERGED), ("image", Image("Logo"))],
]


@pytest.fixture(scope="module")
def deck_pptx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pptx") / "deck.pptx"
    return make_pptx(path, DECK, notes="Secret speaker notes")


def test_pptx_one_page_per_slide_with_titles_lists_and_order(deck_pptx: Path) -> None:
    document = parse_with(pptx_parser, deck_pptx)
    assert summary(document) == [
        (0, "heading", "Quarterly Review", 1),
        (0, "heading", "Prepared by the team", 2),
        (1, "heading", "Agenda", 1),
        (1, "list_item", "Results", None),  # body placeholder: bulleted by the master
        (1, "list_item", "Plans", None),
        (1, "paragraph", "A plain remark.", None),  # text box, level 0, no bullet
        (1, "list_item", "1. Open", None),
        (1, "list_item", "2. Close", None),
        (2, "heading", "Numbers", 1),
    ]
    assert (document.page_count, document.pages) == (3, [0, 1, 2])
    tables = [b for b in document.blocks if b.type == "table"]
    assert tables[0].rows == (("A", "B", "C"), ("wide", "", "tall"), ("m", "n", ""))
    assert "Secret speaker notes" not in markdown(document)


def test_pptx_blocks_carry_shape_boxes_in_points(deck_pptx: Path) -> None:
    document = parse_with(pptx_parser, deck_pptx)
    assert document.page_size(1) == (720.0, 540.0)  # the default 10 x 7.5 inch slide
    for block in document.blocks:
        x0, y0, x1, y1 = block.bbox
        assert 0 <= x0 < x1 <= 720 and 0 <= y0 < y1 <= 540, block


def test_pptx_page_range_markdown_and_pictures(deck_pptx: Path) -> None:
    document = parse_with(pptx_parser, deck_pptx, page_range="2", include_images=True)
    assert document.pages == [2]
    assert markdown(document) == (
        "# Numbers\n\n| A | B | C |\n|---|---|---|\n| wide |  | tall |\n| m | n |  |"
        "\n\n![Logo](page_2_picture_0.png)"
    )
    assert base64.b64decode(document.images["page_2_picture_0.png"]) == tiny_png()


def test_pptx_reading_order_follows_position_not_z_order(tmp_path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])  # blank
    for text, top, left in [("Bottom", 5, 1), ("Top right", 1, 5), ("Top left", 1, 1)]:
        box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(3), Inches(1))
        box.text_frame.text = text
    deck.save(str(tmp_path / "order.pptx"))
    texts = [b.text for b in parse_with(pptx_parser, tmp_path / "order.pptx").blocks]
    assert texts == ["Top left", "Top right", "Bottom"]


# --- XLSX -------------------------------------------------------------------------------------

SHEETS: list[tuple[str, list[list[Any]]]] = [
    (
        "Sales",
        [
            ["Region", "Units", "Share", "Since", "Active"],
            ["North", 12, 0.1 + 0.2, dt.datetime(2024, 5, 1), True],
            ["South", 7, 1.5, dt.datetime(2024, 5, 1, 9, 30), False],
        ],
    ),
    ("Notes", [["Only a note"]]),
    ("Empty", []),
]


@pytest.fixture(scope="module")
def book_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_xlsx(tmp_path_factory.mktemp("xlsx") / "book.xlsx", SHEETS, origin="C4")


def test_xlsx_one_page_per_sheet_with_trimmed_used_range(book_xlsx: Path) -> None:
    document = parse_with(xlsx_parser, book_xlsx)
    assert summary(document) == [
        (0, "heading", "Sales", 1),
        (1, "heading", "Notes", 1),
        (2, "heading", "Empty", 1),
    ]
    tables = [b for b in document.blocks if b.type == "table"]
    assert [t.rows for t in tables] == [
        (
            ("Region", "Units", "Share", "Since", "Active"),
            ("North", "12", "0.3", "2024-05-01", "TRUE"),
            ("South", "7", "1.5", "2024-05-01 09:30:00", "FALSE"),
        ),
        (("Only a note",),),
    ]
    assert [t.block_id for t in tables] == ["/page/0/Table/1", "/page/1/Table/1"]
    assert document.metadata["sheet_names"] == ["Sales", "Notes", "Empty"]
    assert "truncated" not in document.metadata


def test_xlsx_page_range_selects_sheets_and_renders(book_xlsx: Path) -> None:
    document = parse_with(xlsx_parser, book_xlsx, page_range="1")
    assert (document.page_count, document.pages) == (3, [1])
    assert markdown(document) == "# Notes\n\n| Only a note |\n|---|"


def test_xlsx_caps_rows_and_columns_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_parser, "MAX_ROWS", 4)
    monkeypatch.setattr(xlsx_parser, "MAX_COLUMNS", 3)
    rows = [[f"r{r}c{c}" for c in range(5)] for r in range(10)]
    document = parse_with(xlsx_parser, make_xlsx(tmp_path / "big.xlsx", [("Big", rows)]))
    table = next(b for b in document.blocks if b.type == "table")
    assert table.rows == tuple(tuple(f"r{r}c{c}" for c in range(3)) for r in range(4))
    assert document.metadata["truncated"] == {
        "Big": {"rows_kept": 4, "columns_kept": 3, "more_rows": True, "more_columns": True}
    }


# --- the whole convert step -------------------------------------------------------------------


def test_convert_processor_runs_each_office_format(
    report_docx: Path, deck_pptx: Path, book_xlsx: Path
) -> None:
    for path, expected in [
        (report_docx, "# Annual Report"),
        (deck_pptx, "# Quarterly Review"),
        (book_xlsx, "| Region | Units | Share | Since | Active |"),
    ]:
        result = convert(path, paginate=True, output_format="markdown,json")
        assert expected in result["markdown"]
        assert result["page_count"] == 3
        assert [page["page"] for page in result["json"]["children"]] == [0, 1, 2]


def test_docx_named_pdf_is_still_detected_as_docx(report_docx: Path, tmp_path: Path) -> None:
    disguised = tmp_path / "report.pdf"
    disguised.write_bytes(report_docx.read_bytes())
    assert detect_format(disguised) == "docx"
    assert "# Annual Report" in convert(disguised, filename="report.pdf")["markdown"]


# --- hostile and damaged files ----------------------------------------------------------------

ZIP_PARSERS = [docx_parser, pptx_parser, xlsx_parser, epub_parser]


def refused(parser: Any, path: Path, match: str) -> ProcessingError:
    with pytest.raises(ProcessingError, match=match) as caught:
        parse_with(parser, path)
    assert caught.value.retryable is False
    return caught.value


def test_zip_bomb_member_is_refused(report_docx: Path, tmp_path: Path) -> None:
    bomb = b"\0" * (8 * 1024 * 1024)  # 8 MiB of zeros deflates about 1000:1
    path = replace_member(report_docx, tmp_path / "bomb.docx", "word/media/bomb.bin", bomb)
    refused(docx_parser, path, "zip bomb")


def test_size_caps_are_enforced(
    report_docx: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        office_safety, "DEFAULT_LIMITS", office_safety.ZipLimits(max_member_bytes=1000)
    )
    refused(docx_parser, report_docx, "unpacks to .* bytes; the limit is 1000")
    limits = office_safety.ZipLimits(max_total_bytes=10_000)
    monkeypatch.setattr(office_safety, "DEFAULT_LIMITS", limits)
    refused(docx_parser, report_docx, "file unpacks to .* the limit is 10000")


def test_too_many_members_are_refused(report_docx: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(report_docx) as archive:
        members = [(i.filename, archive.read(i)) for i in archive.infolist()]
    members += [(f"customXml/item{i}.bin", b"x") for i in range(10_000)]
    refused(docx_parser, zip_with(tmp_path / "many.docx", members), "zip members")


@pytest.mark.parametrize(
    ("parser", "member", "root"),
    [
        (docx_parser, "word/document.xml", "w:document"),
        (pptx_parser, "ppt/slides/slide1.xml", "p:sld"),
        (xlsx_parser, "xl/worksheets/sheet1.xml", "worksheet"),
        (docx_parser, "[Content_Types].xml", "Types"),
    ],
)
def test_entity_declarations_are_refused(
    parser: Any,
    member: str,
    root: str,
    report_docx: Path,
    deck_pptx: Path,
    book_xlsx: Path,
    tmp_path: Path,
) -> None:
    source = {docx_parser: report_docx, pptx_parser: deck_pptx, xlsx_parser: book_xlsx}[parser]
    target = tmp_path / f"laughs{source.suffix}"
    path = replace_member(source, target, member, billion_laughs(root).encode())
    refused(parser, path, "DOCTYPE")


@pytest.mark.parametrize(
    "xml",
    [
        # A comment first, to get past a check of the first bytes only.
        '<?xml version="1.0"?><!-- note --><!DOCTYPE x SYSTEM "a>b" [<!ENTITY e "e">]><x/>',
        # UTF-16 without a byte order mark, which lxml detects from "<?".
        billion_laughs("x").encode("utf-16-le"),
        billion_laughs("x").encode("utf-16"),
        # UTF-7 would spell "<!ENTITY" without a single "<".
        '<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE x+AD4-<x/>',
        "<!ENTITY e 'x'><x/>",
        # A DTD after a comment longer than one read of the scanner.
        f"<?xml version='1.0'?><!--{' ' * 70_000}--><!DOCTYPE x [<!ENTITY e 'e'>]><x/>",
    ],
)
def test_entity_scan_is_not_fooled(xml: str | bytes, report_docx: Path, tmp_path: Path) -> None:
    data = xml.encode() if isinstance(xml, str) else xml
    path = replace_member(report_docx, tmp_path / "sly.docx", "word/styles.xml", data)
    with pytest.raises(ProcessingError, match=r"refused|unsupported encoding"):
        parse_with(docx_parser, path)


def test_truncated_and_corrupt_zips_are_processing_errors(
    report_docx: Path, tmp_path: Path
) -> None:
    data = report_docx.read_bytes()
    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(data[: len(data) // 2])
    refused(docx_parser, truncated, "truncated or corrupt")
    scrambled = tmp_path / "scrambled.docx"
    scrambled.write_bytes(data[:200] + bytes(200) + data[400:])  # damages the first member
    refused(docx_parser, scrambled, "corrupt")


def test_missing_parts_are_processing_errors(tmp_path: Path) -> None:
    path = zip_with(tmp_path / "parts.docx", [("word/document.xml", b"<w:document/>")])
    refused(docx_parser, path, "DOCX document could not be read")


def test_password_protected_ooxml_is_named(tmp_path: Path) -> None:
    # Encrypted OOXML is an OLE compound file holding an "EncryptedPackage" stream.
    ole = tmp_path / "secret.docx"
    ole.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "EncryptedPackage".encode("utf-16-le")
    )
    refused(docx_parser, ole, "password-protected")
    legacy = tmp_path / "old.xlsx"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    refused(xlsx_parser, legacy, "legacy Office document")


JUNK = [b"", b"plain text, not a document", b"PK\x03\x04garbage", bytes(range(256)) * 8]


@pytest.mark.parametrize("parser", ZIP_PARSERS)
@pytest.mark.parametrize("content", JUNK)
def test_zip_parsers_raise_only_processing_errors(
    parser: Any, content: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(content)
    with pytest.raises(ProcessingError) as caught:
        parse_with(parser, path)
    assert caught.value.retryable is False


def test_html_parser_reads_any_bytes(tmp_path: Path) -> None:
    for content in JUNK:
        path = tmp_path / "junk.html"
        path.write_bytes(content)
        assert parse_with(html_parser, path).pages == [0]
