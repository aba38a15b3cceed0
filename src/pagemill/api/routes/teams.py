"""The caller's team: its API keys and its members (owners and admins only).

Everything is under ``/api/v1/teams/current``: the team is the one the API key or the session
acts for, so another team's key or member is a 404 like anything missing; a 403 means "you are
in this team, but your role does not allow this".
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Response
from pydantic import AwareDatetime, BaseModel, Field

from pagemill.api import wire
from pagemill.api.deps import CallerDep
from pagemill.api.errors import error_responses
from pagemill.api.routes.invitations import InvitationItem, invitation_item
from pagemill.api.schemas import StoredText
from pagemill.domain.invitations import Invitation
from pagemill.domain.models import ApiKey
from pagemill.domain.teams import MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH, Member, Role

PREFIX = "/api/v1/teams/current"

router = APIRouter(
    prefix=PREFIX, tags=["teams"], responses=error_responses(401, 403, 404, 429, 503)
)

KeyId = Annotated[str, Path(max_length=80, description="The key id (key_…)")]
UserId = Annotated[str, Path(max_length=80, description="The user id (usr_…)")]


class TeamInfo(BaseModel):
    id: str
    name: str
    role: str = Field(description="The caller's role: owner, admin or member")


class TeamUsage(BaseModel):
    storage_bytes: int = Field(description="Bytes the team stores: uploads, run inputs, results")
    storage_quota_bytes: int | None = Field(description="The most it may store; null: no quota")


class KeyItem(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="The first characters of the key, safe to show")
    created_at: str | None
    created_by: str | None = Field(description="The user who created it; null: the CLI")
    last_used_at: str | None = Field(description="Updated at most once a minute")
    expires_at: str | None
    revoked_at: str | None


class CreatedKey(KeyItem):
    key: str = Field(description="The secret: shown only in this response")


class KeyList(BaseModel):
    keys: list[KeyItem]


class CreateKeyRequest(BaseModel):
    name: StoredText = Field(default="default", min_length=1, max_length=200)
    expires_at: AwareDatetime | None = Field(default=None, description="Optional, with a zone")


class MemberItem(BaseModel):
    user_id: str
    email: str
    name: str
    role: Role
    created_at: str | None
    disabled: bool


class MemberList(BaseModel):
    members: list[MemberItem]


class AddMemberRequest(BaseModel):
    email: str = Field(min_length=3, max_length=MAX_EMAIL_LENGTH)
    role: Role = Role.MEMBER
    name: StoredText | None = Field(default=None, max_length=200, description="For a new user")
    password: str | None = Field(
        default=None,
        max_length=MAX_PASSWORD_LENGTH,
        description="For a new user only; without one, the new user cannot log in yet",
    )


class ChangeRoleRequest(BaseModel):
    role: Role


def key_item(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": wire.timestamp(key.created),
        "created_by": key.created_by,
        "last_used_at": wire.timestamp(key.last_used_at),
        "expires_at": wire.timestamp(key.expires_at),
        "revoked_at": wire.timestamp(key.revoked_at),
    }


def member_item(member: Member) -> dict[str, Any]:
    return {
        "user_id": member.user_id,
        "email": member.email,
        "name": member.name,
        "role": member.role.value,
        "created_at": wire.timestamp(member.created),
        "disabled": member.disabled,
    }


@router.get("", response_model=TeamInfo, summary="The team the caller acts for")
async def current_team(caller: CallerDep) -> Response:
    team = await caller.services.teams.team(caller.team_id)
    return wire.json_response({"id": team.id, "name": team.name, "role": caller.role.value})


@router.get("/usage", response_model=TeamUsage, summary="What the team stores, and its quota")
async def usage(caller: CallerDep) -> Response:
    storage = caller.services.storage
    return wire.json_response(
        {
            "storage_bytes": await storage.usage(caller.team_id),
            "storage_quota_bytes": storage.quota,
        }
    )


@router.get("/keys", response_model=KeyList, summary="List the team's API keys")
async def list_keys(caller: CallerDep) -> Response:
    keys = await caller.services.keys.list_keys(caller.team_id, actor=await caller.current_role())
    return wire.json_response({"keys": [key_item(k) for k in keys]})


@router.post(
    "/keys",
    status_code=201,
    response_model=CreatedKey,
    summary="Create an API key (the secret is returned once)",
)
async def create_key(
    caller: CallerDep, body: Annotated[CreateKeyRequest | None, Body()] = None
) -> Response:
    body = body or CreateKeyRequest()
    issued = await caller.services.keys.create_key(
        caller.team_id,
        body.name,
        actor=await caller.current_role(),
        created_by=caller.user_id,
        expires_at=body.expires_at,
    )
    assert issued.key is not None
    return wire.json_response({**key_item(issued.key), "key": issued.secret}, 201)


@router.delete("/keys/{key_id}", response_model=KeyItem, summary="Revoke an API key")
async def revoke_key(key_id: KeyId, caller: CallerDep) -> Response:
    key = await caller.services.keys.revoke_key(
        caller.team_id, key_id, actor=await caller.current_role()
    )
    return wire.json_response(key_item(key))


@router.get("/members", response_model=MemberList, summary="List the team's members")
async def list_members(caller: CallerDep) -> Response:
    members = await caller.services.teams.members(caller.team_id, actor=await caller.current_role())
    return wire.json_response({"members": [member_item(m) for m in members]})


@router.post(
    "/members",
    status_code=201,
    response_model=MemberItem,
    summary="Add a member: a new address gets an account; an existing account is invited",
    responses={
        202: {"model": InvitationItem, "description": "The address has an account: invited"},
        **error_responses(400),
    },
)
async def add_member(body: AddMemberRequest, caller: CallerDep) -> Response:
    """An address without an account becomes a new user and member at once (201). An address
    that has an account already is invited instead (202): the user joins only by accepting
    (``POST /api/v1/auth/invitations/{id}/accept``), and nothing of that account is shown."""
    added = await caller.services.teams.add_or_invite(
        caller.team_id,
        body.email,
        body.role,
        actor=await caller.current_role(),
        invited_by=caller.user_id,
        name=body.name,
        password=body.password,
    )
    if isinstance(added, Invitation):
        return wire.json_response(invitation_item(added), 202)
    return wire.json_response(member_item(added), 201)


@router.patch(
    "/members/{user_id}",
    response_model=MemberItem,
    summary="Change a member's role (a team keeps at least one owner)",
    responses=error_responses(400),
)
async def change_role(user_id: UserId, body: ChangeRoleRequest, caller: CallerDep) -> Response:
    member = await caller.services.teams.change_role(
        caller.team_id, user_id, body.role, actor=await caller.current_role()
    )
    return wire.json_response(member_item(member))


@router.delete(
    "/members/{user_id}",
    status_code=204,
    summary="Remove a member (a team keeps at least one owner)",
    responses=error_responses(400),
)
async def remove_member(user_id: UserId, caller: CallerDep) -> Response:
    await caller.services.teams.remove_member(
        caller.team_id, user_id, actor=await caller.current_role()
    )
    return Response(status_code=204)
