"""Composition root: the only place that picks concrete backends and wires everything together."""

from __future__ import annotations

import contextlib
import os
import platform
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from mlgate.api.app import MlgateApp
from mlgate.config import Config
from mlgate.domain import model as model_domain
from mlgate.domain import model_group as group_domain
from mlgate.domain.batch import BATCH_PREDICTION
from mlgate.domain.egress import EgressPolicy
from mlgate.domain.memory_budget import InFlightBudget
from mlgate.domain.node import NodeInfo
from mlgate.domain.settings import ClusterSettings
from mlgate.remote.client import ClientPool
from mlgate.remote.executor import ConnectorExecutor
from mlgate.remote.forward import NodeForwarder
from mlgate.remote.resolver import GuardedResolver
from mlgate.remote.scripting import ScriptRunner
from mlgate.remote.secrets import CredentialCipher, load_master_key
from mlgate.services import security_setup
from mlgate.services.access import AccessPolicy, ModelAccess
from mlgate.services.batch import BatchService
from mlgate.services.changes import ChangeHub, Subscriptions, publish_only
from mlgate.services.cluster import Background, ChangeFollower, NodeAuth, NodeRegistry, every
from mlgate.services.connectors import ConnectorService
from mlgate.services.container import Services
from mlgate.services.controllers import ControllerService
from mlgate.services.deployment import DeploymentService
from mlgate.services.doc_cache import DocumentCache
from mlgate.services.dryrun import DryRunService
from mlgate.services.environment import Environment, new_document_id
from mlgate.services.events import (
    ConnectorChanged,
    DeployOrdered,
    DeployReported,
    ModelChanged,
    ModelGroupChanged,
    SecurityChanged,
    SettingsChanged,
    Undeployed,
)
from mlgate.services.model_groups import ModelGroupService
from mlgate.services.model_loader import ModelLoader
from mlgate.services.model_writes import ModelWrites
from mlgate.services.models import ModelService
from mlgate.services.predict import PredictService
from mlgate.services.runtime import ModelRuntime
from mlgate.services.runtime_builder import RuntimeBuilder
from mlgate.services.security import SecurityService
from mlgate.services.security_patch import SecurityPatchService
from mlgate.services.security_setup import PasswordHasher
from mlgate.services.settings import SettingsService
from mlgate.services.stats import PredictStats, StatsService
from mlgate.services.tasks import Refresher, TaskService
from mlgate.storage.postgres import PostgresStore
from mlgate.storage.sqlite import SqliteStore
from mlgate.storage.store import Store

NODE_FILE = "node.json"
ADMIN_PASSWORD_FILE = "initial-admin-password"
SQLITE_FILE = "mlgate.sqlite3"


@dataclass
class Node:
    """A running mlgate node: the app plus what must be started and stopped with it."""

    app: MlgateApp
    services: Services
    store: Store
    pool: ClientPool
    scripts: ScriptRunner
    admin_password_file: Path | None = None
    follower: ChangeFollower | None = None
    forwarder: NodeForwarder | None = None
    # Set by start() on the very first start when no admin password was given; shown once by the CLI.
    generated_admin_password: str | None = None
    background: Background = field(default_factory=Background)

    async def start(self) -> None:
        """Join the cluster, load settings and security (creating ``admin`` at first start), restore
        models, then follow changes and heartbeat in the background."""
        await self.store.open()
        nodes = self.services.nodes
        await nodes.refresh()
        alone = not [n for n in nodes.live() if n.node_id != nodes.me.node_id]
        await nodes.beat()
        # Transient settings do not survive a full cluster restart: the first node to come up clears them.
        await self.services.settings.load(reset_transient=alone)
        generated = await self.services.security.start()
        if generated is not None and self.admin_password_file is not None:
            _write_private(self.admin_password_file, generated + "\n")
            self.generated_admin_password = generated
        if self.follower is not None:
            await self.follower.start()
            self.background.spawn(self.follower.run(), "change-follower")
        await self.services.deployment.restore()
        self.background.spawn(every(nodes.interval_s, self._tick, "heartbeat"), "heartbeat")

    async def _tick(self) -> None:
        await self.services.nodes.beat()
        await self.services.deployment.reap()

    async def stop(self) -> None:
        """Stop the background loops, leave the cluster, close pools and storage."""
        await self.background.stop()
        if self.forwarder is not None:
            await self.forwarder.close()
        await self.store.remove_node(self.services.nodes.me.node_id)
        await self.pool.close_all()
        self.scripts.close()
        await self.store.close()


def _node_identity(config: Config) -> tuple[str, str]:
    """This node's id, stable across restarts: kept in its own data directory, never in shared state.

    Processes of one node (``--workers``) share the data directory and so the id.
    """
    path = config.data_dir / NODE_FILE
    if path.exists():
        identity = orjson.loads(path.read_bytes())
    else:
        identity = {"id": new_document_id()[:22], "name": config.node_name or platform.node() or "mlgate"}
        config.data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(identity))
        os.replace(tmp, path)
    return str(identity["id"]), config.node_name or str(identity["name"])


def _write_private(path: Path, text: str) -> None:
    # Created with mode 0600 from the start: the file never exists with wider permissions.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def _store_for(config: Config) -> Store:
    """PostgreSQL when a store URL is configured (several nodes), else SQLite in the data directory."""
    if config.store_url:
        return PostgresStore(config.store_url)
    return SqliteStore(config.data_dir / SQLITE_FILE)


@contextlib.asynccontextmanager
async def _offline_store(config: Config) -> AsyncIterator[Store]:
    # For `mlgate security ...`, running server or not: writes go through the store and are announced
    # on its change feed, which every node follows.
    if config.store_url is None and not (config.data_dir / SQLITE_FILE).exists():
        raise FileNotFoundError(f"no mlgate data in {config.data_dir} (give --data-dir, or --store)")
    store = _store_for(config)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def reset_admin_password(config: Config, password: str) -> bool:
    """``mlgate security reset-admin-password``; True when ``admin`` had to be created."""
    async with _offline_store(config) as store:
        return await security_setup.reset_admin_password(
            store, PasswordHasher(), ChangeHub(store, publish_only), password
        )


async def reset_role_mappings(config: Config) -> tuple[str, ...]:
    """``mlgate security reset-role-mappings``; the roles whose mappings were reset."""
    async with _offline_store(config) as store:
        return await security_setup.reset_role_mappings(store, ChangeHub(store, publish_only))


def write_admin_password_file(config: Config, password: str | None) -> Path | None:
    """Keep ``initial-admin-password`` true after a reset: rewrite it with a generated password, delete
    it when the password was chosen by hand. Returns the file when it was touched."""
    path = config.data_dir / ADMIN_PASSWORD_FILE
    if not path.exists():
        return None
    if password is None:
        path.unlink()
    else:
        _write_private(path, password + "\n")
    return path


def _follower(store: Store, hub: ChangeHub, config: Config) -> ChangeFollower:
    follower = ChangeFollower(store, hub)
    if config.store_url is None and config.workers == 1:
        follower.only_writer()
    return follower


async def build_node(
    config: Config,
    *,
    environment: Environment | None = None,
    security_clock: Callable[[], float] = time.monotonic,
    bcrypt_rounds: int = 12,
) -> Node:
    """Build a node from its config; the store is opened here to read the stable node id.

    ``security_clock`` and ``bcrypt_rounds`` exist for tests (throttling without sleeps, fast hashes).
    """
    store = _store_for(config)
    await store.open()
    if environment is None:
        node_id, node_name = _node_identity(config)
        environment = Environment(node_id=node_id, node_name=node_name)
    master_key = load_master_key(config.data_dir, config.master_key)
    cipher = CredentialCipher(master_key)

    def subscriptions() -> Subscriptions:
        # Every change event and who follows it, in one table. The handlers are services built below
        # (they publish through the hub too), so the hub reads this table when it first applies a change.
        return {
            SettingsChanged: (lambda _: settings.load(),),
            SecurityChanged: (security.security_changed,),
            ConnectorChanged: (lambda e: loader.connector_changed(e.connector_id),),
            ModelChanged: (lambda e: loader.model_changed(e.model_id),),
            ModelGroupChanged: (lambda e: model_access.group_changed(e.group_id),),
            Undeployed: (lambda e: loader.undeployed(e.model_id),),
            DeployOrdered: (deployment.deploy_ordered,),
            DeployReported: (deployment.deploy_reported,),
        }

    def task_refreshers() -> Mapping[str, Refresher]:
        # A batch task is refreshed from its provider on GET (the batch service is built below).
        return {BATCH_PREDICTION: batch.refresh}

    hub = ChangeHub(store, subscriptions)
    settings = SettingsService(store, hub)
    access = AccessPolicy(settings)
    groups_cache = DocumentCache(store, group_domain.INDEX)
    models_cache = DocumentCache(store, model_domain.INDEX)
    runtime = ModelRuntime()
    scripts = ScriptRunner()

    # One policy object per settings snapshot: the resolver reuses egress verdicts while it is the same.
    policies: list[tuple[ClusterSettings, EgressPolicy]] = []

    def egress_policy() -> EgressPolicy:
        current = settings.current
        if policies and policies[0][0] is current:
            return policies[0][1]
        policy = EgressPolicy(
            trusted_endpoints=current.strings("trusted_connector_endpoints_regex"),
            private_ip_enabled=current.flag("connector.private_ip_enabled"),
            private_endpoint_patterns=current.strings("trusted_connector_private_endpoints_regex"),
            restricted_ip_patterns=current.strings("connector.restricted_ip_patterns"),
        )
        policies[:] = [(current, policy)]
        return policy

    resolver = GuardedResolver(egress_policy)
    pool = ClientPool(resolver)
    budget = InFlightBudget(config.max_in_flight_bytes)
    executor = ConnectorExecutor(
        pool,
        scripts,
        lambda: int(settings.current.number("max_json_size")),
        resolver,
        budget=budget,
        max_reply_bytes=config.max_reply_bytes,
    )
    tasks = TaskService(store, environment, task_refreshers)
    me = NodeInfo(
        node_id=environment.node_id,
        name=environment.node_name,
        roles=config.roles,
        url=config.public_url,
        last_seen_ms=environment.now_ms(),
    )
    registry = NodeRegistry(
        store,
        environment,
        me,
        runtime.ids,
        interval_s=config.heartbeat_interval_s,
        expiry_ms=config.heartbeat_expiry_ms,
    )
    connectors = ConnectorService(store, environment, settings, access, cipher, scripts, runtime.ids, hub)
    model_access = ModelAccess(access, groups_cache)
    writes = ModelWrites(store, environment, models_cache)
    builder = RuntimeBuilder(store, cipher)
    loader = ModelLoader(store, environment, settings, registry, runtime, pool, builder, writes, hub)
    deployment = DeploymentService(
        store, environment, settings, model_access, connectors, tasks, loader, writes, hub, registry
    )
    groups = ModelGroupService(store, environment, access, hub)
    models = ModelService(
        store, environment, access, groups, connectors, tasks, deployment, model_access, cipher, hub
    )
    predict_stats = PredictStats()
    forwarder = NodeForwarder(master_key)
    predict = PredictService(
        models_cache,
        settings,
        connectors,
        model_access,
        loader,
        deployment,
        runtime,
        executor,
        predict_stats,
        registry,
        forwarder,
        environment.cpu,
    )

    hasher = PasswordHasher(bcrypt_rounds)
    security = SecurityService(
        store,
        enabled=config.security,
        clock=security_clock,
        hasher=hasher,
        initial_admin_password=config.initial_admin_password,
        hub=hub,
    )
    batch = BatchService(
        store, environment, settings, connectors, model_access, builder, runtime, executor, predict
    )
    services = Services(
        env=environment,
        settings=settings,
        access=access,
        model_groups=groups,
        connectors=connectors,
        models=models,
        controllers=ControllerService(store, settings, model_access, writes, hub),
        deployment=deployment,
        tasks=tasks,
        predict=predict,
        security=security,
        security_patch=SecurityPatchService(store, hasher, hub),
        dryrun=DryRunService(store, connectors, model_access, builder, runtime, executor),
        stats=StatsService(store, environment, runtime, predict_stats, registry, forwarder),
        batch=batch,
        nodes=registry,
        node_auth=NodeAuth(master_key),
    )
    return Node(
        app=MlgateApp(
            services,
            max_body_bytes=config.max_body_bytes,
            trusted_proxies=config.trusted_proxies,
            budget=budget,
        ),
        services=services,
        store=store,
        pool=pool,
        scripts=scripts,
        admin_password_file=config.data_dir / ADMIN_PASSWORD_FILE,
        follower=_follower(store, hub, config),
        forwarder=forwarder,
    )
