"""Collections (``/api/v1/collections``): named sets of a team's uploaded files
(``datalab://file-{id}``) that batch runs process.

The hosted API documents these endpoints without their shapes; the choices are in docs/api.md.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Response
from pydantic import BaseModel, Field

from pagemill.api import wire
from pagemill.api.deps import CallerDep
from pagemill.api.errors import error_responses
from pagemill.api.route_table import Route, build_router
from pagemill.api.routes.files import file_item
from pagemill.api.schemas import MAX_INT, StoredText
from pagemill.domain.batches import MAX_DESCRIPTION, MAX_FILES_PER_REQUEST, MAX_NAME, Collection
from pagemill.domain.ids import PUBLIC_NUMBER_MAX

PREFIX = "/api/v1/collections"

CollectionId = Annotated[
    int, Path(ge=1, le=PUBLIC_NUMBER_MAX, description="The collection id (an integer)")
]
FileId = Annotated[int, Path(ge=1, le=PUBLIC_NUMBER_MAX, description="The file id")]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]
FileIds = Annotated[
    list[Annotated[int, Field(ge=1, le=PUBLIC_NUMBER_MAX)]],
    Field(min_length=1, max_length=MAX_FILES_PER_REQUEST, description="Files of the team"),
]


class CreateCollectionRequest(BaseModel):
    name: StoredText = Field(min_length=1, max_length=MAX_NAME)
    description: StoredText | None = Field(default=None, max_length=MAX_DESCRIPTION)


class AddFilesToCollectionRequest(BaseModel):
    file_ids: FileIds


class RemoveFilesFromCollectionRequest(BaseModel):
    file_ids: FileIds


class CollectionItem(BaseModel):
    id: int
    collection_id: int
    name: str
    description: str | None
    file_count: int = Field(description="Linked files that still exist")
    created: str | None
    updated: str | None


class CollectionList(BaseModel):
    collections: list[CollectionItem]
    total: int
    limit: int
    offset: int


class FilesChanged(BaseModel):
    success: bool
    collection_id: int
    added: int | None = None
    removed: int | None = None
    file_count: int


def collection_item(c: Collection) -> dict[str, Any]:
    return {
        "id": c.collection_id,
        "collection_id": c.collection_id,
        "name": c.name,
        "description": c.description,
        "file_count": c.file_count,
        "created": wire.timestamp(c.created),
        "updated": wire.timestamp(c.updated),
    }


async def create_collection(body: CreateCollectionRequest, caller: CallerDep) -> Response:
    created = await caller.services.batches.create_collection(
        caller.team_id, body.name, body.description
    )
    return wire.json_response(collection_item(created))


async def list_collections(caller: CallerDep, limit: Limit = 50, offset: Offset = 0) -> Response:
    items, total = await caller.services.batches.list_collections(
        caller.team_id, limit=limit, offset=offset
    )
    return wire.json_response(
        {
            "collections": [collection_item(c) for c in items],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


async def get_collection(collection_id: CollectionId, caller: CallerDep) -> Response:
    found = await caller.services.batches.get_collection(caller.team_id, collection_id)
    return wire.json_response(collection_item(found))


async def delete_collection(collection_id: CollectionId, caller: CallerDep) -> Response:
    await caller.services.batches.delete_collection(caller.team_id, collection_id)
    return wire.json_response({"success": True, "message": f"Collection {collection_id} deleted"})


async def _changed(caller: CallerDep, collection_id: int, **counts: int) -> Response:
    found = await caller.services.batches.get_collection(caller.team_id, collection_id)
    return wire.json_response(
        {
            "success": True,
            "collection_id": collection_id,
            **counts,
            "file_count": found.file_count,
        }
    )


async def add_files(
    collection_id: CollectionId, body: AddFilesToCollectionRequest, caller: CallerDep
) -> Response:
    added = await caller.services.batches.add_files(caller.team_id, collection_id, body.file_ids)
    return await _changed(caller, collection_id, added=added)


async def remove_files(
    collection_id: CollectionId, body: RemoveFilesFromCollectionRequest, caller: CallerDep
) -> Response:
    removed = await caller.services.batches.remove_files(
        caller.team_id, collection_id, body.file_ids
    )
    return await _changed(caller, collection_id, removed=removed)


async def remove_file(collection_id: CollectionId, file_id: FileId, caller: CallerDep) -> Response:
    removed = await caller.services.batches.remove_files(caller.team_id, collection_id, [file_id])
    return await _changed(caller, collection_id, removed=removed)


async def list_files(
    collection_id: CollectionId, caller: CallerDep, limit: Limit = 50, offset: Offset = 0
) -> Response:
    items, total = await caller.services.batches.collection_files(
        caller.team_id, collection_id, limit=limit, offset=offset
    )
    return wire.json_response(
        {"files": [file_item(f) for f in items], "total": total, "limit": limit, "offset": offset}
    )


BAD = error_responses(400)
ROUTES = (
    Route("POST", "", create_collection, "Create Collection", CollectionItem, BAD),
    Route("GET", "", list_collections, "List Collections", CollectionList),
    Route("GET", "/{collection_id}", get_collection, "Get Collection", CollectionItem),
    Route("DELETE", "/{collection_id}", delete_collection, "Delete Collection"),
    Route("GET", "/{collection_id}/files", list_files, "List Collection Files"),
    Route("POST", "/{collection_id}/files", add_files, "Add Files To Collection", FilesChanged),
    Route(
        "POST",
        "/{collection_id}/files/remove",
        remove_files,
        "Remove Files From Collection",
        FilesChanged,
    ),
    Route(
        "DELETE",
        "/{collection_id}/files/{file_id}",
        remove_file,
        "Remove File From Collection",
        FilesChanged,
    ),
)

router = build_router(PREFIX, "collections", ROUTES, responses=error_responses(401, 404, 503))
