"""The services an entry point talks to, assembled by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from pagemill.ports.ledger import Ledger
from pagemill.services.custom_processors import CustomProcessorService
from pagemill.services.engine import StepEngine
from pagemill.services.executions import ExecutionService
from pagemill.services.extraction_schemas import ExtractionSchemaService
from pagemill.services.files import FileService
from pagemill.services.invitations import InvitationService
from pagemill.services.keys import KeyService
from pagemill.services.operations import OperationsService
from pagemill.services.pipelines import PipelineService
from pagemill.services.ratelimit import RateLimiter
from pagemill.services.sessions import SessionService
from pagemill.services.storage import StorageQuota
from pagemill.services.teams import TeamService
from pagemill.services.webhooks import WebhookService


@dataclass(frozen=True, slots=True)
class Services:
    keys: KeyService
    teams: TeamService
    invitations: InvitationService
    sessions: SessionService
    rate_limiter: RateLimiter  # per API key or browser session
    pipelines: PipelineService
    custom_processors: CustomProcessorService
    extraction_schemas: ExtractionSchemaService
    executions: ExecutionService
    files: FileService
    storage: StorageQuota  # bytes each team stores, and its quota
    engine: StepEngine
    operations: OperationsService
    webhooks: WebhookService
    ledger: Ledger  # for readiness checks only
