"""Word equations (Office Math Markup, ``m:oMath``) as LaTeX.

Word stores an equation as a tree of math objects (fractions, scripts, radicals, n-ary
operators, delimiters, matrices...) whose leaves are runs of text. Read as plain text the
tree loses its structure ("x2+y2" for x² + y²) or, where a reader only looks at ordinary
runs, the whole equation. Each object maps to its LaTeX form; an object this module does not
know keeps the text of its arguments, so no character is ever dropped.
"""

from __future__ import annotations

from typing import Any

M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
Element = Any  # an lxml element

# Characters of the math alphabet that have a LaTeX command (Word writes the glyphs).
SYMBOLS = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\epsilon",  # noqa: RUF001
    "θ": r"\theta", "λ": r"\lambda", "μ": r"\mu", "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma",  # noqa: RUF001
    "τ": r"\tau", "φ": r"\phi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega", "Δ": r"\Delta",
    "Σ": r"\Sigma", "Π": r"\Pi", "Ω": r"\Omega", "Φ": r"\Phi", "Γ": r"\Gamma", "Λ": r"\Lambda",
    "∞": r"\infty", "≤": r"\leq", "≥": r"\geq", "≠": r"\neq", "≈": r"\approx", "±": r"\pm",
    "×": r"\times", "÷": r"\div", "·": r"\cdot", "→": r"\rightarrow", "←": r"\leftarrow",  # noqa: RUF001
    "⇒": r"\Rightarrow", "∈": r"\in", "∉": r"\notin", "⊂": r"\subset", "∪": r"\cup",  # noqa: RUF001
    "∩": r"\cap", "∂": r"\partial", "∇": r"\nabla", "∀": r"\forall", "∃": r"\exists",
    "…": r"\ldots", "⋯": r"\cdots", "−": "-",  # noqa: RUF001
}  # fmt: skip
NARY = {"∑": r"\sum", "∏": r"\prod", "∫": r"\int", "∬": r"\iint", "∭": r"\iiint", "∮": r"\oint"}
ACCENTS = {"̂": r"\hat", "̃": r"\tilde", "̄": r"\bar", "̇": r"\dot", "⃗": r"\vec", "̈": r"\ddot"}
PROPERTIES = (
    "rPr fPr sSupPr sSubPr sSubSupPr radPr naryPr dPr funcPr accPr barPr mPr eqArrPr limLowPr "
    "limUppPr ctrlPr oMathParaPr boxPr borderBoxPr groupChrPr sPrePr phantPr"
)
SKIPPED = {f"{M}{name}" for name in PROPERTIES.split()}  # formatting, never text


def to_latex(math: Element) -> str:
    """The LaTeX of an ``m:oMath`` (or ``m:oMathPara``) element, without delimiters."""
    if math.tag == f"{M}oMathPara":
        return r" \\ ".join(_node(child) for child in math.iterchildren(f"{M}oMath"))
    return _node(math).strip()


def _node(element: Element) -> str:
    handler = _HANDLERS.get(element.tag)
    if handler is not None:
        return handler(element)
    return _children(element)


def _children(element: Element) -> str:
    return "".join(
        _node(child)
        for child in element.iterchildren()
        if isinstance(child.tag, str) and child.tag not in SKIPPED
    )


def _arg(element: Element, name: str) -> str:
    found = element.find(f"{M}{name}")
    return _children(found) if found is not None else ""


def _prop(element: Element, props: str, name: str, default: str = "") -> str:
    found = element.find(f"{M}{props}/{M}{name}")
    if found is None:
        return default
    return str(found.get(f"{M}val", default))


def _group(text: str) -> str:
    return text if len(text) == 1 else "{" + text + "}"


def _run(element: Element) -> str:
    text = "".join(t.text or "" for t in element.iter(f"{M}t"))
    out: list[str] = []
    for char in text:
        command = SYMBOLS.get(char)
        # A command is ended by a space, so that "\alpha x" never reads as "\alphax".
        out.append(char if command is None else command + (" " if command[0] == "\\" else ""))
    return "".join(out)


def _fraction(element: Element) -> str:
    num, den = _arg(element, "num"), _arg(element, "den")
    if _prop(element, "fPr", "type") == "lin":
        return f"{num}/{den}"
    return rf"\frac{{{num}}}{{{den}}}"


def _superscript(element: Element) -> str:
    return f"{_group(_arg(element, 'e'))}^{{{_arg(element, 'sup')}}}"


def _subscript(element: Element) -> str:
    return f"{_group(_arg(element, 'e'))}_{{{_arg(element, 'sub')}}}"


def _sub_superscript(element: Element) -> str:
    base = _group(_arg(element, "e"))
    return f"{base}_{{{_arg(element, 'sub')}}}^{{{_arg(element, 'sup')}}}"


def _radical(element: Element) -> str:
    degree = _arg(element, "deg")
    body = _arg(element, "e")
    return rf"\sqrt[{degree}]{{{body}}}" if degree else rf"\sqrt{{{body}}}"


def _nary(element: Element) -> str:
    char = _prop(element, "naryPr", "chr", "∫")
    operator = NARY.get(char, SYMBOLS.get(char, char))
    sub, sup = _arg(element, "sub"), _arg(element, "sup")
    limits = (f"_{{{sub}}}" if sub else "") + (f"^{{{sup}}}" if sup else "")
    return f"{operator}{limits} {_arg(element, 'e')}"


def _delimiter(element: Element) -> str:
    begin = _prop(element, "dPr", "begChr", "(")
    end = _prop(element, "dPr", "endChr", ")")
    separator = _prop(element, "dPr", "sepChr", "|")
    parts = [_children(e) for e in element.iterchildren(f"{M}e")]
    left = {"{": r"\{", "": "."}.get(begin, begin)
    right = {"}": r"\}", "": "."}.get(end, end)
    return rf"\left{left}{separator.join(parts)}\right{right}"


def _function(element: Element) -> str:
    name = _arg(element, "fName").strip()
    known = {"sin", "cos", "tan", "log", "ln", "exp", "lim", "max", "min", "det", "sup", "inf"}
    head = f"\\{name}" if name in known else rf"\operatorname{{{name}}}"
    return f"{head} {_group(_arg(element, 'e'))}"


def _accent(element: Element) -> str:
    command = ACCENTS.get(_prop(element, "accPr", "chr", "̂"), r"\hat")
    return f"{command}{{{_arg(element, 'e')}}}"


def _bar(element: Element) -> str:
    under = _prop(element, "barPr", "pos", "top") == "bot"
    return (r"\underline{" if under else r"\overline{") + _arg(element, "e") + "}"


def _lower_limit(element: Element) -> str:
    return f"{_group(_arg(element, 'e'))}_{{{_arg(element, 'lim')}}}"


def _upper_limit(element: Element) -> str:
    return f"{_group(_arg(element, 'e'))}^{{{_arg(element, 'lim')}}}"


def _matrix(element: Element) -> str:
    rows = [
        " & ".join(_children(e) for e in row.iterchildren(f"{M}e"))
        for row in element.iterchildren(f"{M}mr")
    ]
    return r"\begin{matrix}" + r" \\ ".join(rows) + r"\end{matrix}"


def _equation_array(element: Element) -> str:
    rows = [_children(e) for e in element.iterchildren(f"{M}e")]
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


_HANDLERS = {
    f"{M}r": _run,
    f"{M}f": _fraction,
    f"{M}sSup": _superscript,
    f"{M}sSub": _subscript,
    f"{M}sSubSup": _sub_superscript,
    f"{M}rad": _radical,
    f"{M}nary": _nary,
    f"{M}d": _delimiter,
    f"{M}func": _function,
    f"{M}acc": _accent,
    f"{M}bar": _bar,
    f"{M}limLow": _lower_limit,
    f"{M}limUpp": _upper_limit,
    f"{M}m": _matrix,
    f"{M}eqArr": _equation_array,
}
