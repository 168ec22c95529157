"""Turning a published connector into one that runs against the mock: URLs, credentials, placeholders.

Only what a user must change before creating a blueprint is changed: the provider host (now the mock
on loopback; path and query kept), placeholder credentials (AWS keys the mock verifies SigV4 with),
an unfilled region, a URL left as a "your endpoint here" placeholder, and placeholder names. Every
template, parameter, header and processing function is kept as published.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from tests.conformance.corpus import Blueprint

AWS_ACCESS_KEY = "AKIDCONFORMANCE"
AWS_SECRET_KEY = "conformance/secret+key/0123456789abcdef"
AWS_CREDENTIALS = {AWS_ACCESS_KEY: AWS_SECRET_KEY}
SESSION_TOKEN = "conformance-session-token"
SAFE_NAME = "Conformance connector"
SAFE_DESCRIPTION = "Published blueprint replayed by the conformance runner"
REGION = "us-east-1"

# scheme://authority, where the authority may itself be made of ${parameters.x} placeholders.
_ORIGIN = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
# Placeholders a user fills in by hand ({{endpoint_name}}), as opposed to ML Commons templates.
_MUSTACHE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
# A user-supplied endpoint published as prose ("<PLEASE ADD ... URL>", "your_sagemaker_..._endpoint").
_PLACEHOLDER_URL_PATHS = {
    "sagemaker": "/endpoints/conformance-endpoint/invocations",
}
_AWS_REGION_IN_HOST = re.compile(r"://[a-z0-9.-]*?\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com")
_UNRESOLVABLE = re.compile(r"\$\{parameters\.\s+[^}]*\}")


_URL_PARAMETER = re.compile(r"\$\{parameters\.([^}:]+)")
_UNSAFE_IN_URL = re.compile(r"[<>{}\s]")


def _is_placeholder(value: str) -> bool:
    return bool(_UNSAFE_IN_URL.search(value)) or value.lower().startswith("your")


def _fill_url_parameters(connector: dict[str, Any]) -> None:
    """Placeholder values of parameters used in a URL (``<YOUR DEPLOYMENT NAME>``) get a real-looking one.

    ML Commons cannot build a URI from them either; the user is told to fill them in.
    """
    parameters = connector.get("parameters")
    if not isinstance(parameters, dict):
        return
    for action in connector.get("actions") or []:
        for key in _URL_PARAMETER.findall(str(action.get("url") or "")):
            value = parameters.get(key)
            if isinstance(value, str) and _is_placeholder(value):
                parameters[key] = (
                    REGION if key == "region" else "conformance-" + re.sub(r"[^a-z0-9]+", "-", key.lower())
                )


def rewrite_url(url: str, base: str, provider: str) -> str:
    """``url`` aimed at ``base`` (the mock's ``http://127.0.0.1:port``), path and query kept.

    An authority holding a placeholder that never resolves (``${parameters. endpoint}``) stays in the
    host, so that the published defect still fails the trusted-endpoint check.
    """
    url = _MUSTACHE.sub(lambda m: f"conformance-{m.group(1).replace('_', '-')}", url)
    origin = _ORIGIN.match(url)
    if origin is None:
        # Not a URL at all: the blueprint tells the user to paste their endpoint here.
        return base + _PLACEHOLDER_URL_PATHS.get(provider, "/")
    broken = _UNRESOLVABLE.search(origin.group(0))
    host = base if broken is None else base.replace("://", f"://{broken.group(0)}.", 1)
    return host + url[origin.end() :]


def _credential(connector: dict[str, Any]) -> dict[str, Any]:
    published = dict(connector.get("credential") or {})
    if connector.get("protocol") == "aws_sigv4":
        if "access_key" in published and "secret_key" in published:
            published["access_key"] = AWS_ACCESS_KEY
            published["secret_key"] = AWS_SECRET_KEY
            if "session_token" in published:
                published["session_token"] = SESSION_TOKEN
        # roleArn-only and misspelt keys are left as published: ML Commons refuses them.
        return published
    return {
        key: f"conformance-{key}-value" if isinstance(value, str) else value
        for key, value in published.items()
    }


def lacks_region(connector: dict[str, Any]) -> bool:
    """An ``aws_sigv4`` connector with no ``region`` anywhere: ML Commons refuses it ("Missing region")."""
    if connector.get("protocol") != "aws_sigv4":
        return False
    return not any("region" in (connector.get(key) or {}) for key in ("parameters", "credential"))


def _region_from_urls(connector: dict[str, Any]) -> str:
    for action in connector.get("actions") or []:
        match = _AWS_REGION_IN_HOST.search(str(action.get("url") or ""))
        if match:
            return match.group(1)
    return REGION


def prepare_connector(
    blueprint: Blueprint, base: str, *, safe_names: bool, add_region: bool = True
) -> dict[str, Any]:
    """The blueprint's connector pointed at the mock.

    ``safe_names`` replaces placeholder names/descriptions; ``add_region`` gives a connector without a
    region the one its URL names (both are refused by ML Commons as published).
    """
    connector = copy.deepcopy(blueprint.connector)
    if add_region and lacks_region(connector):
        connector.setdefault("parameters", {})["region"] = _region_from_urls(connector)
    for action in connector.get("actions") or []:
        if isinstance(action.get("url"), str):
            action["url"] = rewrite_url(action["url"], base, blueprint.provider)
    if "credential" in connector:
        connector["credential"] = _credential(connector)
    _fill_url_parameters(connector)
    parameters = connector.get("parameters")
    if isinstance(parameters, dict):
        region = parameters.get("region")
        if isinstance(region, str) and _is_placeholder(region):
            parameters["region"] = REGION  # SigV4 signs with it even when the URL does not use it
    if safe_names:
        for key, safe in (("name", SAFE_NAME), ("description", SAFE_DESCRIPTION)):
            value = connector.get(key)
            if isinstance(value, str) and "<" in value:
                connector[key] = safe
    return connector


def register_body(
    blueprint: Blueprint, connector: dict[str, Any], connector_id: str | None
) -> dict[str, Any]:
    """The ``models/_register`` body: the published one when there is one, else the docs' minimal body."""
    if blueprint.register_request is not None:
        body = copy.deepcopy(blueprint.register_request)
    else:
        body = {"name": blueprint.name, "function_name": "remote", "description": "conformance"}
    # The published group id names a group of the author's cluster; ML Commons makes one when absent.
    body.pop("model_group_id", None)
    if "connector" in body or connector_id is None:
        body["connector"] = connector
        body.pop("connector_id", None)
    else:
        body["connector_id"] = connector_id
    return body
