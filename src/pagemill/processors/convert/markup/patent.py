"""USPTO patent full-text XML (``us-patent-grant``, ``us-patent-application``, version 4) →
blocks.

The invention title is the level-1 heading, followed by the publication number and kind
(``US 9876543 B2``); then, in the file's order, the abstract, the description and the claims,
each under a level-2 heading. The description's own ``<heading level="N">`` elements become
headings below it, its ``<p>`` paragraphs, its CALS tables tables and its lists list items;
each claim is one paragraph (its nested claim texts joined, as printed). Drawings, math
images and bibliographic data other than the number are left out.
"""

from __future__ import annotations

from pagemill.processors.convert.markup.jats import MAX_HEADING_LEVEL, tidy
from pagemill.processors.convert.markup.xml_tree import (
    Element,
    child,
    children,
    find,
    local,
    table_rows,
    text,
)
from pagemill.processors.convert.office.safety import BlockSink

ROOTS = frozenset({"us-patent-grant", "us-patent-application"})
SECTIONS = {"abstract": "Abstract", "description": "Description", "claims": "Claims"}


def is_patent(root: Element) -> bool:
    return local(root) in ROOTS


def write_patent(root: Element, sink: BlockSink) -> dict[str, object]:
    metadata: dict[str, object] = {"parser": "uspto-patent"}
    bibliography = child(root, "us-bibliographic-data-grant", "us-bibliographic-data-application")
    if bibliography is not None:
        title = text(child(bibliography, "invention-title"))
        if title:
            metadata["title"] = title
            sink.add(0, "heading", title, level=1)
        document = find(bibliography, "publication-reference", "document-id")
        if document is not None:
            number = " ".join(
                text(child(document, part)) for part in ("country", "doc-number", "kind")
            ).strip()
            if number:
                metadata["publication_number"] = number
                sink.add(0, "paragraph", number)
    for section in root:
        name = local(section)
        if name in SECTIONS:
            sink.add(0, "heading", SECTIONS[name], level=2)
            _section(section, sink)
        elif name == "us-claim-statement":
            _paragraph(sink, text(section))
    return metadata


def _section(section: Element, sink: BlockSink) -> None:
    for node in section:
        _node(node, sink)


def _node(node: Element, sink: BlockSink) -> None:
    name = local(node)
    if name == "heading":
        level = int(node.get("level", "1")) if node.get("level", "1").isdigit() else 1
        words = text(node)
        if words:
            sink.add(0, "heading", words, level=min(level + 2, MAX_HEADING_LEVEL))
    elif name == "claim":
        _paragraph(sink, text(node))
    elif name in ("p", "claim-text"):
        _paragraph_with_tables(node, sink)
    elif name in ("tables", "table"):
        for table in node.iter():
            if local(table) == "table":
                table_rows(sink, 0, table)
    elif name in ("ul", "ol"):
        for item in children(node, "li"):
            if text(item):
                sink.add(0, "list_item", tidy(text(item)))
    elif name not in ("figref", "maths", "img"):
        _section(node, sink)  # description-of-drawings and other wrappers


def _paragraph_with_tables(paragraph: Element, sink: BlockSink) -> None:
    """A ``<p>`` (tables and lists may sit inside one); its number attribute is dropped."""
    pieces = [paragraph.text or ""]
    for node in paragraph:
        if local(node) in ("tables", "table", "ul", "ol"):
            _paragraph(sink, "".join(pieces))
            pieces = []
            _node(node, sink)
        else:
            pieces.append("".join(node.itertext()))
        pieces.append(node.tail or "")
    _paragraph(sink, "".join(pieces))


def _paragraph(sink: BlockSink, words: str) -> None:
    words = tidy(words)
    if words:
        sink.add(0, "paragraph", words)
