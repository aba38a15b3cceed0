"""The durable ledger: the one source of truth, as one narrow port per area.

Every status change is a conditional update (compare-and-set) inside one transaction, and every
method that changes an execution returns the snapshot it committed so that the caller can mirror
it into the live store. Methods that read team-owned rows take the team: rows of another team are
simply not found.

A service is given only the area(s) it works with (``ledger.steps``, ``ledger.tenancy``…);
``Ledger`` itself is what the composition root opens and closes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from pagemill.ports.ledger.batches import BatchRunLedger, CollectionLedger
from pagemill.ports.ledger.catalog import PipelineCatalog, VersionedStore
from pagemill.ports.ledger.executions import ExecutionLedger
from pagemill.ports.ledger.files import FileLedger
from pagemill.ports.ledger.idempotency import IdempotencyLedger
from pagemill.ports.ledger.invitations import InvitationLedger
from pagemill.ports.ledger.retention import RetentionLedger
from pagemill.ports.ledger.secrets import SecretsLedger
from pagemill.ports.ledger.steps import StepLedger
from pagemill.ports.ledger.storage import StorageLedger
from pagemill.ports.ledger.tenancy import TenancyLedger
from pagemill.ports.ledger.uploads import UploadLedger
from pagemill.ports.ledger.webhooks import WebhookLedger
from pagemill.ports.ledger.workflows import WorkflowLedger


class Ledger(ABC):
    """The areas of one ledger, all over the same database, and its lifecycle."""

    steps: StepLedger
    executions: ExecutionLedger
    pipelines: PipelineCatalog
    custom_processors: VersionedStore
    extraction_schemas: VersionedStore
    eval_rubrics: VersionedStore
    tenancy: TenancyLedger
    webhooks: WebhookLedger
    files: FileLedger
    idempotency: IdempotencyLedger
    uploads: UploadLedger
    invitations: InvitationLedger
    retention: RetentionLedger
    storage: StorageLedger
    secrets: SecretsLedger
    workflows: WorkflowLedger
    collections: CollectionLedger
    batch_runs: BatchRunLedger

    @abstractmethod
    async def ping(self) -> None:
        """Raise ``ServiceUnavailable`` when the store cannot be reached."""

    @abstractmethod
    async def close(self) -> None: ...


__all__ = [
    "BatchRunLedger",
    "CollectionLedger",
    "ExecutionLedger",
    "FileLedger",
    "IdempotencyLedger",
    "InvitationLedger",
    "Ledger",
    "PipelineCatalog",
    "RetentionLedger",
    "SecretsLedger",
    "StepLedger",
    "StorageLedger",
    "TenancyLedger",
    "UploadLedger",
    "VersionedStore",
    "WebhookLedger",
    "WorkflowLedger",
]
