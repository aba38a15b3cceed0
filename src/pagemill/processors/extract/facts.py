"""Facts about the whole document that single labels cannot give.

* its language (the lexicon's common words) and so its order of numeric dates, overruled by the
  document's own dates: one ``13/03/2018`` proves day first, one ``03/13/2018`` month first;
* its currency: ISO codes, symbols and currency words, counted over every block;
* typed values found anywhere: IBANs (with a valid checksum), VAT ids (by their national
  shapes) and company names (a legal form such as GmbH, SARL, S.L., B.V., Ltd).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pagemill.processors.document import Block
from pagemill.processors.extract.lexicon import Language, detect, languages

CODES: tuple[str, ...] = ("EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF")
CODES += ("JPY", "CAD", "AUD", "INR", "CNY", "RON", "BGN", "MYR", "SGD", "ZAR", "BRL", "MXN")
SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₹": "INR"}
CURRENCY = re.compile(rf"(?<![A-Z])(?:{'|'.join(CODES)})(?![A-Za-z])|[€$£¥₹]")
NUMERIC_DATE = re.compile(r"(?<![\d.])(\d{1,2})([./\-])(\d{1,2})\2(\d{4}|\d{2})(?![\d])")
IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30})\b")
# VAT ids by their national shapes (spaces and dots allowed inside).
VAT = re.compile(
    r"(?<![A-Z0-9])("
    r"DE[ ]?\d{3}[ ]?\d{3}[ ]?\d{3}|ATU[ ]?\d{8}|FR[ ]?[0-9A-Z]{2}[ ]?\d{3}[ ]?\d{3}[ ]?\d{3}"
    r"|NL[ ]?\d{9}[ ]?B[ ]?\d{2}|BE[ ]?[01]?\d{3}[ .]?\d{3}[ .]?\d{3}(?:[ ]?B[ ]?\d{2})?"
    r"|ES[ ]?[A-Z0-9]\d{7}[A-Z0-9]|IT[ ]?\d{11}|GB[ ]?\d{9}(?:\d{3})?"
    r"|CHE[-. ]?\d{3}[.]?\d{3}[.]?\d{3}"
    r"|[ABCDEFGHJNPQRSUVW]-?\d{8}|\d{8}-?[A-Z]"  # Spanish CIF / NIF without the ES prefix
    r")(?![A-Za-z0-9])"
)
LEGAL_FORM = (
    r"(?:GmbH(?:\s*&\s*Co\.?\s*KG)?|GMBH|AG|KG|OHG|e\.\s?K\.|SARL|SAS|S\.A\.S\.|S\.A\.|SA|S\.L\.U\.|"
    r"S\.L\.L\.|S\.L\.|SLU|SLL|SL|B\.V\.|BV|N\.V\.|NV|Ltd\.?|Limited|LLC|Inc\.?|Corp\.?|"
    r"Corporation|S\.p\.A\.|SpA|S\.r\.l\.|Srl|plc|PLC|GbR)"
)
LEGAL_ONLY = re.compile(LEGAL_FORM)
COMPANY = re.compile(rf"(?<![\w&])((?:[\w'&.\-]+,?[ ]){{1,6}}?{LEGAL_FORM})(?![\w])")


@dataclass(frozen=True, slots=True)
class Hit:
    value: str
    block: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Facts:
    language: Language
    day_first: bool
    currency: Hit | None


def block_text(block: Block) -> str:
    if block.rows:
        return "\n".join(" | ".join(row) for row in block.rows)
    return block.text


def facts_of(blocks: Sequence[Block]) -> Facts:
    texts = [block_text(block) for block in blocks]
    language = detect(" ".join(texts))
    return Facts(language, _day_first(texts, language), _currency(texts, language))


def _day_first(texts: Sequence[str], language: Language) -> bool:
    day_votes = month_votes = dots = slashes = 0
    for text in texts:
        for match in NUMERIC_DATE.finditer(text):
            first, second = int(match.group(1)), int(match.group(3))
            day_votes += first > 12 >= second
            month_votes += second > 12 >= first
            dots += match.group(2) == "."
            slashes += match.group(2) != "."
    if day_votes != month_votes:
        return day_votes > month_votes
    if dots and not slashes:
        return True
    return language.day_first


def _currency(texts: Sequence[str], language: Language) -> Hit | None:
    counts: Counter[str] = Counter()
    first: dict[str, Hit] = {}
    words = {
        word: code
        for lang in languages()
        for code, ws in lang.currency_words.items()
        for word in ws
    }
    word_pattern = re.compile(
        r"\b(" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + r")\b",
        re.IGNORECASE,
    )
    for index, text in enumerate(texts):
        for match in CURRENCY.finditer(text):
            code = SYMBOLS.get(match.group(0), match.group(0))
            counts[code] += 1
            first.setdefault(code, Hit(code, index, match.start(), match.end()))
        for match in word_pattern.finditer(text):
            code = words[match.group(1).casefold()]
            counts[code] += 1
            first.setdefault(code, Hit(code, index, match.start(), match.end()))
    if not counts:
        return None
    best = max(counts, key=lambda code: (counts[code], -first[code].block))
    return first[best]


def ibans(blocks: Sequence[Block]) -> list[Hit]:
    """IBANs with a valid checksum, in reading order (masked ones fail the checksum)."""
    found = []
    for index, block in enumerate(blocks):
        text = block_text(block)
        for match in IBAN.finditer(text):
            raw = match.group(1)
            for end in range(len(raw), 14, -1):  # the longest prefix that checks out
                candidate = raw[:end].rstrip()
                if _iban_valid(candidate.replace(" ", "")):
                    found.append(Hit(candidate, index, match.start(1), match.start(1) + end))
                    break
    return found


def _iban_valid(iban: str) -> bool:
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    digits = "".join(str(int(char, 36)) for char in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def vat_ids(blocks: Sequence[Block]) -> list[Hit]:
    found = []
    for index, block in enumerate(blocks):
        text = block_text(block)
        for match in VAT.finditer(text):
            found.append(Hit(match.group(1), index, match.start(1), match.end(1)))
    return found


def companies(blocks: Sequence[Block]) -> list[Hit]:
    """Names that end in a legal form, in reading order."""
    found = []
    for index, block in enumerate(blocks):
        for line_start, line in _lines(block_text(block)):
            for match in COMPANY.finditer(line):
                name = match.group(1).strip(" ,")
                found.append(
                    Hit(name, index, line_start + match.start(1), line_start + match.end(1))
                )
    return found


def _lines(text: str) -> list[tuple[int, str]]:
    """Pieces of a block between line breaks and separators such as "•", "|", " - "."""
    pieces = []
    for match in re.finditer(r"[^\n•|●·]+", text):
        start = match.start()
        for part in re.split(r"(\s[-\u2013]\s)", match.group(0)):
            if part.strip() and not re.fullmatch(r"\s[-\u2013]\s", part):
                pieces.append((start, part))
            start += len(part)
    return pieces
