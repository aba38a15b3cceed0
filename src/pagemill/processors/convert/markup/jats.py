"""JATS (NLM) journal article XML → blocks: the format of PubMed Central, eLife, PLOS and most
open-access publishers.

* front: the article title is the level-1 heading; subtitle and the authors' names (one
  paragraph) follow; every abstract gets a level-2 heading (its own title, else "Abstract");
  keywords are one paragraph.
* body (and ``floats-group``): ``<sec>`` titles are headings one level deeper per nesting
  (level 2 at the top, at most ``MAX_HEADING_LEVEL``), the section label before the title;
  ``<p>`` paragraphs; a table, figure, list or formula *inside* a paragraph ends it and comes
  next, in reading order.
* ``<table-wrap>``: its label and caption as a paragraph, then each table (HTML-style
  ``tr``/``td`` with rowspan/colspan, read by the HTML parser's table reader), then its
  footnotes; ``<fig>``: label and caption as a paragraph (no image is ever fetched).
* ``<list>`` items are list items (numbered when ``list-type`` says an order); ``<def-list>``
  items read "term: definition"; ``<preformat>``/``<code>`` are code blocks.
* back: acknowledgements, appendices, notes and footnotes under their titles; ``<ref-list>``
  is a "References" heading and a list, one item per reference, numbered by the references'
  own labels, or in order when the text cites them by number ("[3]"); structured
  ``element-citation`` parts are joined as a reference list prints them ("Authors. 2009.
  Title. Source 324:1729-1732. doi: …").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pagemill.processors.convert.markup.xml_tree import (
    Element,
    child,
    children,
    find,
    local,
    table_rows,
    text,
)
from pagemill.processors.convert.office.safety import BlockSink, collapse

MAX_HEADING_LEVEL = 4  # as the HTML parser: heading blocks carry levels 1 to 4
ORDERED_LISTS = frozenset({"order", "arabic", "alpha-lower", "alpha-upper"})
ORDERED_LISTS |= {"roman-lower", "roman-upper"}
# Block-level elements that may sit inside a <p>: each ends the paragraph's text so far.
BLOCKS_IN_PARAGRAPH = frozenset(
    {
        *("list", "table-wrap", "table-wrap-group", "fig", "fig-group", "disp-formula"),
        *("disp-formula-group", "disp-quote", "boxed-text", "def-list", "preformat", "code"),
        *("supplementary-material", "statement", "speech", "verse-group", "array"),
    }
)
# Parts of a section or float that are read with it, or are not text a reader sees.
SKIPPED = frozenset(
    {
        *("title", "label", "caption", "object-id", "graphic", "media", "alternatives"),
        *("inline-graphic", "permissions", "attrib", "sec-meta", "x"),
    }
)
DEFAULT_TITLES = {
    "ack": "Acknowledgments",
    "ref-list": "References",
    "glossary": "Glossary",
}
NUMBERED_CITATION = re.compile(r"[\[(]?\d+(?:\s*[-\u2013,]\s*\d+)*[\])]?")
SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:)\]])(?=\s|$)")  # not " ...word"
SPACE_AFTER_BRACKET = re.compile(r"([(\[])\s+")


def is_article(root: Element) -> bool:
    return local(root) == "article" and (
        child(root, "front") is not None or child(root, "body") is not None
    )


def write_article(root: Element, sink: BlockSink) -> dict[str, object]:
    """The article's blocks on page 0; metadata (title, DOI, article type) for the result."""
    citations = [
        text(node)
        for node in root.iter()
        if local(node) == "xref" and node.get("ref-type") == "bibr"
    ]
    numbered = bool(citations) and all(NUMBERED_CITATION.fullmatch(c) for c in citations if c)
    writer = ArticleWriter(sink, numbered_citations=numbered)
    metadata: dict[str, object] = {"parser": "jats"}
    meta = find(root, "front", "article-meta")
    if meta is not None:
        metadata.update(writer.front(meta))
    if root.get("article-type"):
        metadata["article_type"] = root.get("article-type")
    for part in children(root, "body", "floats-group", "back"):
        writer.content(part, 2)
    for sub_article in children(root, "sub-article", "response"):
        title = text(find(sub_article, "front-stub", "title-group", "article-title"))
        if title:
            writer.heading(title, 2)
        for part in children(sub_article, "body", "back"):
            writer.content(part, 3)
    return metadata


class ArticleWriter:
    def __init__(self, sink: BlockSink, numbered_citations: bool = False) -> None:
        self.sink = sink
        self.numbered_citations = numbered_citations

    def heading(self, words: str, level: int) -> None:
        if words:
            self.sink.add(0, "heading", words, level=min(level, MAX_HEADING_LEVEL))

    def paragraph(self, words: str) -> None:
        words = tidy(words)
        if words:
            self.sink.add(0, "paragraph", words)

    def front(self, meta: Element) -> dict[str, object]:
        found: dict[str, object] = {}
        title = text(find(meta, "title-group", "article-title"))
        if title:
            found["title"] = title
            self.heading(title, 1)
        self.paragraph(text(find(meta, "title-group", "subtitle")))
        self.paragraph(", ".join(authors(meta)))
        for article_id in children(meta, "article-id"):
            if article_id.get("pub-id-type") == "doi" and text(article_id):
                found["doi"] = text(article_id)
        for abstract in children(meta, "abstract", "trans-abstract"):
            if abstract.get("abstract-type") in ("toc", "teaser"):
                continue
            self.heading(section_title(abstract) or "Abstract", 2)
            self.content(abstract, 3)
        for keywords in children(meta, "kwd-group"):
            words = [text(keyword) for keyword in children(keywords, "kwd")]
            label = text(child(keywords, "title")) or "Keywords"
            if any(words):
                self.paragraph(f"{label.rstrip(':')}: " + ", ".join(w for w in words if w))
        return found

    def content(self, element: Element, level: int) -> None:
        """The blocks of a section-like element's children, sections ``level`` deep."""
        for node in element:
            self.block(node, local(node), level)

    def block(self, node: Element, name: str, level: int) -> None:
        if name in SKIPPED or not name:
            return
        if name in ("sec", "app", "boxed-text", "notes", "glossary", "ack", "bio"):
            self.heading(section_title(node) or DEFAULT_TITLES.get(name, ""), level)
            self.content(node, level + 1)
        elif name == "p":
            self.mixed(node)
        elif name == "list":
            self.list_items(node)
        elif name in ("table-wrap", "fig", "supplementary-material", "chem-struct-wrap"):
            self.float(node)
        elif name == "def-list":
            for item in children(node, "def-item"):
                term, definition = text(child(item, "term")), text(child(item, "def"))
                self.sink.add(0, "list_item", tidy(f"{term}: {definition}".strip(": ")))
        elif name in ("preformat", "code"):
            code = "".join(node.itertext()).strip("\n")
            if code.strip():
                self.sink.add(0, "code", code, language=node.get("language") or None)
        elif name in ("disp-formula", "disp-formula-group"):
            self.formula(node)
        elif name == "ref-list":
            self.references(node, level)
        elif name == "fn-group":
            self.heading(section_title(node), level)
            for footnote in children(node, "fn"):
                self.paragraph(" ".join(text(part) for part in footnote))
        elif any(isinstance(sub.tag, str) for sub in node) and not (node.text or "").strip():
            self.content(node, level)  # a wrapper (fig-group, disp-quote, statement…)
        else:
            self.paragraph(text(node))

    def mixed(self, paragraph: Element) -> None:
        """A ``<p>`` whose inline text may be interrupted by block-level elements."""
        pieces: list[str] = [paragraph.text or ""]
        for node in paragraph:
            name = local(node)
            if name in BLOCKS_IN_PARAGRAPH:
                self.paragraph("".join(pieces))
                pieces = []
                self.block(node, name, MAX_HEADING_LEVEL)
            else:
                pieces.append(inline(node))
            pieces.append(node.tail or "")
        self.paragraph("".join(pieces))

    def list_items(self, element: Element) -> None:
        numbered = element.get("list-type") in ORDERED_LISTS
        for number, item in enumerate(children(element, "list-item"), start=1):
            label = text(child(item, "label"))
            marker = label or (f"{number}." if numbered else "")
            parts: list[str] = []
            for part in item:
                if local(part) == "list":
                    self.sink.add(0, "list_item", tidy(f"{marker} {' '.join(parts)}"))
                    marker, parts = "", []
                    self.list_items(part)
                elif local(part) != "label":
                    parts.append(text(part))
            if parts or marker:
                words = tidy(f"{marker} {' '.join(parts)}")
                if words:
                    self.sink.add(0, "list_item", words)

    def float(self, element: Element) -> None:
        """A table, figure or supplement: label and caption, then tables and footnotes."""
        label = text(child(element, "label"))
        caption = child(element, "caption")
        caption_words = " ".join(text(part) for part in caption) if caption is not None else ""
        self.paragraph(f"{label} {caption_words}")
        for node in element.iter():
            if local(node) == "table":
                table_rows(self.sink, 0, node)
        for foot in children(element, "table-wrap-foot"):
            for part in foot:
                self.paragraph(text(part))

    def formula(self, element: Element) -> None:
        tex = next((node for node in element.iter() if local(node) == "tex-math"), None)
        label = text(child(element, "label"))
        if tex is not None:
            self.paragraph(f"$${collapse(''.join(tex.itertext()))}$$ {label}")
        else:
            self.paragraph(text(element))

    def references(self, element: Element, level: int) -> None:
        self.heading(section_title(element) or DEFAULT_TITLES["ref-list"], level)
        for number, reference in enumerate(children(element, "ref"), start=1):
            # Numbered when the journal numbers its references (its labels, or citations in
            # the text that read "[3]"); author-year lists are not.
            label = text(child(reference, "label")).strip("[]. ")
            label = label or (str(number) if self.numbered_citations else "")
            words = citation(reference)
            if words:
                self.sink.add(0, "list_item", tidy(f"{label}. {words}" if label else words))
        for sub_list in children(element, "ref-list"):
            self.references(sub_list, level + 1)


def section_title(element: Element) -> str:
    title = text(child(element, "title"))
    label = text(child(element, "label"))
    return tidy(f"{label} {title}") if title else ""


def authors(meta: Element) -> list[str]:
    names = []
    for group in children(meta, "contrib-group"):
        for contributor in children(group, "contrib"):
            if contributor.get("contrib-type", "author") != "author":
                continue
            name = child(contributor, "name", "name-alternatives", "string-name", "collab")
            if name is not None and local(name) == "name-alternatives":
                name = child(name, "name", "string-name")
            if name is not None:
                names.append(person(name))
    return [name for name in names if name]


def person(name: Element) -> str:
    """ "Given Surname" for a structured ``<name>``, its text otherwise."""
    if local(name) != "name":
        return text(name)
    given, surname = text(child(name, "given-names")), text(child(name, "surname"))
    suffix = text(child(name, "suffix"))
    return collapse(f"{given} {surname} {suffix}")


def citation(reference: Element) -> str:
    cited = child(reference, "mixed-citation", "element-citation", "citation", "nlm-citation")
    if cited is None:
        return text(reference)
    if local(cited) == "mixed-citation" and (cited.text or "").strip():
        return text(cited)  # punctuation is part of a mixed citation's text
    if any(node.tail and node.tail.strip() for node in cited):
        return text(cited)
    return ". ".join(citation_parts(cited)).replace("..", ".")


def citation_parts(cited: Element) -> Iterable[str]:
    """The parts of a structured citation in the order given, as a reference list prints
    them: volume, issue and pages join the source ("Science 324:1729-1732"), or follow the
    year when the year comes after the source ("Nature. 2001;4:1-9"); a DOI reads "doi: …";
    other identifiers and links are left out."""
    numbers = {local(part): text(part) for part in cited if local(part) in LOCATORS | {"year"}}
    order = [local(part) for part in cited]
    year_after_source = (
        "source" in order and "year" in order and order.index("year") > order.index("source")
    )
    located = False
    for part in cited:
        name = local(part)
        if name == "person-group":
            people = [
                surname_first(node) if local(node) == "name" else text(node) or "et al"
                for node in part
                if local(node) in ("name", "string-name", "collab", "etal")
            ]
            yield ", ".join(people)
        elif name in ("name", "string-name"):
            yield surname_first(part) if name == "name" else text(part)
        elif name == "source" or (name in LOCATORS and not located):
            located = True
            source = text(part) if name == "source" else ""
            if year_after_source:  # Vancouver, as PubMed Central prints it: "Nature. 2001;4:1-9"
                yield source
                yield ";".join(x for x in (numbers.get("year", ""), _locator(numbers)) if x)
            else:  # author-year, as eLife prints it: "2009. … Science 324:1729-1732"
                yield collapse(f"{source} {_locator(numbers)}")
        elif name == "year" and year_after_source:
            continue
        elif name == "pub-id":
            if part.get("pub-id-type") == "doi" and text(part):
                yield f"doi: {text(part)}"
        elif name not in LOCATORS and name not in ("ext-link", "uri") and text(part):
            yield text(part)


LOCATORS = frozenset({"volume", "issue", "fpage", "lpage", "elocation-id"})


def _locator(numbers: dict[str, str]) -> str:
    """ "324(2):1729-1732" from a citation's volume, issue and pages."""
    volume = numbers.get("volume", "")
    if numbers.get("issue"):
        volume += f"({numbers['issue']})"
    pages = numbers.get("fpage", "") or numbers.get("elocation-id", "")
    if pages and numbers.get("lpage"):
        pages += f"\u2013{numbers['lpage']}"
    return ":".join(part for part in (volume, pages) if part)


def surname_first(name: Element) -> str:
    return collapse(f"{text(child(name, 'surname'))} {text(child(name, 'given-names'))}")


XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def inline(element: Element) -> str:
    """An inline element's text (emphasis, links, citations, inline formulas) as it reads; a
    link without text reads as its address."""
    words = "".join(element.itertext())
    if not words.strip() and local(element) in ("ext-link", "uri", "email"):
        return str(element.get(XLINK_HREF) or "")
    return words


def tidy(words: str) -> str:
    """Whitespace collapsed, no space before closing punctuation or after an opening bracket."""
    words = SPACE_BEFORE_PUNCTUATION.sub(r"\1", collapse(words))
    return SPACE_AFTER_BRACKET.sub(r"\1", words)
