"""Connectors: parsing and validating create/update input, the stored document, update merge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.fields import (
    opt_bool,
    opt_object,
    opt_str,
    opt_str_list,
    parse_error,
    string_map,
    validate_safe_fields,
)
from mlgate.domain.records import INT, LIST, OBJECT, STR, STR_TUPLE, Kind, join, split

INDEX = ".plugins-ml-connector"

PROTOCOLS = ("aws_sigv4", "http", "mcp_sse", "mcp_streamable_http")
MCP_PROTOCOLS = ("mcp_sse", "mcp_streamable_http")
ACTION_TYPES = ("PREDICT", "EXECUTE", "BATCH_PREDICT", "CANCEL_BATCH_PREDICT", "BATCH_PREDICT_STATUS")
ACCESS_MODES = ("public", "private", "restricted")
_ACTION_FIELDS = (
    "action_type",
    "method",
    "url",
    "headers",
    "request_body",
    "pre_process_function",
    "post_process_function",
    "name",
    "supports_structured_output",
)


@dataclass(frozen=True)
class ConnectorAction:
    """One action of a connector, as stored (action_type upper case)."""

    action_type: str
    method: str
    url: str
    headers: Mapping[str, str] | None = None
    request_body: str | None = None
    pre_process_function: str | None = None
    post_process_function: str | None = None
    name: str | None = None
    supports_structured_output: bool = False

    def to_json(self) -> dict[str, Any]:
        """The wire/stored shape (fields omitted when null)."""
        out: dict[str, Any] = {"action_type": self.action_type, "method": self.method, "url": self.url}
        for key in ("headers", "request_body", "pre_process_function", "post_process_function", "name"):
            value = getattr(self, key)
            if value is not None:
                out[key] = dict(value) if key == "headers" else value
        if self.supports_structured_output:
            out["supports_structured_output"] = True
        return out


def parse_action(raw: Any) -> ConnectorAction:
    """Parse one action object with ML Commons' messages."""
    if not isinstance(raw, dict):
        raise parse_error("[actions] must be an array of objects")
    action_type = opt_str(raw, "action_type")
    if action_type is None:
        raise InvalidRequestError("action type can't be null")
    upper = action_type.upper()
    if upper not in ACTION_TYPES:
        raise InvalidRequestError(
            f"No enum constant org.opensearch.ml.common.connector.ConnectorAction.ActionType.{upper}"
        )
    method = opt_str(raw, "method")
    if method is None:
        raise InvalidRequestError("method can't be null")
    url = opt_str(raw, "url")
    if url is None:
        raise InvalidRequestError("url can't be null")
    headers = opt_object(raw, "headers")
    name = opt_str(raw, "name")
    if name is not None:
        _validate_action_name(name)
    return ConnectorAction(
        action_type=upper,
        method=method,
        url=url,
        headers=string_map(headers) if headers is not None else None,
        request_body=opt_str(raw, "request_body"),
        pre_process_function=opt_str(raw, "pre_process_function"),
        post_process_function=opt_str(raw, "post_process_function"),
        name=name,
        supports_structured_output=bool(opt_bool(raw, "supports_structured_output")),
    )


def _validate_action_name(name: str) -> None:
    if name.upper() in ACTION_TYPES:
        raise InvalidRequestError(f"name can't be one of action type [{', '.join(ACTION_TYPES)}]")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise InvalidRequestError("Action name must not contain control characters")
    if len(name) > 64:
        raise InvalidRequestError("Action name exceeds maximum length of 64 characters")
    if not all(c.isascii() and (c.isalnum() or c in "_-") for c in name):
        raise InvalidRequestError(
            "Action name contains invalid characters. Only alphanumeric characters, hyphens, "
            "and underscores are allowed"
        )


@dataclass(frozen=True)
class ConnectorInput:
    """A parsed create/update/inline connector body (credential still in clear)."""

    name: str | None = None
    description: str | None = None
    version: str | None = None
    protocol: str | None = None
    parameters: dict[str, str] | None = None
    credential: dict[str, str] | None = None
    actions: list[ConnectorAction] | None = None
    client_config: dict[str, Any] | None = None
    backend_roles: list[str] | None = None
    add_all_backend_roles: bool | None = None
    access_mode: str | None = None
    dry_run: bool = False
    url: str | None = None
    headers: dict[str, str] | None = None
    present: frozenset[str] = field(default_factory=frozenset)

    @property
    def has_access_params(self) -> bool:
        """Whether any access-control parameter was given (refused when access control is off)."""
        return bool(self.access_mode or self.add_all_backend_roles or self.backend_roles)


def parse_connector_input(body: Mapping[str, Any]) -> ConnectorInput:
    """Parse the fields of a connector body without applying create-time requirements."""
    actions_raw = body.get("actions")
    actions = None
    if actions_raw is not None:
        if not isinstance(actions_raw, list):
            raise parse_error("[actions] must be an array")
        actions = [parse_action(a) for a in actions_raw]
    parameters = opt_object(body, "parameters")
    credential = opt_object(body, "credential")
    headers = opt_object(body, "headers")
    access_mode = opt_str(body, "access_mode")
    # ML Commons parses access_mode case-sensitively; an unknown value silently counts as "not given".
    if access_mode not in ACCESS_MODES:
        access_mode = None
    return ConnectorInput(
        name=opt_str(body, "name"),
        description=opt_str(body, "description"),
        version=opt_str(body, "version"),
        protocol=opt_str(body, "protocol"),
        parameters=string_map(parameters) if parameters is not None else None,
        credential=string_map(credential) if credential is not None else None,
        actions=actions,
        client_config=opt_object(body, "client_config"),
        backend_roles=opt_str_list(body, "backend_roles"),
        add_all_backend_roles=opt_bool(body, "add_all_backend_roles"),
        access_mode=access_mode,
        dry_run=bool(opt_bool(body, "dry_run")),
        url=opt_str(body, "url"),
        headers=string_map(headers) if headers is not None else None,
        present=frozenset(k for k, v in body.items() if v is not None),
    )


def validate_create(inp: ConnectorInput) -> None:
    """Create-time requirements, in ML Commons' order (name → version → protocol → credential …)."""
    if inp.dry_run:
        return
    if inp.name is None:
        raise InvalidRequestError("Connector name is null")
    if inp.version is None:
        raise InvalidRequestError("Connector version is null")
    if inp.protocol is None:
        raise InvalidRequestError("Connector protocol is null")
    is_mcp = inp.protocol in MCP_PROTOCOLS
    if not inp.credential and not is_mcp:
        raise InvalidRequestError("Connector credential is null or empty list")
    if is_mcp and not (inp.url and inp.url.strip()):
        raise InvalidRequestError("MCP Connector url is null or blank")
    validate_protocol(inp.protocol)
    validate_safe_fields(
        [("Model connector name", inp.name, True), ("Model connector description", inp.description, False)]
    )


def validate_safe_update(inp: ConnectorInput) -> None:
    """Names and descriptions given in an update must be safe text (3.1+)."""
    validate_safe_fields(
        [("Model connector name", inp.name, False), ("Model connector description", inp.description, False)]
    )


def validate_protocol(protocol: str | None) -> None:
    """The protocol must be one ML Commons knows."""
    if protocol is None:
        raise InvalidRequestError(f"Connector protocol is null. Please use one of [{', '.join(PROTOCOLS)}]")
    if protocol not in PROTOCOLS:
        raise InvalidRequestError(
            f"Unsupported connector protocol. Please use one of [{', '.join(PROTOCOLS)}]"
        )


def validate_aws_credential(
    protocol: str | None, credential: Mapping[str, str] | None, parameters: Mapping[str, str] | None
) -> None:
    """aws_sigv4 needs keys, a service name and a region (credential or parameters)."""
    if protocol != "aws_sigv4":
        return
    credential = credential or {}
    parameters = parameters or {}
    if not credential.get("access_key") or not credential.get("secret_key"):
        raise InvalidRequestError("Missing credential")
    if not (parameters.get("service_name") or credential.get("service_name")):
        raise InvalidRequestError("Missing service name")
    if not (parameters.get("region") or credential.get("region")):
        raise InvalidRequestError("Missing region")


def find_action(actions: list[ConnectorAction] | None, action_type: str) -> ConnectorAction | None:
    """The first action of the given type (ML Commons uses only the first)."""
    for action in actions or ():
        if action.action_type == action_type:
            return action
    return None


def document_fields(inp: ConnectorInput) -> dict[str, Any]:
    """The stored/returned fields of a new connector (credential handled by the caller)."""
    doc: dict[str, Any] = {}
    for key in ("name", "description", "version", "protocol"):
        value = getattr(inp, key)
        if value is not None:
            doc[key] = value
    if inp.parameters is not None:
        doc["parameters"] = inp.parameters
    if inp.actions is not None:
        doc["actions"] = [a.to_json() for a in inp.actions]
    if inp.url is not None:
        doc["url"] = inp.url
    if inp.headers is not None:
        doc["headers"] = inp.headers
    return doc


def merge_update(stored: Mapping[str, Any], inp: ConnectorInput) -> dict[str, Any]:
    """ML Commons' update merge: scalars replaced, parameters merged key-wise, actions replaced."""
    doc = dict(stored)
    for key in ("name", "description", "version", "protocol", "url"):
        value = getattr(inp, key)
        if value is not None:
            doc[key] = value
    if inp.parameters:
        merged = dict(doc.get("parameters") or {})
        merged.update(inp.parameters)
        doc["parameters"] = merged
    if inp.actions is not None:
        doc["actions"] = [a.to_json() for a in inp.actions]
    if inp.headers is not None:
        doc["headers"] = inp.headers
    if inp.access_mode is not None:
        doc["access"] = inp.access_mode
    if inp.backend_roles is not None:
        doc["backend_roles"] = inp.backend_roles
    return doc


def actions_of(doc: Mapping[str, Any]) -> list[ConnectorAction]:
    """Actions of a stored connector document."""
    return [parse_action(a) for a in doc.get("actions") or ()]


_KINDS: dict[str, Kind] = {
    "name": STR,
    "description": STR,
    "version": STR,
    "protocol": STR,
    "parameters": OBJECT,
    "actions": LIST,
    "client_config": OBJECT,
    "credential": OBJECT,
    "backend_roles": STR_TUPLE,
    "owner": OBJECT,
    "access": STR,
    "created_time": INT,
    "last_updated_time": INT,
}


@dataclass(frozen=True, slots=True)
class Connector:
    """A stored standalone connector (or a model's inline one); ``credential`` is still encrypted.

    ml-commons: common/.../connector/AbstractConnector.java.
    """

    name: str | None = None
    description: str | None = None
    version: str | None = None
    protocol: str | None = None
    parameters: dict[str, Any] | None = None
    actions: list[Any] | None = None
    client_config: dict[str, Any] | None = None
    credential: dict[str, Any] | None = None
    backend_roles: tuple[str, ...] | None = None
    owner: dict[str, Any] | None = None
    access: str | None = None
    created_time: int | None = None
    last_updated_time: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    order: tuple[str, ...] = ()

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Connector:
        """The record of a stored document (nothing in it is lost)."""
        typed, extra, order = split(doc, _KINDS)
        return cls(**typed, extra=extra, order=order)

    def to_doc(self) -> dict[str, Any]:
        """The stored document, keys in their stored order."""
        return join({key: getattr(self, key) for key in _KINDS}, self.extra, self.order, _KINDS)

    @property
    def parsed_actions(self) -> list[ConnectorAction]:
        """The actions, parsed."""
        return [parse_action(a) for a in self.actions or ()]
