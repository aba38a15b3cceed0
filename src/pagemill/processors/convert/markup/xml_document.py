"""Any XML document → ``Document``: the format is told by the root element.

* ``article`` with ``front``/``body``: a JATS journal article (``jats``);
* ``us-patent-grant``, ``us-patent-application``: a USPTO patent (``patent``);
* ``rss``, RDF with items, Atom ``feed``: a news feed (``feeds``);
* ``html`` (XHTML): the HTML parser;
* anything else: its text, readable, without tags: every element that holds text of its own
  (mixed content like ``<p>text <b>bold</b> more</p>`` included) is one paragraph; an element
  holding only elements is walked into. Attributes are not text and are left out.

The bytes are parsed by ``xml_tree.parse_xml`` (no DTD read, no entity declared, nothing
fetched). A file that is not well-formed XML gives ``None``: the caller reads it as text.
"""

from __future__ import annotations

from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.markup.feeds import is_feed, write_feed
from pagemill.processors.convert.markup.jats import is_article, tidy, write_article
from pagemill.processors.convert.markup.patent import is_patent, write_patent
from pagemill.processors.convert.markup.xml_tree import (
    Element,
    MalformedXml,
    local,
    parse_xml,
    text,
)
from pagemill.processors.convert.office.safety import BlockSink, selected_pages
from pagemill.processors.document import Document

MAX_DEPTH = 200  # deeper elements are read as the text of their ancestor at this depth


def parse_xml_document(request: ParseRequest, data: bytes) -> Document | None:
    try:
        root = parse_xml(data)
    except MalformedXml:
        return None
    if local(root) == "html":
        from pagemill.processors.convert.web.html import parse as parse_html

        return parse_html(request)
    pages = selected_pages(1, request.page_range, request.max_pages)
    sink = BlockSink()
    if is_article(root):
        metadata = write_article(root, sink)
    elif is_patent(root):
        metadata = write_patent(root, sink)
    elif is_feed(root):
        metadata = write_feed(root, sink)
    else:
        write_text(root, sink, 0)
        metadata = {"parser": "xml", "root": local(root)}
    return sink.document(1, pages, metadata)


def write_text(element: Element, sink: BlockSink, depth: int) -> None:
    """The text of an XML tree as paragraphs, one per element with text of its own."""
    own_text = (element.text or "").strip() or any((node.tail or "").strip() for node in element)
    if own_text or depth >= MAX_DEPTH:
        words = tidy(text(element))
        if words:
            sink.add(0, "paragraph", words)
        return
    for node in element:
        if isinstance(node.tag, str):
            write_text(node, sink, depth + 1)
