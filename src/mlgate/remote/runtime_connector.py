"""A connector ready to call: credential decrypted, client config parsed, actions prepared, secrets
compiled into their mask — everything a predict needs that is the same for every request, worked out
once at deploy (remote/executor.py runs the calls)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate.domain.batch import BATCH_PREDICT, BATCH_PREDICT_STATUS, CANCEL_BATCH_PREDICT, derive_action
from mlgate.domain.connector import ConnectorAction
from mlgate.domain.errors import InvalidRequestError, MlgateError
from mlgate.domain.secret_mask import NO_SECRETS, SecretMask
from mlgate.domain.template import (
    CREDENTIAL_PREFIX,
    PARAMETERS_PREFIX,
    Template,
    compile_template,
    render_headers,
    substitute,
)
from mlgate.remote.client_config import ClientConfig
from mlgate.remote.mtls import tls_identity
from mlgate.remote.sigv4 import SigV4Params, sigv4_parameters

_CONTENT_TYPE = "Content-Type"
_JSON = "application/json"


@dataclass(frozen=True)
class PreparedAction:
    """What rendering an action needs that is the same for every request, worked out at deploy.

    ``headers`` holds the rendered, checked headers when no header depends on a request parameter
    (None otherwise: they are rendered per request, and any error is raised there).
    """

    action: ConnectorAction
    template: Template | None
    headers: Mapping[str, str] | None


def prepare_action(action: ConnectorAction, credential: Mapping[str, str]) -> PreparedAction:
    """Compile ``action``'s request body and, when they are static, render its headers."""
    template = compile_template(action.request_body) if action.request_body is not None else None
    raw = action.headers or {}
    with_credentials = [
        substitute(value, credential, CREDENTIAL_PREFIX) for value in raw.values() if value is not None
    ]
    headers: dict[str, str] | None = None
    if not any(PARAMETERS_PREFIX in value for value in with_credentials):
        try:
            headers = with_content_type(render_headers(raw, {}, credential))
        except InvalidRequestError:
            headers = None
    return PreparedAction(action, template, headers)


def with_content_type(headers: dict[str, str]) -> dict[str, str]:
    if not any(k.lower() == "content-type" for k in headers):
        headers[_CONTENT_TYPE] = _JSON
    return headers


@dataclass(frozen=True)
class RuntimeConnector:
    """A connector ready to call: credential decrypted, config parsed, actions prepared."""

    key: str
    protocol: str
    parameters: Mapping[str, str]
    actions: Mapping[str, ConnectorAction]
    credential: Mapping[str, str]
    client_config: ClientConfig
    sigv4: SigV4Params | None = None
    # Every written form of the credential values, for errors and dry-run output (domain/secret_mask.py).
    mask: SecretMask = NO_SECRETS
    prepared: Mapping[str, PreparedAction] = field(default_factory=dict)
    # Digest of the mutual-TLS certificate material ("" without mTLS): the client pool's key part.
    tls_identity: str = ""

    def prepared_for(self, action: ConnectorAction) -> PreparedAction | None:
        """The deploy-time preparation of ``action`` (None for an action that is not this connector's)."""
        prepared = self.prepared.get(action.action_type)
        return prepared if prepared is not None and prepared.action is action else None


def build_runtime_connector(
    key: str, source: Mapping[str, Any], credential: Mapping[str, str], actions: list[ConnectorAction]
) -> RuntimeConnector:
    """Prepare a connector document for execution (first action of each type wins)."""
    by_type: dict[str, ConnectorAction] = {}
    for action in actions:
        by_type.setdefault(action.action_type, action)
    protocol = str(source.get("protocol", "http"))
    parameters = dict(source.get("parameters") or {})
    batch = by_type.get(BATCH_PREDICT)
    if batch is not None:
        # Batch status and cancel may be left out for the providers ML Commons knows
        # (ml-commons: ml-algorithms/.../algorithms/remote/ConnectorUtils.java, createConnectorAction).
        for action_type in (BATCH_PREDICT_STATUS, CANCEL_BATCH_PREDICT):
            derived = None if action_type in by_type else derive_action(batch, parameters, action_type)
            if derived is not None:
                by_type[action_type] = derived
    sigv4 = sigv4_parameters(credential, parameters) if protocol == "aws_sigv4" else None
    client_config = ClientConfig.for_connector(source.get("client_config"))
    return RuntimeConnector(
        key=key,
        protocol=protocol,
        parameters=parameters,
        actions=by_type,
        credential=dict(credential),
        client_config=client_config,
        sigv4=sigv4,
        mask=SecretMask(credential.values()),
        prepared={kind: prepare_action(action, credential) for kind, action in by_type.items()},
        tls_identity=tls_identity(credential) if client_config.mutual_tls_enabled else "",
    )


def mask_error(error: MlgateError, mask: SecretMask) -> None:
    """Mask every form of the credential in ``error``'s reason and cause."""
    masked = mask.mask(error.message)
    if masked != error.message:
        error.message = masked
        error.args = (masked,)
    if error.caused_by is not None:
        error.caused_by = (error.caused_by[0], mask.mask(error.caused_by[1]))


def masked(value: Any, mask: SecretMask) -> Any:
    if isinstance(value, str):
        return mask.mask(value)
    if isinstance(value, dict):
        return {masked(k, mask): masked(v, mask) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, mask) for v in value]
    return value
