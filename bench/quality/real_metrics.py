"""Metrics of the real-document corpus: one converter's Markdown against a hand-written reference.

Both sides are read the same way: the Markdown is parsed with markdown-it (CommonMark plus
tables) into headings, paragraphs, tables and the running text; all text is folded with
``matching.fold`` (so typography, case and hyphenation at line ends do not count).

* **text similarity**: ``difflib.SequenceMatcher`` ratio of the two word sequences
  (2 * matched words ÷ all words), so lost, extra and reordered text all cost;
* **heading F1**: headings matched by text as a multiset (level-insensitive), and by
  ``(level, text)`` (level-aware); both sides without headings is 1.0, spurious headings where
  the reference has none is 0.0;
* **paragraph ratio**: paragraphs (list items count as paragraphs) ÷ the reference's;
* **table-cell recall**: non-empty cells of the reference tables found among the cells of the
  emitted tables (multiset); **tables emitted**: reference tables of which at least half the
  cells turn up in one emitted table;
* **text-layer word retention**: words of the PDF's own text layer (inside the page boxes)
  found in the output (multiset), for documents that have one. Measured twice: *plain* (the
  default output, so running headers and footers a converter rightly removes count as lost)
  and *furniture kept* (a converter that can keep the lines it removes as headers and footers
  is run again with that option and that output is measured; for the others it is the plain
  figure). Words lost from the body are lost in both.

A converter without structure (raw text) is scored on text only: its structure metrics are
``None`` and show as "—".
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if __package__:
    from . import matching
else:  # run as a script from bench/quality
    import matching

TABLE_FOUND_SHARE = 0.5  # a reference table counts as emitted when this share of cells is found


@dataclass(slots=True)
class Structure:
    """What the metrics read from one Markdown document (all text folded)."""

    headings: list[tuple[int, str]] = field(default_factory=list)
    paragraphs: int = 0
    tables: list[list[list[str]]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    structured: bool = True  # False for raw text: only ``words`` is meaningful


@dataclass(slots=True)
class Scores:
    """One document, one converter. ``None`` means: does not apply here."""

    text_similarity: float
    heading_f1: float | None
    heading_f1_level: float | None
    paragraph_ratio: float | None
    table_cell_recall: float | None
    tables_emitted: float | None
    word_retention: float | None
    word_retention_furniture: float | None = None  # with headers and footers kept

    METRICS = (
        "text_similarity",
        "heading_f1",
        "heading_f1_level",
        "paragraph_ratio",
        "table_cell_recall",
        "tables_emitted",
        "word_retention",
        "word_retention_furniture",
    )

    def get(self, metric: str) -> float | None:
        value: float | None = getattr(self, metric)
        return value


def _inline_text(token: object) -> str:
    children = getattr(token, "children", None) or []
    parts = []
    for child in children:
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "image":
            parts.append(child.content)
    return "".join(parts)


def parse(markdown: str) -> Structure:
    """Headings, paragraphs, tables and words of a Markdown document."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    structure = Structure()
    texts: list[str] = []
    heading_level: int | None = None
    table: list[list[str]] | None = None
    row: list[str] | None = None
    for token in tokens:
        kind = token.type
        if kind == "heading_open":
            heading_level = int(token.tag[1])
        elif kind == "heading_close":
            heading_level = None
        elif kind == "paragraph_open" and table is None:
            structure.paragraphs += 1
        elif kind == "table_open":
            table = []
        elif kind == "table_close":
            if table is not None:
                structure.tables.append(table)
            table = None
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close":
            if table is not None and row is not None:
                table.append(row)
            row = None
        elif kind in ("fence", "code_block", "html_block"):
            texts.append(token.content)
        elif kind == "inline":
            text = _inline_text(token)
            texts.append(text)
            if heading_level is not None:
                structure.headings.append((heading_level, matching.fold(text)))
            elif row is not None:
                row.append(matching.fold(text))
    structure.words = matching.words(" ".join(texts))
    return structure


def plain(text: str) -> Structure:
    """A raw-text output: words only."""
    return Structure(words=matching.words(text), structured=False)


def text_similarity(reference: list[str], output: list[str]) -> float:
    if not reference and not output:
        return 1.0
    return difflib.SequenceMatcher(None, reference, output, autojunk=False).ratio()


def _f1(reference: Counter[object], output: Counter[object]) -> float:
    if not reference and not output:
        return 1.0
    matched = sum((reference & output).values())
    if not matched:
        return 0.0
    precision = matched / sum(output.values())
    recall = matched / sum(reference.values())
    return 2 * precision * recall / (precision + recall)


def heading_f1(reference: Structure, output: Structure, *, levels: bool) -> float:
    if levels:
        return _f1(Counter(reference.headings), Counter(output.headings))
    return _f1(Counter(t for _, t in reference.headings), Counter(t for _, t in output.headings))


def _cells(table: list[list[str]]) -> Counter[str]:
    return Counter(cell for row in table for cell in row if cell)


def table_scores(reference: Structure, output: Structure) -> tuple[float | None, float | None]:
    """(cell recall, share of reference tables emitted); ``None`` without reference tables."""
    wanted = [_cells(table) for table in reference.tables]
    wanted = [cells for cells in wanted if cells]
    if not wanted:
        return None, None
    emitted = [_cells(table) for table in output.tables]
    every = Counter[str]()
    for cells in emitted:
        every.update(cells)
    all_wanted = sum(wanted, Counter[str]())
    found = sum((all_wanted & every).values())
    tables_found = 0
    for cells in wanted:
        size = sum(cells.values())
        best = max((sum((cells & out).values()) for out in emitted), default=0)
        tables_found += best >= TABLE_FOUND_SHARE * size
    return found / sum(all_wanted.values()), tables_found / len(wanted)


def retention(layer: list[str], output: list[str]) -> float | None:
    if not layer:
        return None
    found = Counter(layer) & Counter(output)
    return sum(found.values()) / len(layer)


def score(
    reference: Structure,
    output: Structure,
    layer: list[str] | None,
    with_furniture: Structure | None = None,
) -> Scores:
    """``with_furniture``: the converter's output with headers and footers kept, if it has one
    (else the furniture-kept retention is the plain one)."""
    recall, emitted = table_scores(reference, output) if output.structured else (None, None)
    structured = output.structured
    plain_retention = retention(layer, output.words) if layer else None
    kept_retention = (
        retention(layer, with_furniture.words)
        if layer and with_furniture is not None
        else plain_retention
    )
    return Scores(
        text_similarity=text_similarity(reference.words, output.words),
        heading_f1=heading_f1(reference, output, levels=False) if structured else None,
        heading_f1_level=heading_f1(reference, output, levels=True) if structured else None,
        paragraph_ratio=(
            output.paragraphs / reference.paragraphs
            if structured and reference.paragraphs
            else None
        ),
        table_cell_recall=recall,
        tables_emitted=emitted,
        word_retention=plain_retention,
        word_retention_furniture=kept_retention,
    )


def text_layer_words(path: Path) -> list[str]:
    """The words of a PDF's text layer inside each page's crop box (empty for other formats).

    pdfium's page text (with the spaces and line breaks it infers between runs), keeping only
    characters drawn inside the crop box, so printer's marks outside the visible page are left
    out. Running headers and footers are in the layer: removing them costs a little plain
    retention, not the furniture-kept one.
    """
    if path.suffix.lower() != ".pdf":
        return []
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    texts = []
    try:
        for index in range(len(document)):
            page = document[index]
            left, bottom, right, top = page.get_cropbox()
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            kept = []
            for position, char in enumerate(text[: textpage.count_chars()]):
                if not char.isspace():
                    x0, y0, x1, y1 = textpage.get_charbox(position)
                    if x1 < left or x0 > right or y1 < bottom or y0 > top:
                        char = " "
                kept.append(char)
            texts.append("".join(kept))
            textpage.close()
            page.close()
    finally:
        document.close()
    return matching.words(" ".join(texts))
