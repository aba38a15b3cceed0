"""Score the real convert step on the quality corpus.

Each document goes through ``ConvertProcessor().run`` (markdown output, mode ``fast``; scans
also ``accurate``). The markdown is rendered to HTML with markdown-it (CommonMark + tables), as
omni_parse_bench does for markdown providers, and every gold test runs on that HTML:

* ``present``: the arg's text occurs in the page text (``matching.fold`` on both sides), within
  ``max_diffs`` edits (0 for text layers; for OCR families 1 edit per 20 characters, at least 1);
* ``order``: ``before`` is found, ``after`` is found, and ``before`` starts first;
* ``repeat``: the text occurs exactly ``settings.expected_count`` times (1 here: a paragraph or
  heading neither lost nor duplicated);
* ``table_cell``: some ``<table>`` has a cell equal to ``cell`` whose column header (first row)
  is ``top_heading``, whose row label (first column) is ``left_heading`` and whose left
  neighbour is ``left``;
* ``heading_level`` (ours): some ``<hN>`` with N = ``settings.level`` has the text;
* ``furniture_absent`` (ours): the text does not occur at all.

OCR word accuracy is separate: 1 - (word-level Levenshtein distance / reference words), on
lower-cased words without punctuation, against the words ``docgen/pdfgen.page_words`` says are
on the pages (running furniture is not in the reference, so a kept header counts as inserted
words).

    .venv/bin/python bench/quality/score.py CORPUS_DIR      # score a corpus built by corpus.py
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import matching  # noqa: E402

TEST_TYPES = ("present", "order", "repeat", "table_cell", "heading_level", "furniture_absent")
HEADING_TAG = re.compile(r"^h[1-6]$")
DOCUMENT_SUFFIXES = {".pdf", ".png", ".tiff", ".docx", ".pptx", ".xlsx", ".html", ".epub"}


@dataclass(slots=True)
class View:
    """What the tests read: the folded text, the tables (folded cells) and the headings."""

    text: str
    tables: list[list[list[str]]]
    headings: list[tuple[int, str]]


@dataclass(slots=True)
class DocResult:
    family: str  # "scan (fast)" for a scan in a given mode
    name: str
    seconds: float
    passed: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    ref_words: int = 0
    word_errors: int = 0
    markdown: str = ""
    error: str | None = None


def view_of(markdown: str) -> View:
    from bs4 import BeautifulSoup
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(markdown)
    soup = BeautifulSoup(html, "html.parser")
    tables = []
    for table in soup.find_all("table"):
        tables.append(
            [
                [
                    matching.fold(cell.get_text(" ", strip=True))
                    for cell in row.find_all(["th", "td"])
                ]
                for row in table.find_all("tr")
            ]
        )
    headings = [
        (int(tag.name[1]), matching.fold(tag.get_text(" ", strip=True)))
        for tag in soup.find_all(HEADING_TAG)
    ]
    return View(matching.fold(soup.get_text("\n")), tables, headings)


def _arg(test: dict[str, Any], role: str) -> tuple[str, int]:
    arg = test["args"][role]
    return matching.fold(arg["text"]), int(arg.get("max_diffs", 0))


def _cell_matches(grid: list[list[str]], r: int, c: int, test: dict[str, Any]) -> bool:
    def at(row: int, column: int) -> str | None:
        if 0 <= row < len(grid) and 0 <= column < len(grid[row]):
            return grid[row][column]
        return None

    where = {
        "cell": (r, c),
        "top_heading": (0, c),
        "left_heading": (r, 0),
        "left": (r, c - 1),
        "right": (r, c + 1),
        "up": (r - 1, c),
        "down": (r + 1, c),
    }
    for role, (row, column) in where.items():
        if role not in test["args"]:
            continue
        text, diffs = _arg(test, role)
        found = at(row, column)
        if found is None or not matching.same(text, found, diffs):
            return False
    return True


def run_test(test: dict[str, Any], view: View) -> bool:
    kind = test["test_type"]
    if kind == "present":
        text, diffs = _arg(test, "content")
        return matching.find(text, view.text, diffs) >= 0
    if kind == "furniture_absent":
        text, diffs = _arg(test, "content")
        return matching.find(text, view.text, diffs) < 0
    if kind == "order":
        (before, before_diffs), (after, after_diffs) = _arg(test, "before"), _arg(test, "after")
        start = matching.find(before, view.text, before_diffs)
        return 0 <= start < matching.find(after, view.text, after_diffs)
    if kind == "repeat":
        text, diffs = _arg(test, "content")
        return matching.count(text, view.text, diffs) == int(test["settings"]["expected_count"])
    if kind == "heading_level":
        text, diffs = _arg(test, "content")
        level = int(test["settings"]["level"])
        return any(n == level and matching.same(text, h, diffs) for n, h in view.headings)
    if kind == "table_cell":
        return any(
            _cell_matches(grid, r, c, test)
            for grid in view.tables
            for r in range(len(grid))
            for c in range(len(grid[r]))
        )
    raise ValueError(f"unknown test type {kind!r}")


def describe(test: dict[str, Any], view: View) -> dict[str, Any]:
    """A failed test with what the output had instead, for the report."""
    detail: dict[str, Any] = {"id": test["id"], "type": test["test_type"], "args": test["args"]}
    if test["test_type"] == "heading_level":
        text, _ = _arg(test, "content")
        detail["found_as"] = [n for n, h in view.headings if h == text] or "not a heading"
    return detail


def convert(path: Path, mode: str) -> tuple[str, float]:
    from pagemill.ports.processing import ProcessorInput
    from pagemill.processors.convert import ConvertProcessor

    started = time.perf_counter()
    output = ConvertProcessor().run(
        ProcessorInput(
            document=path,
            filename=path.name,
            settings={"mode": mode, "output_format": "markdown"},
        )
    )
    return str(output.result["markdown"]), time.perf_counter() - started


def score_document(path: Path, family: str, mode: str) -> DocResult:
    label = f"{family} ({mode})" if family == "scan" else family
    tests = json.loads(path.with_name(f"{path.stem}.tests.json").read_text())["tests"]
    try:
        markdown, seconds = convert(path, mode)
    except Exception as error:  # a crash scores every test of the document as failed
        result = DocResult(label, path.name, 0.0, error=f"{type(error).__name__}: {error}")
        for test in tests:
            result.total[test["test_type"]] = result.total.get(test["test_type"], 0) + 1
            result.passed.setdefault(test["test_type"], 0)
        return result
    view = view_of(markdown)
    result = DocResult(label, path.name, seconds, markdown=markdown)
    for test in tests:
        kind = test["test_type"]
        ok = run_test(test, view)
        result.total[kind] = result.total.get(kind, 0) + 1
        result.passed[kind] = result.passed.get(kind, 0) + int(ok)
        if not ok:
            result.failures.append(describe(test, view))
    truth = path.with_name(f"{path.stem}.truth.json")
    if truth.exists():
        reference = json.loads(truth.read_text())["reference_words"]
        ref = matching.words(" ".join(reference))
        hyp = matching.words(view.text)
        result.ref_words = len(ref)
        result.word_errors = matching.distance(ref, hyp)
    return result


@dataclass(slots=True)
class FamilyScore:
    family: str
    documents: int = 0
    pages: int = 0
    seconds: float = 0.0
    passed: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    ref_words: int = 0
    word_errors: int = 0
    errors: list[str] = field(default_factory=list)

    def rate(self, kind: str) -> float | None:
        total = self.total.get(kind, 0)
        return self.passed.get(kind, 0) / total if total else None

    @property
    def word_accuracy(self) -> float | None:
        return 1 - self.word_errors / self.ref_words if self.ref_words else None


def aggregate(results: list[DocResult], pages: dict[str, int]) -> list[FamilyScore]:
    families: dict[str, FamilyScore] = {}
    for result in results:
        score = families.setdefault(result.family, FamilyScore(result.family))
        score.documents += 1
        score.pages += pages.get(result.name, 0)
        score.seconds += result.seconds
        for kind, total in result.total.items():
            score.total[kind] = score.total.get(kind, 0) + total
            score.passed[kind] = score.passed.get(kind, 0) + result.passed.get(kind, 0)
        score.ref_words += result.ref_words
        score.word_errors += result.word_errors
        if result.error:
            score.errors.append(f"{result.name}: {result.error}")
    return list(families.values())


def score_corpus(
    directory: Path, manifest: list[tuple[str, Path, tuple[str, ...]]]
) -> list[DocResult]:
    """Score every ``(family, document, modes)`` of a built corpus."""
    return [
        score_document(path, family, mode) for family, path, modes in manifest for mode in modes
    ]


def main() -> None:
    directory = Path(sys.argv[1])
    manifest = []
    for gold in sorted(directory.glob("*.tests.json")):
        stem = gold.name.removesuffix(".tests.json")
        document = next(p for p in directory.glob(f"{stem}.*") if p.suffix in DOCUMENT_SUFFIXES)
        family = "scan" if stem.startswith("scan-") else stem
        manifest.append((family, document, ("fast", "accurate") if family == "scan" else ("fast",)))
    for result in score_corpus(directory, manifest):
        rates = ", ".join(
            f"{k} {result.passed.get(k, 0)}/{n}" for k, n in sorted(result.total.items())
        )
        print(f"{result.family:22} {result.name:26} {result.seconds:6.2f}s {rates}")


if __name__ == "__main__":
    main()
