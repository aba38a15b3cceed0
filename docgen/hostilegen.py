"""Hand-written hostile PDFs: structures no well-behaved generator produces."""

from __future__ import annotations

from pathlib import Path

_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
_CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF of the given object bodies (object 1 is the catalog) with a correct xref table."""
    out = b"%PDF-1.7\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return out


def millions_of_pages_declared(path: Path) -> Path:
    """The page tree claims ten million pages; one exists."""
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 10000000 >>"
    path.write_bytes(raw_pdf([_CATALOG, pages, _PAGE]))
    return path


def recursive_page_tree(path: Path) -> Path:
    """A page-tree node that lists itself among its kids."""
    pages = b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>"
    path.write_bytes(raw_pdf([_CATALOG, pages, _PAGE]))
    return path


def deep_page_tree(path: Path, depth: int = 2000) -> Path:
    """Page-tree nodes nested ``depth`` levels deep (a stack-exhaustion attempt)."""
    nodes = [
        f"<< /Type /Pages /Kids [{number + 1} 0 R] /Count 1 >>".encode()
        for number in range(2, depth + 2)
    ]
    leaf = f"<< /Type /Page /Parent {depth + 1} 0 R /MediaBox [0 0 612 792] >>".encode()
    path.write_bytes(raw_pdf([_CATALOG, *nodes, leaf]))
    return path


def pdf_zip_polyglot(path: Path, pdf: bytes, zip_bytes: bytes) -> Path:
    """A file that is a PDF to a PDF reader and a ZIP to an unzipper."""
    path.write_bytes(pdf + zip_bytes)
    return path
