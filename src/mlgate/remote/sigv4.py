"""AWS Signature Version 4 for ``aws_sigv4`` connectors, computed by botocore.

ml-commons: ml-algorithms/.../algorithms/remote/ConnectorUtils.java (signRequest); signing name and region:
common/.../connector/AwsConnector.java.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from mlgate.domain.errors import InvalidRequestError

CONTENT_SHA256 = "x-amz-content-sha256"


@dataclass(frozen=True)
class SigV4Params:
    """What a SigV4 signature needs: the key pair, optional session token, region and service."""

    access_key: str
    secret_key: str
    session_token: str | None
    region: str
    service: str

    def __repr__(self) -> str:
        # Keep secrets out of logs and tracebacks.
        return f"SigV4Params(access_key=***, region={self.region!r}, service={self.service!r})"


def sigv4_parameters(credential: Mapping[str, str], parameters: Mapping[str, str | None]) -> SigV4Params:
    """Pick the signing parameters of a connector.

    Keys come from the decrypted ``credential``; ``region`` and ``service_name`` from the connector
    ``parameters`` first, then the credential. Raises InvalidRequestError ``"Missing credential"``,
    ``"Missing service name"`` or ``"Missing region"`` as ML Commons does.
    """
    access_key = credential.get("access_key")
    secret_key = credential.get("secret_key")
    if not access_key or not secret_key:
        raise InvalidRequestError("Missing credential")
    service = parameters.get("service_name") or credential.get("service_name")
    if not service:
        raise InvalidRequestError("Missing service name")
    region = parameters.get("region") or credential.get("region")
    if not region:
        raise InvalidRequestError("Missing region")
    return SigV4Params(access_key, secret_key, credential.get("session_token") or None, region, service)


class _SigV4AtInstant(SigV4Auth):  # type: ignore[misc]
    """botocore's SigV4 with the signing instant given instead of read from the clock.

    Every step of the algorithm is botocore's; only the timestamp source differs, so signatures are
    reproducible in tests.
    """

    def __init__(self, credentials: Credentials, service: str, region: str, instant: datetime.datetime):
        super().__init__(credentials, service, region)
        self._instant = instant

    def add_auth(self, request: AWSRequest) -> None:
        request.context["timestamp"] = self._instant.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical_request = self.canonical_request(request)
        string_to_sign = self.string_to_sign(request, canonical_request)
        self._inject_signature_to_request(request, self.signature(string_to_sign, request))


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    params: SigV4Params,
    *,
    now: datetime.datetime | None = None,
) -> dict[str, str]:
    """Return the headers to send: ``headers`` plus Authorization, X-Amz-Date and X-Amz-Security-Token.

    A caller-supplied ``x-amz-content-sha256`` header (blueprints set it to ``required``) is replaced by
    the hex SHA-256 of ``body`` before signing. ``now`` (UTC) fixes the signing time; default: the clock.
    """
    to_sign = {
        name: (hashlib.sha256(body or b"").hexdigest() if name.lower() == CONTENT_SHA256 else value)
        for name, value in headers.items()
    }
    request = AWSRequest(method=method.upper(), url=url, data=body or b"", headers=to_sign)
    instant = now or datetime.datetime.now(datetime.UTC)
    credentials = Credentials(params.access_key, params.secret_key, params.session_token)
    _SigV4AtInstant(credentials, params.service, params.region, instant).add_auth(request)
    return dict(request.headers.items())
