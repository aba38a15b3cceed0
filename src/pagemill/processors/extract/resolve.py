"""Values found by what they are, for the concepts labels alone get wrong.

* currency: the document's own (``facts``), as an ISO code;
* IBAN: one with a valid checksum, not the customer's;
* VAT id: one of the national shapes, near a VAT label, not in the customer's block;
* vendor: the letterhead — a company name with a legal form near the top or repeated in the
  footer, or the first name of the first page — never the title or the bill-to block;
* customer: the name under or after a bill-to label;
* addresses: the street and the postcode with its town after the vendor's (customer's) name.

Each resolver returns ``Resolved`` values with a score; the best is kept. Layout counts through
the block order and boxes: the bill-to *zone* is the block holding a customer label and the
blocks right below it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pagemill.processors.document import Block
from pagemill.processors.extract import facts as doc_facts
from pagemill.processors.extract.facts import Facts, Hit, block_text
from pagemill.processors.extract.labels import (
    LabelMatch,
    LabelPattern,
    Variant,
    find_labels,
    patterns_for,
)
from pagemill.processors.extract.lexicon import labels
from pagemill.processors.extract.typed import read_name

RESOLVED: tuple[str, ...] = ("currency", "iban", "vat_id", "vendor", "customer")
RESOLVED += ("vendor_address", "customer_address")
ZONE_BLOCKS = 3  # blocks under a bill-to label that belong to it
ZONE_POINTS = 90.0
TOP_BLOCKS, TOP_POINTS = 4, 200.0
DOC_TITLES = re.compile(
    r"^\W*(tax\s+)?(invoice|receipt|rechnung|facture|factuur|factura|fattura|avoir|credit\s+note"
    r"|gutschrift|quittung|bon|ticket|purchase\s+order|bestellung|statement|page|seite)\b",
    re.IGNORECASE,
)
POSTCODE_CITY = re.compile(
    r"(?:\b[A-Z]{1,2}[- ])?\b(\d{4,5}(?:[ ]?[A-Z]{2})?),?[ ]+"
    r"([A-ZÄÖÜÉÈ][\w\-]+(?:[ ][A-ZÄÖÜ(][\w\-)]+)?)"
)
CUSTOMER_CONTEXT = re.compile(
    r"\b(client|customer|buyer|kunde|kunden\w*|käufer|cliente|klant|afnemer|debiteur|acheteur"
    r"|abgebucht|vos identifiants|datos fiscales|empfänger)\b[^\n]{0,40}$",
    re.IGNORECASE,
)
# Words that are labels, never part of a name before or in it.
LABEL_WORDS = {
    *("number", "no", "nr", "vat", "order", "notes", "note", "date", "page", "total", "invoice"),
    *("numero", "número", "fecha", "nummer", "datum", "factuur", "rechnung", "facture", "factura"),
    *("leverancier", "crediteur", "debiteur", "afnemer", "verkäufer", "käufer", "lieferant"),
    *("fournisseur", "vendeur", "client", "cliente", "kunde", "customer", "seller", "buyer"),
    *("supplier", "vendor", "fdo", "firmado", "signed", "address", "adresse", "delivery"),
    *("payment", "description", "line", "forma", "pago", "cif", "dni", "nif", "iban", "bic"),
    *("postbus", "straat", "strasse", "straße", "rue", "calle", "contact", "tel", "phone"),
    *("références", "referencias", "referenze", "referenties", "precio", "dto", "menge"),
    *("betreft", "referentie", "subject", "objet", "asunto", "oggetto", "tva", "btw", "ust"),
    *("vat", "siret", "siren", "iva", "mwst"),
}


@dataclass(frozen=True, slots=True)
class Resolved:
    value: str
    score: float
    block: int
    reason: str


def _patterns(concept: str) -> list[LabelPattern]:
    return patterns_for(concept, (Variant(phrase, 1.0) for phrase in labels(concept)))


def customer_zone(blocks: Sequence[Block]) -> dict[int, int]:
    """Block index → offset in its text from which the block is in a bill-to zone."""
    patterns = _patterns("customer")
    zone: dict[int, int] = {}
    for index, block in enumerate(blocks):
        matches = _heading_labels(block.text, patterns)
        if not matches:
            continue
        zone[index] = min(zone.get(index, 10**6), matches[0].start)
        for later in below(blocks, index, ZONE_POINTS)[:ZONE_BLOCKS]:
            zone.setdefault(later, 0)
    return zone


def below(blocks: Sequence[Block], index: int, points: float) -> list[int]:
    """Blocks under ``blocks[index]`` on its page that overlap it horizontally, nearest first."""
    page, (x0, _, x1, y1) = blocks[index].page, blocks[index].bbox
    found = []
    for other, block in enumerate(blocks):
        if other == index or block.page != page:
            continue
        bx0, by0, bx1, _ = block.bbox
        if min(x1, bx1) - max(x0, bx0) > 0 and -2 <= by0 - y1 <= points:
            found.append((by0, other))
    return [other for _, other in sorted(found)]


def _in_zone(zone: dict[int, int], hit: Hit) -> bool:
    return hit.block in zone and hit.start >= zone[hit.block]


def resolve(
    concept: str, blocks: Sequence[Block], facts: Facts, zone: dict[int, int]
) -> list[Resolved]:
    if concept == "currency":
        hit = facts.currency
        return [] if hit is None else [Resolved(hit.value, 0.9, hit.block, "document currency")]
    if concept == "iban":
        return _ibans(blocks, zone)
    if concept == "vat_id":
        return _vat_ids(blocks, zone)
    if concept == "vendor":
        return vendors(blocks, zone)
    if concept == "customer":
        return _customers(blocks, zone)
    if concept in ("vendor_address", "customer_address"):
        names = vendors(blocks, zone) if concept == "vendor_address" else _customers(blocks, zone)
        return _address(blocks, names[:1])
    return []


def _context(blocks: Sequence[Block], hit: Hit) -> str:
    """The text before ``hit``: in its block, and in the block above when it starts near it."""
    before = block_text(blocks[hit.block])[max(0, hit.start - 60) : hit.start]
    if hit.start < 30 and hit.block > 0:
        above, here = blocks[hit.block - 1], blocks[hit.block]
        if above.page == here.page and 0 <= here.bbox[1] - above.bbox[3] <= 20:
            before = block_text(above)[-60:] + " " + before
    return before


def _ibans(blocks: Sequence[Block], zone: dict[int, int]) -> list[Resolved]:
    found = []
    for hit in doc_facts.ibans(blocks):
        score = 0.85
        if _in_zone(zone, hit) or CUSTOMER_CONTEXT.search(_context(blocks, hit)):
            score -= 0.6
        found.append(Resolved(hit.value, score, hit.block, "IBAN with a valid checksum"))
    if not found:  # a sample or masked IBAN: only right after its label
        for index, block in enumerate(blocks):
            for match in re.finditer(
                r"\bIBAN\s*:?\s*([A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{1,4}){3,8})\b", block_text(block)
            ):
                found.append(Resolved(match.group(1), 0.6, index, "IBAN-shaped after its label"))
    return found


def _vat_ids(blocks: Sequence[Block], zone: dict[int, int]) -> list[Resolved]:
    vat_labels = _patterns("vat_id")
    companies = doc_facts.companies(blocks)
    found = []
    for hit in doc_facts.vat_ids(blocks):
        before = _context(blocks, hit)
        labelled = any(m.end >= len(before) - 25 for m in find_labels(before, vat_labels))
        score = 0.55 + (0.3 if labelled else 0.0)
        if _in_zone(zone, hit) or CUSTOMER_CONTEXT.search(before):
            score -= 0.6
        if any(c.block == hit.block and not _in_zone(zone, c) for c in companies):
            score += 0.1
        if not labelled and not hit.value[:2].isalpha():
            score -= 0.3  # a bare national number is a VAT id only under its label
        found.append(Resolved(hit.value, score, hit.block, "VAT id by its shape"))
    return found


def vendors(blocks: Sequence[Block], zone: dict[int, int]) -> list[Resolved]:
    """Candidates for the issuer, best first."""
    if not blocks:
        return []
    found: list[Resolved] = []
    hits = [Hit(trim_name(h.value), h.block, h.start, h.end) for h in doc_facts.companies(blocks)]
    counts: dict[str, int] = {}
    for hit in hits:
        counts[_norm(hit.value)] = counts.get(_norm(hit.value), 0) + 1
    first_page = blocks[0].page
    vendor_labels = _patterns("vendor")
    for hit in hits:
        block = blocks[hit.block]
        score = 0.55
        if block.page == first_page and (hit.block < TOP_BLOCKS or block.bbox[1] < TOP_POINTS):
            score += 0.25
        if counts[_norm(hit.value)] > 1:
            score += 0.15
        if find_labels(_context(blocks, hit)[-40:], vendor_labels):
            score += 0.2
        if _in_zone(zone, hit) or CUSTOMER_CONTEXT.search(_context(blocks, hit)):
            score -= 0.7
        found.append(Resolved(hit.value, score, hit.block, "company name with a legal form"))
    found.extend(_letterhead(blocks, zone))
    found.extend(_after_label(blocks, vendor_labels, 0.7, "name under a vendor label"))
    return sorted(found, key=lambda r: -r.score)


def _letterhead(blocks: Sequence[Block], zone: dict[int, int]) -> list[Resolved]:
    first_page = blocks[0].page
    for index, block in enumerate(blocks[:TOP_BLOCKS]):
        text = block.text.strip()
        if block.page != first_page or index in zone:
            continue
        if DOC_TITLES.match(text) or ":" in text or block.type == "picture":
            continue
        name = read_name(re.split(r"\s[-\u2013•|]\s", text)[0])
        if name is not None and any(c.isalpha() for c in name.value):
            return [Resolved(trim_name(name.value), 0.35, index, "first name on the first page")]
    return []


def _after_label(
    blocks: Sequence[Block], patterns: list[LabelPattern], score: float, reason: str
) -> list[Resolved]:
    """The first name-like text after a label: on its line, else in the blocks below it."""
    found = []
    for index, block in enumerate(blocks):
        matches = _heading_labels(block.text, patterns)
        if not matches:
            continue
        rest = [(index, block.text[matches[0].value_start :])]
        rest += [(later, blocks[later].text) for later in below(blocks, index, ZONE_POINTS)[:3]]
        for where, text in rest:
            for piece in re.split(r"\s[-\u2013•|]\s|\n", text):
                candidate = piece.strip()
                if not candidate or ":" in candidate or DOC_TITLES.match(candidate):
                    continue
                if sum(c.isdigit() for c in candidate) * 3 > len(candidate):
                    continue
                company = doc_facts.COMPANY.search(candidate)
                name = read_name(company.group(1) if company else candidate)
                if name is not None and len(trim_name(name.value)) > 1:
                    value = _without_street(trim_name(name.value))
                    if not _labelish(value):
                        found.append(Resolved(value, score, where, reason))
                break
            else:
                continue
            break
    return found


def _heading_labels(text: str, patterns: list[LabelPattern]) -> list[LabelMatch]:
    """Labels that head a block ("Bill To:", "Käufer/Leistungsempfänger:", "Afnemer"), not
    words inside a longer label ("Customer VAT Number", "Numero de Cliente")."""
    found = []
    for match in find_labels(text, patterns):
        # A capitalised label opening its block before a capitalised name heads it ("Debiteur
        # Cust Omer BV"); one opening a sentence ("Invoice to pay by wire transfer") does not.
        following = text[match.value_start : match.value_start + 1]
        heads = match.start == 0 and text[:1].isupper() and following.isupper()
        if match.weak or not (match.separator or heads or not text[match.value_start :].strip()):
            continue
        after = text[match.value_start :].split()
        if after and after[0].strip(".:#°").casefold() in LABEL_WORDS | {"id", "#", "n°", "nº"}:
            continue
        found.append(match)
    return found


POSTBOX = {"postbus", "postfach", "apartado", "casella", "bp", "po", "p.o."}
SENDER_SEPARATORS = re.compile(r"\s[•●|·]\s|\s[-\u2013]\s")
SALUTATION = re.compile(
    r"^(?:(?:Herrn?|Frau|Mr|Mrs|Ms|Mx|Dr|M|Mme|Mlle|Monsieur|Madame|Dhr|Mevr|Sr|Sra|Sig|Sig\.ra)"
    r"\.?\s+)+"
)
STREET_WORD = re.compile(
    r"(?i)\S*(?:str\.|straße|strasse|weg|allee|platz|gasse|laan|straat|road|street|rue|calle)$"
)


def _window(blocks: Sequence[Block], issuer: set[str]) -> list[Resolved]:
    """The recipient of a letter-style document: the name under the small sender line
    ("Acme GmbH | Europa-Allee 1980 | 60486 Frankfurt") of the envelope window."""
    first_page = blocks[0].page
    for index, block in enumerate(blocks):
        if block.page != first_page:
            break
        text = block.text
        if len(SENDER_SEPARATORS.findall(text)) < 2 or not POSTCODE_CITY.search(text):
            continue
        if not any(name and name in _norm(text) for name in issuer):
            continue
        for under in below(blocks, index, 30.0)[:1]:
            if ":" in blocks[under].text:
                continue  # a label line of the letterhead, not an address
            rest = SALUTATION.sub("", blocks[under].text.strip())
            rest = re.split(r"\s(?:Herrn?|Frau|Mr|Mrs|Ms|M|Mme)\.?\s", rest)[0]
            name = read_name(rest)
            if name is None:
                continue
            words = name.value.split()
            while words and STREET_WORD.match(words[-1]):
                words.pop()
            value = " ".join(words)
            if len(value) > 1 and not _labelish(value) and _norm(value) not in issuer:
                return [Resolved(value, 0.7, under, "name under the sender line")]
    return []


def _customers(blocks: Sequence[Block], zone: dict[int, int]) -> list[Resolved]:
    issuer = {_norm(v.value) for v in vendors(blocks, zone)[:1]}
    found = [
        r
        for r in _after_label(blocks, _patterns("customer"), 0.75, "name under a bill-to label")
        if _norm(r.value) not in issuer
    ]
    for hit in doc_facts.companies(blocks):
        if _in_zone(zone, hit) and _norm(trim_name(hit.value)) not in issuer:
            value = trim_name(hit.value)
            found.append(Resolved(value, 0.8, hit.block, "company name in the bill-to block"))
    if not found and blocks:
        found = _window(blocks, issuer)
    return sorted(found, key=lambda r: -r.score)


def _address(blocks: Sequence[Block], names: list[Resolved]) -> list[Resolved]:
    """Street, postcode and town in the text that follows the best name."""
    if not names or names[0].score < 0.5:
        return []
    owner = names[0]
    text = block_text(blocks[owner.block])
    start = text.find(owner.value)
    if start < 0:
        return []
    following = text[start + len(owner.value) :]
    for later in range(owner.block + 1, min(len(blocks), owner.block + 3)):
        following += " , " + block_text(blocks[later])
    following = following[:160]
    place = POSTCODE_CITY.search(following)
    if place is None:
        return []
    street = re.sub(r"^[\s,•|\-\u2013]+|[\s,•|\-\u2013]+$", "", following[: place.start()])
    street = re.split(r"\s[•|]\s|\s[-\u2013]\s", street)[-1].strip(" ,")
    words = street.split()
    if not words or not any(c.isdigit() for c in street) or len(words) > 7:
        return []
    value = f"{street}, {place.group(1)} {place.group(2)}"
    return [Resolved(value, owner.score, owner.block, "address after the name")]


def trim_name(name: str) -> str:
    """``name`` without leading words that are labels, numbers or abbreviations."""
    words = name.split()
    while (
        len(words) > 1
        and not (len(words) == 2 and doc_facts.LEGAL_ONLY.fullmatch(words[1]))
        and (
            any(c.isdigit() for c in words[0])
            or words[0].strip(".:,").casefold() in LABEL_WORDS
            or (words[0].endswith((".", ":")) and len(words[0]) <= 5)
        )
    ):
        words.pop(0)
    return " ".join(words)


def _without_street(name: str) -> str:
    """``name`` without the street or post-box word that follows it on a merged line."""
    words = name.split()
    while len(words) > 1 and (STREET_WORD.match(words[-1]) or words[-1].casefold() in POSTBOX):
        words.pop()
    return " ".join(words)


def _labelish(name: str) -> bool:
    """Label words, column headings or one lower-case word: not a name."""
    words = name.split()
    if any(c in name for c in "%/") or (len(words) == 1 and name.islower()):
        return True
    if len(words) == 1 and "-" in name and name.endswith("."):
        return True  # "Art-Nr-Lief.": an abbreviated column heading
    return any(w.strip(".:,()").casefold() in LABEL_WORDS for w in words)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())
