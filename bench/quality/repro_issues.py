"""Minimal documents that reproduce each converter behaviour behind a missed quality target.

    .venv/bin/python bench/quality/repro_issues.py            # all of them (about 10 s)
    .venv/bin/python bench/quality/repro_issues.py NAME ...   # some of them

Each case builds one small document with the test suite's generators, converts it with the real
``ConvertProcessor`` (mode ``fast``) and prints what was expected next to what came out. A case
prints ``FIXED`` once the converter behaves as expected, so the script doubles as a checklist.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from docgen import extractgen, pdfgen  # noqa: E402

# One line in any column count, wider than half the text width: triggers no other case.
WIDE_TITLE = "Harbour Freight Volumes in the North"
WORDS = "The survey team measured seasonal changes in demand across all inland routes"


def prose(seed: int, sentences: int = 3) -> str:
    """Plain sentences (pdfgen's filler has one full stop per paragraph only)."""
    words = WORDS.split()
    out = []
    for index in range(sentences):
        shift = (seed * 5 + index * 3) % len(words)
        sentence = words[shift:] + words[:shift]
        out.append(" ".join([sentence[0].capitalize(), *sentence[1:]]) + ".")
    return " ".join(out)


def convert(path: Path) -> tuple[str, list[dict[str, object]]]:
    from pagemill.ports.processing import ProcessorInput
    from pagemill.processors.convert import ConvertProcessor
    from pagemill.processors.document import Document

    output = ConvertProcessor().run(
        ProcessorInput(document=path, filename=path.name, settings={"mode": "fast"})
    )
    assert output.checkpoint is not None
    document = Document.from_json_bytes(output.checkpoint)
    blocks = [
        {"type": b.type, "level": b.level, "text": b.text[:70], "page": b.page}
        for b in document.blocks
    ]
    return str(output.result["markdown"]), blocks


def headings(blocks: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(b["level"], b["text"]) for b in blocks if b["type"] == "heading"]


def wrapped_title(tmp: Path) -> tuple[bool, str]:
    """A title spanning two columns that wraps: its short last line is read as column text."""
    title = "Harbour Freight Volumes in the Northern District"
    page = [
        ("h1", title),
        ("p", prose(1)),
        ("p", prose(2)),
        ("colbreak", ""),
        ("p", prose(3)),
        ("p", prose(4)),
    ]
    path = pdfgen.make_pdf(tmp / "wrapped-title.pdf", [page], columns=2)
    _, blocks = convert(path)
    got = headings(blocks)
    return got == [(1, title)], f"expected [(1, {title!r})], got {got}"


def table_in_column(tmp: Path) -> tuple[bool, str]:
    """A ruled table as wide as its column, in a three-column page: it is taken for a spanning
    block (its rules reach the column's edge, the ragged text does not), and the page is cut
    into bands at its top, so every column's text below that height comes after the table."""
    page = [
        ("h1", WIDE_TITLE),
        ("p", prose(1, 5)),
        ("p", prose(2, 5)),
        ("colbreak", ""),
        ("p", prose(3, 2)),
        ("table", "Site | Units | Share\nQuay | 292 | 24.3%\nPier | 945 | 42.3%"),
        ("p", "Second column after the table."),
        ("colbreak", ""),
        ("p", prose(5, 5)),
    ]
    path = pdfgen.make_pdf(tmp / "table-in-column.pdf", [page], columns=3)
    markdown, _ = convert(path)
    first_column_end = prose(2, 5)[-40:]
    ok = markdown.find(first_column_end) < markdown.find("| Site")
    where = markdown.find(first_column_end), markdown.find("| Site")
    return ok, (
        "expected the end of column 1 before the table; got (position of column 1's last "
        f"words, position of the table) = {where}\n{_excerpt(markdown)}"
    )


def short_title_bridges_columns(tmp: Path) -> tuple[bool, str]:
    """A short title (narrower than 55 % of the text width) over a three-column page crosses
    the first gutter, votes as a "narrow" line and merges columns 1 and 2: their lines are
    then read row by row, interleaved, one paragraph per line."""
    page = [
        ("h1", "Three Column Report"),
        ("p", prose(1, 4)),
        ("colbreak", ""),
        ("p", prose(3, 4)),
        ("colbreak", ""),
        ("p", prose(5, 4)),
    ]
    path = pdfgen.make_pdf(tmp / "short-title.pdf", [page], columns=3)
    markdown, blocks = convert(path)
    paragraphs = [b for b in blocks if b["type"] == "paragraph"]
    return len(paragraphs) == 3, (
        f"expected 3 paragraphs, got {len(paragraphs)}:\n{_excerpt(markdown)}"
    )


def wrapped_bold_heading(tmp: Path) -> tuple[bool, str]:
    """A bold heading at body size that wraps onto two lines (a narrow column) is not a
    heading: the bold rule accepts single lines only."""
    heading = "Methods used for the harbour counts"
    page = [
        ("h1", WIDE_TITLE),
        ("h2", "Background to the harbour study"),
        ("p", prose(1, 4)),
        ("h3", heading),
        ("p", prose(2, 3)),
        ("colbreak", ""),
        ("p", prose(3, 5)),
        ("colbreak", ""),
        ("p", prose(5, 5)),
    ]
    path = pdfgen.make_pdf(tmp / "bold-heading.pdf", [page], columns=3)
    _, blocks = convert(path)
    got = headings(blocks)
    return (3, heading) in got, f"expected (3, {heading!r}) among the headings, got {got}"


def _scan(tmp: Path, name: str, pages: list[list[tuple[str, str]]]) -> Path:
    return pdfgen.make_pdf(tmp / name, pages, scanned=set(range(len(pages))))


def ocr_heading_levels(tmp: Path) -> tuple[bool, str]:
    """OCR estimates a font size per line from its row height; the estimates of one style
    differ by 0.5-2 pt from page to page, and every distinct half-point size is ranked as its
    own heading level (capped at 4), so same-style headings get different levels."""
    titles = ["Harbour Freight Report", "Rail Maintenance Review", "Water Quality Survey"]
    pages = [
        [("h1", title), ("h2", f"Background to part {i + 1}"), ("p", prose(i, 4))]
        for i, title in enumerate(titles)
    ]
    _, blocks = convert(_scan(tmp, "ocr-levels.pdf", pages))
    got = headings(blocks)
    want = [
        (level, text)
        for i, t in enumerate(titles)
        for level, text in ((1, t), (2, f"Background to part {i + 1}"))
    ]
    return got == want, f"expected {want}\n       got {got}"


def ocr_bold_heading(tmp: Path) -> tuple[bool, str]:
    """On OCRed pages a bold heading at body size is never a heading (Tesseract's LSTM models
    report no weight) and is often glued to the paragraph under it."""
    heading = "Methods used for the harbour counts"
    pages = [[("h1", "Harbour Freight Report"), ("h3", heading), ("p", prose(1, 4))]]
    _, blocks = convert(_scan(tmp, "ocr-bold.pdf", pages))
    got = [(b["type"], b["level"], b["text"]) for b in blocks]
    return any(b["type"] == "heading" and b["text"] == heading for b in blocks), f"got {got}"


def ocr_table(tmp: Path) -> tuple[bool, str]:
    """Ruled tables on OCRed pages come out as paragraphs of their words: table detection runs
    only on pages with a text layer, never on the OCR words."""
    pages = [
        [
            ("h1", "Harbour Freight Report"),
            ("p", prose(1, 2)),
            ("table", "Berth | Units | Share\nQuay | 292 | 24.3%\nPier | 945 | 42.3%"),
        ]
    ]
    markdown, blocks = convert(_scan(tmp, "ocr-table.pdf", pages))
    return any(b["type"] == "table" for b in blocks), _excerpt(markdown)


def invoice_wrapped_cell(tmp: Path) -> tuple[bool, str]:
    """An unruled line-item table whose first description wraps (extractgen's
    right-aligned invoice): the wrapped line and the next row's description sit at the same
    left edge one line apart, so they are joined into one paragraph, and the extractor
    gives the first item both descriptions and the second none."""
    from pagemill.ports.processing import ProcessorInput
    from pagemill.processors.extract import ExtractProcessor

    doc = extractgen.invoice(9, "right-aligned")
    pdf = extractgen.write_pdf(tmp / "invoice.pdf", [doc])
    _, blocks = convert(pdf)
    from pagemill.processors.convert import ConvertProcessor

    output = ConvertProcessor().run(ProcessorInput(document=pdf, filename=pdf.name, settings={}))
    assert output.checkpoint is not None
    checkpoint = tmp / "invoice.checkpoint.json"
    checkpoint.write_bytes(output.checkpoint)
    extracted = ExtractProcessor().run(
        ProcessorInput(
            document=pdf,
            filename=pdf.name,
            settings={"page_schema": doc.schema},
            checkpoint=checkpoint,
        )
    )
    data = json.loads(extracted.result["extraction_schema_json"])
    got = [item.get("description") for item in data.get("line_items", [])]
    want = [item["description"] for item in doc.expected["line_items"]]
    joined = [b["text"] for b in blocks if "conveyor system" in str(b["text"])]
    return got == want, f"expected {want}\n       got {got}\n       block: {joined}"


def _excerpt(markdown: str, limit: int = 900) -> str:
    text = markdown if len(markdown) <= limit else markdown[:limit] + " …"
    return "       " + text.replace("\n", "\n       ")


CASES: dict[str, Callable[[Path], tuple[bool, str]]] = {
    "wrapped-title": wrapped_title,
    "table-in-column": table_in_column,
    "short-title-bridges-columns": short_title_bridges_columns,
    "wrapped-bold-heading": wrapped_bold_heading,
    "ocr-heading-levels": ocr_heading_levels,
    "ocr-bold-heading": ocr_bold_heading,
    "ocr-table": ocr_table,
    "invoice-wrapped-cell": invoice_wrapped_cell,
}


def main() -> None:
    names = sys.argv[1:] or list(CASES)
    with tempfile.TemporaryDirectory(prefix="pagemill-repro-") as tmp:
        for name in names:
            ok, detail = CASES[name](Path(tmp))
            doc = (CASES[name].__doc__ or "").split("\n\n")[0]
            print(f"{'FIXED' if ok else 'OPEN '} {name}: {' '.join(doc.split())}")
            if not ok:
                print(f"       {detail}")


if __name__ == "__main__":
    main()
