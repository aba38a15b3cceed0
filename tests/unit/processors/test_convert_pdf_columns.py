"""Column finding and reading order on pages that used to defeat it: short or wrapped titles over
columns, tables as wide as their column, wrapped bold headings, unruled tables with wrapped
cells."""

from __future__ import annotations

from pathlib import Path

from docgen.pdfgen import make_pdf
from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.layout.blocks import BodyStyle, heading_rule
from pagemill.processors.convert.layout.columns import column_reach, find_columns, reading_order
from pagemill.processors.convert.layout.lines import Atom, Line, group_column
from pagemill.processors.convert.pdf.parse import parse
from pagemill.processors.document import Block, Document

SENTENCE = "The survey team measured seasonal changes in demand across all inland routes"
BODY = BodyStyle(size=10.5, bold=False)


def prose(seed: int, sentences: int) -> str:
    """Plain sentences, several full stops per paragraph."""
    words = SENTENCE.split()
    out = []
    for index in range(sentences):
        shift = (seed * 5 + index * 3) % len(words)
        sentence = words[shift:] + words[:shift]
        out.append(" ".join([sentence[0].capitalize(), *sentence[1:]]) + ".")
    return " ".join(out)


def parse_pdf(path: Path) -> Document:
    return parse(ParseRequest(path=path, filename=path.name))


def texts(blocks: list[Block], kind: str) -> list[str]:
    return [block.text for block in blocks if block.type == kind]


def line(
    x0: float, x1: float, y: float, text: str = "x" * 30, *, size: float = 10.0, bold: bool = False
) -> Line:
    return Line(text=text, bbox=(x0, y, x1, y + size), size=size, bold=bold, chars=len(text))


# --- a short title crossing a gutter ---------------------------------------------------------


def test_a_heading_crossing_a_gutter_does_not_merge_two_columns() -> None:
    body = [line(x, x + 150, y) for x in (72, 246, 420) for y in range(130, 250, 13)]
    title = line(72, 300, 100, "Three Column Report", size=22.0, bold=True)  # crosses gutter 1
    assert find_columns([title, *body]) == [(72, 222), (246, 396), (420, 570)]
    # One regular line across the gutter (a centred affiliation, a caption line) does not merge
    # the columns; text that crosses it again and again does: then it is no gutter.
    plain = line(72, 300, 100, "Three Column Report that runs on")
    assert find_columns([plain, *body]) == [(72, 222), (246, 396), (420, 570)]
    crossing = [line(72, 300, y, "A line of prose across the gutter") for y in range(300, 360, 13)]
    assert find_columns([*crossing, *body]) == [(72, 396), (420, 570)]


def test_three_columns_under_a_short_title_keep_their_paragraphs(tmp_path: Path) -> None:
    paragraphs = [prose(1, 4), prose(3, 4), prose(5, 4)]
    page = [("h1", "Three Column Report"), ("p", paragraphs[0])]
    page += [("colbreak", ""), ("p", paragraphs[1]), ("colbreak", ""), ("p", paragraphs[2])]
    pdf = make_pdf(tmp_path / "short-title.pdf", [page], columns=3)
    blocks = parse_pdf(pdf).blocks
    assert [(block.type, block.text) for block in blocks] == [
        ("heading", "Three Column Report"),
        *(("paragraph", text) for text in paragraphs),
    ]


# --- a table as wide as its column -----------------------------------------------------------


def test_columns_reach_to_the_next_gutter() -> None:
    # Ragged text ends short of the column's measure; a table set in it reaches the measure.
    assert column_reach([(72, 210), (246, 385), (420, 555)]) == [
        (72, 240),
        (246, 414),
        (420, 588),
    ]
    # Never narrower than a column's own text.
    assert column_reach([(72, 290), (300, 540)]) == [(72, 294), (300, 542)]


def test_a_table_in_a_column_is_read_in_that_column(tmp_path: Path) -> None:
    table = "Site | Units | Share\nQuay | 292 | 24.3%\nPier | 945 | 42.3%"
    first, second, third = prose(2, 5), prose(3, 2), prose(5, 5)
    page = [("h1", "Harbour Freight Volumes in the North"), ("p", prose(1, 5)), ("p", first)]
    page += [("colbreak", ""), ("p", second), ("table", table), ("p", "After the table.")]
    page += [("colbreak", ""), ("p", third)]
    pdf = make_pdf(tmp_path / "table-in-column.pdf", [page], columns=3)
    document = parse_pdf(pdf)
    assert [block.type for block in document.blocks] == [
        "heading",
        "paragraph",
        "paragraph",
        "paragraph",
        "table",
        "paragraph",
        "paragraph",
    ]
    assert texts(document.blocks, "paragraph")[1:] == [first, second, "After the table.", third]


def test_a_picture_in_a_column_does_not_cut_the_page_into_bands() -> None:
    left = [line(72, 210, y, f"Left {y} " + "x" * 20 + ".") for y in range(100, 400, 14)]
    right = [line(246, 380, y, f"Right {y} " + "x" * 20 + ".") for y in range(100, 400, 14)]
    picture = Atom(bbox=(246, 410, 400, 500), type="picture")  # wider than the ragged text
    groups = reading_order([*left, *right], [picture])
    assert groups[-1] is picture
    assert [group[0].text for group in groups if isinstance(group, list)] == [
        left[0].text,
        right[0].text,
    ]


# --- a wrapped title -------------------------------------------------------------------------


def test_a_wrapped_title_over_two_columns_is_one_heading(tmp_path: Path) -> None:
    title = "Harbour Freight Volumes in the Northern District"  # "District" wraps alone
    paragraphs = [prose(1, 3), prose(2, 3), prose(3, 3), prose(4, 3)]
    page = [("h1", title), ("p", paragraphs[0]), ("p", paragraphs[1]), ("colbreak", "")]
    page += [("p", paragraphs[2]), ("p", paragraphs[3])]
    for row_major in (False, True):
        pdf = make_pdf(tmp_path / f"title{row_major}.pdf", [page], columns=2, row_major=row_major)
        blocks = parse_pdf(pdf).blocks
        assert [(block.type, block.level, block.text) for block in blocks] == [
            ("heading", 1, title),
            *(("paragraph", None, text) for text in paragraphs),
        ]


def test_column_text_under_a_spanning_line_stays_in_its_column() -> None:
    # Same style, right under a spanning line, but with text beside it: column text.
    spanning = line(72, 540, 100, "A spanning line of body text that runs across the page")
    left = [line(72, 290, 112 + 12 * i, f"Left {i} " + "x" * 20 + ".") for i in range(6)]
    right = [line(318, 540, 112 + 12 * i, f"Right {i} " + "x" * 20 + ".") for i in range(6)]
    groups = reading_order([spanning, *left, *right])
    assert [[ln.text for ln in group] for group in groups if isinstance(group, list)] == [
        [spanning.text],
        [ln.text for ln in left],
        [ln.text for ln in right],
    ]


# --- a bold heading wrapped in a narrow column -----------------------------------------------


def test_a_wrapped_bold_heading_at_body_size_is_a_heading() -> None:
    wrapped = [
        line(72, 200, 100, "Methods used for the", size=10.5, bold=True),
        line(72, 150, 114, "harbour counts", size=10.5, bold=True),
    ]
    assert heading_rule(wrapped, BODY) == "bold"
    sentence = [*wrapped[:1], line(72, 150, 114, "harbour counts.", size=10.5, bold=True)]
    assert heading_rule(sentence, BODY) is None  # a bold sentence is emphasis
    long = [line(72, 540, 100 + 14 * i, "x" * 50, size=10.5, bold=True) for i in range(3)]
    assert heading_rule(long, BODY) is None  # a bold paragraph is not a heading


def test_a_bold_heading_wrapped_in_a_narrow_column(tmp_path: Path) -> None:
    heading = "Methods used for the harbour counts"
    page = [("h1", "Harbour Freight Volumes in the North"), ("h2", "Background to the study")]
    page += [("p", prose(1, 4)), ("h3", heading), ("p", prose(2, 3)), ("colbreak", "")]
    page += [("p", prose(3, 5)), ("colbreak", ""), ("p", prose(5, 5))]
    pdf = make_pdf(tmp_path / "bold-heading.pdf", [page], columns=3)
    blocks = parse_pdf(pdf).blocks
    assert [(b.level, b.text) for b in blocks if b.type == "heading"] == [
        (1, "Harbour Freight Volumes in the North"),
        (2, "Background to the study"),
        (3, heading),
    ]


# --- an unruled table with a wrapped cell ----------------------------------------------------


def test_a_table_row_does_not_continue_a_wrapped_cell() -> None:
    rows = [
        [line(72, 260, 100, "Annual maintenance contract for the"), line(400, 420, 100, "1")],
        [line(72, 200, 112, "warehouse conveyor system")],
        [line(72, 170, 124, "On-site support visit"), line(400, 420, 124, "2")],
    ]
    groups = group_column([item for row in rows for item in row])
    # The wrapped cell's last line had its row to itself; the next description shares its row
    # with a quantity, so it starts a new group (before, the two descriptions were one).
    assert [[ln.text for ln in group] for group in groups if isinstance(group, list)] == [
        ["Annual maintenance contract for the"],
        ["1"],
        ["warehouse conveyor system"],
        ["On-site support visit"],
        ["2"],
    ]
    # Lines without row-mates still make one paragraph.
    prose_lines = [line(72, 260, 100 + 12 * i, f"Line {i} of a paragraph") for i in range(3)]
    assert len(group_column(prose_lines)) == 1


def test_the_wrapped_description_of_an_unruled_invoice_stays_with_its_row(
    tmp_path: Path,
) -> None:
    from docgen import extractgen

    doc = extractgen.invoice(9, "right-aligned")
    pdf = extractgen.write_pdf(tmp_path / "invoice.pdf", [doc])
    tables = [block for block in parse_pdf(pdf).blocks if block.type == "table"]
    first, second = (item["description"] for item in doc.expected["line_items"][:2])
    assert first.startswith("Annual") and first.endswith("warehouse conveyor system")
    # The unruled line items are a table; the wrapped description is one cell of its row.
    assert len(tables) == 1 and tables[0].rows is not None
    cells = [row[0] for row in tables[0].rows]
    assert first in cells
    assert second in cells
