"""What the composition root assembles for the entry points: the services, and the runtime
(the services plus what the worker loops need next to them).

``bootstrap.open_runtime`` builds a ``Runtime`` from settings; the API and the worker loops take
it from there, so that only the entry point (the CLI) imports the composition root.
"""

from __future__ import annotations

from dataclasses import dataclass

from pagemill.domain.clock import Clock
from pagemill.ports.dispatch import Dispatcher
from pagemill.ports.ledger import Ledger
from pagemill.ports.metrics import Metrics
from pagemill.ports.queue import StepQueue
from pagemill.services.batch_admitter import BatchAdmitter
from pagemill.services.batches import BatchService
from pagemill.services.custom_processors import CustomProcessorService
from pagemill.services.dashboard import DashboardService
from pagemill.services.estimates import EstimateService
from pagemill.services.eval_rubrics import EvalRubricService
from pagemill.services.execution_events import ExecutionEvents
from pagemill.services.executions import ExecutionService
from pagemill.services.extraction_schemas import ExtractionSchemaService
from pagemill.services.files import FileService
from pagemill.services.invitations import InvitationService
from pagemill.services.keys import KeyService
from pagemill.services.operations import OperationsService
from pagemill.services.pipelines import PipelineService
from pagemill.services.provenance import ProvenanceService
from pagemill.services.ratelimit import RateLimiter
from pagemill.services.requests import RequestService
from pagemill.services.retention import RetentionService
from pagemill.services.sessions import SessionService
from pagemill.services.step_runner import StepRunner
from pagemill.services.storage import StorageQuota
from pagemill.services.teams import TeamService
from pagemill.services.webhooks import WebhookService
from pagemill.services.workflows import WorkflowService


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
    eval_rubrics: EvalRubricService
    executions: ExecutionService
    requests: RequestService  # single-shot requests and the poll of any lookup key
    events: ExecutionEvents  # the executions' event streams
    provenance: ProvenanceService
    estimates: EstimateService
    dashboard: DashboardService  # what the web dashboard reads beyond the API
    files: FileService
    storage: StorageQuota  # bytes each team stores, and its quota
    runner: StepRunner
    operations: OperationsService
    webhooks: WebhookService
    workflows: WorkflowService
    retention: RetentionService  # retention settings, deleting executions, the sweeper
    batches: BatchService  # collections and batch runs (the API side)
    batch_admitter: BatchAdmitter  # starts batch runs' executions (the worker side)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How this process runs its worker loops."""

    workers: int = 2  # in-process step slots (0: none)
    reaper_interval_seconds: float = 5.0
    shutdown_grace_seconds: float = 10.0  # for running steps, then they are handed back
    webhook_concurrency: int = 4  # webhook attempts in flight
    webhook_timeout_seconds: float = 10.0  # of one attempt
    retention_sweep_interval_seconds: float = 60.0  # between passes of the retention sweeper


@dataclass(frozen=True, slots=True)
class Runtime:
    """The services plus what a worker loop needs next to them."""

    services: Services
    ledger: Ledger  # for diagnostics and tests: services hold only their own areas
    dispatcher: Dispatcher
    clock: Clock
    config: WorkerConfig
    metrics: Metrics
    queue: StepQueue | None = None  # scale-out delivery; None: local claim loops

    def serve_metrics(self, port: int) -> None:
        """Expose this process's metrics on ``port`` (worker processes have no API)."""
        self.metrics.serve(port)
