"""Spreadsheet values as their number formats show them (``keep_spreadsheet_formatting``).

Covers the formats documents use most: fixed decimals (``0.00``), thousands separators
(``#,##0``), percentages, currency symbols written in the format (``$#,##0.00``,
``[$€-407] #,##0``, ``#,##0 "kr"``) and date/time patterns (``dd/mm/yyyy``, ``mmm d, yyyy``,
``hh:mm``). Anything else — and ``General`` — falls back to the plain value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

_SECTION = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|[^;"\\\[]+')
_CURRENCY_TAG = re.compile(r"\[\$([^\]-]*)(?:-[0-9A-Fa-f]+)?\]")
_QUOTED = re.compile(r'"([^"]*)"')
_DATE_TOKENS = re.compile(r"yyyy|yy|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|AM/PM", re.IGNORECASE)


def formatted_text(value: Any, number_format: str | None, plain: Callable[[Any], str]) -> str:
    """``value`` shown with ``number_format``; ``plain(value)`` when the format is not known."""
    fmt = (number_format or "General").split(";")[0]
    if value is None or isinstance(value, bool) or fmt in ("General", "@", ""):
        return plain(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return _date(value, fmt) or plain(value)
    if isinstance(value, int | float):
        return _number(float(value), fmt) or plain(value)
    return plain(value)


def _number(value: float, fmt: str) -> str | None:
    prefix, suffix = _affixes(fmt)
    core = _CURRENCY_TAG.sub("", _QUOTED.sub("", fmt)).strip().strip("_)( *\\$€£¥")
    if not re.fullmatch(r"[#,0.%\s]+", core or "x"):
        return None
    decimals = len(core.split(".", 1)[1].rstrip("%").strip()) if "." in core else 0
    percent = core.endswith("%")
    shown = value * 100 if percent else value
    grouping = "," if "," in core.split(".")[0] else ""
    text = f"{abs(shown):{grouping}.{decimals}f}"
    sign = "-" if shown < 0 and float(text.replace(",", "")) != 0 else ""
    return f"{sign}{prefix}{text}{'%' if percent else ''}{suffix}"


def _affixes(fmt: str) -> tuple[str, str]:
    tag = _CURRENCY_TAG.search(fmt)
    if tag is not None:
        symbol = tag.group(1)
        return (symbol, "") if fmt.index(tag.group(0)) < len(fmt) // 2 else ("", " " + symbol)
    lead = re.match(r"^\s*([$€£¥])", fmt)
    trail = re.search(r'(\s*)"([^"]*)"\s*$', fmt)
    return (lead.group(1) if lead else ""), (trail.group(1) + trail.group(2) if trail else "")


def _date(value: dt.datetime | dt.date | dt.time, fmt: str) -> str | None:
    pattern = _CURRENCY_TAG.sub("", re.sub(r"\[[^\]]*\]", "", fmt)).replace("\\", "")
    tokens = _DATE_TOKENS.findall(pattern)
    if not tokens:
        return None
    if isinstance(value, dt.time):
        value = dt.datetime.combine(dt.date(1900, 1, 1), value)
    elif not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    moment = value
    has_hours = any(t.lower().startswith("h") for t in tokens)
    out: list[str] = []
    position = 0
    previous = ""
    for match in _DATE_TOKENS.finditer(pattern):
        out.append(pattern[position : match.start()].replace('"', ""))
        token = match.group(0)
        lower = token.lower()
        minutes = lower in ("m", "mm") and (
            previous.startswith("h") or _seconds_follow(pattern, match.end())
        )
        out.append(_date_token(moment, lower, minutes, has_hours))
        previous = lower
        position = match.end()
    out.append(pattern[position:].replace('"', ""))
    return "".join(out).strip()


def _seconds_follow(pattern: str, index: int) -> bool:
    return bool(re.match(r"[^A-Za-z]*s", pattern[index:], re.IGNORECASE))


def _date_token(moment: dt.datetime, code: str, minutes: bool, has_hours: bool) -> str:
    if minutes:
        return f"{moment.minute:02d}" if code == "mm" else str(moment.minute)
    table = {
        "yyyy": f"{moment.year:04d}",
        "yy": f"{moment.year % 100:02d}",
        "mmmm": moment.strftime("%B"),
        "mmm": moment.strftime("%b"),
        "mm": f"{moment.month:02d}",
        "m": str(moment.month),
        "dddd": moment.strftime("%A"),
        "ddd": moment.strftime("%a"),
        "dd": f"{moment.day:02d}",
        "d": str(moment.day),
        "hh": f"{moment.hour:02d}",
        "h": str(moment.hour),
        "ss": f"{moment.second:02d}",
        "s": str(moment.second),
        "am/pm": "AM" if moment.hour < 12 else "PM",
    }
    return table.get(code, code)
