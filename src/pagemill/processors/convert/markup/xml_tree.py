"""Reading untrusted XML safely, and the helpers the XML converters share.

The parser is defusedxml's expat parser: a DTD may be *named* (JATS and USPTO files name theirs,
``<!DOCTYPE article PUBLIC … "JATS-archivearticle1.dtd">``) but is never read or fetched, and
any entity declaration (billion laughs) or external entity (XXE) is refused. The entities
those DTDs would have declared are HTML's named character references (``&nbsp;``, ``&mdash;``),
so the parser knows HTML's names as plain characters: no entity can expand to markup or more
than one character's worth of text.
"""

from __future__ import annotations

import html.entities
from collections.abc import Iterator
from typing import Any

from defusedxml.ElementTree import DefusedXMLParser

from pagemill.domain.errors import ProcessingError
from pagemill.processors.convert.office.safety import BlockSink, collapse
from pagemill.processors.convert.web.html import BlockWriter, make_soup

Element = Any  # xml.etree elements (defusedxml returns the standard library's)

# Names that are character references in HTML (without the trailing ";" variants).
HTML_ENTITIES = {
    name.rstrip(";"): text for name, text in html.entities.html5.items() if name.endswith(";")
}


class _LenientParser(DefusedXMLParser):
    """defusedxml's parser, but an entity nobody defined stays as written (``&foo;``) instead
    of failing the whole file (the pure-Python parser routes references through
    ``_default``)."""

    def _default(self, text: str) -> None:
        if text.startswith("&") and text.endswith(";"):
            self.entity.setdefault(text[1:-1], text)
        super()._default(text)  # type: ignore[misc]


class MalformedXml(ValueError):
    """The bytes are not well-formed XML (the caller may read them as plain text)."""


def parse_xml(data: bytes) -> Element:
    """The root element of ``data``; ``ProcessingError`` when it declares entities (hostile),
    ``MalformedXml`` when it is not XML at all."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException

    parser = _LenientParser(forbid_dtd=False, forbid_entities=True, forbid_external=True)
    parser.entity.update(HTML_ENTITIES)
    # As if a DTD were named (never read: parameter entity parsing stays off), so that expat
    # hands named references to the table above instead of failing on the first one.
    parser.parser.UseForeignDTD(True)
    try:
        parser.feed(data)
        return parser.close()
    except DefusedXmlException as error:
        raise ProcessingError(
            f"The XML document is refused: it declares entities ({type(error).__name__}); "
            "entity expansion and external entities are attack vectors."
        ) from error
    except ParseError as error:
        raise MalformedXml(str(error)) from error


def local(element: Element) -> str:
    """The tag without its namespace (``{http://…}title`` → ``title``); "" for comments."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def children(element: Element, *names: str) -> Iterator[Element]:
    """The child elements named ``names`` (any when none given), by local name."""
    for child in element:
        if not names or local(child) in names:
            yield child


def child(element: Element, *names: str) -> Element | None:
    return next(children(element, *names), None)


def find(element: Element, *path: str) -> Element | None:
    """The first element down ``path`` of local names (each step among the children)."""
    found: Element | None = element
    for name in path:
        if found is None:
            return None
        found = child(found, name)
    return found


def descendants(element: Element, name: str) -> Iterator[Element]:
    return (node for node in element.iter() if local(node) == name)


def text(element: Element | None) -> str:
    """The element's text, whitespace collapsed; a space between words of separate elements
    that the source ran together (``<surname>Smith</surname><given-names>J</given-names>``)."""
    if element is None:
        return ""
    return collapse("".join(_pieces(element)))


def _pieces(element: Element) -> Iterator[str]:
    """The text of ``element`` in document order, walked with a stack (no recursion: a
    document may nest elements thousands deep)."""
    stack: list[tuple[Element, bool]] = [(element, False)]
    while stack:
        node, closing = stack.pop()
        inner = node is not element
        if closing:
            if inner and local(node) in SEPARATED:
                yield " "
            if inner and node.tail:
                yield node.tail
            continue
        if inner and local(node) in SEPARATED:
            yield " "
        if node.text:
            yield node.text
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node))


# Elements whose text never runs on into a neighbour's (names, citation parts, cells, lines).
SEPARATED = frozenset(
    {
        *("surname", "given-names", "prefix", "suffix", "name", "string-name", "collab"),
        *("year", "source", "volume", "issue", "fpage", "lpage", "article-title", "etal"),
        *("p", "title", "label", "td", "th", "tr", "br", "li", "item", "list-item"),
        "claim-text",
    }
)


def table_rows(sink: BlockSink, page: int, table: Element) -> None:
    """A ``<table>`` of an XML document as a table block. An (X)HTML-style table (``tr``,
    ``td``) is read by the HTML parser's table reader (rowspan and colspan as there); a CALS
    table (``tgroup``, ``row``, ``entry``: patents, DocBook) row by row, spans not spread."""
    from xml.etree.ElementTree import tostring

    if any(local(node) == "tgroup" for node in table.iter()):
        rows = [
            [text(entry) for entry in children(row, "entry")] for row in descendants(table, "row")
        ]
        sink.add_table(page, rows)
        return
    plain = _without_namespaces(table)
    soup = make_soup(tostring(plain, encoding="utf-8"))
    found = soup.find("table")
    if found is not None:
        BlockWriter(sink, page, furniture="content", images=None).table(found)


def _without_namespaces(element: Element) -> Element:
    from xml.etree.ElementTree import Element as PlainElement

    attributes = {name.rsplit("}", 1)[-1]: value for name, value in element.attrib.items()}
    copy = PlainElement(local(element), attributes)
    copy.text, copy.tail = element.text, element.tail
    for node in element:
        if isinstance(node.tag, str):  # the parser keeps no comments or instructions
            copy.append(_without_namespaces(node))
    return copy


def html_fragment(sink: BlockSink, page: int, markup: str) -> None:
    """HTML carried as text inside XML (a feed item's escaped description) as blocks."""
    BlockWriter(sink, page, furniture="content", images=None).write(make_soup(markup.encode()))
