"""Egress rules: regex validation, trusted endpoints, URL parsing, address classes and verdicts."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgate.domain.egress import (
    DEFAULT_TRUSTED_ENDPOINTS,
    NOT_CONFIGURED,
    NOT_TRUSTED,
    NOT_TRUSTED_PRIVATE,
    URI_ERROR,
    AddressClass,
    Destination,
    EgressPolicy,
    check_addresses,
    check_trusted_endpoint,
    classify_address,
    enforce,
    explain,
    match_trusted_endpoint,
    parse_destination,
    validate_endpoint_regex,
)
from mlgate.domain.errors import InvalidRequestError

LOCAL = r"^https?://.*$"


# --- regex validation (MLCommonsSettings) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (
            "^(a+)+$",
            "Regex pattern contains nested quantifiers or backreferences that may cause ReDoS: ^(a+)+$",
        ),
        ("(a*)*", "Regex pattern contains nested quantifiers or backreferences that may cause ReDoS: (a*)*"),
        (
            "(ab?){2,}",
            "Regex pattern contains nested quantifiers or backreferences that may cause ReDoS: (ab?){2,}",
        ),
        (
            r"(a)\1",
            r"Regex pattern contains nested quantifiers or backreferences that may cause ReDoS: (a)\1",
        ),
        ("a" * 257, "Regex pattern too long (max 256 chars): " + "a" * 257),
        ("^https://(unclosed", "Invalid regex pattern: ^https://(unclosed"),
        ("[z-a]", "Invalid regex pattern: [z-a]"),
    ],
)
def test_unsafe_or_invalid_regex_is_refused(pattern: str, message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        validate_endpoint_regex(pattern)
    assert caught.value.message == message


@pytest.mark.parametrize("pattern", [*DEFAULT_TRUSTED_ENDPOINTS, "a" * 256, r"^10\.0\.0\.\d+$"])
def test_safe_regex_passes(pattern: str) -> None:
    validate_endpoint_regex(pattern)


def test_redos_check_runs_before_length_check() -> None:
    pattern = "(a+)+" + "b" * 300
    with pytest.raises(InvalidRequestError, match="ReDoS"):
        validate_endpoint_regex(pattern)


# --- trusted endpoints (Connector.validateConnectorURL) ---------------------------------------------


def test_default_list_is_the_head_list() -> None:
    assert len(DEFAULT_TRUSTED_ENDPOINTS) == 12
    assert DEFAULT_TRUSTED_ENDPOINTS[0] == r"^https://runtime\.sagemaker\..*[a-z0-9-]\.amazonaws\.com/.*$"
    assert DEFAULT_TRUSTED_ENDPOINTS[-1] == r"^https://rekognition(-fips)?\..*[a-z0-9-]\.amazonaws\.com$"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.openai.com/v1/chat/completions", r"^https://api\.openai\.com/.*$"),
        ("https://api.cohere.ai/v1/embed", r"^https://api\.cohere\.ai/.*$"),
        (
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.titan-embed-text-v1/invoke",
            r"^https://bedrock-runtime\..*[a-z0-9-]\.amazonaws\.com/.*$",
        ),
        (
            "https://runtime.sagemaker.eu-west-1.amazonaws.com/endpoints/x/invocations",
            r"^https://runtime\.sagemaker\..*[a-z0-9-]\.amazonaws\.com/.*$",
        ),
        ("https://textract.us-east-1.amazonaws.com", r"^https://textract\..*[a-z0-9-]\.amazonaws\.com$"),
        (
            "https://rekognition-fips.us-east-1.amazonaws.com",
            r"^https://rekognition(-fips)?\..*[a-z0-9-]\.amazonaws\.com$",
        ),
        # Full-match semantics: a trusted prefix or suffix is not enough.
        ("http://api.openai.com/v1/chat", None),
        ("https://api.openai.com", None),
        ("https://evil.example/https://api.openai.com/", None),
        ("https://api.openai.com.evil.example/v1", None),
        ("https://textract.us-east-1.amazonaws.com/extra", None),
        ("https://api.openai.com/v1\n", None),
    ],
)
def test_trusted_matching_is_a_full_match(url: str, expected: str | None) -> None:
    assert match_trusted_endpoint(url, DEFAULT_TRUSTED_ENDPOINTS) == expected


def test_check_trusted_endpoint_messages() -> None:
    with pytest.raises(InvalidRequestError) as none_configured:
        check_trusted_endpoint("https://api.openai.com/v1", [])
    assert none_configured.value.message == NOT_CONFIGURED
    assert NOT_CONFIGURED == (
        "Trusted connector endpoints regex is not configured. "
        "Please set plugins.ml_commons.trusted_connector_endpoints_regex."
    )
    with pytest.raises(InvalidRequestError) as mismatch:
        check_trusted_endpoint("https://example.com/v1", DEFAULT_TRUSTED_ENDPOINTS)
    assert mismatch.value.message == "Connector URL is not matching the trusted connector endpoint regex"
    assert check_trusted_endpoint("https://api.deepseek.com/chat", list(DEFAULT_TRUSTED_ENDPOINTS)) == (
        r"^https://api\.deepseek\.com/.*$"
    )


def test_an_invalid_stored_pattern_is_reported_not_crashed_on() -> None:
    with pytest.raises(InvalidRequestError, match=r"Invalid regex pattern: \(oops"):
        match_trusted_endpoint("https://x/", ["(oops"])


# --- URL parsing (ConnectorUtils.buildSdkRequest, MLValidatableAsyncHttpClient) ---------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.openai.com/v1/x", Destination("https", "api.openai.com", 443)),
        ("http://API.Example.com/x", Destination("http", "api.example.com", 80)),
        ("HTTP://example.com:8080", Destination("http", "example.com", 8080)),
        ("http://127.0.0.1:9/x?q=1#f", Destination("http", "127.0.0.1", 9)),
        ("http://[::1]:8443/x", Destination("http", "::1", 8443)),
        ("http://[0:0:0:0:0:ffff:7f00:1]/", Destination("http", "::ffff:7f00:1", 80)),
        ("https://example.com:/x", Destination("https", "example.com", 443)),
        ("http://example.com.:81", Destination("http", "example.com.", 81)),
        ("http://0.0.0.0/", Destination("http", "0.0.0.0", 80)),
        ("http://host-1.example/x%20y", Destination("http", "host-1.example", 80)),
    ],
)
def test_parse_destination(url: str, expected: Destination) -> None:
    assert parse_destination(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "api.openai.com/v1",
        "https:///v1",
        "https://",
        "https://exa mple.com/",
        "https://example.com/${parameters.x}",
        "https://example.com/a b",
        "https://example.com/%zz",
        "https://under_score.example/",
        "https://-bad.example/",
        "https://a..b/",
        "https://[::1/",
        "https://[nope]/",
        "https://example.com:80a/",
        "https://example.com:\u00b2/",
        "https://ex\u00e4mple.com/",
        "://example.com",
    ],
)
def test_unparseable_urls_get_the_ml_commons_uri_error(url: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_destination(url)
    assert caught.value.message == URI_ERROR


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/", "Protocol is not http or https: ftp"),
        ("FILE://example.com/etc/passwd", "Protocol is not http or https: file"),
        ("http://example.com:65536/", "Port out of range: 65536"),
        ("http://example.com:99999999/", "Port out of range: 99999999"),
    ],
)
def test_scheme_and_port_errors(url: str, message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_destination(url)
    assert caught.value.message == message


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",
        "0177.0.0.1",
        "0x7f.0.0.1",
        "0x7f000001",
        "127.1",
        "127.0.1",
        "10.0.0.010",
        "1.2.3.4.5",
        "example.0x10",
        "example.123",
        "127.0.0.1.",
        "256.0.0.1",
    ],
)
def test_obfuscated_ipv4_hosts_are_refused(host: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_destination(f"http://{host}/x")
    assert caught.value.message.startswith(
        f"Connector URL host is not a canonical dotted-decimal IPv4 address: {host}."
    )


@pytest.mark.parametrize(
    "url",
    ["https://api.openai.com@evil.example/v1", "https://user:secret@example.com/", "http://@example.com/"],
)
def test_user_information_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_destination(url)
    assert caught.value.message == "Connector URL must not contain user information (user:password@host)"


# --- address classes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("8.8.8.8", AddressClass.PUBLIC),
        ("2606:4700::1111", AddressClass.PUBLIC),
        ("127.0.0.1", AddressClass.LOOPBACK),
        ("127.255.0.9", AddressClass.LOOPBACK),
        ("10.1.2.3", AddressClass.PRIVATE),
        ("172.16.0.1", AddressClass.PRIVATE),
        ("172.31.255.255", AddressClass.PRIVATE),
        ("172.32.0.1", AddressClass.PUBLIC),
        ("172.15.255.255", AddressClass.PUBLIC),
        ("192.168.1.1", AddressClass.PRIVATE),
        ("169.254.1.1", AddressClass.LINK_LOCAL),
        ("169.254.169.254", AddressClass.METADATA),
        ("fd00:ec2::254", AddressClass.METADATA),
        ("100.100.100.200", AddressClass.METADATA),
        ("0.0.0.0", AddressClass.UNSPECIFIED),
        ("0.1.2.3", AddressClass.UNSPECIFIED),
        ("::", AddressClass.UNSPECIFIED),
        ("::1", AddressClass.LOOPBACK),
        ("fec0::1", AddressClass.SITE_LOCAL),
        ("feff::1", AddressClass.SITE_LOCAL),
        ("fe80::1", AddressClass.LINK_LOCAL),
        ("fe80::1%eth0", AddressClass.LINK_LOCAL),
        ("fd12:3456::1", AddressClass.UNIQUE_LOCAL),
        ("::ffff:127.0.0.1", AddressClass.LOOPBACK),
        ("::ffff:169.254.169.254", AddressClass.METADATA),
        ("::ffff:10.0.0.1", AddressClass.PRIVATE),
        ("::ffff:8.8.8.8", AddressClass.PUBLIC),
        ("100.64.0.1", AddressClass.SHARED),
        ("224.0.0.1", AddressClass.MULTICAST),
        ("ff02::1", AddressClass.MULTICAST),
        ("255.255.255.255", AddressClass.RESERVED),
    ],
)
def test_classify_address(ip: str, expected: AddressClass) -> None:
    assert classify_address(ip) is expected


def test_classify_rejects_non_addresses() -> None:
    with pytest.raises(ValueError):
        classify_address("localhost")


# --- address rules (MLValidatableAsyncHttpClient.validate) ------------------------------------------

PRIVATE_ADDRESSES = [
    "127.0.0.1",
    "10.0.0.1",
    "172.20.1.1",
    "192.168.0.10",
    "169.254.0.5",
    "169.254.169.254",
    "fd00:ec2::254",
    "0.0.0.0",
    "::1",
    "::",
    "fec0::5",
    "fe80::1",
    "fc00::1",
    "::ffff:127.0.0.1",
    "::ffff:192.168.0.1",
]


@pytest.mark.parametrize("ip", PRIVATE_ADDRESSES)
def test_private_addresses_are_refused_unless_enabled(ip: str) -> None:
    url = "https://model.example/v1"
    refused = explain(url, [ip], EgressPolicy((LOCAL,)))
    assert not refused.allowed
    assert refused.private
    assert refused.reason == "Remote inference host name has private ip address: model.example"
    with pytest.raises(InvalidRequestError) as caught:
        enforce(refused)
    assert caught.value.message == refused.reason

    allowed = explain(url, [ip], EgressPolicy((LOCAL,), private_ip_enabled=True))
    assert allowed.allowed
    assert allowed.reason is None
    enforce(allowed)


@pytest.mark.parametrize("ip", ["8.8.8.8", "2606:4700::1111", "172.32.0.1", "100.64.0.1", "::ffff:1.1.1.1"])
def test_public_addresses_pass(ip: str) -> None:
    verdict = explain("https://model.example/v1", [ip], EgressPolicy((LOCAL,)))
    assert verdict == verdict.__class__(
        url="https://model.example/v1",
        destination=Destination("https", "model.example", 443),
        trusted_pattern=LOCAL,
        addresses=(ip,),
        private=False,
        allowed=True,
        reason=None,
    )


def test_one_private_address_among_public_ones_refuses() -> None:
    verdict = explain("https://model.example/", ["8.8.8.8", "10.0.0.1"], EgressPolicy((LOCAL,)))
    assert not verdict.allowed
    assert verdict.reason == "Remote inference host name has private ip address: model.example"


def test_no_addresses_is_refused() -> None:
    verdict = explain("https://model.example/", [], EgressPolicy((LOCAL,)))
    assert not verdict.allowed
    assert verdict.reason == "Remote inference host name has no ip address: model.example"


@pytest.mark.parametrize(
    ("pattern", "ip"),
    [
        (r"8\.8\.8\.8", "8.8.8.8"),
        (r"8\.8\..*", "::ffff:8.8.4.4"),
        (r"2606:4700::1111", "2606:4700::1111"),
        (r"2606:4700:0:0:0:0:0:1111", "2606:4700::1111"),
    ],
)
def test_restricted_ip_patterns_refuse_even_with_private_enabled(pattern: str, ip: str) -> None:
    policy = EgressPolicy((LOCAL,), private_ip_enabled=True, restricted_ip_patterns=(pattern,))
    verdict = explain("http://model.example:8080/x", [ip], policy)
    assert not verdict.allowed
    assert verdict.reason == "Remote inference host name has restricted ip address: model.example"


def test_restricted_patterns_are_full_matches() -> None:
    policy = EgressPolicy((LOCAL,), restricted_ip_patterns=(r"8\.8\.8",))
    assert explain("http://model.example/", ["8.8.8.8"], policy).allowed


def test_restricted_is_checked_before_private() -> None:
    policy = EgressPolicy((LOCAL,), restricted_ip_patterns=(r"10\..*",))
    verdict = explain("http://model.example/", ["10.0.0.1"], policy)
    assert verdict.reason == "Remote inference host name has restricted ip address: model.example"


def test_private_endpoint_patterns_gate_private_destinations() -> None:
    policy = EgressPolicy(
        (LOCAL,), private_ip_enabled=True, private_endpoint_patterns=(r"^http://internal\.example/.*$",)
    )
    matching = explain("http://internal.example/v1", ["10.0.0.1"], policy)
    assert matching.allowed
    assert matching.private
    other = explain("http://other.example/v1", ["10.0.0.1"], policy)
    assert not other.allowed
    assert other.reason == NOT_TRUSTED_PRIVATE
    assert NOT_TRUSTED_PRIVATE == "Connector URL is not matching the trusted connector private endpoint regex"
    # Public destinations do not need to match the private list.
    assert explain("http://other.example/v1", ["8.8.8.8"], policy).allowed


def test_private_endpoint_patterns_do_not_bypass_the_private_switch() -> None:
    policy = EgressPolicy((LOCAL,), private_endpoint_patterns=(LOCAL,))
    verdict = explain("http://internal.example/v1", ["10.0.0.1"], policy)
    assert verdict.reason == "Remote inference host name has private ip address: internal.example"


def test_explain_reports_trust_and_parse_failures_in_ml_commons_order() -> None:
    untrusted = explain("ftp://x.example/", ["8.8.8.8"], EgressPolicy(DEFAULT_TRUSTED_ENDPOINTS))
    assert (untrusted.allowed, untrusted.reason, untrusted.destination) == (False, NOT_TRUSTED, None)
    unconfigured = explain("https://api.openai.com/v1", ["8.8.8.8"], EgressPolicy(()))
    assert unconfigured.reason == NOT_CONFIGURED
    bad_scheme = explain("ftp://x.example/", ["8.8.8.8"], EgressPolicy((r"^ftp://.*$",)))
    assert bad_scheme.reason == "Protocol is not http or https: ftp"
    assert bad_scheme.trusted_pattern == r"^ftp://.*$"
    obfuscated = explain("http://2130706433/", [], EgressPolicy((LOCAL,), private_ip_enabled=True))
    assert not obfuscated.allowed
    assert obfuscated.reason is not None
    assert obfuscated.reason.startswith("Connector URL host is not a canonical")


def test_check_addresses_keeps_the_given_trusted_pattern() -> None:
    dest = Destination("http", "10.0.0.1", 80)
    verdict = check_addresses(
        "http://10.0.0.1/", dest, ["10.0.0.1"], EgressPolicy((), True), trusted_pattern="p"
    )
    assert (verdict.allowed, verdict.private, verdict.trusted_pattern) == (True, True, "p")


# --- properties -------------------------------------------------------------------------------------


@given(st.ip_addresses(v=4))
def test_ipv4_mapped_ipv6_is_judged_as_its_ipv4(address: ipaddress.IPv4Address) -> None:
    mapped = str(ipaddress.IPv6Address(f"::ffff:{address}"))
    assert classify_address(mapped) is classify_address(str(address))


@given(st.text(max_size=80))
def test_parse_destination_fails_only_with_request_errors(url: str) -> None:
    try:
        dest = parse_destination(url)
    except InvalidRequestError as error:
        assert error.message
    else:
        assert dest.scheme in ("http", "https")
        assert 0 <= dest.port <= 65535
        assert dest.host


@given(
    st.from_regex(r"https?://[a-z0-9.\[\]:@%-]{0,30}(/[a-z0-9%]{0,10})?", fullmatch=True),
    st.lists(st.ip_addresses().map(str), max_size=3),
)
def test_explain_never_raises_for_a_policy_no(url: str, addresses: list[str]) -> None:
    verdict = explain(url, addresses, EgressPolicy((LOCAL,), restricted_ip_patterns=(r"1\..*",)))
    assert verdict.allowed == (verdict.reason is None)
