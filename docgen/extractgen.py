"""Generated business documents with known field values, as PDFs (reportlab).

Invoices, forms and letters come in several layouts each — key: value lines, label and value
columns without colons, small labels above their values in boxes, checkboxes, ruled tables,
right-aligned figures, wrapped table cells — with varied label wording, date and money formats.
Every ``GeneratedDoc`` carries its JSON schema and the values a perfect extractor returns
(``expected``); ``score`` compares an extraction with them field by field, so tests and a
quality benchmark can share one corpus. Résumés exist for segmentation tests.

Everything is deterministic in ``seed``: the same seed always draws the same document.
"""

from __future__ import annotations

import random
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen.canvas import Canvas

WIDTH, HEIGHT = LETTER
LEFT, RIGHT_EDGE = 72.0, 540.0
BODY = 10.5
REGULAR, BOLD = "Helvetica", "Helvetica-Bold"


@dataclass(frozen=True, slots=True)
class Text:
    x: float  # left edge, or right edge when ``right``
    y: float  # baseline, measured from the top of the page
    text: str
    font: str = REGULAR
    size: float = BODY
    right: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(slots=True)
class GeneratedDoc:
    kind: str  # invoice | form | letter | resume
    layout: str
    pages: list[list[Text | Rule]]
    schema: dict[str, Any]
    expected: dict[str, Any]  # what a perfect extractor returns for ``schema``
    title: str  # the first heading on the first page


class _Page:
    def __init__(self, top: float = 72.0) -> None:
        self.items: list[Text | Rule] = []
        self.y = top

    def text(self, x: float, text: str, font: str = REGULAR, size: float = BODY, **kw: Any) -> None:
        self.items.append(Text(x, self.y, text, font, size, **kw))

    def line(self, x: float, text: str, font: str = REGULAR, size: float = BODY) -> None:
        """Move the cursor one line down and write there."""
        self.y += size * 1.35
        self.text(x, text, font, size)

    def gap(self, points: float) -> None:
        self.y += points

    def pairs(self, pairs: Sequence[tuple[str, str]], style: str, x: float = LEFT) -> None:
        """Label/value pairs: ``colon`` lines, ``grid`` (bold label, value in a column to the
        right) or ``boxes`` (small capitals above each value, two boxes per row)."""
        for index, (label, value) in enumerate(pairs):
            if style == "colon":
                self.line(x, f"{label}: {value}")
            elif style == "grid":
                self.line(x, label, BOLD)
                self.text(x + 158, value)
            else:
                column = index % 2
                if column == 0:
                    self.gap(38)
                left = x + column * 240
                self.items.append(Text(left, self.y - 14, label.upper(), REGULAR, 7.5))
                self.items.append(Text(left, self.y, value, REGULAR, 11))
                self.items.append(Rule(left, self.y + 5, left + 220, self.y + 5))


def write_pdf(path: Path, docs: Sequence[GeneratedDoc]) -> Path:
    """Write the pages of ``docs`` one after another into one PDF; return ``path``."""
    canvas = Canvas(str(path), pagesize=LETTER, invariant=1)
    for doc in docs:
        for page in doc.pages:
            for item in page:
                if isinstance(item, Text):
                    canvas.setFont(item.font, item.size)
                    draw = canvas.drawRightString if item.right else canvas.drawString
                    draw(item.x, HEIGHT - item.y, item.text)
                else:
                    canvas.setLineWidth(0.6)
                    canvas.line(item.x0, HEIGHT - item.y0, item.x1, HEIGHT - item.y1)
            canvas.showPage()
    canvas.save()
    return path


# --- data pools -------------------------------------------------------------------------------

COMPANIES = [
    *("Acme Supplies Ltd", "Northwind Traders", "Blue Harbor Logistics", "Globex Corporation"),
    *("Initech Systems", "Umbrella Office Goods", "Stark Industrial Parts"),
    *("Wayne Print Services", "Hooli Cloud Services", "Cyberdyne Components"),
    *("Vandelay Imports", "Pied Piper Analytics"),
]
PEOPLE = [
    *("Jane Doe", "John Smith", "Maria Garcia", "Ahmed Khan", "Emily Chen", "Lukas Becker"),
    *("Olivia Brown", "Noah Williams", "Sofia Rossi", "Daniel Kim", "Grace Okafor", "Peter Novak"),
]
STREETS = ["12 Market Street", "42 Elm Street", "7 Harbour Road", "310 Pine Avenue", "5 Mill Lane"]
CITIES = ["Springfield", "Riverton", "Lakeside", "Oakridge", "Fairview"]
PRODUCTS = [
    *("Office chair", "Standing desk", "USB-C cable 2m", "A4 paper (500 sheets)"),
    *("Consulting hours", "Monitor arm", "Laser toner cartridge", "Wireless keyboard"),
    *("Software licence", "On-site support visit", "Filing cabinet", "Ergonomic mouse"),
]
LONG_PRODUCT = "Annual maintenance contract for the warehouse conveyor system"
TITLES = ["Accounts Manager", "Customer Service Lead", "Operations Director", "Office Manager"]
MONTHS = [
    *("January", "February", "March", "April", "May", "June", "July"),
    *("August", "September", "October", "November", "December"),
]


def fmt_date(day: date, style: int) -> str:
    month = MONTHS[day.month - 1]
    return [
        day.isoformat(),
        f"{month} {day.day}, {day.year}",
        f"{day.day} {month} {day.year}",
        f"{month[:3]} {day.day}, {day.year}",
        f"{day.month:02d}/{day.day:02d}/{day.year}",
        f"{day.day:02d}.{day.month:02d}.{day.year}",
    ][style]


def fmt_money(value: float, style: int) -> str:
    plain = f"{value:,.2f}"
    european = plain.replace(",", " ").replace(".", ",").replace(" ", ".")
    return [f"${plain}", f"USD {plain}", plain, f"{european} EUR"][style]


def _random_date(rng: random.Random) -> date:
    return date(2023, 1, 1) + timedelta(days=rng.randrange(0, 700))


def _phone(rng: random.Random) -> str:
    digits = [rng.randrange(100, 999), rng.randrange(100, 999), rng.randrange(1000, 9999)]
    return rng.choice(["({}) {}-{}", "{}-{}-{}", "+1 {} {} {}"]).format(*digits)


def _address(rng: random.Random) -> str:
    return f"{rng.choice(STREETS)}, {rng.choice(CITIES)}"


# --- invoices ---------------------------------------------------------------------------------

INVOICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string", "description": "The invoice number"},
        "invoice_date": {"type": "string", "format": "date", "description": "Date of issue"},
        "due_date": {"type": "string", "format": "date", "description": "Payment due date"},
        "vendor_name": {"type": "string", "description": "Company that issued the invoice"},
        "customer_name": {"type": "string", "description": "Who the invoice is billed to"},
        "subtotal": {"type": "number", "description": "Sum of the line items before tax"},
        "tax": {"type": "number", "description": "Tax amount"},
        "total": {"type": "number", "description": "Total amount due"},
        "line_items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "quantity": {"type": "integer"},
                    "unit_price": {"type": "number"},
                    "amount": {"type": "number"},
                },
            },
        },
    },
    "required": ["invoice_number", "total"],
}
INVOICE_LAYOUTS = ("stacked", "grid", "boxes", "inline", "right-aligned")
_INVOICE_LABELS = {
    "number": ["Invoice Number", "Invoice No.", "Invoice #", "Inv. No.", "Invoice Ref"],
    "date": ["Invoice Date", "Date", "Date of Issue", "Issue Date"],
    "due": ["Due Date", "Payment Due", "Due By"],
    "total": ["Total", "Total Due", "Amount Due", "Balance Due", "Grand Total", "Amount Payable"],
    "subtotal": ["Subtotal", "Sub-total", "Net Amount", "Net Total"],
    "customer": ["Bill To", "Billed To", "Customer", "Sold To"],
}
_HEADERS = [
    ("Description", "Qty", "Unit Price", "Amount"),
    ("Item", "Quantity", "Rate", "Line Total"),
    ("Description", "Units", "Price", "Total"),
]


def invoice(seed: int, layout: str | None = None) -> GeneratedDoc:
    rng = random.Random(seed * 7919 + 1)
    layout = layout or INVOICE_LAYOUTS[seed % len(INVOICE_LAYOUTS)]
    vendor, customer = rng.sample(COMPANIES, 2)
    number = rng.choice(["INV-{}", "{}", "A-{}", "2024-{}"]).format(rng.randrange(1000, 99999))
    issued = _random_date(rng)
    due = issued + timedelta(days=rng.choice([14, 30, 45]))
    date_style, money_style = rng.randrange(6), rng.randrange(4)
    products = rng.sample(PRODUCTS, rng.randrange(2, 6))
    if layout == "right-aligned":
        products[0] = LONG_PRODUCT  # wraps onto a second line in its cell
    items = []
    for product in products:
        quantity, price = rng.randrange(1, 12), rng.randrange(150, 150000) / 100
        items.append((product, quantity, price, round(quantity * price, 2)))
    subtotal = round(sum(item[3] for item in items), 2)
    rate = rng.choice([5, 8, 10, 20])
    tax = round(subtotal * rate / 100, 2)
    total = round(subtotal + tax, 2)
    labels = {key: rng.choice(options) for key, options in _INVOICE_LABELS.items()}
    labels["tax"] = rng.choice(["Tax", f"Tax ({rate}%)", f"VAT ({rate}%)", f"Sales Tax {rate}%"])

    def money(value: float) -> str:
        return fmt_money(value, money_style)

    meta = [
        (labels["number"], number),
        (labels["date"], fmt_date(issued, date_style)),
        (labels["due"], fmt_date(due, date_style)),
    ]
    title = rng.choice(["INVOICE", "Invoice", "Tax Invoice"])
    page = _Page()
    first_heading = vendor
    if layout == "stacked":
        page.line(LEFT, title, BOLD, 22)
        first_heading, top = title, page.y + 8
        page.gap(8)
        page.line(LEFT, vendor, BOLD, 12)
        page.line(LEFT, _address(rng))
        page.gap(14)
        page.pairs(meta, "colon")
        bill = _Page(top)
        for text, font in [(f"{labels['customer']}:", BOLD), (customer, REGULAR)]:
            bill.line(340, text, font)
        bill.line(340, _address(rng))
        page.items.extend(bill.items)
    elif layout in ("grid", "right-aligned"):
        page.line(LEFT, vendor, BOLD, 18)
        page.line(LEFT, _address(rng))
        if layout == "grid":
            page.gap(10)
            page.line(LEFT, title.upper(), BOLD, 14)
        else:
            page.text(RIGHT_EDGE, title.upper(), BOLD, 14, right=True)
        page.gap(10)
        top = page.y
        for label, value in meta:
            page.line(330, label, BOLD)
            page.text(RIGHT_EDGE if layout != "grid" else 450, value, right=layout != "grid")
        left = _Page(top)
        blocks = [(labels["customer"], customer)]
        if layout == "right-aligned":  # a delivery address beside the billing address
            blocks.insert(0, ("Ship To", rng.choice([c for c in COMPANIES if c != customer])))
        for column, (label, name) in enumerate(blocks):
            left.y = top
            street = rng.choice(STREETS) if len(blocks) > 1 else _address(rng)
            for text, font in [(label, BOLD), (name, REGULAR), (street, REGULAR)]:
                left.line(LEFT + column * 125, text, font)
        page.items.extend(left.items)
    elif layout == "boxes":
        page.line(LEFT, title, BOLD, 20)
        first_heading = title
        page.line(LEFT, f"{vendor} - {_address(rng)}")
        page.gap(20)
        boxes = [*meta, (labels["total"], money(total))]
        for column, (label, value) in enumerate(boxes):
            x = LEFT + column * 120
            page.items.append(Text(x, page.y, label.upper(), REGULAR, 7.5))
            page.items.append(Text(x, page.y + 16, value, BOLD, 11))
            page.items.append(Rule(x - 4, page.y - 10, x + 112, page.y - 10))
        page.gap(36)
        page.line(LEFT, f"{labels['customer']}: {customer}")
    else:  # inline
        page.line(LEFT, vendor, BOLD, 16)
        page.line(LEFT, f"{_address(rng)} - accounts@{vendor.split()[0].lower()}.example")
        page.gap(12)
        page.line(LEFT, title, BOLD, 13)
        page.line(LEFT, f"{meta[0][0]} {meta[0][1]}")
        page.text(250, f"{meta[1][0]}: {meta[1][1]}")
        page.text(430, f"{meta[2][0]}: {meta[2][1]}")
        page.line(LEFT, f"{labels['customer']}: {customer}")
    page.gap(22)
    _items_table(page, layout, rng.choice(_HEADERS), items, money)
    page.gap(20)
    for label, value in [(labels["subtotal"], subtotal), (labels["tax"], tax)]:
        _total_line(page, layout, label, money(value), REGULAR)
    _total_line(page, layout, labels["total"], money(total), BOLD)
    page.gap(30)
    page.line(LEFT, f"Payment terms: {(due - issued).days} days. Thank you for your business.")
    expected = {
        "invoice_number": number,
        "invoice_date": issued.isoformat(),
        "due_date": due.isoformat(),
        "vendor_name": vendor,
        "customer_name": customer,
        "subtotal": subtotal,
        "tax": tax,
        "total": total,
        "line_items": [
            {"description": d, "quantity": q, "unit_price": p, "amount": a} for d, q, p, a in items
        ],
    }
    return GeneratedDoc("invoice", layout, [page.items], INVOICE_SCHEMA, expected, first_heading)


def _items_table(
    page: _Page, layout: str, headers: Sequence[str], items: list[Any], money: Any
) -> None:
    right = layout == "right-aligned"  # numbers flush right under right-aligned headers
    columns = (LEFT, 330.0, 430.0, RIGHT_EDGE) if right else (LEFT, 300.0, 370.0, 460.0)
    ruled = layout in ("grid", "boxes")
    page.gap(BODY * 1.35)
    for index, (x, header) in enumerate(zip(columns, headers, strict=True)):
        page.text(x, header, BOLD, right=right and index > 0)
    for product, quantity, price, amount in items:
        if ruled:
            page.items.append(Rule(LEFT - 4, page.y + 4, RIGHT_EDGE, page.y + 4))
        page.gap(BODY * 1.35)
        wrapped = textwrap.wrap(product, 38) if right else [product]
        cells = (wrapped[0], str(quantity), money(price), money(amount))
        for index, (x, value) in enumerate(zip(columns, cells, strict=True)):
            page.text(x, value, right=right and index > 0)
        for more in wrapped[1:]:
            page.line(LEFT, more)


def _total_line(page: _Page, layout: str, label: str, value: str, font: str) -> None:
    if layout == "right-aligned":
        page.gap(BODY * 1.35)
        page.text(430, label, font, right=True)
        page.text(RIGHT_EDGE, value, font, right=True)
    else:
        page.line(370, label, font)
        page.text(460, value, font)


# --- forms ------------------------------------------------------------------------------------

FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "full_name": {"type": "string", "description": "Applicant's full name"},
        "date_of_birth": {"type": "string", "format": "date"},
        "email": {"type": "string", "format": "email"},
        "phone": {"type": "string", "description": "Phone number"},
        "membership_type": {"type": "string", "enum": ["Basic", "Standard", "Premium"]},
        "newsletter": {"type": "boolean", "description": "Subscribes to the newsletter"},
        "emergency_contact": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "phone": {"type": "string"}},
        },
    },
}
FORM_LAYOUTS = ("colon", "grid", "boxes", "checkboxes")
_PLANS = ["Basic", "Standard", "Premium"]
_FORM_LABELS = {
    "name": ["Full Name", "Name", "Applicant Name"],
    "dob": ["Date of Birth", "DOB", "Birth Date"],
    "email": ["Email", "E-mail Address", "Email Address"],
    "phone": ["Phone", "Telephone", "Phone Number", "Mobile"],
    "plan": ["Membership Type", "Membership", "Plan"],
    "news": ["Newsletter", "Subscribe to newsletter", "Receive newsletter"],
}


def form(seed: int, layout: str | None = None) -> GeneratedDoc:
    rng = random.Random(seed * 104729 + 3)
    layout = layout or FORM_LAYOUTS[seed % len(FORM_LAYOUTS)]
    name, contact = rng.sample(PEOPLE, 2)
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 18000))
    email = f"{name.split()[0].lower()}.{name.split()[1].lower()}@example.org"
    phone, contact_phone = _phone(rng), _phone(rng)
    plan, newsletter = rng.choice(_PLANS), rng.random() < 0.5
    date_style = rng.randrange(5)
    title = rng.choice(["Membership Application", "Registration Form", "Member Enrolment Form"])
    labels = {key: rng.choice(options) for key, options in _FORM_LABELS.items()}
    fields = [
        (labels["name"], name),
        (labels["dob"], fmt_date(born, date_style)),
        (labels["email"], email),
        (labels["phone"], phone),
    ]
    choices = [(labels["plan"], plan), (labels["news"], "Yes" if newsletter else "No")]
    page = _Page()
    page.line(LEFT, title, BOLD, 20)
    page.line(LEFT, "Please complete all fields in block capitals where possible.")
    page.gap(12)
    page.line(LEFT, "Personal Details", BOLD, 14)
    page.gap(4)
    if layout == "checkboxes":
        page.pairs(fields, "colon")
        page.gap(6)
        boxes = "   ".join(f"[{'X' if p == plan else ' '}] {p}" for p in _PLANS)
        yes, no = ("X", " ") if newsletter else (" ", "X")
        page.pairs([(labels["plan"], boxes), (labels["news"], f"[{yes}] Yes   [{no}] No")], "colon")
    else:
        page.pairs([*fields, *choices], layout)
    page.gap(16)
    page.line(LEFT, "Emergency Contact", BOLD, 14)
    page.gap(4)
    contact_pairs = [(rng.choice(["Name", "Contact Name"]), contact), ("Phone", contact_phone)]
    page.pairs(contact_pairs, "grid" if layout == "grid" else "colon")
    page.gap(16)
    page.line(LEFT, "I confirm that the information above is correct.")
    page.line(LEFT, "Signature: ______________________")
    expected = {
        "full_name": name,
        "date_of_birth": born.isoformat(),
        "email": email,
        "phone": phone,
        "membership_type": plan,
        "newsletter": newsletter,
        "emergency_contact": {"name": contact, "phone": contact_phone},
    }
    return GeneratedDoc("form", layout, [page.items], FORM_SCHEMA, expected, title)


# --- letters ----------------------------------------------------------------------------------

LETTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sender_company": {"type": "string", "description": "Company on the letterhead"},
        "date": {"type": "string", "format": "date", "description": "Date of the letter"},
        "reference": {"type": "string", "description": "Our reference"},
        "subject": {"type": "string"},
        "recipient_name": {"type": "string", "description": "Person the letter is addressed to"},
        "sender_name": {"type": "string", "description": "Person who signed the letter"},
    },
}
LETTER_LAYOUTS = ("block", "right-date", "re-line", "subject-line")
_SUBJECTS = [
    *("Overdue payment reminder", "Confirmation of your order", "Change of delivery address"),
    *("Renewal of your service contract", "Price adjustment notice"),
]
_CLOSINGS = ["Sincerely,", "Kind regards,", "Yours faithfully,", "Best regards,"]


def letter(seed: int, layout: str | None = None) -> GeneratedDoc:
    rng = random.Random(seed * 15485863 + 5)
    layout = layout or LETTER_LAYOUTS[seed % len(LETTER_LAYOUTS)]
    company = rng.choice(COMPANIES)
    recipient, sender = rng.sample(PEOPLE, 2)
    written = _random_date(rng)
    mentioned = written - timedelta(days=rng.randrange(10, 60))
    reference = f"{rng.choice(['REF', 'AB', 'CS'])}-{rng.randrange(1000, 9999)}"
    subject = rng.choice(_SUBJECTS)
    date_style = rng.randrange(4)
    page = _Page()
    page.line(LEFT, company, BOLD, 18)
    page.line(LEFT, f"{_address(rng)} - Tel {_phone(rng)}", size=9)
    page.gap(24)
    page.line(400 if layout == "right-date" else LEFT, fmt_date(written, date_style))
    page.gap(12)
    for text in (recipient, rng.choice(COMPANIES), _address(rng)):
        page.line(LEFT, text)
    page.gap(16)
    page.line(LEFT, f"{rng.choice(['Our ref', 'Our reference', 'Reference', 'Ref'])}: {reference}")
    subject_line = {"re-line": f"RE: {subject.upper()}", "subject-line": f"Subject: {subject}"}
    page.line(LEFT, subject_line.get(layout, f"Re: {subject}"), BOLD)
    page.gap(12)
    page.line(LEFT, f"Dear {recipient},")
    page.gap(6)
    body = [
        f"Thank you for your letter of {fmt_date(mentioned, date_style)}. We have reviewed "
        "your account and the matters you raised with our team.",
        "Please contact our office if you have any questions. We value your business and look "
        "forward to continuing to work with you in the coming year.",
    ]
    for paragraph in body:
        for chunk in textwrap.wrap(paragraph, 88):
            page.line(LEFT, chunk)
        page.gap(8)
    page.gap(6)
    page.line(LEFT, rng.choice(_CLOSINGS))
    page.gap(30)
    page.line(LEFT, sender)
    page.line(LEFT, rng.choice(TITLES))
    expected = {
        "sender_company": company,
        "date": written.isoformat(),
        "reference": reference,
        "subject": subject.upper() if layout == "re-line" else subject,
        "recipient_name": recipient,
        "sender_name": sender,
    }
    return GeneratedDoc("letter", layout, [page.items], LETTER_SCHEMA, expected, company)


# --- résumés (segmentation) -------------------------------------------------------------------


def resume(seed: int) -> GeneratedDoc:
    """A two-page résumé; the second page continues the experience section (no heading at top)."""
    rng = random.Random(seed * 31 + 7)
    name = rng.choice(PEOPLE)
    first = _Page()
    first.line(LEFT, name, BOLD, 20)
    first.line(LEFT, f"{name.split()[0].lower()}@example.org - {_phone(rng)}")
    first.gap(10)
    first.line(LEFT, "Professional Summary", BOLD, 14)
    first.line(LEFT, "Software engineer with eight years of experience building data platforms.")
    first.gap(8)
    first.line(LEFT, "Work Experience", BOLD, 14)
    duties = (
        "Led a team of five engineers; designed the ingestion pipeline, cut processing costs by "
        "a third and mentored junior colleagues through code reviews."
    )
    for company in rng.sample(COMPANIES, 3):
        first.gap(6)
        first.line(LEFT, f"Senior Engineer, {company} (2019 - 2023)", BOLD)
        for chunk in textwrap.wrap(duties, 88):
            first.line(LEFT, chunk)
    second = _Page()
    earlier = (
        "Earlier roles included internships in quality assurance and technical support, where "
        "I automated regression tests for the release process."
    )
    for chunk in textwrap.wrap(earlier, 88):
        second.line(LEFT, chunk)
    second.gap(10)
    second.line(LEFT, "Education", BOLD, 14)
    second.line(LEFT, "BSc Computer Science, University of Riverton (2011 - 2015)")
    second.gap(10)
    second.line(LEFT, "Skills", BOLD, 14)
    for skill in ("Python and SQL", "Distributed systems", "Team leadership"):
        second.line(LEFT, f"\u2022 {skill}")
    return GeneratedDoc("resume", "two-page", [first.items, second.items], {}, {}, name)


def corpus(count: int = 24, start: int = 0) -> list[GeneratedDoc]:
    """``count`` documents cycling invoice, form, letter through every layout."""
    makers = (invoice, form, letter)
    return [makers[i % 3](start + i) for i in range(count)]


# --- scoring ----------------------------------------------------------------------------------


def norm(value: Any) -> Any:
    """The value a comparison sees: text without case or spacing differences, 2.0 as 2."""
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass(slots=True)
class Score:
    total: int = 0
    correct: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 1.0


def score(expected: dict[str, Any], actual: dict[str, Any], into: Score, where: str = "") -> Score:
    """Count every expected leaf value (list items by position) as one field."""
    for key, want in expected.items():
        got = actual.get(key)
        if isinstance(want, dict):
            score(want, got if isinstance(got, dict) else {}, into, f"{where}{key}.")
        elif isinstance(want, list):
            items = got if isinstance(got, list) else []
            for index, item in enumerate(want):
                other = (
                    items[index] if index < len(items) and isinstance(items[index], dict) else {}
                )
                score(item, other, into, f"{where}{key}[{index}].")
        else:
            into.total += 1
            if norm(want) == norm(got):
                into.correct += 1
            else:
                into.misses.append(f"{where}{key}: expected {want!r}, got {got!r}")
    return into
