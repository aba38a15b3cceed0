"""Users, team memberships with roles, and browser sessions.

A team has members, each with one role: ``owner`` (everything, including other owners),
``admin`` (keys and members, but not owners) or ``member`` (the team's pipelines and runs).
A team always keeps at least one owner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pagemill.domain.errors import InvalidInput

USER_PREFIX = "usr_"
MAX_EMAIL_LENGTH = 320
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


# Who may manage the team's keys and members.
MANAGER_ROLES = frozenset({Role.OWNER, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    name: str
    password_hash: str  # "" when no password was set: the user cannot log in
    created: datetime
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class Membership:
    user_id: str
    team_id: str
    role: Role
    created: datetime


@dataclass(frozen=True, slots=True)
class Member:
    """A membership with its user's details, as a team's member list shows it."""

    user_id: str
    email: str
    name: str
    role: Role
    created: datetime  # when the user joined the team
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class Session:
    """A browser session; the cookie that names it is signed, this row lets it be revoked."""

    id: str
    user_id: str
    created: datetime
    expires_at: datetime


def normalize_email(email: str) -> str:
    """The stored form of an email address: trimmed and lower-cased, checked loosely."""
    value = email.strip().lower()
    if not value or len(value) > MAX_EMAIL_LENGTH or not _EMAIL.match(value):
        raise InvalidInput("email must be an address like name@example.com.")
    return value


def check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"A password must have {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters."
        )
    return password


def may_assign(actor: Role, current: Role | None, wanted: Role | None) -> bool:
    """May ``actor`` change a member from ``current`` to ``wanted`` (None: absent)?

    Owners may do anything; admins may manage admins and members but neither touch an owner
    nor make one; members manage nobody.
    """
    if actor is Role.OWNER:
        return True
    if actor is Role.ADMIN:
        return Role.OWNER not in (current, wanted)
    return False
