"""pagemill on the real-document corpus (``bench/quality/real``): no family falls below its floor.

Every document of the corpus is converted once by pagemill alone (the peers of the benchmark are
not needed) and scored against its hand-written reference with the benchmark's own metrics; the
means per family must stay at or above ``FLOORS``. The floors were set just below what pagemill
reached when the corpus was built: raise a family's floor in the change that lifts it, and never
lower one without saying why in that change. The family floors are measured on the documents
the rules were written against; the check set (``check_set`` in the manifest: documents nobody
tuned on) has floors of its own, over all its documents together, so adding a fresh document
with faults nobody fixed does not lower a family's floor. The corpus itself is checked too:
every file is present with the recorded checksum, licence and source, and has a reference.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

QUALITY = Path(__file__).resolve().parents[2] / "bench" / "quality"
if str(QUALITY) not in sys.path:
    sys.path.insert(0, str(QUALITY))

import real  # noqa: E402
import real_convert  # noqa: E402
import real_corpus  # noqa: E402

MAX_CORPUS_BYTES = 30 * 1024 * 1024
SOURCE_KEYS = {"registry", "package", "version", "path", "upstream"}

# family → metric → floor (``paragraph_deviation`` is a ceiling on |paragraphs / reference - 1|,
# ``failures`` a ceiling on failed conversions; ``word_retention`` is the plain measure,
# ``word_retention_furniture`` the one with running headers and footers kept). Measured values
# are in bench/quality/results.md.
# Set on 2026-12-07 from pagemill's means minus 0.03 (ceilings: 1.15 x the deviation + 0.1); a
# metric whose floor would be 0 is left out, since it could not fail.
OFFICE_FLOORS = {
    "text_similarity": 0.97,
    "heading_f1": 0.97,
    "heading_f1_level": 0.97,
    "table_cell_recall": 0.97,
    "tables_emitted": 0.97,
    "paragraph_deviation": 0.1,
    "failures": 0,
}
FLOORS: dict[str, dict[str, float]] = {
    # Raised on 2026-12-08 (paragraphs: running heads misread by OCR, folios further in,
    # paragraphs run on past footnotes and marks and across a spread's fold, run-in leads that
    # fill their line, list items flush with their bullet, displayed formulas, OCR paragraphs
    # cut after their first line): every paragraph_deviation ceiling, from means taken without
    # the check set. word_retention_furniture added (means minus 0.03, at most 0.97).
    # Raised again on 2026-12-07 (figure labels as one paragraph, forms' drawings placed on the
    # page, words drawn in pieces, loosely leaded titles, author names, footers beside the page
    # number, tables continued beside themselves, broken rules, Latin runs in Arabic lines):
    # pdf-text, pdf-multicolumn, pdf-spread, pdf-tables and pdf-rtl.
    # Raised on 2026-12-07 (convert-6: columns across gutter-crossing lines, run-in leads,
    # footnotes, rejoined rows, page-break joins). pdf-text and pdf-multicolumn gained research
    # papers the same day: pdf-text's similarity, heading and retention floors are lower than
    # before because its two new arXiv first pages carry figure labels and front matter that
    # no converter reads as the reference does (pymupdf4llm: 0.91 similarity on the family).
    # Heading floors raised on 2026-12-08 (heading levels: sizes a point apart one rank, bold
    # capitals over mixed case, numbering depth, headings set in from their column): pdf-text,
    # pdf-multicolumn and pdf-spread.
    "pdf-text": {
        "text_similarity": 0.93,  # 0.88 while the check set's arXiv page was counted here
        "heading_f1": 0.97,
        "heading_f1_level": 0.97,
        "word_retention": 0.95,
        "word_retention_furniture": 0.97,
        "paragraph_deviation": 0.28,
        "failures": 0,
    },
    "pdf-multicolumn": {
        "text_similarity": 0.96,
        "heading_f1": 0.95,
        "heading_f1_level": 0.87,
        "word_retention": 0.97,
        "word_retention_furniture": 0.97,
        "paragraph_deviation": 0.26,
        "failures": 0,
    },
    "pdf-spread": {
        # Raised on 2026-12-08: a spread's halves are pages when running heads are found.
        "text_similarity": 0.96,
        "heading_f1": 0.97,
        "heading_f1_level": 0.97,
        "word_retention": 0.97,
        "word_retention_furniture": 0.97,
        "paragraph_deviation": 0.30,
        "failures": 0,
    },
    "pdf-tables": {
        # Raised on 2026-12-08: lines wrapped inside a ruled row are one row, a header grid
        # heads the unruled figures under it, dashes of empty cells keep their columns.
        # Raised again on 2026-12-08: a header whose cells wrap over several lines, above one
        # ruled data row, is a table.
        "text_similarity": 0.96,
        "heading_f1": 0.97,
        "heading_f1_level": 0.97,
        "table_cell_recall": 0.97,
        "tables_emitted": 0.97,
        "word_retention": 0.96,
        "word_retention_furniture": 0.96,
        "paragraph_deviation": 0.19,
        "failures": 0,
    },
    "pdf-rtl": {
        # Raised on 2026-12-08 (similarity, and table floors set): a word drawn in two pieces
        # in a cell is one word, columns of digits just under an em apart are two cells.
        "text_similarity": 0.95,
        "table_cell_recall": 0.97,
        "tables_emitted": 0.97,
        # Lowered from 0.34: the Amiri document's headings are drawn in a font without a
        # Unicode map, so no converter can match them by text; the 0.13 it scored came from a
        # contents entry taken for a heading, which now sits in the contents table.
        "heading_f1": 0.30,
        "heading_f1_level": 0.30,
        "word_retention": 0.96,
        "word_retention_furniture": 0.96,
        "paragraph_deviation": 0.36,
        "failures": 0,
    },
    "pdf-office": {
        "text_similarity": 0.93,
        "heading_f1": 0.97,
        "heading_f1_level": 0.97,
        # Raised on 2026-12-08 from 0.57 and 0.47: a table nested in a cell, a slide's grid
        # whose only text is a merged cell, a short rule between two rows of a grid.
        "table_cell_recall": 0.96,
        "tables_emitted": 0.97,
        "word_retention": 0.96,
        "word_retention_furniture": 0.96,
        # Lowered from 1.69 on 2026-12-08: one ruled row of cells is a one-row table, form
        # labels apart only by their fields are one line.
        "paragraph_deviation": 0.24,
        "failures": 0,
    },
    "pdf-repeated": {
        "text_similarity": 0.96,
        "heading_f1": 0.97,
        "heading_f1_level": 0.97,
        # Set on 2026-12-08: a grid of two rows and two columns with one filled cell is a table
        # (the one-cell box on the next page is not read as one).
        "table_cell_recall": 0.47,
        "tables_emitted": 0.47,
        "word_retention": 0.97,
        "word_retention_furniture": 0.97,
        # The contents of "1 Foo … 9 Baz" come out as a table (text in the reference) once the
        # folios are gone: 1.50 -> 0.90 on that document, and 0.57 on the other, so the mean
        # ratio moved away from 1.00 while each document's deviation shrank or held.
        "paragraph_deviation": 0.40,
        "failures": 0,
    },
    # Raised on 2026-12-07 with scans read upright (OSD, word order, the upside-down try),
    # XLSX read from the open file, PPTX charts as tables, nested DOCX tables kept as rows.
    "scan": {
        "text_similarity": 0.95,
        "heading_f1": 0.40,
        "heading_f1_level": 0.40,
        "paragraph_deviation": 0.21,
        "failures": 0,
    },
    "docx": OFFICE_FLOORS,
    "pptx": OFFICE_FLOORS,
    "xlsx": {
        "text_similarity": 0.97,
        "heading_f1": 0.97,
        "heading_f1_level": 0.97,
        "table_cell_recall": 0.97,
        "tables_emitted": 0.97,
        "failures": 0,
    },
    # Set on 2026-12-08 with the family (JATS XML, AsciiDoc, a notebook): pagemill 1.00 on
    # similarity, headings and table cells, 1.00 paragraphs per reference; markitdown 0.90 on
    # similarity, 0.20 on headings, no tables.
    "markup": {
        "text_similarity": 0.97,
        "heading_f1": 0.97,
        "heading_f1_level": 0.97,
        "table_cell_recall": 0.97,
        "tables_emitted": 0.97,
        "paragraph_deviation": 0.12,
        "failures": 0,
    },
}


# The check set, all its documents together (set on 2026-12-08 from its means, as above).
CHECK_SET_FLOORS: dict[str, float] = {
    "text_similarity": 0.89,
    "heading_f1": 0.62,
    "word_retention_furniture": 0.97,
    "paragraph_deviation": 0.40,
    "failures": 0,
}
CHECK_SET = "check set"


@pytest.fixture(scope="module")
def runs() -> dict[str, list[real.DocRun]]:
    """The runs by family (tuned documents only) and under ``CHECK_SET``."""
    docs = real_corpus.load()
    results = real.run_all(docs, [real_convert.PAGEMILL], progress=False)
    by_family: dict[str, list[real.DocRun]] = {}
    for run in results:
        key = CHECK_SET if run.doc.entry.get("check_set") else run.doc.family
        by_family.setdefault(key, []).append(run)
    return by_family


def test_every_document_is_present_licensed_and_referenced() -> None:
    entries: list[dict[str, Any]] = real_corpus.load_manifest()
    assert len(entries) >= 40
    total = 0
    for entry in entries:
        path = real_corpus.REAL / entry["file"]
        assert path.is_file(), entry["name"]
        assert real_corpus.digest(path) == entry["sha256"], f"{entry['name']} changed"
        assert entry["family"] in real_corpus.FAMILIES
        assert entry["licence"] and entry["licence_basis"], entry["name"]
        assert set(entry["source"]) >= SOURCE_KEYS, entry["name"]
        total += path.stat().st_size
    assert total < MAX_CORPUS_BYTES
    assert real_corpus.pending() == []


@pytest.mark.parametrize("family", sorted(FLOORS))
def test_family_stays_above_its_floors(family: str, runs: dict[str, list[real.DocRun]]) -> None:
    assert_floors(family, runs[family], FLOORS[family])


def test_check_set_stays_above_its_floors(runs: dict[str, list[real.DocRun]]) -> None:
    assert len(runs[CHECK_SET]) >= 6
    assert_floors(CHECK_SET, runs[CHECK_SET], CHECK_SET_FLOORS)


def assert_floors(family: str, family_runs: list[real.DocRun], floors: dict[str, float]) -> None:
    row = real.FamilyRow(family, "pagemill", family_runs)
    below = []
    for metric, floor in floors.items():
        if metric == "failures":
            value: float | None = float(row.failures)
            ok = value <= floor
        elif metric == "paragraph_deviation":
            ratio = row.mean("paragraph_ratio")
            value = None if ratio is None else abs(ratio - 1.0)
            ok = value is not None and value <= floor
        else:
            value = row.mean(metric)
            ok = value is not None and value >= floor
        if not ok:
            below.append(f"{metric}: {value} (floor {floor})")
    assert not below, f"{family}: " + "; ".join(below)
