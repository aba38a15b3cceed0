"""Reading order, running furniture, ruled tables and pictures on generated PDFs."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from docgen.pdfgen import filler_paragraph, make_large_pdf, make_pdf
from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.layout.columns import find_columns
from pagemill.processors.convert.layout.lines import Line, split_at_gaps
from pagemill.processors.convert.pdf.parse import parse
from pagemill.processors.convert.render import RenderOptions, render_markdown
from pagemill.processors.document import Document

PARAGRAPHS = [f"P{i:02d} " + filler_paragraph(i, 40) for i in range(1, 9)]
TWO_COLUMN_PAGE = [
    ("h1", "Two Column Title"),
    *(("p", text) for text in PARAGRAPHS[:4]),
    ("colbreak", ""),
    *(("p", text) for text in PARAGRAPHS[4:]),
]
HEADER = "Pagemill Quarterly Review"
FOOTER = "Page {page} of {pages}"
TABLE = "Year | Volume (ML) | Share\n2020 | 10 | 0.5\n2021 | 12 | 0.6\n2022 | 15 | 0.7"


def parse_pdf(path: Path, **options: object) -> Document:
    return parse(ParseRequest(path=path, filename=path.name, **options))  # type: ignore[arg-type]


def markdown(document: Document, *, paginate: bool = False) -> str:
    return render_markdown(document, RenderOptions(paginate=paginate))


def assert_in_order(text: str, parts: list[str]) -> None:
    positions = [text.find(part) for part in parts]
    assert -1 not in positions, [p for p, at in zip(parts, positions, strict=True) if at < 0]
    assert positions == sorted(positions)


# --- columns ----------------------------------------------------------------------------------


@pytest.mark.parametrize("row_major", [False, True], ids=["column-stream", "row-major-stream"])
def test_two_columns_read_left_column_then_right(tmp_path: Path, row_major: bool) -> None:
    pdf = make_pdf(tmp_path / "twocol.pdf", [TWO_COLUMN_PAGE], columns=2, row_major=row_major)
    document = parse_pdf(pdf)
    blocks = [block.text for block in document.blocks]
    # Every paragraph intact, in order, with the spanning title first.
    assert blocks == ["Two Column Title", *PARAGRAPHS]
    assert document.blocks[0].type == "heading"


def test_row_major_stream_really_interleaves_the_columns(tmp_path: Path) -> None:
    # The generator's claim, checked on the raw text layer: without our layout the columns mix.
    import pypdfium2 as pdfium

    pdf = make_pdf(tmp_path / "rm.pdf", [TWO_COLUMN_PAGE], columns=2, row_major=True)
    document = pdfium.PdfDocument(str(pdf))
    raw = document[0].get_textpage().get_text_range()
    document.close()
    assert raw.index("P05") < raw.index("P02")


def test_three_columns_and_a_title_in_the_middle(tmp_path: Path) -> None:
    short = [f"C{i} " + filler_paragraph(i, 18) for i in range(1, 7)]
    page = [
        ("h1", "First Band"),
        ("p", short[0]),
        ("colbreak", ""),
        ("p", short[1]),
        ("colbreak", ""),
        ("p", short[2]),
        ("h1", "Second Band"),
        ("p", short[3]),
        ("colbreak", ""),
        ("p", short[4]),
        ("colbreak", ""),
        ("p", short[5]),
    ]
    for row_major in (False, True):
        pdf = make_pdf(tmp_path / f"three{row_major}.pdf", [page], columns=3, row_major=row_major)
        texts = [block.text for block in parse_pdf(pdf).blocks]
        assert texts == ["First Band", *short[:3], "Second Band", *short[3:]]


def test_headings_and_lists_inside_columns_keep_their_order(tmp_path: Path) -> None:
    page = [
        ("h1", "Paper Title"),
        ("h2", "Introduction"),
        ("p", filler_paragraph(1, 50)),
        ("h3", "Background"),
        ("p", filler_paragraph(2, 40)),
        ("li", "First point here"),
        ("li", "Second point " + filler_paragraph(5, 12)),
        ("colbreak", ""),
        ("h2", "Methods"),
        ("p", filler_paragraph(3, 60)),
        ("h3", "Data"),  # on the baseline of a left-column line: drawn first in row-major order
        ("p", filler_paragraph(4, 70)),
    ]
    expected = [
        ("heading", "Paper Title"),
        ("heading", "Introduction"),
        ("paragraph", filler_paragraph(1, 50)),
        ("heading", "Background"),
        ("paragraph", filler_paragraph(2, 40)),
        ("list_item", "First point here"),
        ("list_item", "Second point " + filler_paragraph(5, 12)),
        ("heading", "Methods"),
        ("paragraph", filler_paragraph(3, 60)),
        ("heading", "Data"),
        ("paragraph", filler_paragraph(4, 70)),
    ]
    for row_major in (False, True):
        pdf = make_pdf(tmp_path / f"paper{row_major}.pdf", [page], columns=2, row_major=row_major)
        assert [(block.type, block.text) for block in parse_pdf(pdf).blocks] == expected


def test_a_paragraph_cut_by_the_column_end_is_joined(tmp_path: Path) -> None:
    long = "L01 " + filler_paragraph(3, 400)
    pdf = make_pdf(tmp_path / "flow.pdf", [[("p", long)]], columns=2, row_major=True)
    assert [block.text for block in parse_pdf(pdf).blocks] == [long]


def test_single_column_page_finds_no_columns(tmp_path: Path) -> None:
    pdf = make_large_pdf(tmp_path / "one.pdf", 1)
    output = markdown(parse_pdf(pdf))
    assert output.startswith("# Generated Report\n\n## Section 1\n\nLedger")


def _line(x0: float, x1: float, y: float, text: str = "x" * 30) -> Line:
    return Line(text=text, bbox=(x0, y, x1, y + 10), size=10.0, bold=False, chars=len(text))


def test_find_columns_needs_prose_on_both_sides_of_a_gutter() -> None:
    two = [_line(72, 290, y) for y in range(100, 200, 12)] + [
        _line(318, 540, y) for y in range(100, 200, 12)
    ]
    assert find_columns(two) == [(72, 290), (318, 540)]
    # Short cells of an unruled table are not columns of prose.
    cells = [_line(72, 100, y, "12") for y in range(100, 200, 12)] + [
        _line(318, 340, y, "7") for y in range(100, 200, 12)
    ]
    assert find_columns(cells) is None
    # A lone right-aligned line does not make a column either.
    assert find_columns([*two[:9], _line(500, 540, 300)]) is None


def test_split_at_gaps_keeps_a_bullet_with_its_text() -> None:
    bullet = Line("• ", (72, 100, 76, 110), 10.0, False, 1)
    text = Line("Apples", (86, 100, 120, 110), 10.0, False, 6)
    far = Line("Pears", (318, 100, 350, 110), 10.0, False, 5)
    lines = split_at_gaps([bullet, text, far])
    assert [line.text for line in lines] == ["• Apples", "Pears"]


# --- running headers and footers -------------------------------------------------------------


@pytest.fixture(scope="module")
def furnished_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("furniture") / "furnished.pdf"
    pages = [[("h2", f"Chapter {n}"), ("p", filler_paragraph(n, 60))] for n in range(4)]
    return make_pdf(path, pages, header=HEADER, footer=FOOTER)


def test_running_headers_and_page_numbers_are_removed(furnished_pdf: Path) -> None:
    document = parse_pdf(furnished_pdf)
    text = markdown(document)
    assert HEADER not in text
    assert "Page 1 of 4" not in text
    assert "Page 4 of 4" not in text
    assert [b.text for b in document.blocks if b.type == "heading"] == [
        f"Chapter {n}" for n in range(4)
    ]


def test_include_headers_footers_keeps_them_as_furniture_blocks(furnished_pdf: Path) -> None:
    document = parse_pdf(furnished_pdf, include_headers_footers=True)
    for page in range(4):
        blocks = document.blocks_on(page)
        assert (blocks[0].type, blocks[0].text) == ("page_header", HEADER)
        assert (blocks[-1].type, blocks[-1].text) == ("page_footer", f"Page {page + 1} of 4")
        assert blocks[0].block_id == f"/page/{page}/PageHeader/0"


def test_bare_page_numbers_are_footers(tmp_path: Path) -> None:
    pages = [[("p", filler_paragraph(n, 30))] for n in range(3)]
    pdf = make_pdf(tmp_path / "numbers.pdf", pages, footer="{page}")
    document = parse_pdf(pdf)
    assert all(block.text not in {"1", "2", "3"} for block in document.blocks)
    assert len(document.blocks) == 3


def test_one_page_is_not_evidence_of_furniture(furnished_pdf: Path) -> None:
    document = parse_pdf(furnished_pdf, page_range="2")
    assert HEADER in markdown(document)


# --- tables and pictures ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def table_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pages = [
        [
            ("h2", "Results"),
            ("p", "Before the table."),
            ("table", TABLE),
            ("p", "After the table."),
            ("image", "120x80"),
            ("image", "10x10"),  # 20 px: an icon, ignored
        ],
        [("p", "A page without rulings."), ("grid", "Name | Qty\nApples | 3")],
    ]
    return make_pdf(tmp_path_factory.mktemp("tables") / "table.pdf", pages)


def test_ruled_table_becomes_one_table_block_with_its_cells(table_pdf: Path) -> None:
    document = parse_pdf(table_pdf, page_range="0")
    assert [block.type for block in document.blocks] == [
        "heading",
        "paragraph",
        "table",
        "paragraph",
    ]
    table = document.blocks[2]
    assert table.rows == (
        ("Year", "Volume (ML)", "Share"),
        ("2020", "10", "0.5"),
        ("2021", "12", "0.6"),
        ("2022", "15", "0.7"),
    )
    assert (
        "Before the table.\n\n| Year | Volume (ML) | Share |\n|---|---|---|\n"
        "| 2020 | 10 | 0.5 |\n| 2021 | 12 | 0.6 |\n| 2022 | 15 | 0.7 |\n\nAfter the table."
    ) in markdown(document)
    assert table.block_id == "/page/0/Table/2"


def test_text_without_rulings_is_not_a_table(table_pdf: Path) -> None:
    document = parse_pdf(table_pdf, page_range="1")
    assert "table" not in {block.type for block in document.blocks}
    assert_in_order(markdown(document), ["A page without rulings.", "Name", "Qty", "Apples", "3"])


def test_include_images_adds_picture_blocks(table_pdf: Path) -> None:
    assert not parse_pdf(table_pdf).images
    document = parse_pdf(table_pdf, include_images=True, page_range="0")
    pictures = [block for block in document.blocks if block.type == "picture"]
    assert [picture.image for picture in pictures] == ["page_0_picture_0.png"]
    assert document.blocks[-1] == pictures[0]  # drawn below the last paragraph
    image = Image.open(io.BytesIO(base64.b64decode(document.images["page_0_picture_0.png"])))
    assert (image.format, image.size) == ("PNG", (240, 160))
    x0, y0, x1, y1 = pictures[0].bbox
    assert (round(x1 - x0), round(y1 - y0)) == (120, 80)
    assert "![](page_0_picture_0.png)" in markdown(document)
