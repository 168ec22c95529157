"""Independent SigV4 verification: recompute the signature with botocore and compare.

The request is rebuilt from what arrived on the wire — method, raw path and query, the headers named
in ``SignedHeaders`` and the body — with the client's ``X-Amz-Date``, then botocore's own SigV4 code
computes the signature the real service would expect.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
MISSING_TOKEN = "Missing Authentication Token"
UNKNOWN_KEY = "The security token included in the request is invalid."
CONTENT_SHA256_MISMATCH = "The provided 'x-amz-content-sha256' header does not match what was computed."
UNSIGNED_PAYLOADS = ("UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-f]+)\s*$"
)


class SignatureRejected(Exception):
    """The request's SigV4 signature is missing or wrong; ``status``/``error_type`` mirror AWS."""

    def __init__(self, message: str, *, status: int = 403, error_type: str) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_type = error_type


@dataclass(frozen=True, slots=True)
class WireRequest:
    """A request as received: what SigV4 covers."""

    method: str
    host: str
    raw_path: str  # path and query exactly as sent, still percent-encoded
    headers: Iterable[tuple[str, str]]
    body: bytes


def is_signed(headers: Mapping[str, str]) -> bool:
    """True when the request carries an AWS SigV4 ``Authorization`` header."""
    return headers.get("Authorization", "").startswith(ALGORITHM)


def verify(request: WireRequest, secrets: Mapping[str, str]) -> None:
    """Raise :class:`SignatureRejected` unless ``request`` is correctly signed by a key in ``secrets``."""
    headers = list(request.headers)
    lowered = {name.lower(): value for name, value in headers}
    match = _AUTHORIZATION.match(lowered.get("authorization", ""))
    if match is None:
        raise SignatureRejected(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.",
            error_type="IncompleteSignatureException",
        )
    try:
        access_key, date, region, service, terminator = match["credential"].split("/")
    except ValueError:
        raise SignatureRejected(
            "Credential should be scoped to a valid region, service and date.",
            error_type="IncompleteSignatureException",
        ) from None
    secret = secrets.get(access_key)
    if secret is None:
        raise SignatureRejected(UNKNOWN_KEY, error_type="UnrecognizedClientException")
    amz_date = lowered.get("x-amz-date")
    if amz_date is None or terminator != "aws4_request" or not amz_date.startswith(date):
        raise SignatureRejected(SIGNATURE_MISMATCH, error_type="InvalidSignatureException")

    content_sha256 = lowered.get("x-amz-content-sha256")
    if (
        content_sha256 is not None
        and content_sha256 not in UNSIGNED_PAYLOADS
        and not hmac.compare_digest(content_sha256, hashlib.sha256(request.body).hexdigest())
    ):
        raise SignatureRejected(CONTENT_SHA256_MISMATCH, error_type="InvalidSignatureException")

    signed_names = set(match["signed"].split(";"))
    aws_request = AWSRequest(
        method=request.method, url=f"http://{request.host}{request.raw_path}", data=request.body
    )
    for name, value in headers:
        if name.lower() in signed_names:
            # HTTPHeaders appends on assignment, so a repeated header keeps all of its values.
            aws_request.headers[name] = value
    aws_request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(access_key, secret), service, region)
    canonical_request = signer.canonical_request(aws_request)
    if signer.signed_headers(signer.headers_to_sign(aws_request)) != match["signed"]:
        raise SignatureRejected(SIGNATURE_MISMATCH, error_type="InvalidSignatureException")
    expected = signer.signature(signer.string_to_sign(aws_request, canonical_request), aws_request)
    if not hmac.compare_digest(expected, match["signature"]):
        raise SignatureRejected(SIGNATURE_MISMATCH, error_type="InvalidSignatureException")


def missing_signature() -> SignatureRejected:
    """What AWS answers to an unsigned request."""
    return SignatureRejected(MISSING_TOKEN, error_type="MissingAuthenticationTokenException")
