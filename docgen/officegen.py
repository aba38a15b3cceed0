"""Generated DOCX, PPTX, XLSX, HTML and EPUB files with known content.

Every generator takes the content as arguments, so tests (and a quality benchmark) know exactly
which text should come out where. The content model is shared:

* a document is a sequence of pages (DOCX: separated by explicit page breaks; PPTX: slides;
  EPUB: spine documents; HTML: one page), each a sequence of items;
* an item is ``(kind, value)``: ``"title"`` or ``"h1"``..``"h4"`` (a heading), ``"p"`` (a
  paragraph), ``"li"`` (a bulleted list item), ``"ol"`` (a numbered list item, consecutive ones
  form one list), ``"table"`` (a ``Table``), ``"image"`` (an ``Image``) or, for HTML and EPUB
  only, ``"raw"`` (markup inserted as it is);
* XLSX takes ``(sheet name, rows)`` pairs instead.

Hostile files (zip bombs, entity declarations, …) are built with ``zip_with`` and
``replace_member``.
"""

from __future__ import annotations

import html
import struct
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

Item = tuple[str, Any]
Page = Sequence[Item]


@dataclass(frozen=True)
class Table:
    rows: Sequence[Sequence[str]]  # the first row is the header
    # Merged areas (first row, first column, last row, last column), inclusive; the text of
    # the area is the text of its first cell.
    merges: Sequence[tuple[int, int, int, int]] = ()


@dataclass(frozen=True)
class Image:
    alt: str
    data: bytes = b""  # a PNG; ``tiny_png()`` when empty

    def png(self) -> bytes:
        return self.data or tiny_png()


def tiny_png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid solid-colour PNG, without needing an imaging library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# --- DOCX -------------------------------------------------------------------------------------


def make_docx(path: Path, pages: Sequence[Page], *, break_before: bool = False) -> Path:
    """A DOCX with built-in styles; pages are separated by a page-break run, or, with
    ``break_before``, by ``pageBreakBefore`` on the first paragraph of each later page."""
    import docx
    from docx.shared import Inches

    document = docx.Document()
    for number, page in enumerate(pages):
        if number and not break_before:
            document.add_page_break()
        for index, (kind, value) in enumerate(page):
            first = number > 0 and index == 0 and break_before
            if kind == "table":
                _docx_table(document, value)
                continue
            if kind == "image":
                document.add_picture(BytesIO(value.png()), width=Inches(0.5))
                paragraph = document.paragraphs[-1]
                doc_pr = paragraph._p.xpath(".//wp:docPr")[0]
                doc_pr.set("descr", value.alt)
            elif kind == "title":
                paragraph = document.add_heading(value, 0)
            elif kind.startswith("h"):
                paragraph = document.add_heading(value, int(kind[1:]))
            elif kind == "li":
                paragraph = document.add_paragraph(value, style="List Bullet")
            elif kind == "ol":
                paragraph = document.add_paragraph(value, style="List Number")
            else:
                paragraph = document.add_paragraph(value)
            if first:
                paragraph.paragraph_format.page_break_before = True
    document.save(str(path))
    return path


def _docx_table(document: Any, table: Table) -> None:
    width = max(len(row) for row in table.rows)
    grid = document.add_table(rows=len(table.rows), cols=width)
    grid.style = "Table Grid"
    for r, row in enumerate(table.rows):
        for c, text in enumerate(row):
            grid.cell(r, c).text = text
    for r0, c0, r1, c1 in table.merges:
        text = table.rows[r0][c0]
        merged = grid.cell(r0, c0).merge(grid.cell(r1, c1))
        merged.text = text


# --- PPTX -------------------------------------------------------------------------------------

EMU_PER_INCH = 914400


def make_pptx(path: Path, slides: Sequence[Page], *, notes: str = "") -> Path:
    """One slide per page. The first ``title``/``h1`` goes into the title placeholder, an
    ``h2`` into the subtitle placeholder (Title Slide layout); the first run of ``li`` items
    goes into the body placeholder (bullets inherited from the master), other runs of text
    into text boxes (``li`` with an explicit bullet, ``ol`` auto-numbered), stacked top to
    bottom in content order. ``notes`` goes into every slide's notes (which parsers ignore)."""
    from pptx import Presentation
    from pptx.util import Emu

    deck = Presentation()
    for items in slides:
        kinds = [kind for kind, _ in items]
        layout = 0 if "h2" in kinds else (1 if "li" in kinds else 5)
        slide = deck.slides.add_slide(deck.slide_layouts[layout])
        body_used = layout != 1
        top = int(1.6 * EMU_PER_INCH)
        for run_kind, run in _runs(items):
            if run_kind in ("title", "h1") and slide.shapes.title is not None:
                slide.shapes.title.text = run[0]
                continue
            if run_kind == "h2" and layout == 0:
                slide.placeholders[1].text = run[0]
                continue
            height = int(0.4 * EMU_PER_INCH) * len(run)
            box = (Emu(EMU_PER_INCH // 2), Emu(top), Emu(8 * EMU_PER_INCH), Emu(height))
            if run_kind == "table":
                for table in run:
                    _pptx_table(slide, table, box)
            elif run_kind == "image":
                for image in run:
                    picture = slide.shapes.add_picture(BytesIO(image.png()), *box[:2])
                    picture._element.nvPicPr.cNvPr.set("descr", image.alt)
            elif run_kind == "li" and not body_used:
                body_used = True
                body = slide.placeholders[1]
                body.left, body.top, body.width, body.height = box
                body.text_frame.text = run[0]
                for text in run[1:]:
                    body.text_frame.add_paragraph().text = text
            else:
                frame = slide.shapes.add_textbox(*box).text_frame
                for index, text in enumerate(run):
                    paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
                    paragraph.text = text
                    _bullet(paragraph, run_kind)
            top += height + int(0.2 * EMU_PER_INCH)
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    deck.save(str(path))
    return path


def _runs(items: Page) -> list[tuple[str, list[Any]]]:
    runs: list[tuple[str, list[Any]]] = []
    for kind, value in items:
        if runs and runs[-1][0] == kind and kind in ("p", "li", "ol", "table", "image"):
            runs[-1][1].append(value)
        else:
            runs.append((kind, [value]))
    return runs


def _bullet(paragraph: Any, kind: str) -> None:
    from pptx.oxml.ns import qn

    if kind not in ("li", "ol"):
        return
    ppr = paragraph._p.get_or_add_pPr()
    if kind == "li":
        ppr.append(ppr.makeelement(qn("a:buChar"), {"char": "•"}))
    else:
        ppr.append(ppr.makeelement(qn("a:buAutoNum"), {"type": "arabicPeriod"}))


def _pptx_table(slide: Any, table: Table, box: tuple[Any, ...]) -> None:
    width = max(len(row) for row in table.rows)
    shape = slide.shapes.add_table(len(table.rows), width, *box)
    for r, row in enumerate(table.rows):
        for c, text in enumerate(row):
            shape.table.cell(r, c).text = text
    for r0, c0, r1, c1 in table.merges:
        shape.table.cell(r0, c0).merge(shape.table.cell(r1, c1))
        shape.table.cell(r0, c0).text = table.rows[r0][c0]  # merge() joins the texts


# --- XLSX -------------------------------------------------------------------------------------


def make_xlsx(
    path: Path, sheets: Sequence[tuple[str, Sequence[Sequence[Any]]]], *, origin: str = "A1"
) -> Path:
    """One worksheet per ``(name, rows)``, the rows written from ``origin`` (e.g. ``"C3"``)."""
    from openpyxl import Workbook
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    workbook = Workbook()
    workbook.remove(workbook.active)
    letters, first_row = coordinate_from_string(origin)
    first_column = column_index_from_string(letters)
    for name, rows in sheets:
        sheet = workbook.create_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.cell(row=first_row + r, column=first_column + c, value=value)
    workbook.save(str(path))
    return path


# --- HTML and EPUB ----------------------------------------------------------------------------


def html_body(items: Page) -> str:
    """The items as HTML elements (lists grouped into ``ul``/``ol``, images as data URIs)."""
    parts: list[str] = []
    open_list = ""
    for kind, value in items:
        tag = {"li": "ul", "ol": "ol"}.get(kind, "")
        if tag != open_list:
            if open_list:
                parts.append(f"</{open_list}>")
            if tag:
                parts.append(f"<{tag}>")
            open_list = tag
        if tag:
            parts.append(f"<li>{html.escape(value)}</li>")
        elif kind == "table":
            parts.append(_html_table(value))
        elif kind == "raw":
            parts.append(value)
        elif kind == "image":
            import base64

            data = base64.b64encode(value.png()).decode("ascii")
            alt = html.escape(value.alt)
            parts.append(f'<p><img src="data:image/png;base64,{data}" alt="{alt}"></p>')
        else:
            name = {"title": "h1", "p": "p"}.get(kind, kind)
            parts.append(f"<{name}>{html.escape(value)}</{name}>")
    if open_list:
        parts.append(f"</{open_list}>")
    return "\n".join(parts)


def _html_table(table: Table) -> str:
    covered: set[tuple[int, int]] = set()
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    for r0, c0, r1, c1 in table.merges:
        spans[(r0, c0)] = (r1 - r0 + 1, c1 - c0 + 1)
        covered |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)} - {(r0, c0)}
    rows = []
    for r, row in enumerate(table.rows):
        cells = []
        for c, text in enumerate(row):
            if (r, c) in covered:
                continue
            cell = "th" if r == 0 else "td"
            rowspan, colspan = spans.get((r, c), (1, 1))
            attributes = (f' rowspan="{rowspan}"' if rowspan > 1 else "") + (
                f' colspan="{colspan}"' if colspan > 1 else ""
            )
            cells.append(f"<{cell}{attributes}>{html.escape(text)}</{cell}>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def html_page(items: Page, *, title: str = "Generated page", furniture: bool = True) -> str:
    """A whole HTML page; with ``furniture``, site navigation, a page header and footer, a
    script, a style sheet, an aside and a form surround the content (none of it is content)."""
    chrome_top = (
        "<header><a href='/'>Site Logo Header</a></header>\n"
        "<nav><ul><li>Nav Home</li><li>Nav About</li></ul></nav>\n"
        "<script>var trackingScript = 1;</script><style>p { color: red }</style>\n"
        if furniture
        else ""
    )
    chrome_bottom = (
        "<aside>Aside advert text</aside>\n"
        "<form><label>Form search label</label><input name='q'></form>\n"
        "<footer>Copyright footer text</footer>\n"
        if furniture
        else ""
    )
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title></head>\n<body>\n{chrome_top}<main>\n{html_body(items)}\n</main>\n"
        f"{chrome_bottom}</body></html>\n"
    )


def make_html(path: Path, items: Page, **options: Any) -> Path:
    path.write_text(html_page(items, **options), encoding="utf-8")
    return path


def make_epub(
    path: Path,
    chapters: Sequence[Page],
    *,
    title: str = "Generated book",
    spine: Sequence[int] = (),
    resources: Sequence[tuple[str, bytes]] = (),
) -> Path:
    """An EPUB 3: one XHTML document per chapter (``OEBPS/text/chapterN.xhtml``); ``spine``
    gives the reading order of the chapters (default: as given), which parsers must follow
    rather than the manifest order. ``resources`` are extra members, e.g.
    ``("OEBPS/images/a.png", png)``, for chapters to reference."""
    order = list(spine) or list(range(len(chapters)))
    manifest = "".join(
        f'<item id="c{i}" href="text/chapter{i}.xhtml" media-type="application/xhtml+xml"/>'
        for i in range(len(chapters))
    )
    itemrefs = "".join(f'<itemref idref="c{i}"/>' for i in order)
    opf = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:identifier id="id">urn:test</dc:identifier><dc:title>{html.escape(title)}</dc:title>'
        "<dc:language>en</dc:language></metadata>"
        f'<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" '
        f'properties="nav"/>{manifest}</manifest><spine>{itemrefs}</spine></package>'
    )
    container = (
        '<?xml version="1.0"?>\n<container version="1.0" '
        'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
        '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>"
    )
    members: list[tuple[str, bytes]] = [
        ("META-INF/container.xml", container.encode()),
        ("OEBPS/content.opf", opf.encode()),
        ("OEBPS/nav.xhtml", _xhtml("Contents", [("p", "Table of contents")]).encode()),
    ]
    members += [
        (f"OEBPS/text/chapter{i}.xhtml", _xhtml(f"Chapter {i}", items).encode())
        for i, items in enumerate(chapters)
    ]
    return zip_with(path, [*members, *resources], mimetype=b"application/epub+zip")


def _xhtml(title: str, items: Page) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head>'
        f"<title>{html.escape(title)}</title></head><body>\n{html_body(items)}\n</body></html>"
    )


# --- hostile and damaged files ----------------------------------------------------------------


def zip_with(
    path: Path, members: Iterable[tuple[str, bytes]], *, mimetype: bytes | None = None
) -> Path:
    """A zip of ``members`` (deflated); ``mimetype`` is stored first, as EPUB requires."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if mimetype is not None:
            archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        for name, data in members:
            archive.writestr(name, data)
    return path


def replace_member(source: Path, target: Path, name: str, data: bytes) -> Path:
    """A copy of the zip ``source`` with member ``name`` replaced (or added)."""
    with zipfile.ZipFile(source) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    members = [(n, d) for n, d in members if n != name] + [(name, data)]
    return zip_with(target, members)


def billion_laughs(root: str = "lolz", *, prolog: str = '<?xml version="1.0"?>\n') -> str:
    """The classic exponential entity declaration, then a ``root`` element that uses it."""
    entities = "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    return f'{prolog}<!DOCTYPE {root} [\n<!ENTITY lol "lol">\n{entities}]>\n<{root}>&lol9;</{root}>'
