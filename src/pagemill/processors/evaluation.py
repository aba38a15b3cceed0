"""Running an eval rubric on a step's result: the ``evaluation`` object of the hosted API.

``evaluate`` returns ``{eval_definition_name, evaluations: [{name, type, rule_score,
items_evaluated, individual_results}], total_items_evaluated, score}`` (``score``, the mean of
the rule scores, is an extension). What the rules' paths address:

* an extract result: the extracted object (``extraction_schema_json``, parsed); after a segment
  step, each segment's ``data`` in turn, its results' paths prefixed ``segments[i].data.``;
* any other result (convert, custom, OCR…): the result object itself — ``page_count``,
  ``markdown`` (a ``regex`` on the text), ``metadata.total_pages``…

A rule checks every value its path reaches (``items[].amount``: each line item); its
``rule_score`` is the share that passed, 1.0 for an optional rule with nothing to check.
Numbers written as text ("1,234.50", "€12") are read as numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from pagemill.domain.eval_rubrics import EvalDefinition, FieldPath, Rule
from pagemill.processors.extract.values import parse_number

MAX_ITEMS_PER_RULE = 10_000
_MISSING = object()


def evaluate(
    definition: EvalDefinition, result: Mapping[str, Any], name: str | None = None
) -> dict[str, Any]:
    targets = evaluation_targets(result)
    evaluations = [_evaluate_rule(rule, targets) for rule in definition.rules]
    total = sum(e["items_evaluated"] for e in evaluations)
    scores = [e["rule_score"] for e in evaluations]
    return {
        "eval_definition_name": name or definition.name,
        "evaluations": evaluations,
        "total_items_evaluated": total,
        "score": round(sum(scores) / len(scores), 4) if scores else None,
    }


def evaluation_targets(result: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(path prefix, object) pairs the rules are checked on."""
    raw = result.get("extraction_schema_json")
    if raw is None:
        return [("", dict(result))]
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        data = None
    segments = data.get("segments") if isinstance(data, dict) else None
    if isinstance(segments, list) and all(
        isinstance(s, dict) and "data" in s and "segment" in s for s in segments
    ):
        return [(f"segments[{i}].data.", s["data"]) for i, s in enumerate(segments)]
    return [("", data if data is not None else {})]


def _evaluate_rule(rule: Rule, targets: list[tuple[str, Any]]) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    for prefix, target in targets:
        if rule.type == "sum_equals":
            results.append(_sum(rule, prefix, target))
            continue
        found = list(resolve(target, rule.field, rule.field_text))
        if not found or all(value is _MISSING for _, value in found):
            if rule.type == "field_present" or not rule.optional:
                results.append(_item(prefix + rule.field_text, None, False, "missing"))
            continue
        for path, value in found[:MAX_ITEMS_PER_RULE]:
            passed, message = _check(rule, value)
            results.append(
                _item(prefix + path, None if value is _MISSING else value, passed, message)
            )
    passed_count = sum(1 for item in results if item["passed"])
    return {
        "name": rule.name,
        "type": rule.type,
        "rule_score": round(passed_count / len(results), 4) if results else 1.0,
        "items_evaluated": len(results),
        "individual_results": results,
    }


def _item(path: str, value: Any, passed: bool, message: str) -> dict[str, Any]:
    return {"path": path, "value": value, "passed": passed, "message": message}


def _check(rule: Rule, value: Any) -> tuple[bool, str]:
    if value is _MISSING or value is None or value == "":
        if rule.type == "field_present" or not rule.optional:
            return False, "missing"
        return True, "absent (optional)"
    if rule.type == "field_present":
        return True, "present"
    if rule.type == "regex":
        assert rule.pattern is not None
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        matched = rule.pattern.search(text) is not None
        return matched, "matches" if matched else f"does not match {rule.pattern.pattern!r}"
    if rule.type == "numeric_range":
        number = as_number(value)
        if number is None:
            return False, "not a number"
        if rule.minimum is not None and number < rule.minimum:
            return False, f"{number:g} is below {rule.minimum:g}"
        if rule.maximum is not None and number > rule.maximum:
            return False, f"{number:g} is above {rule.maximum:g}"
        return True, "in range"
    return _enum(rule, value)


def _enum(rule: Rule, value: Any) -> tuple[bool, str]:
    def norm(item: Any) -> Any:
        if isinstance(item, str) and not rule.case_sensitive:
            return item.strip().casefold()
        return item

    allowed = {json.dumps(norm(v), sort_keys=True) for v in rule.values}
    passed = json.dumps(norm(value), sort_keys=True) in allowed
    return passed, "allowed" if passed else "not one of the allowed values"


def _sum(rule: Rule, prefix: str, target: Any) -> dict[str, Any]:
    assert rule.total is not None
    total_text, total_path = rule.total
    addends: list[float] = []
    unreadable: list[str] = []
    for text, path in rule.addends:
        for found_path, value in resolve(target, path, text):
            number = as_number(value) if value is not _MISSING else None
            if number is None:
                unreadable.append(prefix + found_path)
            else:
                addends.append(number)
    totals = [value for _, value in resolve(target, total_path, total_text)]
    total = as_number(totals[0]) if totals and totals[0] is not _MISSING else None
    value = {"sum": round(sum(addends), 6), "total": total, "addends": len(addends)}
    if total is None:
        return _item(prefix + total_text, value, False, "the total is missing or not a number")
    if not addends:
        return _item(prefix + total_text, value, False, "no addend was found")
    difference = abs(sum(addends) - total)
    passed = difference <= rule.tolerance + 1e-9
    message = (
        "adds up"
        if passed
        else f"the addends sum to {sum(addends):g}, not {total:g} (±{rule.tolerance:g})"
    )
    if unreadable:
        message += f"; skipped values that are not numbers: {', '.join(unreadable[:10])}"
    return _item(prefix + total_text, value, passed, message)


def resolve(target: Any, path: FieldPath, text: str) -> Iterator[tuple[str, Any]]:
    """Every (concrete path, value) ``path`` reaches in ``target``; a step that finds nothing
    yields the missing marker once for that branch."""

    def walk(value: Any, steps: FieldPath, where: str) -> Iterator[tuple[str, Any]]:
        if not steps:
            yield where, value
            return
        step, rest = steps[0], steps[1:]
        here = f"{where}.{step.key}" if where else step.key
        child = value.get(step.key, _MISSING) if isinstance(value, Mapping) else _MISSING
        if child is _MISSING:
            yield here, _MISSING
        elif step.every:
            if not isinstance(child, list):
                yield f"{here}[]", _MISSING
                return
            for index, element in enumerate(child):
                yield from walk(element, rest, f"{here}[{index}]")
        elif step.index is not None:
            if not isinstance(child, list) or step.index >= len(child):
                yield f"{here}[{step.index}]", _MISSING
            else:
                yield from walk(child[step.index], rest, f"{here}[{step.index}]")
        else:
            yield from walk(child, rest, here)

    yield from walk(target, path, "")


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return parse_number(value)
    return None
