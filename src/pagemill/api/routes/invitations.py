"""Invitations: a team's owners and admins invite an address (``/api/v1/teams/current``); the
signed-in user with that address accepts or declines (``/api/v1/auth/invitations``).

The invited side needs a browser session: an invitation is addressed to a person (their
account's email), not to any team's key, and accepting changes which teams they belong to.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from pagemill.api import wire
from pagemill.api.deps import CallerDep, ServicesDep
from pagemill.api.errors import error_responses
from pagemill.api.session_auth import CSRF_HEADER, SESSION_COOKIE
from pagemill.domain.errors import Unauthenticated
from pagemill.domain.invitations import Invitation, ReceivedInvitation
from pagemill.domain.teams import MAX_EMAIL_LENGTH, Role
from pagemill.services.container import Services
from pagemill.services.sessions import SessionPrincipal

team_router = APIRouter(
    prefix="/api/v1/teams/current/invitations",
    tags=["teams"],
    responses=error_responses(401, 403, 404, 429, 503),
)
user_router = APIRouter(
    prefix="/api/v1/auth/invitations", tags=["sessions"], responses=error_responses(401, 503)
)

InvitationId = Annotated[str, Path(max_length=80, description="The invitation id (inv_…)")]


class InviteRequest(BaseModel):
    email: str = Field(min_length=3, max_length=MAX_EMAIL_LENGTH)
    role: Role = Role.MEMBER


class InvitationItem(BaseModel):
    invitation_id: str
    email: str
    role: Role
    invited_by: str | None = Field(description="The inviting user; null: an operator key")
    created_at: str | None
    expires_at: str | None


class InvitationList(BaseModel):
    invitations: list[InvitationItem]


class ReceivedTeam(BaseModel):
    id: str
    name: str


class ReceivedItem(BaseModel):
    invitation_id: str
    team: ReceivedTeam
    role: Role
    expires_at: str | None


class ReceivedList(BaseModel):
    invitations: list[ReceivedItem]


class JoinedTeam(BaseModel):
    id: str
    role: Role


def invitation_item(invitation: Invitation) -> dict[str, Any]:
    return {
        "invitation_id": invitation.id,
        "email": invitation.email,
        "role": invitation.role.value,
        "invited_by": invitation.invited_by,
        "created_at": wire.timestamp(invitation.created),
        "expires_at": wire.timestamp(invitation.expires_at),
    }


def received_item(received: ReceivedInvitation) -> dict[str, Any]:
    invitation = received.invitation
    return {
        "invitation_id": invitation.id,
        "team": {"id": invitation.team_id, "name": received.team_name},
        "role": invitation.role.value,
        "expires_at": wire.timestamp(invitation.expires_at),
    }


# -- the team's side ---------------------------------------------------------------------------
@team_router.post(
    "",
    status_code=201,
    response_model=InvitationItem,
    summary="Invite an address to the team (owners and admins)",
    responses=error_responses(400),
)
async def invite(body: InviteRequest, caller: CallerDep) -> Response:
    """Inviting the same address again replaces its pending invitation (role, expiry)."""
    invitation = await caller.services.invitations.invite(
        caller.team_id,
        body.email,
        body.role,
        actor=await caller.current_role(),
        invited_by=caller.user_id,
    )
    return wire.json_response(invitation_item(invitation), 201)


@team_router.get("", response_model=InvitationList, summary="The team's pending invitations")
async def list_invitations(caller: CallerDep) -> Response:
    pending = await caller.services.invitations.pending(
        caller.team_id, actor=await caller.current_role()
    )
    return wire.json_response({"invitations": [invitation_item(i) for i in pending]})


@team_router.delete(
    "/{invitation_id}", status_code=204, summary="Withdraw an invitation (owners and admins)"
)
async def withdraw(invitation_id: InvitationId, caller: CallerDep) -> Response:
    await caller.services.invitations.withdraw(
        caller.team_id, invitation_id, actor=await caller.current_role()
    )
    return Response(status_code=204)


# -- the invited user's side -------------------------------------------------------------------
async def _signed_in(request: Request, services: Services, *, changes: bool) -> SessionPrincipal:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthenticated(f"Not logged in: invitations are answered with a {SESSION_COOKIE}.")
    principal = await services.sessions.authenticate(token)
    if changes:
        services.sessions.check_csrf(principal.session_id, request.headers.get(CSRF_HEADER))
    return principal


@user_router.get("", response_model=ReceivedList, summary="Invitations addressed to you")
async def received(request: Request, services: ServicesDep) -> Response:
    principal = await _signed_in(request, services, changes=False)
    found = await services.invitations.received(principal.user_id)
    return wire.json_response({"invitations": [received_item(r) for r in found]})


@user_router.post(
    "/{invitation_id}/accept",
    response_model=JoinedTeam,
    summary="Accept an invitation: join its team with its role",
    responses=error_responses(400, 403, 404),
)
async def accept(invitation_id: InvitationId, request: Request, services: ServicesDep) -> Response:
    """You now belong to one more team: select the one cookie requests act for with the
    ``datalab_active_team`` cookie."""
    principal = await _signed_in(request, services, changes=True)
    joined = await services.invitations.accept(principal.user_id, invitation_id)
    return wire.json_response({"id": joined.team_id, "role": joined.role.value})


@user_router.post(
    "/{invitation_id}/decline",
    status_code=204,
    summary="Decline an invitation",
    responses=error_responses(403, 404),
)
async def decline(invitation_id: InvitationId, request: Request, services: ServicesDep) -> Response:
    principal = await _signed_in(request, services, changes=True)
    await services.invitations.decline(principal.user_id, invitation_id)
    return Response(status_code=204)
