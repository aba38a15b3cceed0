"""The documents ``pagemill run`` is given (files, directories, globs) and where each one's
results go."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path


class InputError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class InputDocument:
    path: Path
    name: str  # unique among the inputs: the results directory under --out

    def result_file(self, out: Path, step_index: int, step_type: str) -> Path:
        """``<out>/<name>/<index>-<type>.json``."""
        return out / self.name / f"{step_index}-{step_type}.json"


def _visible_files(directory: Path) -> list[Path]:
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    )


def _glob_root(pattern: str) -> Path:
    """The directory a glob's matches are named from: its part before the first wildcard."""
    root: list[str] = []
    for part in Path(pattern).parts:
        if glob.has_magic(part):
            break
        root.append(part)
    return Path(*root) if root else Path()


def collect(arguments: list[str]) -> list[InputDocument]:
    """Each file named, each file under a directory named (hidden ones skipped), each file a
    glob matches (``**`` for any depth), once, in order. A document's name is its path from
    the directory or the glob's fixed part (``reports/**/*.pdf`` → ``2024/a.pdf``), or the
    file's own name; a name taken already gets ``~2``, ``~3``…"""
    found: list[tuple[Path, str]] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found += [(file, file.relative_to(path).as_posix()) for file in _visible_files(path)]
        elif path.is_file():
            found.append((path, path.name))
        elif glob.has_magic(argument):
            root = _glob_root(argument)
            matches = sorted(Path(m) for m in glob.glob(argument, recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                raise InputError(f"no file matches {argument!r}")
            found += [(file, file.relative_to(root).as_posix()) for file in files]
        else:
            raise InputError(f"no such file or directory: {argument}")
    documents: list[InputDocument] = []
    seen_paths: set[Path] = set()
    names: set[str] = set()
    for path, name in found:
        resolved = path.resolve()
        if resolved in seen_paths:
            continue
        seen_paths.add(resolved)
        unique, count = name, 1
        while unique in names:
            count += 1
            unique = f"{name}~{count}"
        names.add(unique)
        documents.append(InputDocument(path, unique))
    if not documents:
        raise InputError("no documents to run (the directories given are empty)")
    return documents
