"""AcroForm fields with pypdf: what each is called and where it is, and writing values in.

A field is read from its widgets (page annotations of subtype ``/Widget``): its qualified name
(the ``/T`` of it and its parents, dot-joined), type (``/FT``, inherited), tooltip (``/TU``),
flags, options (``/Opt``) and, for buttons, the appearance states of its widgets (the
checkbox's "on" state, the radio group's export values). Push buttons and signature fields are
not fillable and are left out.

Text and choice values go through pypdf, which writes their appearance streams; buttons get
``/V`` on the field and ``/AS`` on each widget (the matching state, else ``/Off``). The form is
marked ``NeedAppearances`` so viewers redraw what pypdf drew.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pagemill.domain.errors import ProcessingError

RADIO_FLAG = 1 << 15
PUSHBUTTON_FLAG = 1 << 16
COMBO_FLAG = 1 << 17
EDIT_FLAG = 1 << 18
TRUE_WORDS = frozenset({"yes", "y", "true", "1", "on", "x", "checked", "check", "✓", "✔"})
FALSE_WORDS = frozenset({"no", "n", "false", "0", "off", "unchecked", "none", ""})


@dataclass(slots=True)
class FormField:
    name: str  # qualified name
    kind: str  # text | checkbox | radio | choice
    page: int  # of its first widget
    rect: tuple[float, float, float, float]  # first widget, points, origin top-left
    tooltip: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)  # (export, display)
    states: list[str] = field(default_factory=list)  # button "on" states, without "/"
    editable: bool = False  # a combo box that takes any text


def open_reader(path: Path) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ProcessingError(
                "The PDF is encrypted (password-protected); remove the password and upload it "
                "again."
            )
        len(reader.pages)  # reads the page tree: a damaged file fails here
    except ProcessingError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        raise ProcessingError(
            f"The PDF could not be opened: it is corrupt or truncated ({error})."
        ) from error
    return reader


def read_fields(reader: Any, pages: list[int]) -> list[FormField]:
    """The fillable fields whose first widget is on one of ``pages``, in page order."""
    found: dict[str, FormField] = {}
    for page_number in range(len(reader.pages)):
        page = reader.pages[page_number]
        height = float(page.mediabox.top)
        for reference in _annotations(page):
            widget = reference.get_object()
            if widget.get("/Subtype") != "/Widget":
                continue
            name, owner = _qualified_name(widget)
            kind = _kind(owner, widget)
            if not name or kind is None:
                continue
            states = _on_states(widget)
            if name in found:
                found[name].states.extend(s for s in states if s not in found[name].states)
                continue
            x0, y0, x1, y1 = (float(v) for v in widget.get("/Rect", [0, 0, 0, 0]))
            found[name] = FormField(
                name=name,
                kind=kind,
                page=page_number,
                rect=(min(x0, x1), height - max(y0, y1), max(x0, x1), height - min(y0, y1)),
                tooltip=str(_inherited(widget, "/TU") or ""),
                options=_options(_inherited(widget, "/Opt")),
                states=states,
                editable=bool(int(_inherited(widget, "/Ff") or 0) & EDIT_FLAG),
            )
    wanted = set(pages)
    return [f for f in found.values() if f.page in wanted]


def _annotations(page: Any) -> list[Any]:
    annotations = page.get("/Annots")
    if annotations is None:
        return []
    return list(annotations.get_object())


def _inherited(node: Any, key: str) -> Any:
    depth = 0
    while node is not None and depth < 64:
        if key in node:
            return node[key]
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
        depth += 1
    return None


def _qualified_name(widget: Any) -> tuple[str, Any]:
    """The field's full name and the dictionary that holds its ``/T`` (the field itself)."""
    parts: list[str] = []
    node, owner, depth = widget, None, 0
    while node is not None and depth < 64:
        if "/T" in node:
            parts.append(str(node["/T"]))
            owner = owner or node
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
        depth += 1
    return ".".join(reversed(parts)), owner if owner is not None else widget


def _kind(owner: Any, widget: Any) -> str | None:
    field_type = _inherited(widget, "/FT")
    flags = int(_inherited(widget, "/Ff") or 0)
    if field_type == "/Tx":
        return "text"
    if field_type == "/Ch":
        return "choice"
    if field_type == "/Btn":
        if flags & PUSHBUTTON_FLAG:
            return None
        return "radio" if flags & RADIO_FLAG else "checkbox"
    return None  # signatures and unknown types are not filled


def _on_states(widget: Any) -> list[str]:
    appearance = widget.get("/AP")
    normal = appearance.get_object().get("/N") if appearance is not None else None
    if normal is None or not hasattr(normal.get_object(), "keys"):
        return []
    return [str(k).lstrip("/") for k in normal.get_object() if str(k) != "/Off"]


def _options(raw: Any) -> list[tuple[str, str]]:
    if raw is None:
        return []
    options: list[tuple[str, str]] = []
    for item in raw.get_object():
        item = item.get_object()
        if isinstance(item, list | tuple) and len(item) >= 2:
            options.append((str(item[0]), str(item[1])))
        else:
            options.append((str(item), str(item)))
    return options


def field_value(form_field: FormField, value: str) -> str | None:
    """The value to write into ``form_field`` for ``value``, or None when it cannot take it."""
    wanted = value.strip()
    folded = wanted.casefold()
    if form_field.kind == "text":
        return value
    if form_field.kind == "checkbox":
        on = form_field.states[0] if form_field.states else "Yes"
        if folded in TRUE_WORDS or folded == on.casefold():
            return on
        return "Off" if folded in FALSE_WORDS else None
    if form_field.kind == "radio":
        by_state = {state.casefold(): state for state in form_field.states}
        if folded in by_state:
            return by_state[folded]
        return "Off" if folded in FALSE_WORDS else None
    for export, display in form_field.options:
        if folded in (export.casefold(), display.casefold()):
            return export
    return wanted if form_field.editable else None


def write_values(reader: Any, values: dict[str, tuple[FormField, str]]) -> Any:
    """A ``PdfWriter`` holding the document with ``values`` (field name → (field, value))."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter(clone_from=reader)
    texts = {name: value for name, (f, value) in values.items() if f.kind in ("text", "choice")}
    buttons = {
        name: value for name, (f, value) in values.items() if f.kind in ("checkbox", "radio")
    }
    for page in writer.pages:
        if texts and "/Annots" in page:
            writer.update_page_form_field_values(page, texts, auto_regenerate=False)
        for reference in _annotations(page):
            widget = reference.get_object()
            if widget.get("/Subtype") != "/Widget":
                continue
            name, owner = _qualified_name(widget)
            if name not in buttons:
                continue
            state = NameObject("/" + buttons[name])
            owner[NameObject("/V")] = state
            widget[NameObject("/AS")] = (
                state if buttons[name] in _on_states(widget) else NameObject("/Off")
            )
    writer.set_need_appearances_writer(True)
    return writer
