"""Where a connector may send requests: trusted-endpoint regexes and private-address rules.

ml-commons: common/.../connector/Connector.java (validateConnectorURL),
ml-algorithms/.../algorithms/remote/ConnectorUtils.java (buildSdkRequest),
common/.../httpclient/MLValidatableAsyncHttpClient.java (validate).

Pure rules over strings and already-resolved IP addresses; DNS happens in ``mlgate.remote.resolver``.
The order of checks follows ML Commons: the URL must fully match a trusted-endpoint regex, then
parse as an http(s) URI, then every resolved address is checked against the restricted-IP patterns, the
private-IP switch and the trusted-private-endpoint regexes.

mlgate is stricter than ML Commons in four documented ways:

* obfuscated IPv4 hosts are refused outright (``2130706433``, ``0177.0.0.1``, ``0x7f.0.0.1``,
  ``127.1``): C resolvers accept these forms, so they must never reach one;
* an IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) is judged as the IPv4 address it carries;
* cloud metadata addresses and IPv6 link-local (fe80::/10) and unique-local (fc00::/7) addresses are
  private (ML Commons only flags IPv6 loopback, unspecified and site-local);
* ports above 65535 are out of range (ML Commons lets 65536 through to fail at connect time);
* user information in the URL (``https://api.example.com@attacker.example/``) is refused: it defeats
  prefix-style trusted regexes, and credentials belong in ``${credential.*}`` headers.

The regexes are matched in linear time (``domain/linear_regex.py``), so a pattern that passes ML Commons'
ReDoS heuristic but needs backtracking (a lookahead, say) is refused when the setting is written.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mlgate.domain.errors import InvalidRequestError
from mlgate.domain.linear_regex import LinearRegex, RegexError, compile_regex

DEFAULT_TRUSTED_ENDPOINTS: tuple[str, ...] = (
    r"^https://runtime\.sagemaker\..*[a-z0-9-]\.amazonaws\.com/.*$",
    r"^https://api\.sagemaker\..*[a-z0-9-]\.amazonaws\.com/.*$",
    r"^https://api\.openai\.com/.*$",
    r"^https://api\.cohere\.ai/.*$",
    r"^https://api\.deepseek\.com/.*$",
    r"^https://generativelanguage\.googleapis\.com/.*$",
    r"^https://bedrock-runtime\..*[a-z0-9-]\.amazonaws\.com/.*$",
    r"^https://bedrock-agent-runtime\..*[a-z0-9-]\.amazonaws\.com/.*$",
    r"^https://bedrock\..*[a-z0-9-]\.amazonaws\.com/.*$",
    r"^https://textract\..*[a-z0-9-]\.amazonaws\.com$",
    r"^https://comprehend\..*[a-z0-9-]\.amazonaws\.com$",
    r"^https://rekognition(-fips)?\..*[a-z0-9-]\.amazonaws\.com$",
)

NOT_CONFIGURED = (
    "Trusted connector endpoints regex is not configured. "
    "Please set plugins.ml_commons.trusted_connector_endpoints_regex."
)
NOT_TRUSTED = "Connector URL is not matching the trusted connector endpoint regex"
NOT_TRUSTED_PRIVATE = "Connector URL is not matching the trusted connector private endpoint regex"
URI_ERROR = (
    "Encountered error when trying to create uri from endpoint in ml connector. "
    "Please update the endpoint in connection configuration: "
)

MAX_REGEX_LENGTH = 256
MAX_HOST_LABEL_LENGTH = 63
MAX_HOST_NAME_LENGTH = 253

# The ML Commons 3.7+ ReDoS heuristics, applied to the pattern text with whole-string semantics; they run
# before the length check, so they must be linear themselves (backtracking, the first is quadratic).
_NESTED_QUANTIFIER = compile_regex(r".*\([^)]*[*+?]\)[*+?{].*")
_BACKREFERENCE = compile_regex(r".*\\[1-9].*")

# Characters java.net.URI refuses anywhere in a URI, plus whitespace and controls.
_ILLEGAL_URI_CHARS = re.compile(r'[\x00-\x20\x7f"<>\\^`{|}]|%(?![0-9A-Fa-f]{2})')
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\.?")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")
_CANONICAL_OCTET = re.compile(r"0|[1-9][0-9]{0,2}")


def validate_endpoint_regex(pattern: str) -> None:
    """Refuse a regex for the endpoint/IP settings as ML Commons 3.7+ does.

    Raises InvalidRequestError for nested quantifiers or backreferences (a ReDoS heuristic), for
    patterns longer than 256 characters, and for patterns that cannot be matched in linear time
    (``domain/linear_regex.py``: lookaround, say, named in the message) or do not compile.
    """
    if _NESTED_QUANTIFIER.fullmatch(pattern) or _BACKREFERENCE.fullmatch(pattern):
        raise InvalidRequestError(
            f"Regex pattern contains nested quantifiers or backreferences that may cause ReDoS: {pattern}"
        )
    if len(pattern) > MAX_REGEX_LENGTH:
        raise InvalidRequestError(f"Regex pattern too long (max 256 chars): {pattern}")
    _compile(pattern)


def _compile(pattern: str) -> LinearRegex:
    try:
        return compile_regex(pattern)
    except RegexError as error:
        # ML Commons' message; what mlgate alone refuses says why.
        reason = f"; {error.reason}" if error.unsupported else ""
        raise InvalidRequestError(f"Invalid regex pattern: {pattern}{reason}") from None


@functools.lru_cache(maxsize=64)
def _compile_all(patterns: tuple[str, ...]) -> tuple[LinearRegex, ...]:
    # Settings change rarely and this runs on every predict, so each list is compiled once.
    return tuple(_compile(pattern) for pattern in patterns)


def _first_full_match(text: str, patterns: Sequence[str]) -> str | None:
    for regex in _compile_all(tuple(patterns)):
        if regex.fullmatch(text):
            return regex.source
    return None


def match_trusted_endpoint(url: str, patterns: Sequence[str]) -> str | None:
    """Return the first pattern that matches the whole URL (Java ``Matcher.matches()``), else None."""
    return _first_full_match(url, patterns)


def check_trusted_endpoint(url: str, patterns: Sequence[str]) -> str:
    """Return the trusted pattern matching ``url``.

    Raises InvalidRequestError when no pattern is configured or none matches the whole URL.
    """
    if not patterns:
        raise InvalidRequestError(NOT_CONFIGURED)
    matched = match_trusted_endpoint(url, patterns)
    if matched is None:
        raise InvalidRequestError(NOT_TRUSTED)
    return matched


@dataclass(frozen=True)
class Destination:
    """Where a request goes: lower-case scheme, host (IPv6 without brackets) and effective port."""

    scheme: str
    host: str
    port: int


USERINFO_REFUSED = "Connector URL must not contain user information (user:password@host)"


def _split_host_port(authority: str) -> tuple[str, str]:
    if "@" in authority:
        raise InvalidRequestError(USERINFO_REFUSED)
    if authority.startswith("["):
        host, bracket, rest = authority[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise InvalidRequestError(URI_ERROR)
        return host, rest[1:]
    host, _, port = authority.partition(":")
    return host, port


def _is_canonical_ipv4(host: str) -> bool:
    octets = host.split(".")
    return len(octets) == 4 and all(_CANONICAL_OCTET.fullmatch(o) and int(o) <= 255 for o in octets)


def _check_host_lengths(host: str) -> None:
    # DNS limits (RFC 1035): java.net.URI accepts longer names, but no resolver can look them up.
    name = host.rstrip(".")
    if len(name) > MAX_HOST_NAME_LENGTH:
        raise InvalidRequestError(
            f"Invalid host in connector URL: the host name is longer than {MAX_HOST_NAME_LENGTH} characters"
        )
    for label in name.split("."):
        if len(label) > MAX_HOST_LABEL_LENGTH:
            raise InvalidRequestError(
                f"Invalid host in connector URL: the label [{label}] is longer than "
                f"{MAX_HOST_LABEL_LENGTH} characters"
            )


def _check_host(host: str, bracketed: bool) -> str:
    if bracketed:
        try:
            return str(ipaddress.IPv6Address(host))
        except ValueError:
            raise InvalidRequestError(URI_ERROR) from None
    host = host.lower()
    if not _HOST_NAME.fullmatch(host) or ".." in host:
        raise InvalidRequestError(URI_ERROR)
    _check_host_lengths(host)
    # A numeric last label makes resolvers read the whole host as an IPv4 address (inet_aton rules).
    last_label = host.rstrip(".").rpartition(".")[2]
    if _NUMERIC_LABEL.fullmatch(last_label) and not _is_canonical_ipv4(host):
        raise InvalidRequestError(
            f"Connector URL host is not a canonical dotted-decimal IPv4 address: {host}. "
            "Decimal, octal, hexadecimal and shortened IPv4 forms are refused."
        )
    return host


def parse_destination(url: str) -> Destination:
    """Parse a connector URL into its destination, with ML Commons' error texts.

    Raises InvalidRequestError: ML Commons' URI error when the URL is not a valid absolute URI with
    a host, ``"Protocol is not http or https: <p>"``, ``"Port out of range: <n>"``, and the
    mlgate-specific refusals of obfuscated IPv4 hosts and of user information (module docstring).
    """
    if _ILLEGAL_URI_CHARS.search(url):
        raise InvalidRequestError(URI_ERROR)
    scheme, sep, rest = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        raise InvalidRequestError(URI_ERROR)
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    raw_host, raw_port = _split_host_port(authority)
    if not raw_host:
        raise InvalidRequestError(URI_ERROR)
    if raw_port and not re.fullmatch(r"[0-9]+", raw_port):
        raise InvalidRequestError(URI_ERROR)
    host = _check_host(raw_host, bracketed=authority.startswith("["))
    scheme = scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidRequestError(f"Protocol is not http or https: {scheme}")
    if not raw_port:
        return Destination(scheme, host, 80 if scheme == "http" else 443)
    if len(raw_port) > 6 or int(raw_port) > 65535:
        raise InvalidRequestError(f"Port out of range: {raw_port}")
    return Destination(scheme, host, int(raw_port))


class AddressClass(enum.Enum):
    """What kind of network an IP address belongs to."""

    PUBLIC = "public"
    PRIVATE = "private"  # 10/8, 172.16/12, 192.168/16
    LOOPBACK = "loopback"  # 127/8, ::1
    LINK_LOCAL = "link_local"  # 169.254/16, fe80::/10
    METADATA = "metadata"  # cloud instance-metadata services
    UNSPECIFIED = "unspecified"  # 0/8, ::
    SITE_LOCAL = "site_local"  # fec0::/10
    UNIQUE_LOCAL = "unique_local"  # fc00::/7
    SHARED = "shared"  # 100.64/10 carrier-grade NAT
    MULTICAST = "multicast"
    RESERVED = "reserved"


PRIVATE_CLASSES = frozenset(
    {
        AddressClass.PRIVATE,
        AddressClass.LOOPBACK,
        AddressClass.LINK_LOCAL,
        AddressClass.METADATA,
        AddressClass.UNSPECIFIED,
        AddressClass.SITE_LOCAL,
        AddressClass.UNIQUE_LOCAL,
    }
)

_METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, Oracle
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
_V4_NETWORKS = (
    (ipaddress.ip_network("0.0.0.0/8"), AddressClass.UNSPECIFIED),
    (ipaddress.ip_network("127.0.0.0/8"), AddressClass.LOOPBACK),
    (ipaddress.ip_network("10.0.0.0/8"), AddressClass.PRIVATE),
    (ipaddress.ip_network("172.16.0.0/12"), AddressClass.PRIVATE),
    (ipaddress.ip_network("192.168.0.0/16"), AddressClass.PRIVATE),
    (ipaddress.ip_network("169.254.0.0/16"), AddressClass.LINK_LOCAL),
    (ipaddress.ip_network("100.64.0.0/10"), AddressClass.SHARED),
    (ipaddress.ip_network("224.0.0.0/4"), AddressClass.MULTICAST),
    (ipaddress.ip_network("240.0.0.0/4"), AddressClass.RESERVED),
)
_V6_NETWORKS = (
    (ipaddress.ip_network("::/128"), AddressClass.UNSPECIFIED),
    (ipaddress.ip_network("::1/128"), AddressClass.LOOPBACK),
    (ipaddress.ip_network("fe80::/10"), AddressClass.LINK_LOCAL),
    (ipaddress.ip_network("fec0::/10"), AddressClass.SITE_LOCAL),
    (ipaddress.ip_network("fc00::/7"), AddressClass.UNIQUE_LOCAL),
    (ipaddress.ip_network("ff00::/8"), AddressClass.MULTICAST),
)


def _parse_ip(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    address = ipaddress.ip_address(ip.partition("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@functools.lru_cache(maxsize=4096)
def classify_address(ip: str) -> AddressClass:
    """Classify one IP address (IPv4-mapped IPv6 as the IPv4 it carries); ValueError if not an IP."""
    address = _parse_ip(ip)
    if address in _METADATA:
        return AddressClass.METADATA
    networks = _V4_NETWORKS if isinstance(address, ipaddress.IPv4Address) else _V6_NETWORKS
    for network, address_class in networks:
        if address in network:
            return address_class
    return AddressClass.PUBLIC


def is_private_address(ip: str) -> bool:
    """True when ``ip`` is refused unless ``connector.private_ip_enabled`` is set."""
    return classify_address(ip) in PRIVATE_CLASSES


def _restricted_forms(ip: str) -> tuple[str, ...]:
    # Patterns were written against Java's InetAddress.getHostAddress(): IPv4 dotted, IPv6 uncompressed
    # without leading zeros, mapped IPv6 already turned into IPv4. Match those and the compressed form.
    address = _parse_ip(ip)
    if isinstance(address, ipaddress.IPv4Address):
        return (str(address),)
    java_form = ":".join(f"{int(group, 16):x}" for group in address.exploded.split(":"))
    return (str(address), java_form)


@dataclass(frozen=True)
class EgressPolicy:
    """The egress settings in force (``plugins.ml_commons.*``)."""

    trusted_endpoints: tuple[str, ...]
    private_ip_enabled: bool = False
    private_endpoint_patterns: tuple[str, ...] = ()
    restricted_ip_patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class EgressVerdict:
    """The outcome of the egress checks for one URL, with everything an explain endpoint shows."""

    url: str
    destination: Destination | None
    trusted_pattern: str | None
    addresses: tuple[str, ...]
    private: bool
    allowed: bool
    reason: str | None


def address_refusal(host: str, addresses: Sequence[str], policy: EgressPolicy) -> str | None:
    """The reason the URL-independent rules refuse ``addresses`` of ``host``, or None.

    Covers the restricted-IP patterns and the private-IP switch; the trusted-private-endpoint rule
    needs the URL and lives in :func:`check_addresses`.
    """
    if not addresses:
        return f"Remote inference host name has no ip address: {host}"
    if policy.restricted_ip_patterns and any(
        _first_full_match(form, policy.restricted_ip_patterns) is not None
        for ip in addresses
        for form in _restricted_forms(ip)
    ):
        return f"Remote inference host name has restricted ip address: {host}"
    if not policy.private_ip_enabled and any(is_private_address(ip) for ip in addresses):
        return f"Remote inference host name has private ip address: {host}"
    return None


def check_addresses(
    url: str,
    dest: Destination,
    addresses: Sequence[str],
    policy: EgressPolicy,
    *,
    trusted_pattern: str | None = None,
) -> EgressVerdict:
    """Judge the resolved ``addresses`` of ``dest`` (ML Commons' address rules plus mlgate's stricter ones).

    Only the address rules are applied here; ``trusted_pattern`` is copied into the verdict as given.
    """
    private = any(is_private_address(ip) for ip in addresses)
    reason = address_refusal(dest.host, addresses, policy)
    if (
        reason is None
        and private
        and policy.private_endpoint_patterns
        and _first_full_match(url, policy.private_endpoint_patterns) is None
    ):
        reason = NOT_TRUSTED_PRIVATE
    return EgressVerdict(url, dest, trusted_pattern, tuple(addresses), private, reason is None, reason)


def preflight(url: str, policy: EgressPolicy) -> EgressVerdict:
    """The checks that need no DNS: trusted-endpoint match, then URI parsing.

    An allowed verdict carries the destination to resolve and no addresses yet; finish it with
    :func:`check_addresses`.
    """
    trusted = match_trusted_endpoint(url, policy.trusted_endpoints)
    if trusted is None:
        reason = NOT_TRUSTED if policy.trusted_endpoints else NOT_CONFIGURED
        return EgressVerdict(url, None, None, (), False, False, reason)
    try:
        dest = parse_destination(url)
    except InvalidRequestError as error:
        return EgressVerdict(url, None, trusted, (), False, False, error.message)
    return EgressVerdict(url, dest, trusted, (), False, True, None)


def explain(url: str, addresses: Sequence[str], policy: EgressPolicy) -> EgressVerdict:
    """Run every egress check in ML Commons' order and report the outcome; never raises for a "no"."""
    verdict = preflight(url, policy)
    if verdict.destination is None:
        return EgressVerdict(
            url, None, verdict.trusted_pattern, tuple(addresses), False, False, verdict.reason
        )
    return check_addresses(
        url, verdict.destination, addresses, policy, trusted_pattern=verdict.trusted_pattern
    )


def enforce(verdict: EgressVerdict) -> None:
    """Raise InvalidRequestError with the verdict's reason when the request is not allowed."""
    if not verdict.allowed:
        raise InvalidRequestError(verdict.reason or NOT_TRUSTED)
