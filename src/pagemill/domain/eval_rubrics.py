"""Eval rubric definitions: deterministic rules checked on a step's result.

A definition is a JSON object::

    {"name": "Invoice checks",                       # optional, shown as eval_definition_name
     "rules": [
       {"name": "has a number", "type": "field_present", "field": "invoice_number"},
       {"name": "number format", "type": "regex", "field": "invoice_number",
        "pattern": "^INV-\\\\d+$"},
       {"name": "total", "type": "numeric_range", "field": "total", "min": 0, "max": 1e6},
       {"name": "currency", "type": "enum", "field": "currency", "values": ["EUR", "USD"]},
       {"name": "items add up", "type": "sum_equals",
        "addends": ["line_items[].amount"], "total": "total", "tolerance": 0.01}
     ]}

Field paths are dot-separated keys; ``key[]`` walks every element of a list and ``key[2]`` one
element, so a rule on ``line_items[].amount`` is checked once per line item. ``regex``,
``numeric_range`` and ``enum`` take ``"optional": true`` to pass when the field is absent
(otherwise an absent field fails). ``enum`` compares strings case-insensitively unless
``"case_sensitive": true``. Patterns are refused when they could take exponential time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pagemill.domain.custom_processors import compile_pattern
from pagemill.domain.errors import InvalidInput
from pagemill.domain.ids import new_public_number
from pagemill.domain.versioned import ResourceKind

RULE_TYPES = ("field_present", "regex", "numeric_range", "enum", "sum_equals")
MAX_RULES = 200
MAX_NAME = 200
MAX_PATH = 500
MAX_ENUM_VALUES = 1000
MAX_ADDENDS = 50
DEFAULT_TOLERANCE = 0.01
_DEFINITION_KEYS = frozenset({"name", "description", "rules"})
_COMMON_KEYS = frozenset({"name", "type", "description"})
_RULE_KEYS: dict[str, frozenset[str]] = {
    "field_present": frozenset({"field"}),
    "regex": frozenset({"field", "pattern", "optional"}),
    "numeric_range": frozenset({"field", "min", "max", "optional"}),
    "enum": frozenset({"field", "values", "case_sensitive", "optional"}),
    "sum_equals": frozenset({"addends", "total", "tolerance"}),
}
_SEGMENT = re.compile(r"^([^.\[\]]+)(?:\[(\d*)\])?$")


@dataclass(frozen=True, slots=True)
class PathStep:
    key: str
    index: int | None = None  # key[3]
    every: bool = False  # key[]


FieldPath = tuple[PathStep, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    type: str
    field: FieldPath = ()
    field_text: str = ""
    pattern: re.Pattern[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[Any, ...] = ()
    case_sensitive: bool = False
    optional: bool = False
    addends: tuple[tuple[str, FieldPath], ...] = ()
    total: tuple[str, FieldPath] | None = None
    tolerance: float = DEFAULT_TOLERANCE


@dataclass(frozen=True, slots=True)
class EvalDefinition:
    name: str | None
    rules: tuple[Rule, ...]


def parse_field_path(text: Any, where: str) -> FieldPath:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{where} must be a field path such as 'total' or 'items[].amount'.")
    if len(text) > MAX_PATH:
        raise InvalidInput(f"{where} is longer than {MAX_PATH} characters.")
    steps: list[PathStep] = []
    for part in text.strip().split("."):
        match = _SEGMENT.match(part.strip())
        if match is None:
            raise InvalidInput(
                f"{where}: {part!r} is not a path step (a key, 'key[]' for every element of a "
                "list, or 'key[N]' for one)."
            )
        key, index = match.group(1), match.group(2)
        if index is None:
            steps.append(PathStep(key))
        elif index == "":
            steps.append(PathStep(key, every=True))
        else:
            steps.append(PathStep(key, index=int(index)))
    return tuple(steps)


def parse_eval_definition(raw: Any) -> EvalDefinition:
    """Check a definition; ``InvalidInput`` names the first problem and where it is."""
    if not isinstance(raw, Mapping):
        raise InvalidInput('An eval definition must be an object: {"rules": [...]}.')
    unknown = sorted(set(raw) - _DEFINITION_KEYS)
    if unknown:
        raise InvalidInput(f"Unknown eval definition key(s): {', '.join(map(repr, unknown))}.")
    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
        raise InvalidInput(f"The eval definition's name must be a string of at most {MAX_NAME}.")
    rules = raw.get("rules")
    if not isinstance(rules, list) or not rules:
        raise InvalidInput("An eval definition needs a non-empty list of rules.")
    if len(rules) > MAX_RULES:
        raise InvalidInput(f"An eval definition has at most {MAX_RULES} rules; got {len(rules)}.")
    parsed = [_rule(rule, f"rules[{index}]") for index, rule in enumerate(rules)]
    names = [rule.name for rule in parsed]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise InvalidInput(f"Two rules are named {duplicate!r}; rule names must be unique.")
    return EvalDefinition(name=name, rules=tuple(parsed))


def _rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where} must be an object with a 'type'.")
    rule_type = raw.get("type")
    if rule_type not in RULE_TYPES:
        raise InvalidInput(
            f"{where}.type must be one of {', '.join(RULE_TYPES)}, not {rule_type!r}."
        )
    unknown = sorted(set(raw) - _COMMON_KEYS - _RULE_KEYS[rule_type])
    if unknown:
        raise InvalidInput(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))} for a {rule_type} rule."
        )
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        raise InvalidInput(f"{where}.optional must be true or false.")
    if rule_type == "sum_equals":
        return _sum_rule(raw, where)
    field_text = raw.get("field")
    path = parse_field_path(field_text, f"{where}.field")
    name = _name(raw, where, f"{rule_type} {field_text}")
    common: dict[str, Any] = {
        "name": name,
        "type": rule_type,
        "field": path,
        "field_text": str(field_text).strip(),
        "optional": optional,
    }
    if rule_type == "regex":
        return Rule(**common, pattern=compile_pattern(raw.get("pattern"), f"{where}.pattern"))
    if rule_type == "numeric_range":
        low, high = _number(raw, "min", where), _number(raw, "max", where)
        if low is None and high is None:
            raise InvalidInput(f"{where}: a numeric_range rule needs 'min', 'max' or both.")
        if low is not None and high is not None and low > high:
            raise InvalidInput(f"{where}: 'min' is above 'max'.")
        return Rule(**common, minimum=low, maximum=high)
    if rule_type == "enum":
        values = raw.get("values")
        if not isinstance(values, list) or not values or len(values) > MAX_ENUM_VALUES:
            raise InvalidInput(
                f"{where}.values must be a non-empty list of at most {MAX_ENUM_VALUES} values."
            )
        if not all(isinstance(v, str | int | float | bool) or v is None for v in values):
            raise InvalidInput(f"{where}.values may hold strings, numbers, booleans and null.")
        case_sensitive = raw.get("case_sensitive", False)
        if not isinstance(case_sensitive, bool):
            raise InvalidInput(f"{where}.case_sensitive must be true or false.")
        return Rule(**common, values=tuple(values), case_sensitive=case_sensitive)
    return Rule(**common)


def _sum_rule(raw: Mapping[str, Any], where: str) -> Rule:
    addends = raw.get("addends")
    if not isinstance(addends, list) or not addends or len(addends) > MAX_ADDENDS:
        raise InvalidInput(
            f"{where}.addends must be a non-empty list of at most {MAX_ADDENDS} field paths."
        )
    parsed = tuple(
        (str(text).strip(), parse_field_path(text, f"{where}.addends[{i}]"))
        for i, text in enumerate(addends)
    )
    total_text = raw.get("total")
    total = (str(total_text).strip(), parse_field_path(total_text, f"{where}.total"))
    if any(step.every for step in total[1]):
        raise InvalidInput(f"{where}.total must name one field, not every element of a list.")
    tolerance = _number(raw, "tolerance", where)
    if tolerance is not None and tolerance < 0:
        raise InvalidInput(f"{where}.tolerance must be 0 or more.")
    return Rule(
        name=_name(raw, where, f"sum of {', '.join(t for t, _ in parsed)} = {total[0]}"),
        type="sum_equals",
        addends=parsed,
        total=total,
        tolerance=DEFAULT_TOLERANCE if tolerance is None else tolerance,
    )


def _name(raw: Mapping[str, Any], where: str, default: str) -> str:
    name = raw.get("name", default)
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidInput(f"{where}.name must be a non-empty string of at most {MAX_NAME}.")
    return name.strip()


def _number(raw: Mapping[str, Any], key: str, where: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{where}.{key} must be a finite number, not {value!r}.")
    return float(value)


# -- eval rubrics: a team's saved, versioned definitions ---------------------------------------
# A pipeline step names one with ``eval_rubric_id`` (an integer, as on the hosted API). When a
# run sets ``run_evals``, the service layer freezes the rubric's current definition into the
# step's settings under ``EVAL_KEY``; the step runner checks the step's result against it and
# adds the ``evaluation`` object to that result.
STEP_RUBRIC = "eval_rubric_id"
EVAL_KEY = "_eval"
EVAL_DEFINITION = "eval_definition"  # what the API calls a rubric version's payload


def check_stored_definition(raw: Any) -> dict[str, Any]:
    """A definition to store: checked by ``parse_eval_definition``, kept as the client wrote it."""
    parse_eval_definition(raw)
    return dict(raw)


def _new_rubric_id() -> str:
    return str(new_public_number())


def rubric_id_of(value: Any, where: str) -> int | None:
    """A step's ``eval_rubric_id``: None, or a positive integer (an integer in a string too)."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{where}: eval_rubric_id must be a positive integer, not {value!r}.")
    return value


EVAL_RUBRICS = ResourceKind(
    name="eval rubric",
    prefix="",
    payload=EVAL_DEFINITION,
    check=check_stored_definition,
    make_id=_new_rubric_id,
)
