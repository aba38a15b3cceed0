"""The use cases every kind of versioned team resource shares.

Custom processors and extraction schemas each wrap one ``VersionedResources`` (their kind and
their store) and add only what is theirs: installed transforms and active versions for the
first, the update rules of ``schema_json`` for the second, and how each freezes its steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pagemill.domain.clock import Clock
from pagemill.domain.errors import Conflict, InvalidInput, NotFound
from pagemill.domain.labels import check_description, check_name
from pagemill.domain.versioned import ResourceKind, ResourceVersion, VersionedResource
from pagemill.ports.ledger.catalog import VersionedStore


def label_changes(changes: Mapping[str, Any], updatable: frozenset[str]) -> dict[str, Any]:
    """The plain columns an update sends (name, description, archived), checked; fields
    outside ``updatable`` are refused. A ``description`` of None clears it; None elsewhere
    means "unchanged"."""
    unknown = set(changes) - updatable
    if unknown:
        raise ValueError(f"cannot update {', '.join(sorted(unknown))}")
    columns: dict[str, Any] = {}
    if changes.get("name") is not None:
        columns["name"] = check_name(str(changes["name"]))
    if "description" in changes:
        columns["description"] = check_description(changes["description"])
    if changes.get("archived") is not None:
        columns["archived"] = bool(changes["archived"])
    return columns


class VersionedResources:
    def __init__(
        self, kind: ResourceKind, store: VersionedStore, clock: Clock, *, archived_hint: str = ""
    ) -> None:
        """``archived_hint`` ends the refusal of a new version of an archived resource."""
        self.kind = kind
        self._store = store
        self._clock = clock
        self._archived_hint = archived_hint

    async def create(
        self,
        team_id: str,
        name: str,
        payload: Any,
        description: str | None,
        *,
        taken: Callable[[str], bool] = lambda public_id: False,
    ) -> VersionedResource:
        """A new resource with ``payload`` as version 1; ``taken`` refuses ids (an installed
        transform's id may look like a random one)."""
        clean_name = check_name(name)
        check_description(description)
        stored = self.kind.check(payload)
        public_id = self.kind.new_id()
        while taken(public_id):
            public_id = self.kind.new_id()
        return await self._store.create(
            team_id, public_id, clean_name, stored, description, self._clock.now()
        )

    async def get(self, team_id: str, public_id: str) -> VersionedResource:
        found = await self._store.get(team_id, public_id)
        if found is None:
            raise NotFound(f"{self.kind.title} {public_id} not found")
        return found

    async def page(
        self, team_id: str, *, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[VersionedResource], int]:
        """Most recently updated first."""
        return await self._store.page(
            team_id, include_archived=include_archived, limit=limit, offset=offset
        )

    async def versions(
        self, team_id: str, public_id: str
    ) -> tuple[VersionedResource, list[ResourceVersion]]:
        """The resource and its versions, newest first; ``NotFound`` for a resource the team
        does not have."""
        resource = await self.get(team_id, public_id)
        return resource, await self._store.versions(team_id, public_id)

    async def version(self, team_id: str, public_id: str, number: int) -> ResourceVersion:
        found = await self._store.version(team_id, public_id, number)
        if found is None:
            await self.get(team_id, public_id)  # the resource itself may be what is missing
            raise NotFound(f"Version {number} of {self.kind.name} {public_id} not found")
        return found

    async def add_version(
        self,
        team_id: str,
        public_id: str,
        payload: Any,
        *,
        version_description: str | None = None,
        make_current: bool = True,
        **changes: Any,
    ) -> VersionedResource:
        """Store ``payload`` as the next version (and ``changes``); see ``VersionedStore``.

        ``Conflict`` when the resource is archived and ``changes`` do not unarchive it.
        """
        check_description(version_description)
        stored = self.kind.check(payload)
        current = await self.get(team_id, public_id)
        if changes.get("archived", current.archived):
            title = self.kind.title
            raise Conflict(f"{title} {public_id} is archived{self._archived_hint}.")
        changed = await self._store.add_version(
            team_id,
            public_id,
            stored,
            self._clock.now(),
            version_description=version_description,
            make_current=make_current,
            **changes,
        )
        if changed is None:
            raise NotFound(f"{self.kind.title} {public_id} not found")
        return changed

    async def update(self, team_id: str, public_id: str, **changes: Any) -> VersionedResource:
        changed = await self._store.update(team_id, public_id, self._clock.now(), **changes)
        if changed is None:
            raise NotFound(f"{self.kind.title} {public_id} not found")
        return changed

    async def resolve(
        self, team_id: str, public_id: str, pinned: int | None
    ) -> tuple[int, dict[str, Any]]:
        """The version a new run uses (``pinned``, or the current one) and its payload;
        ``InvalidInput`` when the team cannot use it, so that the step is refused (422)."""
        name = self.kind.name
        resource = await self._store.get(team_id, public_id)
        if resource is None:
            raise InvalidInput(f"{name} {public_id!r} not found.")
        if resource.archived:
            raise InvalidInput(f"{name} {public_id} is archived.")
        number = resource.current_version if pinned is None else pinned
        if number == resource.current_version:
            return number, resource.payload
        version = await self._store.version(team_id, public_id, number)
        if version is None:
            raise InvalidInput(f"{name} {public_id} has no version {number}.")
        return number, version.payload
