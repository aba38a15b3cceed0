"""RSS (0.9x, 1.0 RDF, 2.0) and Atom feeds → blocks.

The feed's title is the level-1 heading and its description a paragraph; each item (entry) is a
level-2 heading (its title), a paragraph with its date and link, and its content: the full
content (``content:encoded``, Atom ``content``) when there is one, else the summary
(``description``, ``summary``). Feeds carry that content as escaped HTML, so it is read by the
HTML parser's block writer (no URL fetched, scripts dropped); Atom ``type="text"`` stays text.
"""

from __future__ import annotations

from pagemill.processors.convert.markup.xml_tree import (
    Element,
    child,
    children,
    html_fragment,
    local,
    text,
)
from pagemill.processors.convert.office.safety import BlockSink

ROOTS = frozenset({"rss", "feed", "RDF"})


def is_feed(root: Element) -> bool:
    if local(root) == "feed":
        return str(root.tag).startswith("{http://www.w3.org/2005/Atom}")
    return local(root) in ROOTS and any(local(node) in ("channel", "item") for node in root)


def write_feed(root: Element, sink: BlockSink) -> dict[str, object]:
    channel = child(root, "channel") if local(root) != "feed" else root
    if channel is None:
        channel = root
    title = text(child(channel, "title"))
    if title:
        sink.add(0, "heading", title, level=1)
    about = text(child(channel, "description", "subtitle", "tagline"))
    if about:
        sink.add(0, "paragraph", about)
    # RSS 2.0 nests items in the channel; RSS 1.0 puts them beside it; Atom has entries.
    items = [*children(channel, "item", "entry")]
    if channel is not root:
        items += [*children(root, "item")]
    for item in items:
        _item(item, sink)
    kind = "atom" if local(root) == "feed" else "rss"
    metadata: dict[str, object] = {"parser": kind, "items": len(items)}
    if title:
        metadata["title"] = title
    return metadata


def _item(item: Element, sink: BlockSink) -> None:
    title = text(child(item, "title"))
    if title:
        sink.add(0, "heading", title, level=2)
    date = text(child(item, "pubDate", "published", "updated", "date"))
    link = _link(item)
    facts = " · ".join(part for part in (date, link) if part)
    if facts:
        sink.add(0, "paragraph", facts)
    body = child(item, "encoded", "content")
    if body is None or not "".join(body.itertext()).strip():
        body = child(item, "description", "summary")
    if body is None:
        return
    if body.get("type") == "text":
        words = text(body)
        if words:
            sink.add(0, "paragraph", words)
    elif body.get("type") == "xhtml":
        from xml.etree.ElementTree import tostring

        markup = "".join(tostring(node, encoding="unicode") for node in body)
        html_fragment(sink, 0, markup.replace("html:", ""))
    else:
        html_fragment(sink, 0, "".join(body.itertext()))


def _link(item: Element) -> str:
    for link in children(item, "link"):
        href = link.get("href")
        if href and link.get("rel", "alternate") == "alternate":
            return str(href)
        if not href and text(link):
            return text(link)
    return ""
