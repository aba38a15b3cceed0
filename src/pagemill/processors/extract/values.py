"""Reading typed values out of text: numbers, dates, booleans, enums and shaped strings.

Every reader takes the text that follows a label (a *region*) and returns the value with the
span it came from, or ``None`` when the region does not start with such a value.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pagemill.processors.extract.lexicon import month_numbers

CURRENCY = r"(?:[$€£¥₹]|USD|EUR|GBP|CAD|AUD|CHF|JPY|INR)"
NUMBER = re.compile(
    rf"(?<![\w.,])(?:{CURRENCY}\s?)?[-\u2212]?\(?(?:{CURRENCY}\s?)?\d(?:[\d,.']*\d)?\)?"
    rf"(?:\s?%|\s?{CURRENCY}(?![\w]))?(?![\w%])"
)
EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
PHONE = re.compile(r"(?<![\w])\+?\(?\d[\d\s().\-/]{5,}\d(?![\w])")
URL = re.compile(r"https?://\S+|www\.\S+")

MONTHS = {
    **{
        m: i + 1
        for i, m in enumerate(
            ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        )
    },
    "sept": 9,
    **month_numbers(),
}
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
    + "|".join(
        sorted({re.escape(name) for name in month_numbers() if len(name) > 3}, key=len)[::-1]
    )
    + r")\.?"
)
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
DATE = re.compile(
    rf"(?<![\w])(?:"
    rf"(?P<iso>(?P<iy>\d{{4}})[-/.](?P<im>\d{{1,2}})[-/.](?P<id>\d{{1,2}}))"
    rf"|(?P<num>(?P<na>\d{{1,2}})(?P<sep>[/.\-])(?P<nb>\d{{1,2}})(?P=sep)(?P<ny>\d{{4}}|\d{{2}}))"
    rf"|(?P<mdy>(?P<m1>{_MONTH})\s+(?P<d1>{_DAY}),?\s+(?P<y1>\d{{4}}))"
    rf"|(?P<dmy>(?P<d2>{_DAY})\.?(?:\s+of|\s+de)?[\s\-]+(?P<m2>{_MONTH}),?(?:\s+de)?[\s\-]+(?P<y2>\d{{4}}))"
    rf")(?![\w])",
    re.IGNORECASE,
)

TRUE_WORDS = {"yes", "y", "true", "checked", "x", "✓", "✔", "☑", "☒", "on", "agreed", "1"}
FALSE_WORDS = {"no", "n", "false", "unchecked", "none", "☐", "off", "declined", "0"}
CHECKBOX = re.compile(r"\[\s*([xX✓✔*])?\s*\]\s*([^\[\]]*?)(?=\s*\[|\s*$)")

REGION_TOKENS = 5  # a typed value must start within this many tokens of the label


@dataclass(frozen=True, slots=True)
class Found:
    value: Any
    start: int  # span within the region
    end: int


def is_phone(text: str) -> bool:
    digits = sum(char.isdigit() for char in text)
    return 7 <= digits <= 15


def parse_number(text: str) -> float | None:
    """``$1,234.50`` → 1234.5; ``1.234,50 EUR`` → 1234.5; ``(12.00)`` → -12.0."""
    raw = text.strip()
    negative = raw.startswith(("-", "\u2212")) or (
        "(" in raw and raw.endswith(")") and "%" not in raw
    )
    digits = re.sub(rf"{CURRENCY}|[\s()%+\-\u2212']", "", raw, flags=re.IGNORECASE)
    if not digits or not digits[0].isdigit():
        return None
    if "," in digits and "." in digits:
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
        digits = digits.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif "," in digits:
        parts = digits.split(",")
        if len(parts) == 2 and len(parts[1]) != 3:
            digits = digits.replace(",", ".")
        else:
            digits = digits.replace(",", "")
    elif digits.count(".") > 1:
        digits = digits.replace(".", "")
    try:
        value = float(digits)
    except ValueError:
        return None
    return -value if negative else value


def find_number(region: str, *, percent: bool = False) -> Found | None:
    """The first number near the start of ``region``; percentages only when ``percent``."""
    limit = _token_limit(region)
    for match in NUMBER.finditer(region):
        if match.start() > limit:
            break
        token = match.group(0)
        if ("%" in token) != percent and "%" in token:
            continue
        value = parse_number(token)
        if value is not None:
            return Found(value, match.start(), match.end())
    return None


MONEY = re.compile(r"[.,]\d{1,2}(?!\d)|[$€£¥₹]|\b[A-Z]{3}\b")


def find_amount(region: str) -> Found | None:
    """The first money-shaped number near the start of ``region`` (decimals or a currency),
    skipping dates, percentages and bare counts ("SUMME [3] EUR 152,00" → 152.0); else the
    first number, as ``find_number`` reads it."""
    limit = _token_limit(region, 8)
    dates = [(m.start(), m.end()) for m in DATE.finditer(region)]
    for match in NUMBER.finditer(region):
        if match.start() > limit:
            break
        token = match.group(0)
        if "%" in token or any(start <= match.start() < end for start, end in dates):
            continue
        if MONEY.search(token):
            value = parse_number(token)
            if value is not None:
                return Found(value, match.start(), match.end())
    return find_number(region)


def find_integer(region: str) -> Found | None:
    found = find_number(region)
    if found is None or not float(found.value).is_integer():
        return None
    return Found(int(found.value), found.start, found.end)


def parse_date_match(match: re.Match[str], day_first: bool | None = None) -> date | None:
    """The date ``match`` names; ``day_first`` is the document's order of numeric dates (``None``:
    day first after dots or when the first number cannot be a month, else month first)."""
    try:
        if match.group("iso"):
            return date(int(match["iy"]), int(match["im"]), int(match["id"]))
        if match.group("num"):
            a, b, year = int(match["na"]), int(match["nb"]), int(match["ny"])
            year = year + 2000 if year < 100 else year
            if a > 12 or (b <= 12 and (day_first or (day_first is None and match["sep"] == "."))):
                return date(year, b, a)
            return date(year, a, b)
        if match.group("mdy"):
            return date(int(match["y1"]), _month(match["m1"]), _day(match["d1"]))
        if match.group("dmy"):
            return date(int(match["y2"]), _month(match["m2"]), _day(match["d2"]))
    except ValueError:
        return None
    return None


def _month(text: str) -> int:
    key = text.lower().rstrip(".")
    return MONTHS.get(key, MONTHS.get(key[:3], 0))


def _day(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def find_date(
    region: str, *, anywhere: bool = False, day_first: bool | None = None
) -> Found | None:
    """The first date near the start of ``region`` (anywhere in it with ``anywhere``), as ISO."""
    limit = len(region) if anywhere else _token_limit(region)
    for match in DATE.finditer(region):
        if match.start() > limit:
            break
        day = parse_date_match(match, day_first)
        if day is not None:
            return Found(day.isoformat(), match.start(), match.end())
    return None


def find_date_text(region: str, day_first: bool | None = None) -> Found | None:
    """Like ``find_date`` but keeps the date as written (for ``string`` fields without format)."""
    limit = _token_limit(region)
    for match in DATE.finditer(region):
        if match.start() <= limit and parse_date_match(match, day_first) is not None:
            return Found(match.group(0), match.start(), match.end())
    return None


def find_boolean(region: str) -> Found | None:
    marked = _checked_options(region)
    if marked is not None:
        options, start, end = marked
        for option in options:
            word = option.strip().lower()
            if word in TRUE_WORDS:
                return Found(True, start, end)
            if word in FALSE_WORDS:
                return Found(False, start, end)
        return Found(True, start, end) if options else None
    if re.match(r"\s*\[\s*\]", region):
        return Found(False, 0, region.index("]") + 1)
    match = re.match(r"\s*([^\s,;:]+)", region)
    if match is None:
        return None
    word = match.group(1).lower().rstrip(".")
    if word in TRUE_WORDS:
        return Found(True, match.start(1), match.end(1))
    if word in FALSE_WORDS:
        return Found(False, match.start(1), match.end(1))
    return None


def _checked_options(region: str) -> tuple[list[str], int, int] | None:
    """Options marked ``[X]`` in a checkbox run at the start of ``region``."""
    if not re.match(r"\s*\[", region):
        return None
    options: list[str] = []
    start = end = -1
    for match in CHECKBOX.finditer(region):
        if match.group(1):
            options.append(match.group(2).strip())
            start = match.start() if start < 0 else start
            end = match.end()
    if start < 0:
        return None
    return options, start, end


def find_enum(region: str, options: list[Any]) -> Found | None:
    """The option the region names: a ticked checkbox, an exact word, or a close spelling."""
    names = {str(option).casefold(): option for option in options}
    marked = _checked_options(region)
    if marked is not None:
        for text in marked[0]:
            option = _closest(text, names)
            if option is not None:
                return Found(option, marked[1], marked[2])
        return None
    limit = _token_limit(region)
    best: tuple[int, Any, int] | None = None
    for key, option in names.items():
        match = re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", region.casefold())
        if match and match.start() <= limit and (best is None or match.start() < best[0]):
            best = (match.start(), option, match.end())
    if best is not None:
        return Found(best[1], best[0], best[2])
    words = region.split()
    for size in (3, 2, 1):
        if len(words) >= size:
            option = _closest(" ".join(words[:size]), names)
            if option is not None:
                return Found(option, 0, len(" ".join(words[:size])))
    return None


def _closest(text: str, names: dict[str, Any]) -> Any:
    key = text.strip().casefold()
    if key in names:
        return names[key]
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.75)
    return names[close[0]] if close else None


def _token_limit(region: str, tokens: int = REGION_TOKENS) -> int:
    """Character offset of the ``tokens``-th token: typed values must start before it."""
    positions = [m.start() for m in re.finditer(r"\S+", region)]
    return positions[tokens] if len(positions) > tokens else len(region)
