"""EPUB → ``Document``: the zip, its OPF package document, and the HTML block writer.

* ``META-INF/container.xml`` names the package document (the first ``.opf`` member is used when
  it is missing); its spine gives the reading order. One page per spine item, in spine order
  (``linear="no"`` items included, so page numbers match spine positions); ``page_range``
  selects spine items, and only the selected ones are parsed.
* Each XHTML item is read by the HTML parser's ``BlockWriter`` with ``header``/``footer`` kept as
  content (a book has no site furniture). Spine items that are not (X)HTML, or that the package
  lists but does not contain, give empty pages.
* Pictures (``include_images``): ``img`` sources are resolved inside the archive (and ``data:``
  URIs decoded); nothing is fetched.
* Spine documents listed in ``META-INF/encryption.xml`` (DRM) are refused; obfuscated fonts,
  which use the same file, are not a problem.
* XML is parsed with defusedxml, after ``check_zip`` refused any DTD subset or entity declaration.
* No geometry: every block's bbox is ``(0, 0, 0, 0)``.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from pagemill.domain.errors import ProcessingError
from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.office.safety import (
    BlockSink,
    check_zip,
    collapse,
    parse_errors,
    selected_pages,
)
from pagemill.processors.convert.web.html import (
    MAX_IMAGE_BYTES,
    BlockWriter,
    data_uri_image,
    make_soup,
)
from pagemill.processors.document import Document

HTML_TYPES = ("application/xhtml+xml", "text/html")
IMAGE_EXTENSIONS = ("png", "jpg", "jpeg", "gif", "webp", "svg", "bmp", "tif", "tiff")


def parse(request: ParseRequest) -> Document:
    """The EPUB parser of ``formats.PARSERS``."""
    with parse_errors("EPUB"):
        check_zip(request.path, "EPUB", allow_doctype=True)  # XHTML starts with a DOCTYPE
        with zipfile.ZipFile(request.path) as archive:
            names = set(archive.namelist())
            package_path = _package_path(archive, names)
            package = _xml(archive.read(package_path))
            spine = _spine(package, posixpath.dirname(package_path))
            _refuse_drm(archive, names, spine)
            pages = selected_pages(len(spine), request.page_range, request.max_pages)
            sink = BlockSink()
            for page in pages:
                if page >= len(spine):
                    continue
                member, media_type = spine[page]
                found = _member(names, member)
                if found is None or media_type not in HTML_TYPES:
                    continue
                loader = _image_loader(archive, names, found) if request.include_images else None
                writer = BlockWriter(sink, page, furniture="content", images=loader)
                writer.write(make_soup(archive.read(found)))
        metadata: dict[str, object] = {"parser": "epub", "spine": [m for m, _ in spine]}
        title = package.find(".//{http://purl.org/dc/elements/1.1/}title")
        if title is not None and collapse(title.text or ""):
            metadata["title"] = collapse(title.text or "")
        return sink.document(len(spine), pages, metadata)


def _xml(data: bytes) -> Any:
    from defusedxml.ElementTree import fromstring

    return fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)


def _package_path(archive: zipfile.ZipFile, names: set[str]) -> str:
    if "META-INF/container.xml" in names:
        container = _xml(archive.read("META-INF/container.xml"))
        for rootfile in container.iter("{urn:oasis:names:tc:opendocument:xmlns:container}rootfile"):
            path = rootfile.get("full-path")
            if path and path in names:
                return str(path)
    found = sorted(name for name in names if name.lower().endswith(".opf"))
    if not found:
        raise ProcessingError("The EPUB file has no package document (.opf); it is not an EPUB.")
    return found[0]


def _spine(package: Any, base: str) -> list[tuple[str, str]]:
    """(member path, media type) of each spine item, in reading order."""
    manifest: dict[str, tuple[str, str]] = {}
    for item in package.iter("{http://www.idpf.org/2007/opf}item"):
        href = item.get("href")
        if item.get("id") and href:
            manifest[item.get("id")] = (_resolve(base, href), item.get("media-type") or "")
    spine: list[tuple[str, str]] = []
    for itemref in package.iter("{http://www.idpf.org/2007/opf}itemref"):
        entry = manifest.get(itemref.get("idref") or "")
        if entry is not None:
            spine.append(entry)
    return spine


def _resolve(base: str, href: str) -> str:
    """A member path from an href relative to ``base`` (fragment and query dropped)."""
    path = unquote(urlsplit(href).path)
    return posixpath.normpath(posixpath.join(base, path)).lstrip("/")


def _member(names: set[str], path: str) -> str | None:
    if path in names:
        return path
    # Some packagers percent-encode file names in the zip too.
    quoted = quote(path)
    return quoted if quoted in names else None


def _refuse_drm(archive: zipfile.ZipFile, names: set[str], spine: list[tuple[str, str]]) -> None:
    if "META-INF/encryption.xml" not in names:
        return
    encryption = _xml(archive.read("META-INF/encryption.xml"))
    encrypted = {
        _resolve("", reference.get("URI") or "")
        for reference in encryption.iter("{http://www.w3.org/2001/04/xmlenc#}CipherReference")
    }
    if any(member in encrypted for member, _ in spine):
        raise ProcessingError(
            "The EPUB file is DRM-protected (its text is encrypted); it cannot be converted."
        )


def _image_loader(
    archive: zipfile.ZipFile, names: set[str], document: str
) -> Callable[[str], tuple[bytes, str] | None]:
    base = posixpath.dirname(document)

    def load(src: str) -> tuple[bytes, str] | None:
        if src.strip().lower().startswith("data:"):
            return data_uri_image(src)
        if urlsplit(src).scheme:
            return None  # http:, file: …: never fetched
        member = _member(names, _resolve(base, src))
        if member is None:
            return None
        extension = member.rsplit(".", 1)[-1].lower()
        if extension not in IMAGE_EXTENSIONS or archive.getinfo(member).file_size > MAX_IMAGE_BYTES:
            return None
        return archive.read(member), extension

    return load
