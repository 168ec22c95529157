"""The use cases the API layer may call, built once in bootstrap."""

from __future__ import annotations

from dataclasses import dataclass

from mlgate.domain.telemetry import Telemetry
from mlgate.services.access import AccessPolicy
from mlgate.services.batch import BatchService
from mlgate.services.cluster import NodeAuth, NodeRegistry
from mlgate.services.connectors import ConnectorService
from mlgate.services.controllers import ControllerService
from mlgate.services.deployment import DeploymentService
from mlgate.services.dryrun import DryRunService
from mlgate.services.environment import Environment
from mlgate.services.housekeeping import Housekeeping
from mlgate.services.metrics import MetricsService
from mlgate.services.model_groups import ModelGroupService
from mlgate.services.models import ModelService
from mlgate.services.predict import PredictService
from mlgate.services.security import SecurityService
from mlgate.services.security_patch import SecurityPatchService
from mlgate.services.settings import SettingsService
from mlgate.services.stats import StatsService
from mlgate.services.tasks import TaskService


@dataclass(frozen=True)
class Services:
    """Everything a handler can reach."""

    env: Environment
    settings: SettingsService
    access: AccessPolicy
    model_groups: ModelGroupService
    connectors: ConnectorService
    models: ModelService
    controllers: ControllerService
    deployment: DeploymentService
    tasks: TaskService
    predict: PredictService
    security: SecurityService
    security_patch: SecurityPatchService
    dryrun: DryRunService
    stats: StatsService
    batch: BatchService
    nodes: NodeRegistry
    node_auth: NodeAuth
    housekeeping: Housekeeping
    telemetry: Telemetry
    metrics: MetricsService
