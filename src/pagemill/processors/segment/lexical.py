"""Lexical similarity: tokens, a light stemmer, TF-IDF vectors and their cosine.

Small on purpose: segment names and descriptions are a handful of words, page features a few
headings and lines. A tiny concept table widens a segment's words with the vocabulary its kind of
document usually carries ("resume" → experience, education, skills), so "The applicant's CV" can
match a page whose headings are "Work Experience" and "Education".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

WORD = re.compile(r"[^\W_]+", re.UNICODE)

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "the",
        "their",
        "this",
        "that",
        "these",
        "those",
        "to",
        "was",
        "were",
        "will",
        "with",
        "your",
        "you",
        "we",
        "us",
        "i",
        "my",
        "me",
        "he",
        "she",
        "they",
        "them",
        "his",
        "her",
        "any",
        "all",
        "each",
        "every",
        "per",
        "via",
        "etc",
        "e.g",
        "i.e",
        "no",
        "not",
        "do",
        "does",
        "did",
    ]
)

# A document kind's usual words, keyed by stems of the words that name the kind.
CONCEPTS: dict[str, tuple[str, ...]] = {
    "invoic": ("invoice", "bill", "amount due", "total", "qty", "unit price", "tax", "subtotal"),
    "bill": ("invoice", "amount due", "total", "payment"),
    "receipt": ("receipt", "paid", "total", "payment", "cash", "card"),
    "resum": ("resume", "cv", "experience", "education", "skills", "employment", "summary"),
    "cv": ("resume", "experience", "education", "skills", "employment"),
    "curriculum": ("resume", "experience", "education", "skills"),
    "letter": ("dear", "sincerely", "regards", "yours", "faithfully", "re", "subject"),
    "correspond": ("dear", "sincerely", "regards", "letter"),
    "contract": ("agreement", "party", "parties", "terms", "hereby", "shall", "clause"),
    "agreement": ("contract", "party", "parties", "terms", "hereby", "shall"),
    "form": ("name", "date", "signature", "address", "phone", "email", "application"),
    "applic": ("application", "form", "applicant", "signature"),
    "statement": ("balance", "account", "opening", "closing", "transactions"),
    "report": ("summary", "findings", "introduction", "conclusion", "results"),
    "purchas": ("purchase order", "po", "order", "quantity", "deliver"),
    "medic": ("patient", "diagnosis", "treatment", "doctor", "prescription"),
}


def stem(word: str) -> str:
    """A light suffix stripper: plurals, -ing, -ed, -ly, -ation; enough for overlap scoring."""
    word = word.lower()
    if len(word) <= 3:
        return word
    for suffix, keep in (
        ("ational", "ate"),
        ("ations", ""),
        ("ation", ""),
        ("ments", ""),
        ("ment", ""),
        ("ies", "y"),
        ("ing", ""),
        ("ness", ""),
        ("edly", ""),
        ("ed", ""),
        ("ly", ""),
        ("es", ""),
        ("s", ""),
        ("e", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                continue
            return word[: len(word) - len(suffix)] + keep
    return word


def tokens(text: str) -> list[str]:
    """Stemmed content words of ``text``."""
    return [stem(word) for word in WORD.findall(text.lower()) if word not in STOPWORDS]


def expand_concepts(words: Sequence[str]) -> list[str]:
    """``words`` plus the stems of the concept vocabulary they name."""
    extra: list[str] = []
    for word in words:
        for phrase in CONCEPTS.get(word, ()):
            extra.extend(tokens(phrase))
    return [*words, *extra]


Vector = dict[str, float]


Counts = dict[str, float]


class TfIdf:
    """Inverse document frequencies over a small collection; vectors are L2-normalised."""

    def __init__(self, documents: Iterable[Counts]) -> None:
        docs = list(documents)
        frequency: Counter[str] = Counter()
        for doc in docs:
            frequency.update(doc.keys())
        total = len(docs)
        self._idf = {
            term: math.log((1 + total) / (1 + count)) + 1.0 for term, count in frequency.items()
        }
        self._default = math.log(1 + total) + 1.0

    def vector(self, counts: Counts) -> Vector:
        weights = {
            term: math.log1p(count) * self._idf.get(term, self._default)
            for term, count in counts.items()
            if count > 0
        }
        norm = math.sqrt(sum(weight * weight for weight in weights.values()))
        return {term: weight / norm for term, weight in weights.items()} if norm else {}


def cosine(left: Vector, right: Vector) -> float:
    if len(left) > len(right):
        left, right = right, left
    return sum(weight * right.get(term, 0.0) for term, weight in left.items())


def weighted_counts(parts: Iterable[tuple[str, float]]) -> Counts:
    """Term counts of several texts, each occurrence counted ``weight`` times."""
    counts: Counts = {}
    for text, weight in parts:
        for term in tokens(text):
            counts[term] = counts.get(term, 0.0) + weight
    return counts


def jaccard(left: str, right: str) -> float:
    a, b = set(tokens(left)), set(tokens(right))
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
