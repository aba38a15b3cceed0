"""Word equations (OMML) come out as LaTeX, inline as ``$…$`` and on their own line as ``$$…$$``;
before, a DOCX lost every equation without a trace."""

from __future__ import annotations

from pathlib import Path

import docx
from lxml import etree

from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.office.docx import parse

MATH = "http://schemas.openxmlformats.org/officeDocument/2006/math"
WORD = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = f'xmlns:m="{MATH}" xmlns:w="{WORD}"'


def run(text: str) -> str:
    return f"<m:r><m:t>{text}</m:t></m:r>"


MINUS = "\u2212"  # Word writes the minus sign, not a hyphen
INLINE = (
    f"<m:oMath {NS}>{run('E=m')}"
    f"<m:sSup><m:e>{run('c')}</m:e><m:sup>{run('2')}</m:sup></m:sSup></m:oMath>"
)
QUADRATIC = (
    f"<m:oMathPara {NS}><m:oMath>{run('x=')}<m:f><m:num>{run(MINUS + 'b±')}"
    f"<m:rad><m:radPr><m:degHide m:val='1'/></m:radPr><m:deg/><m:e>"
    f"<m:sSup><m:e>{run('b')}</m:e><m:sup>{run('2')}</m:sup></m:sSup>{run(MINUS + '4ac')}"
    f"</m:e></m:rad>"
    f"</m:num><m:den>{run('2a')}</m:den></m:f></m:oMath></m:oMathPara>"
)
SUM = (
    f"<m:oMath {NS}><m:nary><m:naryPr><m:chr m:val='∑'/></m:naryPr>"
    f"<m:sub>{run('i=1')}</m:sub><m:sup>{run('n')}</m:sup><m:e>"
    f"<m:sSub><m:e>{run('x')}</m:e><m:sub>{run('i')}</m:sub></m:sSub></m:e></m:nary>"
    f"<m:d><m:e>{run('a')}</m:e><m:e>{run('b')}</m:e></m:d></m:oMath>"
)


def test_equations_become_latex(tmp_path: Path) -> None:
    document = docx.Document()
    paragraph = document.add_paragraph("The energy is ")
    paragraph._p.append(etree.fromstring(INLINE))
    paragraph.add_run(", as everyone knows.")
    document.add_paragraph()._p.append(etree.fromstring(QUADRATIC))
    cell = document.add_table(rows=1, cols=1).cell(0, 0)
    cell.paragraphs[0]._p.append(etree.fromstring(SUM))
    path = tmp_path / "math.docx"
    document.save(str(path))

    parsed = parse(ParseRequest(path=path, filename="math.docx"))
    texts = [block.text for block in parsed.blocks if block.type == "paragraph"]
    assert texts[0] == "The energy is $E=mc^{2}$, as everyone knows."
    assert texts[1] == r"$$x=\frac{-b\pm \sqrt{b^{2}-4ac}}{2a}$$"
    [table] = [block for block in parsed.blocks if block.type == "table"]
    assert table.rows == ((r"$\sum_{i=1}^{n} x_{i}\left(a|b\right)$",),)
