"""Which form target each ``field_data`` key goes to: lexical scores, one-to-one assignment.

A target (an AcroForm field, or a label on the page) is known by a few texts: the field's
name and tooltip, and the label printed near it. A key is known by itself and its description.
Texts are compared as word sets (camelCase, snake_case and punctuation split, a few common form
abbreviations expanded, words matched by stem) and as strings; a description counts slightly
less than the key. Pairs are then taken best first, each key and each target at most once,
down to ``confidence_threshold``.

An ``LLM`` (the server's ``StructuredExtractor``) may choose instead: it sees the targets with
ids and the keys with descriptions and answers an id per key; ids it invents are ignored and
keys it leaves out fall back to the lexical match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from pagemill.domain.errors import ProcessingError
from pagemill.ports.extractor import StructuredExtractor

DESCRIPTION_WEIGHT = 0.9
MAX_LLM_TARGETS = 500
ABBREVIATIONS = {
    "dob": "date of birth",
    "zip": "postal code",
    "zipcode": "postal code",
    "postcode": "postal code",
    "ssn": "social security number",
    "tel": "telephone",
    "phone": "telephone",
    "addr": "address",
    "no": "number",
    "num": "number",
    "nr": "number",
    "qty": "quantity",
    "amt": "amount",
    "dept": "department",
    "fname": "first name",
    "lname": "last name",
    "firstname": "first name",
    "lastname": "last name",
    "surname": "last name",
    "forename": "first name",
    "email": "email",
    "e-mail": "email",
    "sig": "signature",
}
STOPWORDS = frozenset(
    {"the", "of", "a", "an", "your", "please", "enter", "here", "to", "in", "and", "or", "for", "s"}
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Key:
    key: str
    value: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    target_id: str  # f0, f1… (AcroForm fields) or l0, l1… (labels)
    texts: tuple[str, ...]  # what it is called: field name, tooltip, nearby label
    page: int
    kind: str  # a field type (text, checkbox, radio, choice) or "label"


@dataclass(frozen=True, slots=True)
class Match:
    key: Key
    target: Target
    confidence: float
    method: str  # lexical | llm


def words(text: str) -> list[str]:
    spaced = _CAMEL.sub(" ", text)
    found: list[str] = []
    for word in _WORD.findall(spaced.lower()):
        expanded = ABBREVIATIONS.get(word, word)
        found.extend(w for w in expanded.split() if w not in STOPWORDS)
    return found


def _stem(word: str) -> str:
    for suffix in ("ing", "es", "ed", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def similarity(a: str, b: str) -> float:
    """0..1: how alike two names are (word overlap, or the strings themselves)."""
    left, right = [_stem(w) for w in words(a)], [_stem(w) for w in words(b)]
    if not left or not right:
        return 0.0
    matched = 0.0
    remaining = list(right)
    for word in left:
        best = max(remaining, key=lambda other: _word_score(word, other), default=None)
        if best is not None and _word_score(word, best) >= 0.8:
            matched += _word_score(word, best)
            remaining.remove(best)
    dice = 2 * matched / (len(left) + len(right))
    joined = SequenceMatcher(None, " ".join(left), " ".join(right)).ratio()
    return round(max(dice, joined * 0.95), 4)


def _word_score(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if len(a) >= 4 and len(b) >= 4 and (a.startswith(b) or b.startswith(a)):
        return 0.9
    return SequenceMatcher(None, a, b).ratio() if min(len(a), len(b)) >= 5 else 0.0


def score(key: Key, target: Target) -> float:
    best = 0.0
    for text in target.texts:
        best = max(best, similarity(key.key, text))
        if key.description:
            best = max(best, DESCRIPTION_WEIGHT * similarity(key.description, text))
    return best


def assign(
    keys: Sequence[Key],
    targets: Sequence[Target],
    threshold: float,
    chosen: Sequence[Match] = (),
) -> list[Match]:
    """``chosen`` (the LLM's picks) first, then the best remaining lexical pairs."""
    matches = list(chosen)
    used_keys = {m.key.key for m in matches}
    used_targets = {m.target.target_id for m in matches}
    pairs = sorted(
        (
            (score(key, target), index, key, target)
            for index, key in enumerate(keys)
            if key.key not in used_keys
            for target in targets
            if target.target_id not in used_targets
        ),
        key=lambda pair: (-pair[0], pair[1], pair[3].target_id),
    )
    for confidence, _, key, target in pairs:
        if confidence < threshold:
            break
        if key.key in used_keys or target.target_id in used_targets:
            continue
        matches.append(Match(key, target, confidence, "lexical"))
        used_keys.add(key.key)
        used_targets.add(target.target_id)
    return matches


LLM_INSTRUCTIONS = (
    "You match data to the fields of a form. The document lists the form's fields, one per "
    "line: an id in square brackets, then what the field is called on the form. For each "
    "property of the schema (a piece of data to fill in, described by its description), answer "
    "the id of the form field it belongs in, or leave the property out when no field fits. "
    "Use each id at most once. Answer with one JSON object and nothing else."
)


def llm_choices(
    extractor: StructuredExtractor,
    keys: Sequence[Key],
    targets: Sequence[Target],
    context: str | None,
) -> list[Match]:
    """The extractor's picks; ``ProcessingError`` when it cannot answer."""
    shown = list(targets)[:MAX_LLM_TARGETS]
    text = "\n".join(
        f"[{t.target_id}] page {t.page + 1}, {t.kind}: " + " | ".join(x for x in t.texts if x)
        for t in shown
    )
    if context:
        text = f"Context: {context}\n\n{text}"
    properties = {
        key.key: {
            "type": "string",
            "description": f"The id of the form field for: {key.key}"
            + (f" ({key.description})" if key.description else ""),
        }
        for key in keys
    }
    answer = extractor.extract(text, {"type": "object", "properties": properties}, LLM_INSTRUCTIONS)
    if not isinstance(answer, dict):
        raise ProcessingError(
            "The LLM answered the field matching with something other than an object."
        )
    by_id = {t.target_id: t for t in shown}
    matches: list[Match] = []
    used: set[str] = set()
    for key in keys:
        chosen = answer.get(key.key)
        target_id = chosen.strip("[] ") if isinstance(chosen, str) else None
        if target_id in by_id and target_id not in used:
            matches.append(Match(key, by_id[target_id], 1.0, "llm"))
            used.add(target_id)
    return matches
