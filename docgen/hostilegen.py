"""Hand-written hostile documents (PDFs, ZIPs, TIFFs): structures no well-behaved generator
produces."""

from __future__ import annotations

import struct
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


def zip_with_many_members(
    path: Path, members: int, *, declared: int | None = None, marker: str = "xl/workbook.xml"
) -> Path:
    """A ZIP (an XLSX by its marker member) whose central directory lists ``members`` records:
    the shape of the million-member XLSX. Only the directory is written (opening an archive
    reads nothing else); ``declared`` makes the end record lie about the count."""
    with path.open("wb") as out:
        out.write(b"PK\x03\x04" + bytes(26))  # the magic detection looks for
        offset = out.tell()
        names = [marker.encode()] + [f"xl/worksheets/s{i}.xml".encode() for i in range(members - 1)]
        size = 0
        for name in names:
            record = (
                b"PK\x01\x02"
                + struct.pack(
                    "<HHHHHHLLLHHHHHLL", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, 0
                )
                + name
            )
            out.write(record)
            size += len(record)
        count = members if declared is None else declared
        if count >= 0xFFFF:  # zip64: the counts do not fit the classic end record
            zip64_end = out.tell()
            out.write(
                b"PK\x06\x06"
                + struct.pack("<QHHLLQQQQ", 44, 45, 45, 0, 0, count, count, size, offset)
            )
            out.write(b"PK\x06\x07" + struct.pack("<LQL", 0, zip64_end, 1))
            out.write(
                b"PK\x05\x06"
                + struct.pack("<HHHHLLH", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
            )
        else:
            out.write(b"PK\x05\x06" + struct.pack("<HHHHLLH", 0, 0, count, count, size, offset, 0))
    return path


def tiff_with_many_frames(path: Path, frames: int, *, loop: bool = False) -> Path:
    """A little-endian TIFF whose chain of image file directories has ``frames`` links (empty
    directories: 6 bytes each), or, with ``loop``, one directory that links to itself."""
    with path.open("wb") as out:
        out.write(b"II*\x00" + struct.pack("<L", 8))
        if loop:
            out.write(struct.pack("<HL", 0, 8))
            return path
        for index in range(frames):
            following = 8 + 6 * (index + 1) if index + 1 < frames else 0
            out.write(struct.pack("<HL", 0, following))
    return path
