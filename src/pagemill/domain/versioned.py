"""A versioned team resource: a team's named thing with immutable, numbered versions.

Custom processors (``cp_…``, a version is a definition), extraction schemas (``sch_…``, a
version is a JSON schema) and eval rubrics (integer ids, a version is an eval definition) are
the kinds. Each is a ``ResourceKind``: what it is called in
messages, the prefix of its ids, and the check a version's payload must pass. Everything else —
version 1 on creation, max+1 for later ones, the one version that is current, archiving, the
team owning it — is the same for every kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pagemill.domain.ids import new_id


@dataclass(frozen=True, slots=True)
class ResourceKind:
    name: str  # in messages, e.g. "custom processor"
    prefix: str  # of its public ids, e.g. "cp_"
    payload: str  # what the API calls a version's payload, e.g. "definition"
    # Validates a payload; returns what to store, or raises ``InvalidInput`` naming the fault.
    check: Callable[[Any], dict[str, Any]]
    # Makes a public id; None: the prefix and random base62 characters. (Eval rubrics have
    # integer ids on the wire: a random number written in decimal.)
    make_id: Callable[[], str] | None = None

    @property
    def title(self) -> str:
        """The name at the start of a sentence."""
        return self.name[:1].upper() + self.name[1:]

    def new_id(self) -> str:
        return new_id(self.prefix) if self.make_id is None else self.make_id()


@dataclass(frozen=True, slots=True)
class VersionSummary:
    """One entry of a resource's history."""

    version: int
    description: str | None
    created: datetime


@dataclass(frozen=True, slots=True)
class VersionedResource:
    """A team's resource with the payload of its current version and its history."""

    pk: int
    public_id: str
    team_id: str
    name: str
    description: str | None  # None for a kind without one (custom processors)
    current_version: int  # the active (custom processors) or current (schemas) version
    payload: dict[str, Any]  # of ``current_version``
    archived: bool
    created: datetime
    updated: datetime
    history: tuple[VersionSummary, ...]  # newest first

    @property
    def newest_version(self) -> int:
        return self.history[0].version if self.history else self.current_version


@dataclass(frozen=True, slots=True)
class ResourceVersion:
    pk: int
    resource_pk: int
    version: int
    payload: dict[str, Any]
    description: str | None
    created: datetime
