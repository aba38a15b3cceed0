"""The ledger's secrets area: sealing the secrets it keeps (see ``services.secret_box``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable


def server_secret_purpose(name: str) -> str:
    """What a server secret (``server_secrets``) is sealed for."""
    return f"server:{name}"


def webhook_secret_purpose(team_id: str) -> str:
    """What a team's webhook secrets (current and previous) are sealed for."""
    return f"webhook:{team_id}"


class SecretsLedger(ABC):
    @abstractmethod
    async def seal_stored(
        self, seal: Callable[[str, str], str], is_sealed: Callable[[str], bool]
    ) -> int:
        """Replace every stored secret that ``is_sealed`` says is not sealed by
        ``seal(purpose, value)`` (purposes: ``server_secret_purpose``,
        ``webhook_secret_purpose``), in one transaction; return how many were sealed."""
