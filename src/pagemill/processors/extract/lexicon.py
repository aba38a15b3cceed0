"""The label lexicon: what documents print before a value, per language, read from data files.

``lexicon/<language>.json`` holds, for English, German, French, Dutch, Spanish and Italian:
the labels of each *concept* (``invoice_number``, ``total``, ``vat_id`` …), the words that
make a line no total (``not_total``: quantities, cash tendered, change), the month names, the
usual day/month order and a few common words (``markers``) that tell the language of a
document. Adding a language is adding a file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "de", "fr", "nl", "es", "it")


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    markers: frozenset[str]
    day_first: bool
    months: tuple[str, ...]
    labels: dict[str, tuple[str, ...]]
    currency_words: dict[str, tuple[str, ...]]


@cache
def language(code: str) -> Language:
    raw: dict[str, Any] = json.loads(
        resources.files(__package__).joinpath("lexicon", f"{code}.json").read_text("utf-8")
    )
    return Language(
        code=code,
        markers=frozenset(raw["markers"]),
        day_first=raw["date_order"] == "day_first",
        months=tuple(raw["months"]),
        labels={concept: tuple(phrases) for concept, phrases in raw["labels"].items()},
        currency_words={code: tuple(words) for code, words in raw["currency_words"].items()},
    )


def languages() -> list[Language]:
    return [language(code) for code in LANGUAGES]


@cache
def labels(concept: str) -> tuple[str, ...]:
    """Every language's labels of ``concept``, longest first, without repeats."""
    found = {phrase for lang in languages() for phrase in lang.labels.get(concept, ())}
    return tuple(sorted(found, key=lambda phrase: (-len(phrase), phrase)))


@cache
def month_numbers() -> dict[str, int]:
    """Month names and their three- and four-letter forms in every language → 1..12."""
    months: dict[str, int] = {}
    for lang in languages():
        for number, name in enumerate(lang.months, start=1):
            for key in (name, name[:3], name[:4]):
                months.setdefault(key, number)
    return months


@cache
def _vocabulary(code: str) -> frozenset[str]:
    """The language's common words and the words of its labels that no other language uses."""

    def words(lang: Language) -> set[str]:
        found = set(lang.markers)
        for phrases in lang.labels.values():
            for phrase in phrases:
                found.update(re.findall(r"[^\W\d_]{3,}", phrase.casefold()))
        return found

    own = words(language(code))
    others = set().union(*(words(lang) for lang in languages() if lang.code != code))
    return frozenset(own - (others - set(language(code).markers)))


def detect(text: str) -> Language:
    """The language whose common words the text uses most (English when none stands out)."""
    words = re.findall(r"[^\W\d_]+", text.casefold())
    counts = {
        lang.code: sum(word in _vocabulary(lang.code) for word in words) for lang in languages()
    }
    best = max(counts, key=lambda code: (counts[code], code == "en"))
    return language(best if counts[best] else "en")
