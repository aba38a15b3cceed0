"""Text → ``Document``: one page, no geometry.

The bytes say "text" (UTF-8, or a UTF-16 file with its byte-order mark); which kind of text is
then told by the file's extension, and without one by its content (in this order: subtitles by
their ``WEBVTT`` header or SRT's numbered timings; JSON and notebooks by parsing; XML by a
leading ``<``; AsciiDoc by its ``=`` titles; then Markdown, CSV, plain text):

* **XML** (``.xml``, ``.nxml``, ``.rss``, ``.atom``): ``markup.xml_document`` (JATS articles,
  USPTO patents, feeds, any XML as its text); XML that is not well-formed is plain text.
* **Source code** (``.py``, ``.c``, ``.h``, ``.css``, ``.pl``, ``.bat``, ``.ksh``): one code block
  in the file's language.
* **AsciiDoc** (``.adoc``, ``.asciidoc``), **subtitles** (``.vtt``, ``.srt``), **JSON**
  (``.json``, ``.jsonl``, ``.ndjson``) and **Jupyter notebooks** (``.ipynb``): the
  ``markup`` package's readers; a JSON file that is a notebook is read as one.

* **CSV** (``.csv``, ``.tsv``, or lines that split into the same number of fields by one
  delimiter): one ``table`` block, the first row its header; the delimiter is sniffed among
  ``, ; TAB |``; at most ``MAX_ROWS`` by ``MAX_COLUMNS`` cells are kept, and
  ``metadata["truncated"]`` says when more existed.
* **Markdown** (``.md``, ``.markdown``, or a text whose lines look like Markdown: ``#``
  headings, list markers, pipe tables, fences): rendered to HTML by markdown-it (CommonMark plus
  tables and strikethrough; raw HTML in the Markdown is escaped, never interpreted) and read by
  the HTML parser's block writer, so headings, lists and tables become the same blocks as
  there.
* **Plain text** (``.txt`` and everything else): a paragraph per run of non-blank lines, the
  lines of a paragraph joined with spaces (hard-wrapped text reads as its sentences). A form
  feed starts a new page.

Files larger than ``MAX_TEXT_BYTES`` are refused.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import PurePosixPath

from pagemill.domain.errors import ProcessingError
from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.office.safety import (
    MIB,
    BlockSink,
    collapse,
    parse_errors,
    selected_pages,
)
from pagemill.processors.convert.web.html import BlockWriter, make_soup
from pagemill.processors.document import Document

MAX_TEXT_BYTES = 64 * MIB
MAX_ROWS = 5_000  # as for spreadsheets
MAX_COLUMNS = 200
CSV_EXTENSIONS = frozenset({".csv", ".tsv", ".tab"})
MARKDOWN_EXTENSIONS = frozenset({".md", ".markdown", ".mdown", ".mkd"})
TEXT_EXTENSIONS = frozenset(
    {".txt", ".text", ".log", ".vcf", ".etx", ".rtx", ".sgm", ".sgml", ".n3"}
)
# Source code: the whole file is one code block in its language.
CODE_LANGUAGES = {
    **{".py": "python", ".c": "c", ".h": "c", ".css": "css", ".pl": "perl"},
    **{".bat": "batch", ".ksh": "sh"},
}
# The structured text formats of the ``markup`` package, by extension.
MARKUP_EXTENSIONS: dict[str, str] = {
    **dict.fromkeys((".xml", ".nxml", ".rss", ".atom"), "xml"),
    **dict.fromkeys((".adoc", ".asciidoc"), "asciidoc"),
    **dict.fromkeys((".vtt", ".srt"), "subtitles"),
    **dict.fromkeys((".json", ".jsonl", ".ndjson", ".ipynb"), "json"),
}
DELIMITERS = ",;\t|"
SNIFF_LINES = 50
MARKDOWN_LINE = re.compile(
    r"^(?:#{1,6}\s+\S|\s{0,3}(?:[-*+]|\d{1,9}[.)])\s+\S|\s*\|.*\|\s*$|```|~~~|>\s)"
)
BLANK_LINES = re.compile(r"\n\s*\n")


def parse(request: ParseRequest) -> Document:
    """The text parser of ``formats.PARSERS``."""
    with parse_errors("text"):
        if request.path.stat().st_size > MAX_TEXT_BYTES:
            raise ProcessingError(f"The text document is larger than {MAX_TEXT_BYTES} bytes.")
        data = request.path.read_bytes()
        text = _decode(data)
        kind = text_kind(request.filename, text)
        if kind == "xml":
            from pagemill.processors.convert.markup.xml_document import parse_xml_document

            document = parse_xml_document(request, data)
            if document is not None:
                return document
            # Not well-formed: "<3 all of you" is text, and so is a broken .xml file.
            kind = "text" if suffix_of(request.filename) in MARKUP_EXTENSIONS else prose_kind(text)
        if kind in ("asciidoc", "subtitles", "json"):
            return _markup(request, text, kind)
        if kind == "code":
            return _code(request, text)
        if kind == "csv":
            return _csv(request, text)
        if kind == "markdown":
            return _markdown(request, text)
        return _plain(request, text)


def text_kind(filename: str, text: str) -> str:
    """``"csv"``, ``"markdown"``, ``"xml"``, ``"asciidoc"``, ``"subtitles"``, ``"json"``,
    ``"code"`` or ``"text"``: by extension, else by the content."""
    from pagemill.processors.convert.markup.asciidoc import looks_like_asciidoc
    from pagemill.processors.convert.markup.subtitles import looks_like_subtitles

    suffix = suffix_of(filename)
    if suffix in CSV_EXTENSIONS:
        return "csv"
    if suffix in MARKDOWN_EXTENSIONS:
        return "markdown"
    if suffix in TEXT_EXTENSIONS:
        return "text"
    if suffix in MARKUP_EXTENSIONS:
        return MARKUP_EXTENSIONS[suffix]
    if suffix in CODE_LANGUAGES:
        return "code"
    head = text.lstrip("\ufeff \t\r\n")
    if looks_like_subtitles(head[:4096]):
        return "subtitles"
    if head[:1] in ("{", "[") and _is_json(head):
        return "json"
    if head[:1] == "<":
        return "xml"
    if looks_like_asciidoc(text):
        return "asciidoc"
    return prose_kind(text)


def prose_kind(text: str) -> str:
    """``"markdown"``, ``"csv"`` or ``"text"`` by the first lines."""
    lines = [line for line in text.splitlines()[:SNIFF_LINES] if line.strip()]
    if sum(1 for line in lines if MARKDOWN_LINE.match(line)) * 4 >= max(len(lines), 1):
        return "markdown"
    if len(lines) >= 2 and _delimiter(lines) is not None:
        return "csv"
    return "text"


def suffix_of(filename: str) -> str:
    return PurePosixPath(filename.replace("\\", "/")).suffix.lower()


def _is_json(text: str) -> bool:
    import json

    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _markup(request: ParseRequest, text: str, kind: str) -> Document:
    from pagemill.processors.convert.markup import asciidoc, notebook, subtitles

    pages = selected_pages(1, request.page_range, request.max_pages)
    sink = BlockSink()
    if kind == "asciidoc":
        metadata = asciidoc.write_asciidoc(text, sink)
    elif kind == "subtitles":
        metadata = subtitles.write_subtitles(text, sink)
    else:
        try:
            value = notebook.load_json(text)
        except ValueError:
            value = None
        if notebook.is_notebook(value):
            metadata = notebook.write_notebook(value, sink, include_images=request.include_images)
        else:
            metadata = notebook.write_json(text, sink)
    return sink.document(1, pages, metadata)


def _code(request: ParseRequest, text: str) -> Document:
    pages = selected_pages(1, request.page_range, request.max_pages)
    sink = BlockSink()
    code = text.replace("\r\n", "\n").strip("\n")
    if code.strip():
        sink.add(0, "code", code, language=CODE_LANGUAGES[suffix_of(request.filename)])
    return sink.document(1, pages, {"parser": "code"})


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig", errors="replace")


def _delimiter(lines: list[str], *, ragged: bool = False) -> str | None:
    """The delimiter that splits every sampled line into the same number (≥ 2) of fields; when
    none does and the file is known to be CSV (``ragged``: rows with a field missing or one too
    many), the one that splits most lines into the number of fields most of them have, provided
    that is half of them."""
    best: tuple[int, str] | None = None
    for delimiter in DELIMITERS:
        try:
            counts = Counter(len(row) for row in csv.reader(lines, delimiter=delimiter))
        except csv.Error:
            continue
        fields, lines_with = counts.most_common(1)[0] if counts else (0, 0)
        if fields < 2:
            continue
        if len(counts) == 1:
            return delimiter
        if ragged and 2 * lines_with >= len(lines) and (best is None or lines_with > best[0]):
            best = (lines_with, delimiter)
    return best[1] if best is not None else None


def _csv(request: ParseRequest, text: str) -> Document:
    pages = selected_pages(1, request.page_range, request.max_pages)
    sample = [line for line in text.splitlines()[:SNIFF_LINES] if line.strip()]
    delimiter = _delimiter(sample, ragged=True) or ("\t" if "\t" in text[:4096] else ",")
    rows: list[list[str]] = []
    more_rows = more_columns = False
    # A field may be as long as the file (the module's default cap is 128 KiB).
    csv.field_size_limit(max(csv.field_size_limit(), MAX_TEXT_BYTES))
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        if len(rows) >= MAX_ROWS:
            more_rows = True
            break
        more_columns = more_columns or len(row) > MAX_COLUMNS
        rows.append([collapse(cell) for cell in row[:MAX_COLUMNS]])
    sink = BlockSink()
    sink.add_table(0, rows)
    metadata: dict[str, object] = {"parser": "csv", "delimiter": delimiter}
    if more_rows or more_columns:
        metadata["truncated"] = {"more_rows": more_rows, "more_columns": more_columns}
    return sink.document(1, pages, metadata)


def _markdown(request: ParseRequest, text: str) -> Document:
    from markdown_it import MarkdownIt

    pages = selected_pages(1, request.page_range, request.max_pages)
    # "html": False escapes raw HTML: a Markdown file cannot smuggle markup or scripts in.
    renderer = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    html = renderer.render(text)
    sink = BlockSink()
    BlockWriter(sink, 0, furniture="content", images=None).write(make_soup(html.encode()))
    return sink.document(1, pages, {"parser": "markdown-it"})


def _plain(request: ParseRequest, text: str) -> Document:
    sheets = text.replace("\r\n", "\n").replace("\r", "\n").split("\f")
    pages = selected_pages(len(sheets), request.page_range, request.max_pages)
    sink = BlockSink()
    for page, sheet in enumerate(sheets):
        for paragraph in BLANK_LINES.split(sheet):
            content = collapse(paragraph)
            if content:
                sink.add(page, "paragraph", content)
    return sink.document(len(sheets), pages, {"parser": "text"})
