"""Values that documents print without a label: where a reader knows to look for them.

* the issuing company: the letterhead, the first name-like line of the first page;
* a letter's recipient: the salutation ("Dear Jane Doe,");
* a letter's sender: the name under the closing ("Sincerely," … "John Smith");
* a document's date: the first date printed;
* an e-mail address or phone number: the first one printed.

Each gives a low-scored candidate, so any labelled value wins over it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pagemill.processors.document import Block
from pagemill.processors.extract.schema import FieldSpec
from pagemill.processors.extract.typed import read_name, shape_of
from pagemill.processors.extract.values import EMAIL, PHONE, URL, Found, find_date, is_phone

LETTERHEAD_WORDS = {"vendor", "supplier", "seller", "issuer", "merchant", "company", "business"}
LETTERHEAD_WORDS |= {"organization", "organisation", "letterhead", "firm", "provider"}
RECIPIENT_WORDS = {"recipient", "addressee", "to"}
SENDER_WORDS = {"sender", "signatory", "signer", "author", "from", "signed", "writer"}
DATE_QUALIFIERS = {
    *("due", "birth", "dob", "expiry", "expiration", "start", "end", "delivery", "ship"),
    *("shipping", "order", "payment", "paid", "effective", "termination", "renewal", "until"),
}
DOC_TYPES = re.compile(
    r"^(tax\s+)?(invoice|receipt|statement|letter|form|application|quote|quotation|estimate|"
    r"purchase\s+order|credit\s+note|bill|registration\s+form|membership\s+application)$",
    re.IGNORECASE,
)
SALUTATION = re.compile(
    r"\bDear\s+(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam)\.?\s+)?([^,:\n]{2,60}?)\s*[,:]",
)
CLOSING = re.compile(
    r"\b(?:Sincerely|Yours\s+(?:sincerely|faithfully|truly)|(?:Kind|Best|Warm|With\s+kind)\s+"
    r"regards|Regards|Respectfully(?:\s+yours)?|Best\s+wishes|Cordially)\s*,?",
    re.IGNORECASE,
)
LETTERHEAD_BLOCKS = 3

LETTERHEAD, SALUTE, SIGNATURE, FIRST_DATE, FIRST_SHAPED = 0.3, 0.35, 0.35, 0.25, 0.2


@dataclass(frozen=True, slots=True)
class Guess:
    found: Found
    block: int  # index of the block the value is in
    offset: int  # where in the block's text the region starts
    score: float


def guesses(
    spec: FieldSpec, blocks: Sequence[Block], excluded: set[int], day_first: bool | None = None
) -> list[Guess]:
    words = set(spec.words)
    shape = shape_of(spec) if spec.kind == "string" and spec.enum is None else None
    found: list[Guess] = []
    if shape == "name" and words & LETTERHEAD_WORDS:
        found.extend(_letterhead(blocks, excluded))
    if shape == "name" and words & RECIPIENT_WORDS:
        found.extend(_salutation(blocks))
    if shape == "name" and words & SENDER_WORDS and not words & LETTERHEAD_WORDS:
        found.extend(_signature(blocks))
    if shape in ("date", "date_text") and not words & DATE_QUALIFIERS:
        found.extend(_first_date(blocks, excluded, iso=shape == "date", day_first=day_first))
    if shape in ("email", "phone", "url"):
        found.extend(_first_shaped(shape, blocks, excluded))
    return found


def _letterhead(blocks: Sequence[Block], excluded: set[int]) -> list[Guess]:
    if not blocks:
        return []
    first_page = blocks[0].page
    seen = 0
    for index, block in enumerate(blocks):
        if block.page != first_page or seen >= LETTERHEAD_BLOCKS:
            break
        seen += 1
        text = block.text.strip()
        if index in excluded or DOC_TYPES.match(text) or ":" in text:
            continue
        name = read_name(text)
        if name is not None:
            return [Guess(name, index, 0, LETTERHEAD)]
    return []


def _salutation(blocks: Sequence[Block]) -> list[Guess]:
    for index, block in enumerate(blocks):
        match = SALUTATION.search(block.text)
        if match:
            value = match.group(1).strip()
            return [Guess(Found(value, match.start(1), match.end(1)), index, 0, SALUTE)]
    return []


def _signature(blocks: Sequence[Block]) -> list[Guess]:
    for index, block in enumerate(blocks):
        closings = list(CLOSING.finditer(block.text))
        if not closings:
            continue
        match = closings[-1]
        rest = block.text[match.end() :]
        if rest.strip():
            name = read_name(rest, person=True)
            if name is not None:
                return [Guess(name, index, match.end(), SIGNATURE)]
        elif index + 1 < len(blocks):
            name = read_name(blocks[index + 1].text, person=True)
            if name is not None:
                return [Guess(name, index + 1, 0, SIGNATURE)]
    return []


def _first_date(
    blocks: Sequence[Block], excluded: set[int], *, iso: bool, day_first: bool | None = None
) -> list[Guess]:
    for index, block in enumerate(blocks):
        if index in excluded:
            continue
        found = find_date(block.text, anywhere=True, day_first=day_first)
        if found is None:
            continue
        if not iso:
            found = Found(block.text[found.start : found.end], found.start, found.end)
        return [Guess(found, index, 0, FIRST_DATE)]
    return []


def _first_shaped(shape: str, blocks: Sequence[Block], excluded: set[int]) -> list[Guess]:
    pattern = {"email": EMAIL, "phone": PHONE, "url": URL}[shape]
    for index, block in enumerate(blocks):
        if index in excluded:
            continue
        for match in pattern.finditer(block.text):
            value = match.group(0).strip().rstrip(".,;")
            if shape != "phone" or is_phone(value):
                return [Guess(Found(value, match.start(), match.end()), index, 0, FIRST_SHAPED)]
    return []
