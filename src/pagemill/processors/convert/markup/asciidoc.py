"""AsciiDoc → blocks, read line by line (no include, no macro runs, nothing fetched).

* ``= Title`` is the level-1 heading, ``==`` … ``=====`` sections levels 2 to 4 (deeper ones
  stay at 4); attribute entries (``:name: value``) are not text, but ``{name}`` references in
  the text are replaced by their values; comments (``//``, ``////`` blocks) are dropped.
* Paragraphs are runs of non-blank lines; a hard break (`` +``) joins like a space.
* ``*``, ``-`` and ``.`` lists (nesting by repeated markers) and ``term:: definition`` lists
  are list items; ``.Title`` lines (block titles) are paragraphs before their block.
* ``----`` listing blocks (language from ``[source,LANG]``), ``....`` literal blocks and
  indented literal paragraphs are code blocks; ``====``, ``****``, ``____`` and ``--`` blocks
  are read as their content; ``++++`` passthrough HTML is read by the HTML block writer.
* Admonitions (``NOTE: text``, or ``[NOTE]`` before a block) are paragraphs starting
  "Note:".
* ``|===`` tables: cells split at ``|`` (``2+|`` spans and ``a|`` styles dropped), rows as
  wide as ``cols`` says, else as the first row's cells; the first row is the header.
* Inline markup is reduced to its text: ``*bold*``, ``_emphasis_``, ``url[text]``,
  ``<<id,text>>``; `` `code` `` keeps its backticks.
"""

from __future__ import annotations

import re

from pagemill.processors.convert.markup.xml_tree import html_fragment
from pagemill.processors.convert.office.safety import BlockSink, collapse

MAX_HEADING_LEVEL = 4
HEADING = re.compile(r"^(={1,6})\s+(\S.*?)\s*(?:=+\s*)?$")
ATTRIBUTE_ENTRY = re.compile(r"^:!?([\w-]+)!?:\s*(.*)$")
BLOCK_ATTRIBUTES = re.compile(r"^\[(.*)\]\s*$")
BLOCK_TITLE = re.compile(r"^\.([^\s.].*)$")
LIST_ITEM = re.compile(r"^\s*(\*{1,5}|-|\.{1,5}|\d{1,9}\.)\s+(.*)$")
DESCRIPTION_ITEM = re.compile(r"^(.*?\S)(::|;;|:::)(?:\s+(.*))?$")
ADMONITION = re.compile(r"^(NOTE|TIP|IMPORTANT|WARNING|CAUTION):\s+(.*)$")
DELIMITERS = ("----", "....", "====", "****", "____", "++++", "--", "|===", "////", "```")
DIRECTIVE = re.compile(r"^(?:include|ifdef|ifndef|ifeval|endif|toc)::.*\]\s*$")
SKIPPED_LINES = frozenset({"'''", "<<<", "---", "***"})
CELL_SPEC = re.compile(r"^\s*(?:\d+(?:\.\d+)?[+*])?[<^>]?(?:\.[<^>])?[adehlmsv]?\s*$")
TRAILING_SPAN = re.compile(r"\s+\d+(?:\.\d+)?[+*][<^>]?(?:\.[<^>])?[adehlmsv]?\s*$")
ATTRIBUTE_REFERENCE = re.compile(r"\{([\w-]+)\}")
BARE_XREF = re.compile(r"<<([^,<>]+)>>")
# Spans never run across their own marker ([^*]… rather than .*?), so a line full of unclosed
# markers costs one pass, not one pass per marker.
INLINE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\[\.[\w.-]+\](?=[_*`+])"), ""),  # a role before formatted text
    (re.compile(r'"`([^`"]+)`"'), "\u201c\\1\u201d"),  # curved quotes
    (re.compile(r"'`([^`']+)`'"), "\u2018\\1\u2019"),
    (re.compile(r"(?:https?|ftp|mailto|link|xref):[^\s\[\]]*\[([^\[\]]*)\]"), r"\1"),
    (re.compile(r"image:{1,2}[^\s\[\]]*\[([^\],\[]*)[^\]\[]*\]"), r"\1"),
    (re.compile(r"<<([^,<>]+),\s*([^<>]+)>>"), r"\2"),
    (re.compile(r"<<([^<>]+)>>"), r"\1"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"\1"),
    (re.compile(r"(?<![\w*])\*([^*\s](?:[^*]*[^*\s])?)\*(?![\w*])"), r"\1"),
    (re.compile(r"__([^_]+)__"), r"\1"),
    (re.compile(r"(?<![\w_])_([^_\s](?:[^_]*[^_\s])?)_(?![\w_])"), r"\1"),
    (re.compile(r"\[\.?[\w-]+\]#([^#]+)#"), r"\1"),
    (re.compile(r"(?<![\w#])#([^#\s](?:[^#]*[^#\s])?)#(?![\w#])"), r"\1"),
    (re.compile(r"\+\+([^+]+)\+\+|(?<![\w+])\+([^+\s](?:[^+]*[^+\s])?)\+(?![\w+])"), r"`\1\2`"),
)


def looks_like_asciidoc(text: str) -> bool:
    """A document title ``= Title`` first (after comments and attributes), or section titles
    ``== Title`` on at least two lines and no Markdown ``#`` heading."""
    lines = [line for line in text.splitlines()[:200] if line.strip()]
    for line in lines:
        if line.startswith("//") or ATTRIBUTE_ENTRY.match(line):
            continue
        if re.match(r"^=\s+\S", line):
            return True
        break
    sections = sum(1 for line in lines if re.match(r"^={2,5}\s+\S", line))
    return sections >= 2 and not any(re.match(r"^#{1,6}\s+\S", line) for line in lines)


def write_asciidoc(text: str, sink: BlockSink) -> dict[str, object]:
    reader = AsciidocReader(sink)
    reader.read(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    metadata: dict[str, object] = {"parser": "asciidoc"}
    if reader.title:
        metadata["title"] = reader.title
    return metadata


class AsciidocReader:
    def __init__(self, sink: BlockSink) -> None:
        self.sink = sink
        self.attributes: dict[str, str] = {}
        self.title = ""
        self.pending_style = ""  # the first positional attribute of [..] before a block
        self.pending_language: str | None = None
        self.sections: dict[str, str] = {}  # section title, by its letters (an id's key)

    def read(self, lines: list[str]) -> None:
        for line in lines:  # cross references may point forward: know every section first
            heading = HEADING.match(line)
            if heading:
                self.sections[_section_key(heading.group(2))] = heading.group(2)
        index = 0
        while index < len(lines):
            index = self.step(lines, index)

    def step(self, lines: list[str], index: int) -> int:
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped in SKIPPED_LINES or DIRECTIVE.match(stripped):
            return index + 1
        if stripped in DELIMITERS or stripped.startswith("```"):
            return self.delimited(lines, index)
        if stripped.startswith("//"):
            return index + 1
        entry = ATTRIBUTE_ENTRY.match(stripped)
        if entry:
            # A value may refer to attributes set before it (":issues-uri: {repo-uri}/issues").
            self.attributes[entry.group(1)] = self.substitute(entry.group(2))
            return index + 1
        attributes = BLOCK_ATTRIBUTES.match(stripped)
        if attributes and not stripped.startswith("[["):
            self.block_attributes(attributes.group(1))
            return index + 1
        if stripped.startswith("[[") and stripped.endswith("]]"):
            return index + 1  # an anchor
        heading = HEADING.match(line)
        if heading:
            words = self.inline(heading.group(2))
            level = len(heading.group(1))
            self.title = self.title or (words if level == 1 else "")
            self.sink.add(0, "heading", words, level=min(level, MAX_HEADING_LEVEL))
            self.pending_style = ""
            return index + 1
        title = BLOCK_TITLE.match(stripped)
        if title:
            self.paragraph(title.group(1))
            return index + 1
        if stripped == "|===" or stripped.startswith("|==="):
            return self.delimited(lines, index)
        if LIST_ITEM.match(line) or DESCRIPTION_ITEM.match(stripped):
            return self.list_items(lines, index)
        if line[:1] in (" ", "\t"):
            end = self.until_blank(lines, index)
            self.code("\n".join(lines[index:end]), None, dedent=True)
            return end
        end = self.until_blank(lines, index)
        self.paragraph(" ".join(part.removesuffix(" +") for part in lines[index:end]))
        return end

    def until_blank(self, lines: list[str], index: int) -> int:
        end = index + 1
        while end < len(lines) and lines[end].strip() and lines[end].strip() not in DELIMITERS:
            following = lines[end].strip()
            if BLOCK_ATTRIBUTES.match(following) or HEADING.match(lines[end]):
                break
            if ATTRIBUTE_ENTRY.match(following) or following.startswith("//"):
                break  # the header's attribute entries follow the author line directly
            end += 1
        return end

    def block_attributes(self, inside: str) -> None:
        positional = [part.strip() for part in inside.split(",")]
        style = positional[0].lstrip("#.%") if positional else ""
        self.pending_style = style
        if style == "source":
            language = positional[1] if len(positional) > 1 else ""
            self.pending_language = language or self.attributes.get("source-language") or None
        if style == "cols" or inside.startswith("cols") or "cols=" in inside:
            self.pending_style = inside

    def delimited(self, lines: list[str], index: int) -> int:
        opener = lines[index].strip()
        end = index + 1
        while end < len(lines) and lines[end].strip() != opener:
            end += 1
        body = lines[index + 1 : end]
        style, language = self.pending_style, self.pending_language
        self.pending_style, self.pending_language = "", None
        if opener in ("----", "....") or opener.startswith("```"):
            fence_language = opener[3:].strip() if opener.startswith("```") else ""
            self.code("\n".join(body), language or fence_language or None)
        elif opener == "|===":
            self.table(body, style)
        elif opener == "++++":
            html_fragment(self.sink, 0, "\n".join(body))
        elif opener != "////":
            admonition = style.upper() if style.upper() in ADMONITIONS else ""
            first = len(self.sink.blocks)
            AsciidocReader.read(self, body)
            if admonition and len(self.sink.blocks) > first:
                self._prefix(first, f"{admonition.capitalize()}:")
        return end + 1

    def _prefix(self, position: int, prefix: str) -> None:
        from dataclasses import replace

        block = self.sink.blocks[position]
        if block.type == "paragraph":
            self.sink.blocks[position] = replace(block, text=f"{prefix} {block.text}")

    def list_items(self, lines: list[str], index: int) -> int:
        numbers: dict[str, int] = {}  # ordered items counted per marker (nesting depth)
        end = index
        while end < len(lines):
            line = lines[end]
            item = LIST_ITEM.match(line)
            described = DESCRIPTION_ITEM.match(line.strip()) if not item else None
            if not item and not described:
                break
            parts = [item.group(2)] if item else []
            if described:
                parts = [f"{described.group(1)}:", described.group(3) or ""]
            end += 1
            # Continuation lines, and blocks attached with "+".
            while end < len(lines) and lines[end].strip():
                if LIST_ITEM.match(lines[end]) or DESCRIPTION_ITEM.match(lines[end].strip()):
                    break
                if lines[end].strip() != "+":
                    parts.append(lines[end].strip())
                end += 1
            marker = item.group(1) if item else ""
            words = self.inline(" ".join(part for part in parts if part))
            if marker.startswith(".") or marker[:1].isdigit():
                numbers[marker] = numbers.get(marker, 0) + 1
                number = marker if marker[:1].isdigit() else f"{numbers[marker]}."
                words = f"{number} {words}"
            if words:
                self.sink.add(0, "list_item", words)
            while end < len(lines) and not lines[end].strip():
                # a blank line between items keeps the list; anything else ends it
                if end + 1 < len(lines) and LIST_ITEM.match(lines[end + 1]):
                    end += 1
                else:
                    return end
        return end

    def table(self, body: list[str], style: str) -> None:
        cells: list[str] = []
        first_line_cells = 0
        for line in body:
            if not line.strip():
                continue
            pieces = re.split(r"(?<!\\)\|", line)
            if len(pieces) == 1:  # a continuation of the previous cell
                if cells:
                    cells[-1] = f"{cells[-1]} {line.strip()}"
                continue
            lead, found = pieces[0], pieces[1:]
            if not CELL_SPEC.match(lead) and cells:
                cells[-1] = f"{cells[-1]} {lead.strip()}"
            found = [TRAILING_SPAN.sub("", piece) for piece in found[:-1]] + found[-1:]
            if not first_line_cells:
                first_line_cells = len(found)
            cells.extend(self.inline(piece.replace("\\|", "|")) for piece in found)
        width = _column_count(style) or first_line_cells or 1
        rows = [cells[start : start + width] for start in range(0, len(cells), width)]
        self.sink.add_table(0, rows)

    def code(self, code: str, language: str | None, *, dedent: bool = False) -> None:
        if dedent:
            import textwrap

            code = textwrap.dedent(code)
        if code.strip():
            self.sink.add(0, "code", code.strip("\n"), language=language or None)
        self.pending_style, self.pending_language = "", None

    def paragraph(self, words: str) -> None:
        admonition = ADMONITION.match(words.strip())
        prefix = ""
        if admonition:
            prefix, words = f"{admonition.group(1).capitalize()}:", admonition.group(2)
        elif self.pending_style.upper() in ADMONITIONS:
            prefix = f"{self.pending_style.capitalize()}:"
        self.pending_style = ""
        words = self.inline(words)
        if words:
            self.sink.add(0, "paragraph", f"{prefix} {words}".strip())

    def substitute(self, words: str) -> str:
        return ATTRIBUTE_REFERENCE.sub(
            lambda match: self.attributes.get(match.group(1), match.group(0)), words
        )

    def inline(self, words: str) -> str:
        words = self.substitute(words)
        # <<id>> without text reads as the title of the section it points to.
        words = BARE_XREF.sub(
            lambda match: self.sections.get(_section_key(match.group(1)), match.group(1)), words
        )
        for pattern, replacement in INLINE_RULES:
            words = pattern.sub(replacement, words)
        return collapse(words)


ADMONITIONS = frozenset({"NOTE", "TIP", "IMPORTANT", "WARNING", "CAUTION"})


def _section_key(title_or_id: str) -> str:
    """What a section's title and its generated id share: their letters and digits (the id
    ``_writing_and_executing_tests`` or ``writing-and-executing-tests``)."""
    return re.sub(r"[\W_]+", "", title_or_id.lower())


def _column_count(style: str) -> int:
    """Columns from ``cols="1,2,3"`` or ``cols="3*"`` in the table's attributes; 0 unknown."""
    match = re.search(r"cols\s*=\s*\"?([^\"\]]+)\"?", style)
    if match is None:
        return 0
    spec = match.group(1).strip()
    multiplied = re.fullmatch(r"(\d+)\*.*", spec)
    if multiplied:
        return int(multiplied.group(1))
    return len([part for part in re.split(r"[,;]", spec) if part.strip()])
