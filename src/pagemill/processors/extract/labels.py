"""Labels: the words a document prints before a value, and finding them in block text.

A field's labels come from its name (``invoice_number`` → "invoice number"), its title, a small
table of synonyms ("number" → "no.", "#"; "total" → "amount due", "balance due"), and shorter
forms ("customer_name" → "customer", "bill to"). Each label has a *quality* (how surely it
names the field). Common labels that no field asks for ("payment terms", "sku") are matched
too, so they end the value before them and cannot be mistaken for a field's label.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SYNONYMS: dict[str, tuple[str, ...]] = {
    "number": ("no", "#", "num", "nr", "nº", "ref"),
    "no": ("number", "#"),
    "date": ("dated",),
    "invoice": ("inv", "bill"),
    "total": (
        *("total due", "amount due", "balance due", "grand total", "total amount"),
        *("amount payable", "total payable", "invoice total", "balance"),
    ),
    "total amount": ("total", "total due", "amount due", "balance due", "grand total"),
    "amount due": ("total due", "balance due", "total", "grand total"),
    "subtotal": ("sub total", "net amount", "net total", "total before tax"),
    "tax": ("vat", "gst", "hst", "sales tax", "tax amount"),
    "tax amount": ("tax", "vat", "gst", "sales tax"),
    "customer": ("client", "bill to", "billed to", "sold to", "buyer", "invoice to"),
    "vendor": ("supplier", "seller", "issued by", "merchant", "from"),
    "supplier": ("vendor", "seller", "from"),
    "invoice date": ("date of issue", "issue date", "issued", "billing date", "invoice dated"),
    "issue date": ("date of issue", "invoice date", "issued"),
    "due date": ("payment due", "due by", "pay by", "due"),
    "quantity": ("qty", "units", "hours", "hrs", "pcs", "count"),
    "unit price": ("price", "rate", "unit cost", "price per unit", "each"),
    "price": ("unit price", "rate", "cost"),
    "amount": ("line total", "total", "ext price", "extended price", "sum"),
    "description": ("item", "details", "product", "service", "particulars", "article"),
    "phone": ("telephone", "tel", "mobile", "cell", "phone number", "contact number"),
    "phone number": ("phone", "telephone", "tel", "mobile", "cell"),
    "email": ("e-mail", "email address", "e-mail address", "mail"),
    "date of birth": ("dob", "birth date", "birthdate", "born"),
    "birth date": ("date of birth", "dob", "birthdate"),
    "full name": ("name", "applicant name", "your name"),
    "name": ("full name",),
    "subject": ("re", "regarding", "subj"),
    "reference": ("ref", "our ref", "our reference", "ref no", "reference number"),
    "address": ("street address", "addr"),
    "membership type": ("membership", "plan", "membership plan", "tier", "package"),
    "company": ("organization", "organisation", "employer", "business"),
    "order number": ("order no", "po number", "purchase order", "po"),
    "account number": ("account no", "acct", "account"),
    "zip": ("postcode", "postal code", "zip code"),
}
# Tail words that only say what kind of value follows: "customer_name" may be labelled
# "Customer:" alone. Dropping them leaves a label of quality REDUCED.
GENERIC = {"name", "number", "type", "value", "info", "details", "id", "code", "text", "field"}
NOT_ALONE = {"full", "first", "last", "middle", "given", "family", "other", "main", "primary"}
# Head words that may stand alone as a label when nothing better is printed ("Date:"), when
# the words before them only name the document ("invoice_date"), not a kind of date.
HEADS = {"date", "name", "phone", "email", "address", "total"}
HEAD_CONTEXT = {
    *("invoice", "document", "letter", "issue", "issued", "receipt", "statement", "contract"),
    *("form", "report", "bill", "quote", "order", "contact", "primary", "main", "grand"),
    *("final",),
}

COMMON_LABELS = (
    *("due date", "order date", "ship date", "delivery date", "date of birth", "sub total"),
    *("subtotal", "discount", "shipping", "payment terms", "terms", "po number"),
    *("account number", "phone", "fax", "email", "website", "item code", "sku", "product code"),
    *("customer id", "page", "signature", "gender", "nationality", "relationship"),
    *("occupation", "address", "ship to", "your ref", "your reference", "line total"),
    *("unit price",),
)

EXACT, SYNONYM, REDUCED, SCOPED, HEAD = 1.0, 0.9, 0.85, 0.9, 0.6
LABEL_BOX_WORDS = 6
DESCRIPTION_WORDS, DESCRIBED = 3, 0.8

GLUED = re.compile(r"[\-/]?\w")
AFTER_LABEL = re.compile(r"\s*(?P<sep>[:#]|[-\u2013](?=\s)|\.{2,})?\s*")
# An unknown "Label:" ends the value before it: the last word before a colon, with the words
# before it while the label so far starts in lower case ("Subscribe to newsletter:").
COLON_LABEL = re.compile(
    r"(?<!\S)((?:[\w.'&/\-]+\s+){0,3}?[\w.'&/\-]*[A-Za-z][\w.'&/\-]*)\s*:(?=\s|$)"
)


@dataclass(frozen=True, slots=True)
class Variant:
    phrase: str
    quality: float
    scoped: bool = False  # valid only inside the parent object's section


@dataclass(frozen=True, slots=True)
class LabelPattern:
    """The label phrases of one field that share a quality, as one regular expression."""

    owner: str | None  # the field's dotted path, or None for a common label
    quality: float
    scoped: bool
    regex: re.Pattern[str]
    needs_colon: bool


@dataclass(frozen=True, slots=True)
class LabelMatch:
    owner: str | None
    quality: float
    scoped: bool
    start: int
    end: int  # end of the label words
    value_start: int  # after the separator
    separator: bool
    weak: bool = False  # reads as prose: a label only for strongly typed values


def phrase_variants(words: Sequence[str]) -> dict[str, float]:
    """Label phrases for a name's words with their quality (best quality per phrase)."""
    phrase = " ".join(words)
    found: dict[str, float] = {phrase: EXACT}

    def add(text: str, quality: float) -> None:
        if text and found.get(text, 0.0) < quality:
            found[text] = quality

    for alternate in SYNONYMS.get(phrase, ()):
        add(alternate, SYNONYM)
    # Substitute synonyms for sub-phrases: "invoice number" → "inv no", "invoice #".
    options: list[list[str]] = []
    for word in words:
        options.append([word, *SYNONYMS.get(word, ())])
    for combination in itertools.islice(itertools.product(*options), 64):
        add(" ".join(combination), SYNONYM)
    if len(words) > 1 and words[-1] in GENERIC and not set(words[:-1]) <= NOT_ALONE:
        rest = words[:-1]
        add(" ".join(rest), REDUCED)
        for alternate in SYNONYMS.get(" ".join(rest), ()):
            add(alternate, REDUCED)
    if len(words) > 1 and words[-1] in HEADS and set(words[:-1]) <= HEAD_CONTEXT:
        add(words[-1], HEAD)
    return found


def field_variants(
    words: Sequence[str],
    title: str,
    parent_words: Sequence[str] | None,
    description: str = "",
) -> list[Variant]:
    own = phrase_variants(words)
    if title:
        own.setdefault(" ".join(name_words_of(title)), EXACT)
    described = name_words_of(description)
    if 0 < len(described) <= DESCRIPTION_WORDS:  # "Amount due": a short description is a label
        own.setdefault(" ".join(described), DESCRIBED)
    if not parent_words:
        return [Variant(p, q) for p, q in own.items()]
    variants: dict[str, Variant] = {}
    parent = phrase_variants(parent_words)
    for (p_phrase, p_quality), (c_phrase, c_quality) in itertools.product(
        list(parent.items())[:8], list(own.items())[:8]
    ):
        variants[f"{p_phrase} {c_phrase}"] = Variant(
            f"{p_phrase} {c_phrase}", min(p_quality, c_quality)
        )
    last = parent_words[-1]
    for phrase, quality in own.items():
        key = f"{last} {phrase}"
        variants.setdefault(key, Variant(key, quality * 0.95))
        variants.setdefault(phrase, Variant(phrase, quality * SCOPED, scoped=True))
    return list(variants.values())


def name_words_of(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w#]+", text.lower()) if w]


def label_source(phrase: str) -> str:
    """A phrase as a pattern: any case, "." after words ("No."), "-", "_" or "/" between them."""
    parts = []
    for word in phrase.split():
        escaped = re.escape(word)
        parts.append(escaped + (r"\.?" if word[-1].isalpha() else ""))
    body = r"[\s\-_/]*".join(parts)
    return body + (r"(?![\w])" if phrase[-1].isalnum() else "")


def patterns_for(owner: str | None, variants: Iterable[Variant]) -> list[LabelPattern]:
    groups: dict[tuple[float, bool, bool], set[str]] = {}
    for variant in variants:
        # One- and two-letter labels ("Re", "No") count only with a colon after them.
        short = len(variant.phrase.replace(" ", "")) <= 2 and variant.phrase != "#"
        groups.setdefault((variant.quality, variant.scoped, short), set()).add(variant.phrase)
    patterns = []
    for (quality, scoped, short), phrases in groups.items():
        longest_first = sorted(phrases, key=lambda p: (-len(p), p))
        alternatives = "|".join(label_source(phrase) for phrase in longest_first)
        regex = re.compile(rf"(?<![\w])(?:{alternatives})", re.IGNORECASE)
        patterns.append(LabelPattern(owner, quality, scoped, regex, short))
    return patterns


def common_patterns() -> list[LabelPattern]:
    return patterns_for(None, (Variant(phrase, 0.0) for phrase in COMMON_LABELS))


def find_labels(text: str, patterns: Sequence[LabelPattern]) -> list[LabelMatch]:
    """Label occurrences in ``text``; of overlapping ones the longest wins (ties all stay).

    Words that match a label but read as prose (lower case, no colon) come back ``weak``: they
    never end another label's value and never displace a real label.
    """
    strong: list[LabelMatch] = []
    weak: list[LabelMatch] = []
    for pattern in patterns:
        for match in pattern.regex.finditer(text):
            after = AFTER_LABEL.match(text, match.end())
            assert after is not None  # the pattern matches the empty string
            separator = bool(after.group("sep"))
            if pattern.needs_colon and not separator:
                continue
            if text[match.end() - 1] not in ".#" and GLUED.match(text, match.end()):
                continue  # "INV-20431": the start of a value, not a label
            is_weak = not separator and not _looks_like_label(text, match.start(), after.end())
            (weak if is_weak else strong).append(
                LabelMatch(
                    pattern.owner,
                    pattern.quality,
                    pattern.scoped,
                    match.start(),
                    match.end(),
                    after.end(),
                    separator,
                    is_weak,
                )
            )
    kept = _without_overlaps(strong, [])
    values = {m.value_start for m in kept if m.separator}
    kept = [m for m in kept if m.separator or m.start not in values]
    return sorted(kept + _without_overlaps(weak, kept), key=lambda m: (m.start, m.weak, -m.quality))


def _without_overlaps(matches: list[LabelMatch], fixed: list[LabelMatch]) -> list[LabelMatch]:
    matches = sorted(matches, key=lambda m: (-(m.end - m.start), -m.quality))
    kept: list[LabelMatch] = []
    for match in matches:
        clash = any(
            match.start < other.end
            and other.start < match.end
            and (match.start, match.end) != (other.start, other.end)
            for other in [*fixed, *kept]
        ) or any((match.start, match.end) == (o.start, o.end) for o in fixed)
        if not clash:
            kept.append(match)
    return kept


def _looks_like_label(text: str, start: int, value_start: int) -> bool:
    """Without a colon, words are a label when capitalised in mixed-case text, or when they end
    a short block ("Subscribe to newsletter" in a label box)."""
    if (
        not text[value_start:].strip()
        and len(text.split()) <= LABEL_BOX_WORDS
        and ":" not in text[:start]
    ):
        return True
    first = text[start]
    if first.isalpha() and not first.isupper():
        return False  # lower-case words without a colon are prose
    before = text[:start].split()
    word = text[start:value_start].split()[0] if text[start:value_start].split() else ""
    # In capitals ("RE: CHANGE OF DELIVERY ADDRESS") capitals say nothing.
    return not (before and before[-1].isupper() and word.isupper() and len(word) > 1)


def region_end(text: str, match: LabelMatch, matches: Sequence[LabelMatch]) -> int:
    """Where the value after ``match`` ends: the next label, an unknown ``Label:``, the end."""
    end = len(text)
    for other in matches:
        if not other.weak and other.start >= match.value_start and other.start > match.start:
            end = min(end, other.start)
            break
    for colon in COLON_LABEL.finditer(text, match.value_start):
        start = _colon_label_start(text, colon.start(1), colon.end(1))
        if start > match.value_start:
            end = min(end, start)
            break
    return end


def _colon_label_start(text: str, start: int, end: int) -> int:
    words = list(re.finditer(r"\S+", text[start:end]))
    begin = len(words) - 1
    while begin > 0 and not words[begin].group(0)[0].isupper():
        begin -= 1
    return start + words[begin].start()
