"""The naive baseline: label regexes over pagemill's own Markdown, as a user writes in an afternoon.

Every field of the real-document set has one regular expression a developer would write after
looking at a few invoices in the languages of the set: the label words they know ("Invoice
No", "Rechnungsnummer", "Facture", "Factuur", "Factura", "Fattura" ...), then the value. Names
come from the first line of the document (the letterhead, they hope) or the line after a
"Bill to"-like label. Amounts take the last match of a total-like label. Nothing checks that a
value makes sense. It is scored beside the real extractor so that "better than a regex" is a
number, not a claim.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

AMOUNT = r"(-?\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d{1,2})|-?\d+(?:[.,]\d{1,2})?)"
DATE = (
    r"(\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"
    r"|[A-Z][a-z]+ \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]+ \d{4})"
)
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

NUMBER_LABELS = (
    r"(?:invoice|rechnung|facture|factuur|factura|fattura|bill)\s*(?:no\.?|number|nr\.?|n°|nº|#"
    r"|nummer|numero|número)?"
)
PATTERNS: dict[str, str] = {
    "number": NUMBER_LABELS + r"\s*[:#]?\s*([A-Z0-9][\w/\-]*\d[\w/\-]*)",
    "po_number": (
        r"(?:purchase order|order|po)\s*(?:no\.?|number|#|id)?\s*[:#]?\s*([A-Z0-9][\w/\-]+)"
    ),
    "date": r"(?:invoice date|date|datum|fecha|data|rechnungsdatum|factuurdatum)\s*:?\s*" + DATE,
    "due": r"(?:due date|due|fällig\w*|échéance|vervaldatum|vencimiento|scadenza)\s*:?\s*" + DATE,
    "total": (
        r"(?:grand total|total amount|amount due|total|gesamtbetrag|rechnungsbetrag|brutto\w*"
        r"|totaal te betalen|importe total|totale|zu zahlen|summe)\D{0,25}?" + AMOUNT
    ),
    "subtotal": (
        r"(?:subtotal|sub-total|net total|netto\w*|total ht|totaal ex btw|base imponible"
        r"|imponibile)\D{0,25}?" + AMOUNT
    ),
    "tax": r"(?:tax|vat|mwst|ust\.?|tva|btw|iva)\D{0,25}?" + AMOUNT,
    "currency": r"\b(EUR|USD|GBP|CHF|SEK)\b|(€|\$|£)",
    "vat": (
        r"(?:vat|ust-?id\w*|tva|btw|nif|cif|p\.?\s?iva)\D{0,20}?"
        r"\b([A-Z]{2}\s?[0-9A-Z][0-9A-Z\s]{7,14}[0-9A-Z])\b"
    ),
    "iban": r"\b([A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,3})?)\b",
    "customer": (
        r"(?:bill to|billed to|customer|kunde|client|klant|cliente|afnemer)\s*:?\s*\n+\s*(.+)"
    ),
}
# Which pattern fills which field of the set's schemas, and the last match or the first.
FIELDS: dict[str, tuple[str, bool]] = {
    "invoice_number": ("number", False),
    "po_number": ("po_number", False),
    "invoice_date": ("date", False),
    "order_date": ("date", False),
    "purchase_date": ("date", False),
    "due_date": ("due", False),
    "delivery_date": ("due", False),
    "total_amount": ("total", True),
    "total": ("total", True),
    "subtotal": ("subtotal", True),
    "tax_amount": ("tax", True),
    "currency": ("currency", False),
    "vendor_vat_id": ("vat", False),
    "merchant_vat_id": ("vat", False),
    "iban": ("iban", False),
    "customer_name": ("customer", False),
    "buyer_name": ("customer", False),
}
FIRST_LINE_FIELDS = {"vendor_name", "merchant_name", "seller_name"}


def extract(markdown: str, fields: list[str]) -> dict[str, Any]:
    text = re.sub(r"[*_`#|]+", " ", markdown)
    data: dict[str, Any] = {}
    for name in fields:
        if name in FIRST_LINE_FIELDS:
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            data[name] = lines[0] if lines else None
            continue
        if name not in FIELDS:
            data[name] = None
            continue
        key, last = FIELDS[name]
        matches = list(re.finditer(PATTERNS[key], text, re.IGNORECASE))
        if not matches:
            data[name] = None
            continue
        match = matches[-1] if last else matches[0]
        raw = next((g for g in match.groups() if g), "").strip()
        data[name] = _convert(key, raw)
    return data


def _convert(key: str, raw: str) -> Any:
    if key in ("total", "subtotal", "tax"):
        return _number(raw)
    if key in ("date", "due"):
        return _date(raw)
    if key == "currency":
        return {"€": "EUR", "$": "USD", "£": "GBP"}.get(raw, raw.upper())
    return raw


def _number(raw: str) -> float | None:
    text = raw.replace(" ", "")
    if "," in text and (text.rfind(",") > text.rfind(".")):
        text = text.replace(".", "").replace(",", ".")
    else:
        text = text.replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None


def _date(raw: str) -> str | None:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return date.fromisoformat(raw).isoformat()
        numeric = re.fullmatch(r"(\d{1,2})[./-](\d{1,2})[./-](\d{2,4})", raw)
        if numeric:
            day, month, year = (int(part) for part in numeric.groups())
            year += 2000 if year < 100 else 0
            return date(year, month, day).isoformat()  # day first, as in most of Europe
        words = raw.replace(",", "").split()
        if words[0][:3].lower() in MONTHS:
            return date(
                int(words[2]), MONTHS.index(words[0][:3].lower()) + 1, int(words[1])
            ).isoformat()
        return date(
            int(words[2]), MONTHS.index(words[1][:3].lower()) + 1, int(words[0])
        ).isoformat()
    except (ValueError, IndexError):
        return None
