"""A field's value from the text after its label, read according to the field's type and shape.

Strings have a *shape* guessed from the field's name and format: ids take one token with a
digit ("INV-20431"), names stop before digits, e-mail addresses or job titles ("Globex
Corporation 42 Elm Street" → "Globex Corporation"), dates are normalised to ISO 8601 when the
schema says ``format: date``.
"""

from __future__ import annotations

import re

from pagemill.processors.extract.schema import FieldSpec, name_words
from pagemill.processors.extract.values import (
    EMAIL,
    PHONE,
    URL,
    Found,
    find_boolean,
    find_date,
    find_date_text,
    find_enum,
    find_integer,
    find_number,
    is_phone,
)

MAX_TEXT_WORDS = 60
MAX_NAME_WORDS = 6
ID_WORDS = {"number", "no", "num", "nr", "id", "code", "ref", "reference", "iban", "sku"}
ID_WORDS |= {"account", "invoice", "order", "po", "serial", "policy", "ticket", "tracking"}
NAME_WORDS = {
    *("name", "company", "vendor", "customer", "client", "supplier", "seller", "buyer"),
    *("recipient", "sender", "applicant", "contact", "employer", "payee", "payer", "signatory"),
    *("organization", "organisation", "merchant", "issuer", "person", "author", "addressee"),
    *("manager", "owner", "patient", "employee", "candidate", "landlord", "tenant"),
    *("beneficiary", "bank", "insurer"),
}
DATE_WORDS = {"date", "dob", "birthday", "dated", "deadline"}
PERCENT_WORDS = {"percent", "percentage", "pct", "rate"}
TITLE_WORDS = {
    *("manager", "director", "officer", "lead", "head", "chief", "president", "vice"),
    *("assistant", "engineer", "accountant", "coordinator", "specialist", "representative"),
    *("executive", "administrator", "supervisor", "consultant", "analyst", "secretary"),
    *("clerk", "agent", "customer", "service", "services", "operations", "office", "sales"),
    *("accounts", "account", "finance", "marketing", "department", "team", "senior", "junior"),
    *("partner", "founder", "ceo", "cfo", "coo", "cto", "md", "phd", "esq", "treasurer"),
    *("chair", "chairman", "registrar"),
}
PERSON_WORDS = {"recipient", "sender", "applicant", "contact", "addressee", "signatory", "author"}
PERSON_WORDS |= {"person", "patient", "employee", "candidate", "full", "first", "last"}


def shape_of(spec: FieldSpec) -> str:
    words = set(spec.words) | set(name_words(spec.title))
    if spec.fmt == "email" or words & {"email", "mail"}:
        return "email"
    if spec.fmt in ("date", "date-time"):
        return "date"
    if spec.fmt in ("uri", "url", "iri") or words & {"url", "website", "link", "homepage"}:
        return "url"
    if words & {"phone", "telephone", "tel", "mobile", "fax", "cell"}:
        return "phone"
    if words & DATE_WORDS:
        return "date_text"
    if words & ID_WORDS and not words & {"name"}:
        return "id"
    if words & NAME_WORDS:
        return "name"
    return "text"


def is_person(spec: FieldSpec) -> bool:
    words = set(spec.words)
    return bool(words & PERSON_WORDS) or spec.words == ["name"]


def read_value(spec: FieldSpec, region: str, day_first: bool | None = None) -> Found | None:
    """The value of ``spec`` at the start of ``region``, or ``None``; ``day_first`` is the
    document's order of numeric dates."""
    if spec.enum is not None:
        return find_enum(region, list(spec.enum))
    if spec.kind == "integer":
        return find_integer(region)
    if spec.kind == "number":
        return find_number(region, percent=bool(set(spec.words) & PERCENT_WORDS))
    if spec.kind == "boolean":
        return find_boolean(region)
    if spec.kind != "string":
        return None
    return read_string(shape_of(spec), region, person=is_person(spec), day_first=day_first)


def read_string(
    shape: str, region: str, *, person: bool = False, day_first: bool | None = None
) -> Found | None:
    if shape == "date":
        return find_date(region, day_first=day_first)
    if shape == "date_text":
        return find_date_text(region, day_first)
    if shape in ("email", "url"):
        match = (EMAIL if shape == "email" else URL).search(region)
        return Found(match.group(0).rstrip(".,;"), match.start(), match.end()) if match else None
    if shape == "phone":
        match = PHONE.search(region)
        if match is None or len(region[: match.start()].split()) > 2:
            return None
        if not is_phone(match.group(0)):
            return None
        return Found(match.group(0).strip(), match.start(), match.end())
    if shape == "id":
        return _read_id(region)
    if shape == "name":
        return read_name(region, person=person)
    return _read_text(region)


def _read_id(region: str) -> Found | None:
    match = re.match(r"\s*(\S+)", region)
    if match is None:
        return None
    token = match.group(1).lstrip("#").rstrip(".,;:)")
    if not any(char.isdigit() for char in token):
        return None
    start = match.end(1) - len(match.group(1).lstrip("#"))
    return Found(token, start, start + len(token))


def read_name(region: str, *, person: bool = False) -> Found | None:
    """Words up to a digit, an e-mail address, a label-ish break or (for people) a job title."""
    words: list[re.Match[str]] = []
    for match in re.finditer(r"\S+", region):
        word = match.group(0)
        bare = word.strip(".,;:()").lower()
        if any(char.isdigit() for char in word) or "@" in word or word in ("-", "\u2013", "|", "/"):
            break
        if words and person and bare in TITLE_WORDS:
            break
        words.append(match)
        if word.endswith((",", ";")) or len(words) >= (3 if person else MAX_NAME_WORDS):
            break
    if not words:
        return None
    start, end = words[0].start(), words[-1].end()
    value = region[start:end].rstrip(",;:-\u2013( ").strip()
    if not any(char.isalpha() for char in value):
        return None
    return Found(value, start, start + len(value))


def _read_text(region: str) -> Found | None:
    words = region.split()[:MAX_TEXT_WORDS]
    value = " ".join(words).rstrip(",;:").strip()
    if not value or not any(char.isalnum() for char in value):
        return None
    start = len(region) - len(region.lstrip())
    return Found(value, start, start + len(value))
