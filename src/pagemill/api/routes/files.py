"""Files: upload (signed URL), confirm, list, get, download URL, delete — and the signed
``/content`` endpoints that stand in for a cloud bucket's presigned URLs.

The ``/content`` endpoints take no API key: the URL's expiring HMAC signature is the credential.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from pagemill.api import wire
from pagemill.api.deps import CallerDep, ServicesDep
from pagemill.api.errors import error_responses
from pagemill.api.schemas import MAX_INT, ErrorResponse, StoredText
from pagemill.domain.errors import NotFound, PayloadTooLarge
from pagemill.domain.files import StoredFile
from pagemill.domain.ids import PUBLIC_NUMBER_MAX
from pagemill.domain.signing import SIGNATURE_LENGTH
from pagemill.services.files import DOWNLOAD_EXPIRES_RANGE, SignedUrl

router = APIRouter(prefix="/api/v1/files", tags=["files"], responses=error_responses(401, 404, 503))
# Signed-URL endpoints: no API key (and no 401).
content_router = APIRouter(
    prefix="/api/v1/files",
    tags=["files"],
    responses={
        403: {"model": ErrorResponse, "description": "Invalid, forged or expired signature"},
        **error_responses(503),
    },
)

FileId = Annotated[
    int, Path(ge=1, le=PUBLIC_NUMBER_MAX, description="The file id (an integer, random)")
]
# The SDK's docstrings also allow a hashid form ("npl94jxy"); ids here are integers, so any
# other form names no file of the team: 404, as for an integer that is not found.
TeamFileId = Annotated[
    str, Path(max_length=64, description="The file id (an integer; any other form is not found)")
]
Expires = Annotated[int, Query(ge=0, le=2**40, description="Expiry, Unix seconds")]
Signature = Annotated[str, Query(max_length=SIGNATURE_LENGTH, description="HMAC-SHA-256, hex")]
_NO_API_KEY: dict[str, Any] = {"security": []}


class FileUploadRequest(BaseModel):
    # Any text: control characters (NUL included) and directories are dropped, not refused.
    filename: str = Field(min_length=1, max_length=1024, description="A display name")
    content_type: StoredText = Field(min_length=1, max_length=255, examples=["application/pdf"])


def file_item(f: StoredFile) -> dict[str, Any]:
    return {
        "file_id": f.file_id,
        "original_filename": f.original_filename,
        "content_type": f.content_type,
        "reference": f.reference,
        "upload_status": f.upload_status.value,
        "file_size": f.file_size,
        "created": wire.timestamp(f.created),
    }


def _content_url(request: Request, route: str, signed: SignedUrl, public_url: str | None) -> str:
    """The absolute signed URL: under ``PAGEMILL_PUBLIC_URL`` when it is set, else on the scheme
    and host this request came to (the ``Host`` header is then trusted: see docs/security.md)."""
    query = urlencode({"expires": signed.expires, "signature": signed.signature})
    if public_url:
        path = request.app.url_path_for(route, file_id=str(signed.file_id))
        return f"{public_url.rstrip('/')}{path}?{query}"
    return f"{request.url_for(route, file_id=signed.file_id)}?{query}"


@router.post("/upload", summary="Request Upload Url", responses=error_responses(400))
async def request_upload(body: FileUploadRequest, request: Request, caller: CallerDep) -> Response:
    """A pending file and a URL to PUT its bytes to (valid 3600 s); then confirm it."""
    stored, signed = await caller.services.files.create(
        caller.team_id, body.filename, body.content_type
    )
    return wire.json_response(
        {
            "file_id": stored.file_id,
            "upload_url": _content_url(
                request, "file_content_put", signed, caller.services.files.public_url
            ),
            "reference": stored.reference,
            "expires_in": signed.expires_in,
        }
    )


@content_router.put(
    "/{file_id}/content",
    name="file_content_put",
    summary="Upload File Content (signed URL)",
    openapi_extra=_NO_API_KEY,
    responses=error_responses(400, 413),
)
async def put_content(
    file_id: FileId,
    expires: Expires,
    signature: Signature,
    request: Request,
    services: ServicesDep,
) -> Response:
    """The raw bytes as the body, streamed to storage under the upload cap."""
    files = services.files
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > files.max_upload_bytes:
        raise PayloadTooLarge(
            f"The file is larger than the limit of {files.max_upload_bytes} bytes."
        )
    stored = await files.receive_content(file_id, expires, signature, request.stream())
    return wire.json_response(
        {"success": True, "file_id": stored.file_id, "file_size": stored.file_size},
        headers={"ETag": f'"{stored.sha256}"'},
    )


@content_router.get(
    "/{file_id}/content",
    name="file_content_get",
    summary="Download File Content (signed URL)",
    openapi_extra=_NO_API_KEY,
)
async def get_content(
    file_id: FileId, expires: Expires, signature: Signature, services: ServicesDep
) -> Response:
    stored, chunks = await services.files.open_content(file_id, expires, signature)
    ascii_name = "".join(
        ch if " " <= ch <= "~" and ch not in '"\\' else "_" for ch in stored.original_filename
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(stored.original_filename, safe='')}",
        # Bytes a client uploaded: never rendered or sniffed as a page of this origin.
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, no-store",
    }
    if stored.file_size is not None:
        headers["Content-Length"] = str(stored.file_size)
    return StreamingResponse(chunks, media_type=stored.content_type, headers=headers)


@router.get("/{file_id}/confirm", summary="Confirm Upload", responses=error_responses(400))
async def confirm_upload(file_id: TeamFileId, caller: CallerDep) -> Response:
    stored = await caller.services.files.confirm(caller.team_id, _number(file_id))
    return wire.json_response(
        {
            "file_id": stored.file_id,
            "reference": stored.reference,
            "message": "File upload confirmed.",
            "success": True,
            "upload_status": stored.upload_status.value,
            "file_size": stored.file_size,
            "created": wire.timestamp(stored.created),
        }
    )


@router.get("", summary="List Files")
async def list_files(
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> Response:
    items, total = await caller.services.files.list_files(
        caller.team_id, limit=limit, offset=offset
    )
    return wire.json_response(
        {"files": [file_item(f) for f in items], "total": total, "limit": limit, "offset": offset}
    )


@router.get("/{file_id}", summary="Get File")
async def get_file(file_id: TeamFileId, caller: CallerDep) -> Response:
    return wire.json_response(
        file_item(await caller.services.files.get(caller.team_id, _number(file_id)))
    )


@router.get("/{file_id}/download", summary="Get Download Url", responses=error_responses(400))
async def download_url(
    file_id: TeamFileId,
    request: Request,
    caller: CallerDep,
    expires_in: Annotated[
        int, Query(ge=DOWNLOAD_EXPIRES_RANGE[0], le=DOWNLOAD_EXPIRES_RANGE[1])
    ] = 3600,
) -> Response:
    stored, signed = await caller.services.files.download_url(
        caller.team_id, _number(file_id), expires_in
    )
    return wire.json_response(
        {
            "download_url": _content_url(
                request, "file_content_get", signed, caller.services.files.public_url
            ),
            "expires_in": signed.expires_in,
            "file_id": stored.file_id,
            "original_filename": stored.original_filename,
        }
    )


@router.delete("/{file_id}", summary="Delete File")
async def delete_file(file_id: TeamFileId, caller: CallerDep) -> Response:
    stored = await caller.services.files.delete(caller.team_id, _number(file_id))
    return wire.json_response(
        {"success": True, "message": f"File {stored.file_id} deleted successfully."}
    )


def _number(file_id: str) -> int:
    if file_id.isascii() and file_id.isdigit():
        number = int(file_id)
        if 1 <= number <= PUBLIC_NUMBER_MAX:
            return number
    raise NotFound(f"File {file_id} not found")
