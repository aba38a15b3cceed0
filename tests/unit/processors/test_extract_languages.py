"""The label lexicon, one test per language: an invoice's number, date, due date, amounts and
parties read under that language's labels, with the same schema written in English."""

from __future__ import annotations

import pytest

from pagemill.processors.extract.lexicon import LANGUAGES, detect, labels, language
from tests.unit.processors.extract_blocks import DATE, NUMBER, STRING, extract, page, schema

INVOICE = schema(
    invoice_number=STRING,
    invoice_date=DATE,
    due_date=DATE,
    subtotal=NUMBER,
    tax_amount=NUMBER,
    total_amount=NUMBER,
    currency=STRING,
)
EXPECTED = {
    "invoice_number": "A-1042",
    "invoice_date": "2024-03-13",
    "due_date": "2024-04-12",
    "subtotal": 100.0,
    "tax_amount": 21.0,
    "total_amount": 121.0,
    "currency": "EUR",
}
DOCUMENTS = {
    "en": [
        "Invoice number: A-1042",
        "Invoice date: 13/03/2024",
        "Due date: 12/04/2024",
        "Subtotal 100.00 EUR",
        "VAT 21% 21.00 EUR",
        "Amount due 121.00 EUR",
    ],
    "de": [
        "Rechnungsnummer: A-1042",
        "Rechnungsdatum: 13.03.2024",
        "Fälligkeitsdatum: 12.04.2024",
        "Nettobetrag 100,00 EUR",
        "Umsatzsteuer 21 % 21,00 EUR",
        "Rechnungsbetrag 121,00 EUR",
    ],
    "fr": [
        "Facture n° A-1042",
        "Date de facture : 13/03/2024",
        "Date d'échéance : 12/04/2024",
        "Total HT 100,00 €",
        "TVA 21 % 21,00 €",
        "Total TTC 121,00 €",
    ],
    "nl": [
        "Factuurnummer: A-1042",
        "Factuurdatum: 13-03-2024",
        "Vervaldatum: 12-04-2024",
        "Totaal ex BTW: 100,00",
        "BTW (21%): 21,00",
        "Totaal te betalen: 121,00 EUR",
    ],
    "es": [
        "Nº Factura: A-1042",
        "Fecha factura: 13/03/2024",
        "Vencimiento: 12/04/2024",
        "Base imponible 100,00 €",
        "IVA 21% 21,00 €",
        "Total factura 121,00 €",
    ],
    "it": [
        "Numero fattura: A-1042",
        "Data fattura: 13/03/2024",
        "Data scadenza: 12/04/2024",
        "Totale imponibile 100,00 €",
        "IVA 21% 21,00 €",
        "Totale documento 121,00 €",
    ],
}


def test_every_language_has_a_document() -> None:
    assert set(DOCUMENTS) == set(LANGUAGES)


@pytest.mark.parametrize("code", LANGUAGES)
def test_an_invoice_is_read_under_the_labels_of_its_language(code: str) -> None:
    assert extract(page(*DOCUMENTS[code]), INVOICE) == EXPECTED


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_language_is_recognised(code: str) -> None:
    assert detect(" ".join(DOCUMENTS[code])).code == code


@pytest.mark.parametrize("code", LANGUAGES)
def test_each_lexicon_names_every_concept(code: str) -> None:
    lexicon = language(code)
    for concept in ("invoice_number", "document_date", "due_date", "vendor", "customer"):
        assert lexicon.labels[concept], (code, concept)
    for concept in ("subtotal", "tax", "total", "vat_id", "iban", "not_total", "other"):
        assert lexicon.labels[concept], (code, concept)
    assert len(lexicon.months) == 12
    assert set(lexicon.labels["total"]) <= set(labels("total"))
