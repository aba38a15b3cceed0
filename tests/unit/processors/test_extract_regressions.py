"""The seven ways the extractor failed on real documents, one test each (or a few)."""

from __future__ import annotations

from typing import Any

import pytest

from pagemill.processors.document import Block
from pagemill.processors.extract.offline import extract_offline
from pagemill.processors.extract.schema import fields_of
from tests.unit.processors.extract_blocks import DATE, NUMBER, STRING, extract, page, schema

CURRENCY = schema(currency=STRING)


# 1. Currency ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lines", "code"),
    [
        (["Factuur", "Factuur totaal EUR 49,99"], "EUR"),
        (["Coffee € 3,50", "Cake € 4,00", "Total € 7,50"], "EUR"),
        (["Hotel stay 120.00", "All charges are in US Dollars"], "USD"),
        (["Total: £12.00"], "GBP"),
    ],
)
def test_the_currency_is_the_documents(lines: list[str], code: str) -> None:
    assert extract(page(*lines), CURRENCY) == {"currency": code}


def test_no_currency_is_null() -> None:
    assert extract(page("Invoice 12", "Total 40.00"), CURRENCY) == {}


# 2. Invoice numbers --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lines", "number"),
    [
        (["ACME LTD", "Invoice No : #INV-0042", "Date: 2024-01-02"], "INV-0042"),
        (["Facture n° F-2019-77", "Date : 02/03/2019"], "F-2019-77"),
        (["Factuurnummer: 2024-0007"], "2024-0007"),
        (["Rechnungsnr. R-5531"], "R-5531"),
        (["Booking ID 778123", "Hotel Lago"], "778123"),
    ],
)
def test_invoice_numbers_under_any_label(lines: list[str], number: str) -> None:
    assert extract(page(*lines), schema(invoice_number=STRING))["invoice_number"] == number


# 3. Vendor -----------------------------------------------------------------------------------
def test_the_vendor_is_the_letterhead_not_the_title_or_the_customer() -> None:
    blocks = page(
        "FACTUUR.",
        "Bakkerij De Molen B.V.",
        "Molenweg 4, 1234 AB Utrecht",
        "Afnemer:",
        "Klant Holding B.V.",
        "Factuurnummer: 88",
    )
    data = extract(blocks, schema(vendor_name=STRING, customer_name=STRING))
    assert data == {"vendor_name": "Bakkerij De Molen B.V.", "customer_name": "Klant Holding B.V."}


def test_a_registration_number_is_no_vendor() -> None:
    blocks = page("PAYMENT RECEIPT", "KEDAI MAJU SDN BHD", "Company No: 734055-M", "TOTAL 4.11")
    data = extract(blocks, schema(vendor_name=STRING))
    assert data.get("vendor_name") not in ("No", "PAYMENT RECEIPT", "Company")


# 4. Totals -----------------------------------------------------------------------------------
TOTALS = schema(subtotal=NUMBER, tax=NUMBER, total=NUMBER)


def test_quantities_and_tax_lines_are_not_totals() -> None:
    blocks = page(
        "Tea 2 x 3.00 6.00",
        "TOTAL QTY 1",
        "TOTAL INCLUDES 6% GST 0.48",
        "TOTAL 8.48",
    )
    assert extract(blocks, schema(total=NUMBER)) == {"total": 8.48}


def test_a_date_after_the_total_label_is_not_the_amount() -> None:
    blocks = page("TOTAL AMOUNT DUE ON August 3, 2014", "Amount due 4.11")
    assert extract(blocks, schema(total=NUMBER)) == {"total": 4.11}


def test_the_total_adds_up_and_is_not_the_pre_tax_amount() -> None:
    blocks = page(
        "Total HT 624,90 €", "Total TVA 46,25 €", "Total TTC 671,15 €", "Acompte 201,00 €"
    )
    assert extract(blocks, TOTALS) == {"subtotal": 624.90, "tax": 46.25, "total": 671.15}


def test_totals_in_a_table_and_after_their_label() -> None:
    table = Block(
        "/page/0/Table/0",
        0,
        (300, 600, 560, 640),
        "table",
        "",
        rows=(("TOTAL HT", "TOTAL TVA", "TOTAL TTC"), ("100,00", "10,00", "110,00")),
    )
    assert extract([table], TOTALS) == {"subtotal": 100.0, "tax": 10.0, "total": 110.0}
    below = page("Gesamtbetrag", "1.589,80 EUR")
    assert extract(below, schema(total=NUMBER)) == {"total": 1589.80}


def test_the_total_column_of_line_items_is_not_the_documents_total() -> None:
    items = Block(
        "/page/0/Table/0",
        0,
        (60, 300, 560, 380),
        "table",
        "",
        rows=(
            ("Description", "Units", "Price", "Total"),
            ("A4 paper", "7", "7,02 EUR", "49,14 EUR"),
            ("Standing desk", "8", "699,66 EUR", "5.597,28 EUR"),
        ),
    )
    blocks = [items, *page("Subtotal 5.646,42 EUR", "Amount Payable 5.646,42 EUR", top=420)]
    assert extract(blocks, schema(total=NUMBER)) == {"total": 5646.42}


# 5. Addresses --------------------------------------------------------------------------------
def test_the_vendors_address_follows_its_name() -> None:
    blocks = page("Hetzner Online GmbH • Industriestr. 25 • 91710 Gunzenhausen", "Rechnung R-1")
    data = extract(blocks, schema(vendor_address=STRING))
    assert data == {"vendor_address": "Industriestr. 25, 91710 Gunzenhausen"}


# 6. Dates ------------------------------------------------------------------------------------
def test_a_date_after_a_phrase_in_another_language() -> None:
    blocks = page("Facture FA-12 du 02 Juillet 2015")
    assert extract(blocks, schema(invoice_date=DATE)) == {"invoice_date": "2015-07-02"}


def test_day_first_documents_keep_their_convention() -> None:
    blocks = page("Invoice date: 09/03/2018", "Delivery date: 13/03/2018")
    assert extract(blocks, schema(invoice_date=DATE)) == {"invoice_date": "2018-03-09"}
    us = page("Invoice date: 09/03/2018", "Paid on 09/13/2018")
    assert extract(us, schema(invoice_date=DATE)) == {"invoice_date": "2018-09-03"}


def test_the_invoice_date_is_not_the_service_period() -> None:
    blocks = page("Service period: 01/05/2021 - 31/05/2021", "Invoice date: 04/06/2021")
    assert extract(blocks, schema(invoice_date=DATE)) == {"invoice_date": "2021-06-04"}


def test_a_date_in_a_table_cell() -> None:
    table = Block(
        "/page/0/Table/0",
        0,
        (40, 200, 480, 230),
        "table",
        "",
        rows=(("Numero", "Fecha", "Forma de pago"), ("2283861", "01/08/2023", "B2B")),
    )
    data = extract([table], schema(invoice_number=STRING, invoice_date=DATE))
    assert data == {"invoice_number": "2283861", "invoice_date": "2023-08-01"}


# 7. Wording of the schema --------------------------------------------------------------------
def test_differently_worded_properties_get_the_same_values() -> None:
    blocks = page(
        "Acme Supplies Ltd",
        "Invoice number: 2024-118",
        "Invoice date: 2024-05-02",
        "Subtotal 200.00",
        "VAT 40.00",
        "Total 240.00 GBP",
    )
    plain = schema(
        invoice_number=STRING,
        invoice_date=DATE,
        vendor_name=STRING,
        subtotal=NUMBER,
        tax_amount=NUMBER,
        total_amount=NUMBER,
        currency=STRING,
    )
    reworded: dict[str, Any] = schema(
        Rechnungsnummer=STRING,
        fecha_factura=DATE,
        supplier={"type": "string", "description": "Company that issued the invoice"},
        netAmount=NUMBER,
        vat=NUMBER,
        grand_total={"type": "number", "description": "Total including tax"},
        devise=STRING,
    )
    first = extract(blocks, plain)
    second = extract(blocks, reworded)
    assert list(first.values()) == list(second.values())
    assert first["total_amount"] == 240.0 and first["currency"] == "GBP"


def test_a_null_field_says_why() -> None:
    blocks = page("Invoice 7", "Total 10.00")
    extraction = extract_offline(blocks, fields_of(schema(iban=STRING, due_date=DATE)))
    assert extraction.data == {}
    assert set(extraction.notes["null_reasons"]) == {"iban", "due_date"}


def test_a_count_before_the_amount_is_skipped() -> None:
    assert extract(page("SUMME [3] EUR 152,00"), schema(total=NUMBER)) == {"total": 152.0}


def test_the_customer_is_the_name_under_the_sender_line() -> None:
    blocks = page(
        "Acme GmbH",
        "Acme GmbH | Europa-Allee 1980 | 60486 Frankfurt",
        "Herr Karl E. Coyote Uferstraße 113 88045 Friedrichshafen",
        "Rechnung Nr. 42",
    )
    data = extract(blocks, schema(vendor_name=STRING, customer_name=STRING))
    assert data == {"vendor_name": "Acme GmbH", "customer_name": "Karl E. Coyote"}


def test_an_amount_label_ending_a_header_row_does_not_take_the_first_column() -> None:
    blocks = page(
        "TOTAL COMPRA (iva incl.) 45.71", "Tipo Base Iva Total", "10.00% 27.69 2.77 30.46"
    )
    assert extract(blocks, schema(total=NUMBER)) == {"total": 45.71}


def test_a_heading_label_before_the_customer_and_its_post_box() -> None:
    blocks = page(
        "Crediteur", "Electronica B.V.", "Debiteur Cust Omer BV Postbus 10000 1001AA, Amsterdijk"
    )
    data = extract(blocks, schema(customer_name=STRING))
    assert data == {"customer_name": "Cust Omer BV"}
