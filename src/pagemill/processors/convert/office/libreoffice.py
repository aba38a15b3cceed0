"""Legacy Office (.doc, .xls, .ppt) and OpenDocument (.odt, .ods, .odp) through LibreOffice.

LibreOffice converts the file to its OOXML twin (DOCX, XLSX or PPTX), which the parsers of this
package then read, so every format gets the same headings, lists and tables. It runs as
``soffice --headless --convert-to`` in a throw-away directory with a private user profile (two
conversions never share, or lock, one profile), for at most ``TIMEOUT_SECONDS``; a conversion
that takes longer is killed with its whole process group. The convert step runs in the compute
pool's worker processes, so LibreOffice does too.

LibreOffice is an operating-system package, not a Python one: without it these formats are
refused at submission (``missing_converter``) and, if one arrives anyway, its step fails saying
what to install.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from pagemill.domain.errors import ProcessingError
from pagemill.processors.convert.formats import ParseRequest, detect_format
from pagemill.processors.document import Document

TIMEOUT_SECONDS = 120
EXECUTABLES = ("soffice", "libreoffice")
INSTALL_HINT = (
    "install LibreOffice on the server (Debian/Ubuntu: apt-get install --no-install-recommends "
    "libreoffice-core libreoffice-writer libreoffice-calc libreoffice-impress), or save the "
    "file as DOCX, XLSX or PPTX first"
)
# Detected format → (extension LibreOffice reads it by, the OOXML twin it is converted to).
TWINS: dict[str, tuple[str, str]] = {
    "doc": ("doc", "docx"),
    "xls": ("xls", "xlsx"),
    "ppt": ("ppt", "pptx"),
    "odt": ("odt", "docx"),
    "ods": ("ods", "xlsx"),
    "odp": ("odp", "pptx"),
}
LABELS = {
    "doc": "Word 97-2003 (.doc)",
    "xls": "Excel 97-2003 (.xls)",
    "ppt": "PowerPoint 97-2003 (.ppt)",
    "odt": "OpenDocument text (.odt)",
    "ods": "OpenDocument spreadsheet (.ods)",
    "odp": "OpenDocument presentation (.odp)",
}


def executable() -> str | None:
    """The LibreOffice program on ``PATH``, or ``None`` when it is not installed."""
    for name in EXECUTABLES:
        found = shutil.which(name)
        if found:
            return found
    return None


def missing_converter(path: Path) -> str | None:
    """Why the document at ``path`` cannot be converted here for want of LibreOffice, or
    ``None`` (also for every format that does not need it)."""
    kind = detect_format(path)
    if kind in TWINS and executable() is None:
        return f"{LABELS[kind]} documents are converted with LibreOffice, which is missing: " + (
            INSTALL_HINT + "."
        )
    return None


def parse(request: ParseRequest) -> Document:
    """The legacy Office and OpenDocument parser of ``formats.PARSERS``: convert with
    LibreOffice, then parse the twin with the DOCX, XLSX or PPTX parser."""
    from pagemill.processors.convert.office import docx, pptx, xlsx

    kind = detect_format(request.path)

    program = executable()
    if program is None:
        raise ProcessingError(f"Cannot convert this {LABELS[kind]} document: {INSTALL_HINT}.")
    source_extension, twin = TWINS[kind]
    with tempfile.TemporaryDirectory(prefix="pagemill-soffice-") as work:
        folder = Path(work)
        source = folder / f"document.{source_extension}"
        _link_or_copy(request.path, source)
        converted = _convert(program, source, twin, folder)
        parser = {"docx": docx.parse, "xlsx": xlsx.parse, "pptx": pptx.parse}[twin]
        stem = Path(request.filename).stem or "document"
        document = parser(dataclasses.replace(request, path=converted, filename=f"{stem}.{twin}"))
    document.metadata["converted_by"] = "libreoffice"
    document.metadata["converted_from"] = kind
    return document


def _convert(program: str, source: Path, twin: str, folder: Path) -> Path:
    profile = folder / "profile"
    output = folder / "out"
    command = [
        program,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nologo",
        "--nolockcheck",
        "--nodefault",
        "--convert-to",
        twin,
        "--outdir",
        str(output),
        str(source),
    ]
    environment = {**os.environ, "HOME": str(folder)}  # nothing of the worker's home is touched
    process = subprocess.Popen(  # a fixed program and arguments, no shell
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=folder,
        env=environment,
        start_new_session=True,  # its own process group: a timeout kills every child too
    )
    try:
        log, _ = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise ProcessingError(
            f"LibreOffice took longer than {TIMEOUT_SECONDS} s to convert the document."
        ) from None
    converted = output / f"{source.stem}.{twin}"
    if process.returncode != 0 or not converted.is_file():
        detail = " ".join(log.decode("utf-8", "replace").split())[-300:]
        raise ProcessingError(
            "LibreOffice could not convert the document; it may be corrupt or "
            f"password-protected (exit status {process.returncode}: {detail or 'no output'})."
        )
    return converted


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        target.hardlink_to(source)
    except OSError:  # another file system, or links not allowed
        shutil.copyfile(source, target)
