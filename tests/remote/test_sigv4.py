"""SigV4: the published AWS example, equality with botocore's own signing, signing name and region rules.

ml-commons: ConnectorUtils (signRequest), AwsConnector.
"""

from __future__ import annotations

import datetime
import hashlib

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from mlgate.domain.errors import InvalidRequestError
from mlgate.remote.sigv4 import SigV4Params, sign_request, sigv4_parameters

EXAMPLE = SigV4Params(
    access_key="AKIDEXAMPLE",
    secret_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    session_token=None,
    region="us-east-1",
    service="iam",
)


def test_matches_the_published_aws_example() -> None:
    # The "GET IAM ListUsers" example of the AWS Signature Version 4 documentation.
    headers = sign_request(
        "GET",
        "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        None,
        EXAMPLE,
        now=datetime.datetime(2015, 8, 30, 12, 36, 0, tzinfo=datetime.UTC),
    )
    assert headers["X-Amz-Date"] == "20150830T123600Z"
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    )
    assert headers["Content-Type"] == "application/x-www-form-urlencoded; charset=utf-8"
    assert "X-Amz-Security-Token" not in headers


def botocore_signed(
    method: str, url: str, headers: dict[str, str], body: bytes, params: SigV4Params
) -> dict[str, str]:
    """Sign with plain botocore at the current time."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    credentials = Credentials(params.access_key, params.secret_key, params.session_token)
    SigV4Auth(credentials, params.service, params.region).add_auth(request)
    return dict(request.headers.items())


def at(amz_date: str) -> datetime.datetime:
    return datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)


token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
header_value = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20
)


@settings(max_examples=60, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    path=st.lists(token, max_size=3),
    query=st.dictionaries(token, token, max_size=3),
    headers=st.dictionaries(token.map(lambda t: "x-h-" + t), header_value, max_size=3),
    body=st.binary(max_size=64),
    session_token=st.none() | token,
    region=st.sampled_from(["us-east-1", "eu-west-3", "ap-southeast-2"]),
    service=st.sampled_from(["bedrock", "sagemaker", "es"]),
)
def test_equals_botocore_signing(
    method: str,
    path: list[str],
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    session_token: str | None,
    region: str,
    service: str,
) -> None:
    params = SigV4Params("AKIDEXAMPLE", "secret/key+value", session_token, region, service)
    qs = "&".join(f"{k}={v}" for k, v in sorted(query.items()))
    url = f"https://{service}.{region}.amazonaws.com/{'/'.join(path)}" + (f"?{qs}" if qs else "")
    headers = {"Content-Type": "application/json", **headers}
    expected = botocore_signed(method, url, headers, body, params)
    ours = sign_request(method, url, headers, body, params, now=at(expected["X-Amz-Date"]))
    assert ours == expected


def test_content_sha256_placeholder_is_replaced_by_the_body_hash() -> None:
    body = b'{"inputText": "hello"}'
    params = SigV4Params("AKID", "secret", "session-token", "us-east-1", "bedrock")
    url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.titan-embed-text-v1/invoke"
    headers = {"content-type": "application/json", "x-amz-content-sha256": "required"}
    signed = sign_request("POST", url, headers, body, params)
    digest = hashlib.sha256(body).hexdigest()
    assert signed["x-amz-content-sha256"] == digest
    assert signed["X-Amz-Security-Token"] == "session-token"
    assert "x-amz-content-sha256" in signed["Authorization"]
    assert "x-amz-security-token" in signed["Authorization"]
    reference = botocore_signed("POST", url, {**headers, "x-amz-content-sha256": digest}, body, params)
    assert sign_request("POST", url, headers, body, params, now=at(reference["X-Amz-Date"])) == reference


def test_empty_body_hashes_as_empty() -> None:
    signed = sign_request(
        "GET", "https://es.us-east-1.amazonaws.com/", {"X-Amz-Content-SHA256": "x"}, None, EXAMPLE
    )
    assert signed["X-Amz-Content-SHA256"] == hashlib.sha256(b"").hexdigest()


def test_parameters_take_region_and_service_before_the_credential() -> None:
    credential = {
        "access_key": "AK",
        "secret_key": "SK",
        "session_token": "ST",
        "region": "eu-west-1",
        "service_name": "sagemaker",
    }
    assert sigv4_parameters(credential, {"region": "us-west-2", "service_name": "bedrock"}) == SigV4Params(
        "AK", "SK", "ST", "us-west-2", "bedrock"
    )
    assert sigv4_parameters(credential, {"region": None}) == SigV4Params(
        "AK", "SK", "ST", "eu-west-1", "sagemaker"
    )
    bare = {"access_key": "AK", "secret_key": "SK"}
    assert sigv4_parameters(bare, {"region": "r", "service_name": "s"}).session_token is None


@pytest.mark.parametrize(
    ("credential", "parameters", "message"),
    [
        ({"secret_key": "SK"}, {"region": "r", "service_name": "s"}, "Missing credential"),
        ({"access_key": "AK"}, {"region": "r", "service_name": "s"}, "Missing credential"),
        ({"access_key": "AK", "secret_key": "SK"}, {"region": "r"}, "Missing service name"),
        ({"access_key": "AK", "secret_key": "SK", "service_name": "s"}, {}, "Missing region"),
    ],
)
def test_missing_signing_inputs(
    credential: dict[str, str], parameters: dict[str, str | None], message: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        sigv4_parameters(credential, parameters)
    assert caught.value.message == message


def test_repr_hides_the_keys() -> None:
    text = repr(SigV4Params("AKIDSECRETID", "topsecret", "tok", "us-east-1", "bedrock"))
    assert "topsecret" not in text
    assert "AKIDSECRETID" not in text
    assert "tok" not in text
