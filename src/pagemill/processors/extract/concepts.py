"""What a schema property asks for: its *concept*, read from its name, title, description and type.

Property names are split into words (``invoiceNumber``, ``invoice_number``, ``Invoice-No``)
and compared, with the title and description, against cue words in several languages; the
type and format decide between readings (``vat`` is a tax amount when it is a number and a VAT
id when it is a string; a ``date`` that is *due* is a due date). A property with no concept is
filled by labels alone, as before.
"""

from __future__ import annotations

import re

from pagemill.processors.extract.schema import FieldSpec, name_words

AMOUNT_CONCEPTS = ("subtotal", "tax", "total")
DATE_CONCEPTS = ("due_date", "delivery_date", "document_date")

SUBTOTAL = {"subtotal", "net", "netto", "nett", "ht", "imponible", "imponibile", "pretax"}
SUBTOTAL_PHRASES = ("before tax", "excl", "without vat", "without tax", "sub total", "base")
TAX = {"tax", "vat", "mwst", "ust", "tva", "btw", "iva", "gst", "hst", "steuer", "umsatzsteuer"}
TOTAL = {"total", "amount", "gross", "brutto", "payable", "paid", "due", "sum", "importe"}
TOTAL |= {"totale", "totaal", "gesamt", "betrag", "gesamtbetrag", "montant", "ttc", "importo"}
DUE = {"due", "deadline", "fällig", "faellig", "échéance", "echeance", "vencimiento"}
DUE |= {"scadenza", "vervaldatum", "payable"}
DUE_PHRASES = ("pay by", "paid by", "payment deadline", "must be paid")
DELIVERY = {"delivery", "lieferdatum", "leistungsdatum", "livraison", "entrega", "consegna"}
DELIVERY |= {"shipping", "ship", "requested", "leverdatum"}
NOT_A_DOCUMENT_DATE = {"birth", "dob", "born", "expiry", "expiration", "start", "end"}
IBAN = {"iban", "rib"}
IBAN_PHRASES = ("bank account", "bank_account", "account number", "bankverbindung")
VAT_ID = {"vat", "tva", "btw", "nif", "cif", "iva", "ustid", "uid", "vatin", "ustidnr"}
VAT_ID_PHRASES = ("tax id", "tax number", "umsatzsteuer", "partita iva", "vat number")
CURRENCY = {"currency", "devise", "währung", "waehrung", "valuta", "moneda", "munt", "divisa"}
NUMBER_WORDS = {"number", "no", "nr", "num", "id", "ref", "reference", "nummer", "numero"}
NUMBER_WORDS |= {"número", "nº", "n°", "code"}
INVOICE = {"invoice", "bill", "rechnung", "facture", "factuur", "factura", "fattura", "receipt"}
INVOICE |= {"document", "beleg", "credit"}
INVOICE_COMPOUNDS = ("rechnungsnummer", "factuurnummer", "rechnungsnr", "invoiceno", "belegnummer")
ORDER = {"po", "order", "purchase", "bestellung", "bestell", "commande", "pedido", "ordine"}
ORDER_COMPOUNDS = ("bestellnummer", "ordernummer", "auftragsnummer")
ADDRESS = {"address", "adresse", "anschrift", "addr", "direccion", "dirección", "indirizzo"}
ADDRESS |= {"adres"}
VENDOR = {"vendor", "supplier", "seller", "merchant", "store", "shop", "issuer", "lieferant"}
VENDOR |= {"verkäufer", "fournisseur", "vendeur", "leverancier", "proveedor", "fornitore"}
VENDOR |= {"emisor", "cedente", "händler", "haendler", "biller"}
VENDOR_PHRASES = ("issued the", "that issued", "sent the")
CUSTOMER = {"customer", "client", "buyer", "purchaser", "kunde", "käufer", "klant", "afnemer"}
CUSTOMER |= {"cliente", "acheteur", "comprador", "cessionario", "debiteur"}
CUSTOMER_PHRASES = ("bill to", "billed to", "sold to", "invoice to")


def concept_of(spec: FieldSpec) -> str | None:
    """The concept ``spec`` asks for, or ``None`` when none is clear."""
    own = set(spec.words) | set(name_words(spec.title))
    joined = "".join(spec.words)
    described = " ".join(_words(spec.description))
    text = " ".join([*spec.words, *_words(spec.title)])
    if spec.kind in ("number", "integer") and spec.enum is None:
        return _amount(own, text, described)
    if spec.kind != "string" or spec.enum is not None:
        return None
    if spec.fmt in ("date", "date-time") or own & {"date", "datum", "fecha", "data", "dated"}:
        return _date(own, text, described)
    return _string(own, joined, text, described)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w#°º]+", text.casefold()) if w]


def _amount(own: set[str], text: str, described: str) -> str | None:
    for words, phrase_text in ((own, text), (set(described.split()), described)):
        if words & {"quantity", "qty", "price", "rate", "count", "percent", "percentage"}:
            return None
        if words & SUBTOTAL or any(p in phrase_text for p in SUBTOTAL_PHRASES):
            return "subtotal"
        if words & TAX and not words & {"incl", "including", "included"}:
            return "tax"
        if words & TOTAL:
            return "total"
    return None


def _date(own: set[str], text: str, described: str) -> str | None:
    for words, phrase_text in ((own, text), (set(described.split()), described)):
        if words & NOT_A_DOCUMENT_DATE:
            return None
        if words & DUE or any(p in phrase_text for p in DUE_PHRASES):
            return "due_date"
        if words & DELIVERY:
            return "delivery_date"
    return "document_date"


def _string(own: set[str], joined: str, text: str, described: str) -> str | None:
    for words, phrase_text in ((own, text), (set(described.split()), described)):
        if words & IBAN or any(p in phrase_text for p in IBAN_PHRASES):
            return "iban"
        if words & CURRENCY:
            return "currency"
        if words & VAT_ID or any(p in phrase_text for p in VAT_ID_PHRASES):
            return "vat_id"
        if words & ADDRESS:
            if words & CUSTOMER or any(p in phrase_text for p in CUSTOMER_PHRASES):
                return "customer_address"
            if words & VENDOR or words & {"seller", "sender", "from"}:
                return "vendor_address"
            return None
        number = bool(words & NUMBER_WORDS)
        if any(c in joined for c in INVOICE_COMPOUNDS) or (words & INVOICE and number):
            return "invoice_number"
        if any(c in joined for c in ORDER_COMPOUNDS) or (words & ORDER and number):
            return "order_number"
        if words & VENDOR or any(p in phrase_text for p in VENDOR_PHRASES):
            return "vendor"
        if words & CUSTOMER or any(p in phrase_text for p in CUSTOMER_PHRASES):
            return "customer"
    return None
