"""HTML and EPUB parsers on generated files with known content."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from docgen.officegen import (
    Image,
    Table,
    billion_laughs,
    html_page,
    make_epub,
    make_html,
    replace_member,
    tiny_png,
)
from pagemill.domain.errors import ProcessingError
from pagemill.ports.processing import ProcessorInput
from pagemill.processors.convert.formats import ParseRequest, detect_format
from pagemill.processors.convert.processor import ConvertProcessor
from pagemill.processors.convert.render import RenderOptions, render
from pagemill.processors.convert.web import epub as epub_parser
from pagemill.processors.convert.web import html as html_parser
from pagemill.processors.document import Document

ARTICLE = [
    ("h1", "Field Guide"),
    ("p", "Birds of the marsh."),
    ("h2", "Herons"),
    ("li", "Grey heron"),
    ("li", "Purple heron"),
    ("ol", "Look"),
    ("ol", "Listen"),
    ("table", Table([["Bird", "Size"], ["Heron", "Large"], ["Wren", "Small"]])),
    ("h5", "Footnote heading"),
    ("image", Image("A heron")),
]
FURNITURE = [
    "Site Logo Header",
    "Nav Home",
    "trackingScript",
    "color: red",
    "Aside advert",
    "Form search",
    "Copyright footer",
]


def parse_with(parser: Any, path: Path, **options: Any) -> Document:
    document: Document = parser.parse(ParseRequest(path=path, filename=path.name, **options))
    return document


def summary(document: Document) -> list[tuple[int, str, str, int | None]]:
    return [(b.page, b.type, b.text, b.level) for b in document.blocks]


def markdown(document: Document, *, paginate: bool = False) -> str:
    text = render(document, ["markdown"], RenderOptions(paginate=paginate))["markdown"]
    assert isinstance(text, str)
    return text


def html_file(tmp_path: Path, body: str, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def article_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_html(tmp_path_factory.mktemp("html") / "article.html", ARTICLE, title="Marsh")


# --- HTML -------------------------------------------------------------------------------------


def test_html_blocks_without_page_furniture(article_html: Path) -> None:
    document = parse_with(html_parser, article_html)
    assert summary(document) == [
        (0, "heading", "Field Guide", 1),
        (0, "paragraph", "Birds of the marsh.", None),
        (0, "heading", "Herons", 2),
        (0, "list_item", "Grey heron", None),
        (0, "list_item", "Purple heron", None),
        (0, "list_item", "1. Look", None),
        (0, "list_item", "2. Listen", None),
        (0, "table", "Bird | Size\nHeron | Large\nWren | Small", None),
        (0, "heading", "Footnote heading", 4),  # h5, capped at 4
    ]
    assert document.blocks[7].rows == (("Bird", "Size"), ("Heron", "Large"), ("Wren", "Small"))
    assert (document.page_count, document.pages) == (1, [0])
    assert document.metadata["title"] == "Marsh"
    assert [b.block_id for b in document.blocks[:3]] == [
        "/page/0/SectionHeader/0",
        "/page/0/Paragraph/1",
        "/page/0/SectionHeader/2",
    ]
    assert {b.bbox for b in document.blocks} == {(0.0, 0.0, 0.0, 0.0)}
    text = markdown(document)
    assert not [chrome for chrome in FURNITURE if chrome in text]


def test_html_markdown(article_html: Path) -> None:
    assert markdown(parse_with(html_parser, article_html)) == (
        "# Field Guide\n\nBirds of the marsh.\n\n## Herons\n\n- Grey heron\n- Purple heron\n"
        "1. Look\n2. Listen\n\n| Bird | Size |\n|---|---|\n| Heron | Large |\n| Wren | Small |"
        "\n\n#### Footnote heading"
    )


def test_html_header_and_footer_blocks_on_request(article_html: Path) -> None:
    document = parse_with(html_parser, article_html, include_headers_footers=True)
    assert (document.blocks[0].type, document.blocks[0].text) == ("page_header", "Site Logo Header")
    assert (document.blocks[-1].type, document.blocks[-1].text) == (
        "page_footer",
        "Copyright footer text",
    )
    assert "Nav Home" not in markdown(document)  # navigation is never content


def test_html_data_uri_images_only(article_html: Path, tmp_path: Path) -> None:
    document = parse_with(html_parser, article_html, include_images=True)
    pictures = [b for b in document.blocks if b.type == "picture"]
    assert [(p.text, p.image) for p in pictures] == [("A heron", "page_0_picture_0.png")]
    assert base64.b64decode(document.images["page_0_picture_0.png"]) == tiny_png()
    remote = html_file(
        tmp_path,
        "<p>Text <img src='http://192.0.2.1/x.png' alt='remote'>"
        "<img src='file:///etc/passwd' alt='local'>"
        "<img src='data:text/plain;base64,aGVsbG8=' alt='not an image'>"
        "<img src='data:image/svg+xml,%3Csvg%2F%3E' alt='inline svg'></p>",
    )
    document = parse_with(html_parser, remote, include_images=True)
    assert [(b.type, b.text) for b in document.blocks] == [
        ("paragraph", "Text"),
        ("picture", "inline svg"),
    ]
    assert base64.b64decode(document.images["page_0_picture_0.svg"]) == b"<svg/>"


def test_html_structure_details(tmp_path: Path) -> None:
    path = html_file(
        tmp_path,
        "<article><header><h1>Post title</h1></header>"
        "<p>Hello <b>bold</b> world<br>next line<!-- a comment --></p>"
        "<ul><li><p>Item in a paragraph</p></li>"
        "<li>Parent<ol start='4'><li>Child</li><li value='9'>Jump</li></ol>tail</li></ul>"
        "<div>Div text<div>inner</div>after</div>"
        "<div hidden>Hidden text</div><template>Template text</template>"
        "<table><caption>Sizes</caption><tr><th colspan='2'>Wide</th><th rowspan='2'>Tall</th>"
        "</tr><tr><td>a</td><td><table><tr><td>nested</td></tr></table></td></tr></table>"
        "<pre>code   block</pre></article>",
    )
    document = parse_with(html_parser, path)
    assert summary(document) == [
        (0, "heading", "Post title", 1),  # an article's header is content
        (0, "paragraph", "Hello bold world next line", None),
        (0, "list_item", "Item in a paragraph", None),
        (0, "list_item", "Parent", None),
        (0, "list_item", "4. Child", None),
        (0, "list_item", "9. Jump", None),
        (0, "paragraph", "tail", None),
        (0, "paragraph", "Div text", None),
        (0, "paragraph", "inner", None),
        (0, "paragraph", "after", None),
        (0, "paragraph", "Sizes", None),
        (0, "table", "Wide | Wide | Tall\na | nested | Tall", None),
        (0, "code", "code   block", None),
    ]


def test_html_preformatted_text_is_a_code_block(tmp_path: Path) -> None:
    path = html_file(
        tmp_path,
        "<main><p>Run it:</p><pre class='lang-sh'><code>pip install pagemill\n"
        "pagemill serve</code></pre><pre><code class='language-python'>def f(x):\n"
        "    return x<br>f(1)</code></pre></main>",
    )
    document = parse_with(html_parser, path)
    code = [(block.text, block.language) for block in document.blocks if block.type == "code"]
    assert code == [
        ("pip install pagemill\npagemill serve", "sh"),
        ("def f(x):\n    return x\nf(1)", "python"),
    ]
    markdown = render(document, ["markdown"], RenderOptions())["markdown"]
    assert "```python\ndef f(x):\n    return x\nf(1)\n```" in markdown


def test_html_hostile_markup_is_bounded(tmp_path: Path) -> None:
    deep = html_file(tmp_path, "<div>" * 5000 + "deep text" + "</div>" * 5000, "deep.html")
    assert "deep text" in markdown(parse_with(html_parser, deep))
    spans = "<td colspan='100000' rowspan='100000'>x</td>" * 50
    wide = html_file(tmp_path, f"<table><tr>{spans}</tr><tr><td>y</td></tr></table>", "wide.html")
    table = next(b for b in parse_with(html_parser, wide).blocks if b.type == "table")
    assert table.rows is not None
    assert {len(row) for row in table.rows} == {html_parser.MAX_TABLE_COLUMNS}
    # Internal DTD subsets are not read by the HTML parser: no entity is expanded.
    laughs = tmp_path / "laughs.html"
    laughs.write_text(billion_laughs("html"), encoding="utf-8")
    assert len(markdown(parse_with(html_parser, laughs))) < 1000


def test_html_page_range_and_size_limit(
    article_html: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert parse_with(html_parser, article_html, page_range="0").pages == [0]
    with pytest.raises(ProcessingError, match="selects no page"):
        parse_with(html_parser, article_html, page_range="1")
    monkeypatch.setattr(html_parser, "MAX_HTML_BYTES", 100)
    with pytest.raises(ProcessingError, match="larger than 100 bytes"):
        parse_with(html_parser, article_html)


# --- EPUB -------------------------------------------------------------------------------------

CHAPTERS = [
    [("h1", "Chapter One"), ("p", "It was a dark night."), ("li", "lamp"), ("li", "coat")],
    [
        ("h1", "Chapter Two"),
        ("raw", "<header><h2>Morning</h2></header>"),
        ("p", "Dawn came."),
        ("raw", '<p><img src="../images/map.png" alt="Map"/><img src="http://x.test/a.png"/></p>'),
    ],
    [("h1", "Chapter Three"), ("table", Table([["Key", "Value"], ["1", "2"]]))],
]


@pytest.fixture(scope="module")
def book_epub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The spine reads chapter two first: page order follows the spine, not the manifest.
    path = tmp_path_factory.mktemp("epub") / "book.epub"
    resources = [("OEBPS/images/map.png", tiny_png())]
    return make_epub(path, CHAPTERS, title="Night Book", spine=[1, 0, 2], resources=resources)


def test_epub_one_page_per_spine_item_in_spine_order(book_epub: Path) -> None:
    assert detect_format(book_epub) == "epub"
    document = parse_with(epub_parser, book_epub)
    assert summary(document) == [
        (0, "heading", "Chapter Two", 1),
        (0, "heading", "Morning", 2),  # a chapter's header is content in a book
        (0, "paragraph", "Dawn came.", None),
        (1, "heading", "Chapter One", 1),
        (1, "paragraph", "It was a dark night.", None),
        (1, "list_item", "lamp", None),
        (1, "list_item", "coat", None),
        (2, "heading", "Chapter Three", 1),
        (2, "table", "Key | Value\n1 | 2", None),
    ]
    assert (document.page_count, document.pages) == (3, [0, 1, 2])
    assert document.metadata["title"] == "Night Book"


def test_epub_page_range_selects_spine_items(book_epub: Path) -> None:
    document = parse_with(epub_parser, book_epub, page_range="1-2")
    assert document.pages == [1, 2]
    assert markdown(document, paginate=True) == (
        f"\n\n{{1}}{'-' * 48}\n\n# Chapter One\n\nIt was a dark night.\n\n- lamp\n- coat"
        f"\n\n{{2}}{'-' * 48}\n\n# Chapter Three\n\n| Key | Value |\n|---|---|\n| 1 | 2 |"
    )
    with pytest.raises(ProcessingError, match="selects no page"):
        parse_with(epub_parser, book_epub, page_range="5")


def test_epub_images_come_from_the_archive_only(book_epub: Path) -> None:
    document = parse_with(epub_parser, book_epub, include_images=True)
    pictures = [b for b in document.blocks if b.type == "picture"]
    assert [(p.page, p.text, p.image) for p in pictures] == [(0, "Map", "page_0_picture_0.png")]
    assert base64.b64decode(document.images["page_0_picture_0.png"]) == tiny_png()


def test_epub_without_container_falls_back_to_the_opf(book_epub: Path, tmp_path: Path) -> None:
    import zipfile

    from docgen.officegen import zip_with

    with zipfile.ZipFile(book_epub) as archive:
        members = [
            (i.filename, archive.read(i))
            for i in archive.infolist()
            if i.filename not in ("mimetype", "META-INF/container.xml")
        ]
    path = zip_with(tmp_path / "bare.epub", members, mimetype=b"application/epub+zip")
    assert parse_with(epub_parser, path).page_count == 3


def test_epub_hostile_xml_and_drm_are_refused(book_epub: Path, tmp_path: Path) -> None:
    laughs = replace_member(
        book_epub, tmp_path / "laughs.epub", "OEBPS/content.opf", billion_laughs("package").encode()
    )
    with pytest.raises(ProcessingError, match="internal DTD subset"):
        parse_with(epub_parser, laughs)
    chapter = "OEBPS/text/chapter0.xhtml"
    subset = '<?xml version="1.0"?><!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/passwd">]><html/>'
    external = replace_member(book_epub, tmp_path / "external.epub", chapter, subset.encode())
    with pytest.raises(ProcessingError, match="refused"):
        parse_with(epub_parser, external)
    encryption = (
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:CipherData>'
        f'<enc:CipherReference URI="{chapter}"/></enc:CipherData>'
        "</enc:EncryptedData></encryption>"
    )
    drm = replace_member(
        book_epub, tmp_path / "drm.epub", "META-INF/encryption.xml", encryption.encode()
    )
    with pytest.raises(ProcessingError, match="DRM"):
        parse_with(epub_parser, drm)


def test_epub_without_package_document_is_a_processing_error(tmp_path: Path) -> None:
    from docgen.officegen import zip_with

    path = zip_with(tmp_path / "empty.epub", [("a.txt", b"x")], mimetype=b"application/epub+zip")
    with pytest.raises(ProcessingError, match="no package document"):
        parse_with(epub_parser, path)


# --- the whole convert step -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["html", "epub"])
def test_convert_processor_runs_html_and_epub(
    kind: str, article_html: Path, book_epub: Path
) -> None:
    path = article_html if kind == "html" else book_epub
    job = ProcessorInput(
        document=path,
        filename=path.name,
        settings={"output_format": "markdown,chunks", "add_block_ids": True},
    )
    output = ConvertProcessor().run(job)
    expected = "# Field Guide" if kind == "html" else "# Chapter Two"
    assert output.result["markdown"].startswith(expected)
    assert output.page_count == (1 if kind == "html" else 3)
    chunk_ids = [chunk["id"] for chunk in output.result["chunks"]["blocks"]]
    assert chunk_ids[0] == "/page/0/SectionHeader/0"
    restored = Document.from_json_bytes(output.checkpoint or b"")
    assert [b.text for b in restored.blocks][:2] == (
        ["Field Guide", "Birds of the marsh."] if kind == "html" else ["Chapter Two", "Morning"]
    )


def test_html_page_helper_has_furniture_by_default() -> None:
    assert "<nav>" in html_page([("p", "x")])
    assert "<nav>" not in html_page([("p", "x")], furniture=False)
