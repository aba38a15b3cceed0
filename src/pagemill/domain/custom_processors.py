"""Custom processors: versioned, declarative edits of a converted document.

A definition is plain JSON, validated here once (every refusal names the rule at fault):

    {"rules": [{"action": "drop" | "keep" | "rename" | "relabel",
                "match": {"type": "paragraph" | [...], "pattern": "<regex>", "pages": "0,2-4"},
                "to": "<replacement text (rename) or block type (relabel)>",
                "level": 1..6 (relabel to heading only)}],
     "classify_pages": {"<label>": ["keyword", ...]}}

Rules apply in order, each to the blocks the previous one left. Patterns are Python regular
expressions with a length cap; the shapes that make a backtracking matcher take exponential
time (a quantified group that itself contains a quantifier, such as ``(a+)+``) and
backreferences are refused up front, so matching needs no timeout.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pagemill.domain.errors import InvalidInput
from pagemill.domain.page_ranges import parse_page_range
from pagemill.domain.versioned import ResourceKind

CUSTOM_PROCESSOR_PREFIX = "cp_"

# Keys the service layer writes into a ``custom`` step's settings when an execution is created:
# the frozen definition and which processor version it came from. Clients may not set them.
DEFINITION_KEY = "_definition"
PROCESSOR_KEY = "_processor"
RESERVED_SETTINGS = (DEFINITION_KEY, PROCESSOR_KEY)

# The block kinds of the convert checkpoint (``processors.document.BLOCK_TYPE_NAMES``).
BLOCK_TYPES = (
    "heading",
    "paragraph",
    "list_item",
    "table",
    "picture",
    "code",
    "page_header",
    "page_footer",
)
# A relabelled block keeps its text only: tables and pictures need cells or an image.
RELABEL_TARGETS = ("heading", "paragraph", "list_item", "page_header", "page_footer")
ACTIONS = ("drop", "keep", "rename", "relabel")
DEFAULT_HEADING_LEVEL = 2

MAX_PATTERN = 500
MAX_RULES = 200
MAX_REPLACEMENT = 10_000
MAX_LABELS = 100
MAX_LABEL = 100
MAX_KEYWORDS = 200
MAX_KEYWORD = 200

_RULE_KEYS = frozenset({"action", "match", "to", "level"})
_MATCH_KEYS = frozenset({"type", "pattern", "pages"})
_DEFINITION_KEYS = frozenset({"rules", "classify_pages"})
_QUANTIFIER = re.compile(r"[*+]|\{(\d*)(?:(,)(\d*))?\}")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")


@dataclass(frozen=True, slots=True)
class Match:
    types: frozenset[str] | None = None
    pattern: re.Pattern[str] | None = None
    pages: frozenset[int] | None = None

    def selects(self, block_type: str, page: int) -> bool:
        """The type and page conditions (a rename rewrites wherever its pattern occurs)."""
        if self.types is not None and block_type not in self.types:
            return False
        return self.pages is None or page in self.pages

    def matches(self, block_type: str, text: str, page: int) -> bool:
        if not self.selects(block_type, page):
            return False
        return self.pattern is None or self.pattern.search(text) is not None


@dataclass(frozen=True, slots=True)
class Rule:
    action: str
    match: Match
    to: str | None = None
    level: int | None = None

    def rename(self, text: str) -> str:
        assert self.match.pattern is not None and self.to is not None
        return self.match.pattern.sub(self.to, text)


@dataclass(frozen=True, slots=True)
class Definition:
    rules: tuple[Rule, ...]
    # Labels in the order written: the first of equally scoring labels wins.
    labels: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]

    def classify(self, text: str) -> str | None:
        """The best-scoring label for a page's text (keyword hits), None when nothing hits."""
        best, best_score = None, 0
        for label, keywords in self.labels:
            score = sum(len(keyword.findall(text)) for keyword in keywords)
            if score > best_score:
                best, best_score = label, score
        return best


def check_definition(raw: Any) -> dict[str, Any]:
    """A definition to store, once ``parse_definition`` accepts it."""
    parse_definition(raw)
    return dict(raw)


def parse_definition(raw: Any) -> Definition:
    """Validate a definition; ``InvalidInput`` names the offending part (``rules[2].match``)."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("definition must be an object with 'rules' and/or 'classify_pages'.")
    _no_unknown_keys(raw, _DEFINITION_KEYS, "definition")
    rules_raw = raw.get("rules", [])
    if not isinstance(rules_raw, list):
        raise InvalidInput("definition.rules must be a list of rules.")
    if len(rules_raw) > MAX_RULES:
        raise InvalidInput(f"definition.rules has at most {MAX_RULES} rules.")
    rules = tuple(_rule(rule, f"definition.rules[{i}]") for i, rule in enumerate(rules_raw))
    labels = _labels(raw.get("classify_pages", {}))
    if not rules and not labels:
        raise InvalidInput("definition needs at least one rule or a classify_pages label.")
    return Definition(rules=rules, labels=labels)


def _rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where} must be an object with 'action' and 'match'.")
    _no_unknown_keys(raw, _RULE_KEYS, where)
    action = raw.get("action")
    if action not in ACTIONS:
        raise InvalidInput(f"{where}.action must be one of {', '.join(ACTIONS)}; got {action!r}.")
    match = _match(raw.get("match"), f"{where}.match")
    to, level = raw.get("to"), raw.get("level")
    if level is not None and action != "relabel":
        raise InvalidInput(f"{where}.level is only allowed on relabel rules.")
    if action in ("drop", "keep"):
        if to is not None:
            raise InvalidInput(f"{where}.to is not allowed on {action} rules.")
        if match.types is None and match.pattern is None and match.pages is None:
            raise InvalidInput(f"{where}.match needs at least one of type, pattern, pages.")
        return Rule(action, match)
    if action == "rename":
        if match.pattern is None:
            raise InvalidInput(f"{where}.match.pattern is required: rename replaces its matches.")
        if not isinstance(to, str) or len(to) > MAX_REPLACEMENT:
            raise InvalidInput(
                f"{where}.to must be the replacement text (at most {MAX_REPLACEMENT} characters)."
            )
        try:
            match.pattern.sub(to, "")  # parses the template: bad escapes, unknown groups
        except (re.error, IndexError) as exc:
            raise InvalidInput(f"{where}.to is not a valid replacement: {exc}.") from exc
        return Rule(action, match, to=to)
    # relabel
    if to not in RELABEL_TARGETS:
        raise InvalidInput(
            f"{where}.to must be the new block type, one of {', '.join(RELABEL_TARGETS)}; "
            f"got {to!r}."
        )
    if level is not None:
        if to != "heading":
            raise InvalidInput(f"{where}.level is only allowed when relabelling to heading.")
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 6:
            raise InvalidInput(f"{where}.level must be a whole number from 1 to 6.")
    elif to == "heading":
        level = DEFAULT_HEADING_LEVEL
    return Rule(action, match, to=str(to), level=level)


def _match(raw: Any, where: str) -> Match:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where} must be an object with type, pattern and/or pages.")
    _no_unknown_keys(raw, _MATCH_KEYS, where)
    types = _types(raw.get("type"), f"{where}.type")
    pattern = raw.get("pattern")
    compiled = None if pattern is None else compile_pattern(pattern, f"{where}.pattern")
    pages_raw = raw.get("pages")
    pages = None
    if pages_raw is not None:
        if not isinstance(pages_raw, str):
            raise InvalidInput(f"{where}.pages must be a page range string such as '0,2-4'.")
        try:
            pages = frozenset(parse_page_range(pages_raw))
        except InvalidInput as exc:
            raise InvalidInput(f"{where}.pages: {exc.detail}") from exc
    return Match(types=types, pattern=compiled, pages=pages)


def _types(raw: Any, where: str) -> frozenset[str] | None:
    if raw is None:
        return None
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names:
        raise InvalidInput(f"{where} must be a block type or a non-empty list of block types.")
    unknown = [n for n in names if n not in BLOCK_TYPES]
    if unknown:
        raise InvalidInput(
            f"{where}: unknown block type {unknown[0]!r}; expected {', '.join(BLOCK_TYPES)}."
        )
    return frozenset(names)


def compile_pattern(pattern: Any, where: str) -> re.Pattern[str]:
    """Compile a user pattern, refusing the ones a backtracking matcher may never finish."""
    if not isinstance(pattern, str) or not pattern:
        raise InvalidInput(f"{where} must be a non-empty regular expression string.")
    if len(pattern) > MAX_PATTERN:
        raise InvalidInput(f"{where} is longer than {MAX_PATTERN} characters.")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise InvalidInput(f"{where} is not a valid regular expression: {exc}.") from exc
    if _BACKREFERENCE.search(_without_classes_and_escaped_backslashes(pattern)):
        raise InvalidInput(f"{where}: backreferences are not allowed in patterns.")
    if has_nested_quantifier(pattern):
        raise InvalidInput(
            f"{where}: a repeated group contains a repetition (such as '(a+)+'); this can take "
            "exponential time to match. Rewrite it without the nested repetition."
        )
    return compiled


def has_nested_quantifier(pattern: str) -> bool:
    """True when a group containing ``*``, ``+`` or ``{m,n}`` is itself repeated."""
    # One entry per open group: does its content repeat anything?
    stack: list[bool] = [False]
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            i += 2
        elif char == "[":
            i = _end_of_class(pattern, i)
        elif char == "(":
            stack.append(False)
            i += 2 if pattern.startswith("(?", i) else 1
        elif char == ")" and len(stack) > 1:
            inner = stack.pop()
            size = _repetition_at(pattern, i + 1)
            if size and inner:
                return True
            stack[-1] = stack[-1] or inner or bool(size)
            i += 1 + size
        else:
            size = _repetition_at(pattern, i)
            if size:
                stack[-1] = True
            i += size or 1
    return False


def _repetition_at(pattern: str, i: int) -> int:
    """Length of a repeating quantifier at ``i`` (with its lazy/possessive suffix), else 0."""
    found = _QUANTIFIER.match(pattern, i)
    if found is None:
        return 0
    if found.group(0).startswith("{"):
        low, comma, high = found.group(1), found.group(2), found.group(3)
        if not low and not comma:
            return 0  # "{}" is a literal
        bounded_to_one = (comma is None and int(low or 0) <= 1) or (
            comma is not None and high != "" and int(high) <= 1
        )
        if bounded_to_one:
            return 0
    end = found.end()
    if end < len(pattern) and pattern[end] in "?+":
        end += 1
    return end - i


def _end_of_class(pattern: str, i: int) -> int:
    """Index just past the character class that starts at ``i``."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1


def _without_classes_and_escaped_backslashes(pattern: str) -> str:
    """The pattern with character classes and ``\\\\`` removed (they cannot be backreferences)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("\\\\", i):
            i += 2
        elif pattern[i] == "[":
            i = _end_of_class(pattern, i)
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def _labels(raw: Any) -> tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]:
    where = "definition.classify_pages"
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where} must be an object mapping labels to keyword lists.")
    if len(raw) > MAX_LABELS:
        raise InvalidInput(f"{where} has at most {MAX_LABELS} labels.")
    labels: list[tuple[str, tuple[re.Pattern[str], ...]]] = []
    for label, keywords in raw.items():
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL:
            raise InvalidInput(f"{where}: labels are 1 to {MAX_LABEL} characters; got {label!r}.")
        here = f"{where}[{label!r}]"
        if not isinstance(keywords, list) or not keywords or len(keywords) > MAX_KEYWORDS:
            raise InvalidInput(f"{here} must be a list of 1 to {MAX_KEYWORDS} keywords.")
        compiled: list[re.Pattern[str]] = []
        for keyword in keywords:
            if not isinstance(keyword, str) or not keyword.strip() or len(keyword) > MAX_KEYWORD:
                raise InvalidInput(
                    f"{here}: keywords are non-blank strings of at most {MAX_KEYWORD} "
                    f"characters; got {keyword!r}."
                )
            # Case-insensitive whole-word hits; the keyword is literal text, never a pattern.
            compiled.append(
                re.compile(rf"(?<!\w){re.escape(keyword.strip())}(?!\w)", re.IGNORECASE)
            )
        labels.append((label, tuple(compiled)))
    return tuple(labels)


def _no_unknown_keys(raw: Mapping[Any, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise InvalidInput(
            f"{where}: unknown key {unknown[0]!r}; expected {', '.join(sorted(allowed))}."
        )


def pinned_version(settings: Mapping[str, Any]) -> int | None:
    """A ``custom`` step's ``settings.version``: None (the active version) or N ≥ 1."""
    value = settings.get("version")
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(
            f"Setting 'version' must be a custom processor version number ≥ 1, not {value!r}."
        )
    return value


# A team's custom processors: versioned team resources whose versions are definitions.
CUSTOM_PROCESSORS = ResourceKind(
    name="custom processor",
    prefix=CUSTOM_PROCESSOR_PREFIX,
    payload="definition",
    check=check_definition,
)
