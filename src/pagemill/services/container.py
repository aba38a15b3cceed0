"""The services an entry point talks to, assembled by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from pagemill.ports.ledger import Ledger
from pagemill.services.custom_processors import CustomProcessorService
from pagemill.services.engine import StepEngine
from pagemill.services.executions import ExecutionService
from pagemill.services.keys import KeyService
from pagemill.services.operations import OperationsService
from pagemill.services.pipelines import PipelineService


@dataclass(frozen=True, slots=True)
class Services:
    keys: KeyService
    pipelines: PipelineService
    custom_processors: CustomProcessorService
    executions: ExecutionService
    engine: StepEngine
    operations: OperationsService
    ledger: Ledger  # for readiness checks only
