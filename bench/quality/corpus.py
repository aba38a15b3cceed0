"""Build the quality corpus: the shared articles rendered into every family, with gold tests.

    .venv/bin/python bench/quality/corpus.py [OUT_DIR]     # build only, print the manifest

Families (one document each unless noted; every document has ``<stem>.tests.json`` beside it):

* ``pdf-1col``: the full articles, one column (an article takes two pages);
* ``pdf-2col`` / ``pdf-3col``: the same articles in two or three columns, the title spanning
  them (the five-column table is left out: it does not fit a column);
* ``pdf-row-major-2col``: the two-column pages again, but the content stream is written line
  by line across both columns, as some generators do; the pages look identical;
* ``pdf-running-headers``: ``pdf-1col`` with a running header and a "Page N of M" footer on
  every page (``furniture_absent`` tests: neither may appear in the output);
* ``pdf-ruled-tables``: per article a page of ruled tables (the small, the wide and the wide one
  transposed) under its title;
* ``scan``: the first part of seven articles rasterised and degraded (skew, Gaussian blur,
  Gaussian noise; see ``MILD``, ``JPEG``, ``ROUGH``): an image-only PDF with running furniture
  (4 pages, mild), a PNG (1 page, mild plus a JPEG round trip) and a two-frame TIFF (150 dpi,
  rougher);
* ``docx``, ``pptx``, ``xlsx``, ``html``, ``epub``: the full articles through
  ``docgen/officegen.py`` (XLSX holds the tables, one sheet each, and a sheet of titles).

The generators are the ones the tests use (``docgen/pdfgen.py``, ``docgen/officegen.py``), imported,
never copied. Text, gold and pixels are deterministic in ``content.SEED`` (only the timestamps
inside ZIP and PDF containers differ between builds).
"""

from __future__ import annotations

import itertools
import json
import math
import random
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from content import SEED, Article, Block, Table, articles  # noqa: E402

from docgen import officegen, pdfgen  # noqa: E402

HEADER = "Pagemill Quality Digest - Volume 3"
FOOTER = "Page {page} of {pages}"
OCR_DIFFS_PER_CHAR = 1 / 20  # OCR families: a present arg may be this many edits per char off
MAX_BLOCKS_SHORT = 12  # a scanned "article": up to the paragraph after the small table
COLBREAK = ("colbreak", "")


@dataclass(slots=True)
class Item:
    """One gold block of a rendered document, in reading order."""

    role: str  # "heading" | "text" | "item" | "table"
    text: str = ""
    level: int | None = None  # headings whose level this format can express
    sentences: tuple[str, ...] = ()
    table: Table | None = None


@dataclass(slots=True)
class Doc:
    family: str
    path: Path
    items: list[Item]
    furniture: list[str] = field(default_factory=list)
    ocr: bool = False
    modes: tuple[str, ...] = ("fast",)
    words: list[str] | None = None  # OCR reference text, word by word
    pages: int = 0
    note: str = ""  # how a scan was degraded

    @property
    def gold_path(self) -> Path:
        return self.path.with_name(f"{self.path.stem}.tests.json")


# --- the articles as items and as generator input -----------------------------------------------


def article_items(article: Article, blocks: Sequence[Block]) -> list[Item]:
    items = [
        Item("heading", article.title, 1),
        Item("text", article.standfirst, sentences=(article.standfirst,)),
    ]
    for block in blocks:
        if block.kind in ("h2", "h3"):
            items.append(Item("heading", block.text, int(block.kind[1])))
        elif block.kind == "p":
            items.append(Item("text", block.text, sentences=block.sentences))
        elif block.kind == "li":
            items.append(Item("item", block.text))
        else:
            items.append(Item("table", table=block.table))
    return items


def pdf_kind_text(block: Block) -> tuple[str, str]:
    if block.table is not None:
        return ("table", "\n".join(" | ".join(row) for row in block.table.rows))
    return (block.kind, block.text)


def transposed(table: Table) -> Table:
    width = table.width
    return Table(
        (
            ("Measure", *(row[0] for row in table.rows[1:])),
            *((table.rows[0][c], *(row[c] for row in table.rows[1:])) for c in range(1, width)),
        )
    )


def full(article: Article) -> list[Block]:
    return list(article.blocks)


def no_wide(article: Article) -> list[Block]:
    return [b for b in article.blocks if b.table is None or b.table.width <= 3]


def short(article: Article) -> list[Block]:
    return list(article.blocks[:MAX_BLOCKS_SHORT])


# --- PDF families -------------------------------------------------------------------------------


def _fits(page: list[tuple[str, str]], columns: int, scratch: Path) -> bool:
    try:
        pdfgen.make_pdf(scratch / "fit.pdf", [page], columns=columns)
    except ValueError:
        return False
    return True


def pack(
    content: list[list[tuple[str, str]]], columns: int, scratch: Path
) -> list[list[tuple[str, str]]]:
    """Each article starts a page; its blocks fill the columns and pages in order.

    ``make_pdf`` flows text lines into the next column by itself but raises for a table (or the
    end of a block) past the bottom margin, so a block that does not fit is tried at the top of
    the next column, then on a new page.
    """
    pages: list[list[tuple[str, str]]] = []
    for blocks in content:
        page: list[tuple[str, str]] = []
        for block in blocks:
            breaks = sum(1 for kind, _ in page if kind == "colbreak")
            if not page or _fits([*page, block], columns, scratch):
                page.append(block)
            elif breaks + 1 < columns and _fits([*page, COLBREAK, block], columns, scratch):
                page += [COLBREAK, block]
            else:
                pages.append(page)
                page = [block]
        pages.append(page)
    return pages


def check_cells_fit(table: Table, columns: int) -> None:
    """Refuse a table whose text would run over its cell's rules in a ``columns`` layout: that
    would be the generator's fault, not the converter's."""
    from reportlab.lib.pagesizes import LETTER
    from reportlab.pdfbase.pdfmetrics import stringWidth

    frame = (LETTER[0] - 2 * pdfgen.MARGIN - (columns - 1) * pdfgen.GUTTER) / columns
    cell = frame / table.width
    for index, row in enumerate(table.rows):
        font = "Helvetica-Bold" if index == 0 else pdfgen.BODY_FONT
        for text in row:
            needed = stringWidth(text, font, pdfgen.BODY_SIZE) + pdfgen.CELL_PADDING + 2.0
            if needed > cell:
                raise ValueError(f"cell {text!r} is too wide for a {columns}-column page")


def pdf_pages(
    chosen: list[tuple[Article, list[Block]]], columns: int, scratch: Path
) -> list[list[tuple[str, str]]]:
    for _, blocks in chosen:
        for block in blocks:
            if block.table is not None:
                check_cells_fit(block.table, columns)
    content = [
        [("h1", a.title), ("p", a.standfirst), *(pdf_kind_text(b) for b in blocks)]
        for a, blocks in chosen
    ]
    return pack(content, columns, scratch)


def build_pdf_families(arts: list[Article], out: Path, scratch: Path) -> list[Doc]:
    docs: list[Doc] = []
    full_set = [(a, full(a)) for a in arts]
    one_col = pdf_pages(full_set, 1, scratch)
    items = [item for a, blocks in full_set for item in article_items(a, blocks)]
    path = pdfgen.make_pdf(out / "pdf-1col.pdf", one_col)
    docs.append(Doc("pdf-1col", path, items, pages=len(one_col)))

    footers = [FOOTER.format(page=i + 1, pages=len(one_col)) for i in range(len(one_col))]
    path = pdfgen.make_pdf(out / "pdf-running-headers.pdf", one_col, header=HEADER, footer=FOOTER)
    docs.append(Doc("pdf-running-headers", path, items, [HEADER, *footers], pages=len(one_col)))

    narrow = [(a, no_wide(a)) for a in arts]
    narrow_items = [item for a, blocks in narrow for item in article_items(a, blocks)]
    for columns in (2, 3):
        pages = pdf_pages(narrow, columns, scratch)
        path = pdfgen.make_pdf(out / f"pdf-{columns}col.pdf", pages, columns=columns)
        docs.append(Doc(f"pdf-{columns}col", path, narrow_items, pages=len(pages)))
        if columns == 2:
            path = pdfgen.make_pdf(out / "pdf-row-major-2col.pdf", pages, columns=2, row_major=True)
            docs.append(Doc("pdf-row-major-2col", path, narrow_items, pages=len(pages)))

    table_content: list[list[tuple[str, str]]] = []
    table_items: list[Item] = []
    for a in arts:
        small, wide = a.tables
        tables = [small, wide, transposed(wide)]
        table_content.append(
            [
                ("h1", a.title),
                ("p", a.standfirst),
                *(("table", "\n".join(" | ".join(r) for r in t.rows)) for t in tables),
            ]
        )
        table_items += [
            Item("heading", a.title, 1),
            Item("text", a.standfirst, sentences=(a.standfirst,)),
            *(Item("table", table=t) for t in tables),
        ]
    pages = pack(table_content, 1, scratch)
    path = pdfgen.make_pdf(out / "pdf-ruled-tables.pdf", pages)
    docs.append(Doc("pdf-ruled-tables", path, table_items, pages=len(pages)))
    return docs


# --- scans --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Degradation:
    """How a scanner mangles a page (all seeded)."""

    name: str
    dpi: int
    skew: tuple[float, float]  # degrees, either direction
    blur: tuple[float, float]  # Gaussian blur radius in pixels
    noise: float  # Gaussian noise sigma, grey levels
    jpeg_quality: int | None = None  # a JPEG round trip, for its block artefacts


MILD = Degradation(
    "mild: 200 dpi, skew 0.3-0.9 deg, blur 0.4-0.7 px, noise 12", 200, (0.3, 0.9), (0.4, 0.7), 12.0
)
JPEG = Degradation("mild + JPEG q=35: 200 dpi", 200, (0.3, 0.9), (0.4, 0.7), 12.0, 35)
ROUGH = Degradation(
    "rougher: 150 dpi, skew 0.8-1.5 deg, blur 0.6-0.9 px, noise 20",
    150,
    (0.8, 1.5),
    (0.6, 0.9),
    20.0,
)


def degrade(image: Any, how: Degradation, rng: random.Random) -> Any:
    """A scanner's view of a clean page: skew, blur, sensor noise, maybe JPEG artefacts."""
    import io

    import numpy as np
    from PIL import Image, ImageFilter

    angle = rng.uniform(*how.skew) * rng.choice((-1.0, 1.0))
    page = image.convert("L").rotate(
        angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255
    )
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(*how.blur)))
    pixels = np.asarray(page, dtype=np.float32)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0.0, how.noise, pixels.shape)
    page = Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8), "L")
    if how.jpeg_quality is not None:
        buffer = io.BytesIO()
        page.save(buffer, "JPEG", quality=how.jpeg_quality)
        page = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    return page


def build_scans(arts: list[Article], out: Path, scratch: Path) -> list[Doc]:
    rng = random.Random(SEED + 1)
    docs: list[Doc] = []
    plan = (
        ("scan-pdf", arts[0:4], "pdf", MILD),
        ("scan-png", arts[4:5], "png", JPEG),
        ("scan-tiff", arts[5:7], "tiff", ROUGH),
    )
    for stem, chosen, kind, how in plan:
        with_blocks = [(a, short(a)) for a in chosen]
        pages = pdf_pages(with_blocks, 1, scratch)
        furniture = kind != "png"
        clean = pdfgen.make_pdf(
            scratch / f"{stem}-clean.pdf",
            pages,
            header=HEADER if furniture else None,
            footer=FOOTER if furniture else None,
        )
        pixels = pdfgen.rasterise(clean, dpi=how.dpi)
        images = [degrade(image, how, rng) for image in pixels]
        path = out / f"{stem}.{kind}"
        dpi = (how.dpi, how.dpi)
        if kind == "pdf":
            images[0].save(
                path, "PDF", resolution=float(how.dpi), save_all=True, append_images=images[1:]
            )
        elif kind == "tiff":
            images[0].save(
                path,
                "TIFF",
                dpi=dpi,
                compression="tiff_lzw",
                save_all=True,
                append_images=images[1:],
            )
        else:
            images[0].save(path, "PNG", dpi=dpi)
        items = [item for a, blocks in with_blocks for item in article_items(a, blocks)]
        footers = [FOOTER.format(page=i + 1, pages=len(pages)) for i in range(len(pages))]
        docs.append(
            Doc(
                "scan",
                path,
                items,
                [HEADER, *footers] if furniture else [],
                ocr=True,
                modes=("fast", "accurate"),
                words=pdfgen.page_words(pages),
                pages=len(pages),
                note=how.name,
            )
        )
    return docs


# --- office formats, HTML, EPUB -----------------------------------------------------------------


def office_items(article: Article, blocks: Sequence[Block]) -> list[tuple[str, Any]]:
    """The article in ``officegen``'s content model."""
    result: list[tuple[str, Any]] = [("h1", article.title), ("p", article.standfirst)]
    for block in blocks:
        if block.table is not None:
            result.append(("table", officegen.Table(block.table.rows)))
        else:
            result.append((block.kind, block.text))
    return result


def html_furniture() -> list[str]:
    """The texts of ``officegen.html_page``'s site chrome, none of which is content."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(officegen.html_page([], furniture=True), "html.parser")
    texts: list[str] = []
    for tag in soup.find_all(["header", "nav", "aside", "form", "footer", "script", "style"]):
        texts += [t.strip() for t in tag.stripped_strings if t.strip()]
    return list(dict.fromkeys(texts))


def pptx_slides(article: Article) -> tuple[list[list[tuple[str, Any]]], list[Item]]:
    """A title slide (title + standfirst as subtitle), then one slide per section whose title
    is the section heading. Only placeholders carry heading levels in PPTX: the slide titles
    (level 1) and the subtitle (level 2); an ``h3`` is a line of text in a text box."""
    slides: list[list[tuple[str, Any]]] = [[("title", article.title), ("h2", article.standfirst)]]
    items = [Item("heading", article.title, 1), Item("heading", article.standfirst, 2)]
    for block in article.blocks:
        if block.kind == "h2":
            slides.append([("title", block.text)])
            items.append(Item("heading", block.text, 1))
        elif block.table is not None:
            slides[-1].append(("table", officegen.Table(block.table.rows)))
            items.append(Item("table", table=block.table))
        elif block.kind == "h3":
            slides[-1].append(("p", block.text))
            items.append(Item("text", block.text, sentences=(block.text,)))
        else:
            slides[-1].append((block.kind, block.text))
            items.append(article_items(article, [block])[-1])
    return slides, items


def xlsx_cell(value: str) -> Any:
    return int(value) if value.isdigit() else value


def build_office(arts: list[Article], out: Path) -> list[Doc]:
    docs: list[Doc] = []
    items = [item for a in arts for item in article_items(a, full(a))]
    pages = [office_items(a, full(a)) for a in arts]

    path = officegen.make_docx(out / "docx.docx", pages)
    docs.append(Doc("docx", path, items, pages=len(pages)))

    path = officegen.make_html(
        out / "html.html", [item for page in pages for item in page], title="Quality digest"
    )
    docs.append(Doc("html", path, items, html_furniture(), pages=1))

    path = officegen.make_epub(out / "epub.epub", pages, title="Quality digest")
    docs.append(Doc("epub", path, items, pages=len(pages)))

    slides: list[list[tuple[str, Any]]] = []
    slide_items: list[Item] = []
    for article in arts:
        more, more_items = pptx_slides(article)
        slides += more
        slide_items += more_items
    path = officegen.make_pptx(out / "pptx.pptx", slides, notes="Speaker notes are not content.")
    docs.append(
        Doc("pptx", path, slide_items, ["Speaker notes are not content."], pages=len(slides))
    )

    index = Table((("Title", "Standfirst"), *((a.title, a.standfirst) for a in arts)))
    sheets: list[tuple[str, list[list[Any]]]] = [("Articles", [list(r) for r in index.rows])]
    xlsx_items = [Item("heading", "Articles", 1), Item("table", table=index)]
    for a in arts:
        for suffix, table in zip((" shares", " quarters"), a.tables, strict=True):
            name = f"{a.sheet}{suffix}"
            sheets.append((name, [[xlsx_cell(v) for v in row] for row in table.rows]))
            xlsx_items += [Item("heading", name, 1), Item("table", table=table)]
    path = officegen.make_xlsx(out / "xlsx.xlsx", sheets)
    docs.append(Doc("xlsx", path, xlsx_items, pages=len(sheets)))
    return docs


# --- gold ---------------------------------------------------------------------------------------


def _arg(text: str, max_diffs: int = 0) -> dict[str, Any]:
    return {"text": text, "max_diffs": max_diffs}


def _diffs(text: str, ocr: bool) -> int:
    return max(1, math.floor(len(text) * OCR_DIFFS_PER_CHAR)) if ocr else 0


def anchor(item: Item) -> str:
    """The text that stands for an item in ``order`` tests."""
    return item.sentences[0] if item.sentences else item.text


def gold_tests(doc: Doc) -> list[dict[str, Any]]:
    """The document's tests in omni_parse_bench's format (derivation ``authored``), plus our
    ``heading_level`` and ``furniture_absent`` test types."""
    tests: list[dict[str, Any]] = []
    base_tags = ["eng", "Latn"]
    family_tags = {
        "pdf-2col": ["multi_column"],
        "pdf-3col": ["multi_column"],
        "pdf-row-major-2col": ["multi_column"],
        "scan": ["degraded"],
    }.get(doc.family, [])

    def add(test_type: str, args: dict[str, Any], tags: Sequence[str], **settings: Any) -> None:
        tests.append(
            {
                "id": f"{doc.path.stem}-{len(tests):04d}-{test_type}",
                "test_type": test_type,
                "output_type": "html",
                "derivation": "authored",
                "tags": [*base_tags, *family_tags, *tags],
                "args": args,
                "settings": settings,
            }
        )

    ocr = doc.ocr
    texts = [item for item in doc.items if item.role != "table"]
    for item in doc.items:
        if item.role == "heading":
            add("present", {"content": _arg(item.text, _diffs(item.text, ocr))}, ["heading"])
            if item.level is not None:
                args = {"content": _arg(item.text, _diffs(item.text, ocr))}
                add("heading_level", args, ["heading"], level=item.level)
        elif item.role == "item":
            add("present", {"content": _arg(item.text, _diffs(item.text, ocr))}, ["list"])
        elif item.role == "text":
            for sentence in item.sentences:
                add("present", {"content": _arg(sentence, _diffs(sentence, ocr))}, [])
        elif item.table is not None:
            rows = item.table.rows
            for r in range(1, len(rows)):
                for c in range(1, len(rows[r])):
                    args = {
                        "cell": _arg(rows[r][c]),
                        "top_heading": _arg(rows[0][c]),
                        "left_heading": _arg(rows[r][0]),
                    }
                    if c > 1:
                        args["left"] = _arg(rows[r][c - 1])
                    add("table_cell", args, ["table"])
    for before, after in itertools.pairwise(texts):
        a, b = anchor(before), anchor(after)
        add("order", {"before": _arg(a, _diffs(a, ocr)), "after": _arg(b, _diffs(b, ocr))}, [])
    for item in texts:
        if item.role in ("heading", "text"):
            text = anchor(item)
            add("repeat", {"content": _arg(text, _diffs(text, ocr))}, [], expected_count=1)
    for text in doc.furniture:
        add("furniture_absent", {"content": _arg(text)}, ["header_footer"])
    return tests


def write_gold(doc: Doc) -> None:
    doc.gold_path.write_text(json.dumps({"tests": gold_tests(doc)}, indent=1) + "\n")
    if doc.words is not None:
        truth = {"family": doc.family, "reference_words": doc.words}
        doc.path.with_name(f"{doc.path.stem}.truth.json").write_text(json.dumps(truth) + "\n")


def build(out: Path) -> list[Doc]:
    """Write every document and its gold into ``out``; return the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    arts = articles()
    with tempfile.TemporaryDirectory(prefix="pagemill-quality-") as tmp:
        scratch = Path(tmp)
        docs = [
            *build_pdf_families(arts, out, scratch),
            *build_scans(arts, out, scratch),
            *build_office(arts, out),
        ]
    for doc in docs:
        write_gold(doc)
    return docs


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="quality-"))
    for doc in build(out):
        tests = json.loads(doc.gold_path.read_text())["tests"]
        print(f"{doc.family:22} {doc.path.name:26} {doc.pages:3} pages {len(tests):5} tests")
    print(out)


if __name__ == "__main__":
    main()
