"""Role checks shared by the team services: inside the caller's own team only.

Another team's things are never "forbidden", they are not found (the ledger reads take the
team); ``Forbidden`` (403) means "you are in this team, but your role does not allow this".
"""

from __future__ import annotations

from pagemill.domain.errors import Forbidden
from pagemill.domain.teams import MANAGER_ROLES, Role


def require_manager(actor: Role) -> None:
    if actor not in MANAGER_ROLES:
        raise Forbidden("Only the team's owners and admins can manage its keys and members.")
