"""XML documents convert by their root element: JATS articles, USPTO patents, feeds, XHTML,
any other XML as its text; hostile XML (entity declarations, external entities) is refused.

The samples in ``tests/fixtures/markup`` were written for these tests in the shape of the real
formats (JATS 1.2, USPTO grant v4.5, Atom 1.0).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pagemill.domain.errors import ProcessingError
from pagemill.processors.document import Document
from tests.unit.processors.uploads import convert_upload as convert

MARKUP = Path(__file__).resolve().parents[2] / "fixtures" / "markup"


def headings(document: Document) -> list[tuple[int | None, str]]:
    return [(block.level, block.text) for block in document.blocks if block.type == "heading"]


@pytest.mark.parametrize("filename", ["article.xml", "article.nxml", "upload"])
def test_a_jats_article_has_its_sections_tables_lists_and_references(
    tmp_path: Path, filename: str
) -> None:
    markdown, document = convert(tmp_path, filename, (MARKUP / "jats-article.xml").read_bytes())
    assert headings(document) == [
        (1, "Sleep & memory in Drosophila"),
        (2, "Abstract"),
        (2, "Introduction"),
        (3, "1.1 Sub"),
        (2, "Acknowledgments"),
        (2, "References"),
    ]
    texts = [block.text for block in document.blocks]
    assert "Jane Smith, J Doe" in texts
    assert "We show\u00a0that sleep matters." in texts or "We show that sleep matters." in texts
    # A table inside a paragraph ends it and comes next; the paragraph's tail follows.
    table_at = next(i for i, block in enumerate(document.blocks) if block.type == "table")
    assert texts[table_at - 2 : table_at] == ["Flies sleep [1]. See table.", "Table 1. Counts"]
    assert texts[table_at + 1 : table_at + 3] == ["n, flies.", "And more text."]
    assert document.blocks[table_at].rows == (("Group", "n"), ("A", "3"), ("A", "4"))
    items = [block.text for block in document.blocks if block.type == "list_item"]
    assert items[:2] == ["1. one", "2. two"]
    assert items[2] == "1. Lee K, Wu M. Fly sleep. Nature. 2001;4:1\u20139"
    # No label, but the text cites by number ("[1]"): numbered in order.
    assert items[3] == "2. Roe A. Naps. Cell. 2010; 3: 5."
    assert "Figure 1. A fly." in texts
    assert document.metadata["parser"] == "jats" and document.metadata["doi"] == "10.1/x"
    assert "<" not in markdown


def test_author_year_references_are_not_numbered(tmp_path: Path) -> None:
    article = (
        b"<article><body><p>As shown (<xref ref-type='bibr' rid='r1'>Lee, 2001</xref>).</p>"
        b"</body><back><ref-list><ref id='r1'><mixed-citation>Lee K. 2001. Fly sleep."
        b"</mixed-citation></ref></ref-list></back></article>"
    )
    markdown, _ = convert(tmp_path, "a.xml", article)
    assert markdown.endswith("## References\n\n- Lee K. 2001. Fly sleep.")


def test_a_uspto_patent_has_title_abstract_description_and_claims(tmp_path: Path) -> None:
    _, document = convert(tmp_path, "US09999999.xml", (MARKUP / "uspto-patent.xml").read_bytes())
    assert headings(document) == [
        (1, "Folding ladder with a locking hinge"),
        (2, "Abstract"),
        (2, "Description"),
        (3, "BACKGROUND"),
        (3, "DETAILED DESCRIPTION"),
        (2, "Claims"),
    ]
    texts = [block.text for block in document.blocks]
    assert texts[1] == "US 09999999 B2"
    assert "Folding ladders are common. Their hinges can slip under load." in texts
    [table] = [block for block in document.blocks if block.type == "table"]
    assert table.rows == (("Hinge", "Load (kg)"), ("Plain", "90"), ("Locking", "150"))
    assert "1. A ladder comprising: two rails; and a hinge that locks." in texts, texts
    assert "2. The ladder of claim 1, wherein the hinge is steel." in texts
    assert texts.index("What is claimed is:") < texts.index(
        "2. The ladder of claim 1, wherein the hinge is steel."
    )


def test_an_atom_feed_reads_its_entries_html_content_and_text_summaries(tmp_path: Path) -> None:
    markdown, document = convert(tmp_path, "releases.atom", (MARKUP / "atom-feed.xml").read_bytes())
    assert headings(document) == [(1, "Release notes"), (2, "Version 2.1"), (2, "Version 2.0")]
    texts = [block.text for block in document.blocks]
    assert "2024-03-02T10:00:00Z · https://example.org/releases/2.1" in texts
    assert [b.text for b in document.blocks if b.type == "list_item"] == [
        "New cache",
        "Fewer locks",
    ]
    assert "First release of the 2.x line & its <new> API." in texts
    assert "alert" not in markdown  # scripts in escaped HTML are dropped, never run


def test_an_rss_feed_reads_its_items(tmp_path: Path) -> None:
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
        b"<description>Daily news</description><item><title>First</title>"
        b"<link>https://e.example/1</link><pubDate>Mon, 06 Sep 2010 00:01:00 +0000</pubDate>"
        b"<description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;</description></item>"
        b"</channel></rss>"
    )
    markdown, _ = convert(tmp_path, "news.rss", rss)
    assert markdown == (
        "# News\n\nDaily news\n\n## First\n\n"
        "Mon, 06 Sep 2010 00:01:00 +0000 · https://e.example/1\n\nHello world"
    )


def test_any_other_xml_is_its_text_without_tags(tmp_path: Path) -> None:
    catalog = (
        b"<catalog><book id='bk101'><author>Gambardella, Matthew</author>"
        b"<title>XML Developer's Guide</title><price>44.95</price>"
        b"<description>An in-depth look at creating <em>applications</em> with XML."
        b"</description></book></catalog>"
    )
    markdown, document = convert(tmp_path, "books.xml", catalog)
    assert markdown == (
        "Gambardella, Matthew\n\nXML Developer's Guide\n\n44.95\n\n"
        "An in-depth look at creating applications with XML."
    )
    assert document.metadata["parser"] == "xml" and document.metadata["root"] == "catalog"


def test_xhtml_is_read_by_the_html_parser(tmp_path: Path) -> None:
    page = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>T</title></head>'
        b"<body><h2>Part</h2><p>Body text.</p></body></html>"
    )
    markdown, _ = convert(tmp_path, "page.xhtml", page)
    assert markdown == "## Part\n\nBody text."


def test_xml_that_is_not_well_formed_is_read_as_text(tmp_path: Path) -> None:
    markdown, document = convert(tmp_path, "broken.xml", b"<a><b>unclosed</a>\n")
    assert markdown == "<a><b>unclosed</a>"
    assert document.metadata["parser"] == "text"


def test_html_named_entities_are_characters_not_errors(tmp_path: Path) -> None:
    data = b"<note><p>A&mdash;&#x2019;B &unknown; C</p></note>"
    markdown, _ = convert(tmp_path, "note.xml", data)
    assert markdown == "A\u2014\u2019B &unknown; C"


@pytest.mark.parametrize(
    "hostile",
    [
        # billion laughs
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>',
        # an external entity (XXE)
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY s SYSTEM "file://{secret}">]><r>&s;</r>',
        # a parameter entity pulling in an external DTD
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "file://{dtd}"> %p;]><r>&s;</r>',
    ],
)
def test_hostile_xml_is_refused_and_reads_no_file(tmp_path: Path, hostile: bytes) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY s SYSTEM "file://{secret}">')
    data = hostile.replace(b"{secret}", str(secret).encode()).replace(b"{dtd}", str(dtd).encode())
    with pytest.raises(ProcessingError, match="declares entities"):
        convert(tmp_path, "evil.xml", data)


def test_an_external_dtd_is_never_read(tmp_path: Path) -> None:
    """Its entities stay undefined, so the reference is kept as written."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY s SYSTEM "file://{secret}">')
    data = f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "file://{dtd}"><r>x &s; y</r>'.encode()
    markdown, _ = convert(tmp_path, "evil.xml", data)
    assert "TOPSECRET" not in markdown and markdown == "x &s; y"


def test_xml_nested_thousands_deep_is_still_its_text(tmp_path: Path) -> None:
    data = b"<a>" * 50_000 + b"deep" + b"</a>" * 50_000
    markdown, _ = convert(tmp_path, "deep.xml", data)
    assert markdown == "deep"
