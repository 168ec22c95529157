"""Which address a request comes from, when proxies in front of mlgate say so in ``X-Forwarded-For``.

The header is believed only from the proxies the operator lists (``--trusted-proxies`` CIDRs): walking
it from the right, each hop a trusted proxy added is skipped, and the first address no trusted proxy
vouches for is the client. Anything to its left was written by the client and is ignored. Without
trusted proxies, or from any other peer, the client is the socket's peer (docs/deployment.md).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_trusted_proxies(text: str) -> tuple[Network, ...]:
    """A comma list of CIDRs (or single addresses); a malformed entry is a ValueError naming it."""
    networks: list[Network] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"--trusted-proxies / MLGATE_TRUSTED_PROXIES: {item!r} is not an address or CIDR"
            ) from None
    return tuple(networks)


def _parse_hop(hop: str) -> Address | None:
    # Hops are bare addresses; some proxies add a port ("1.2.3.4:80", "[2001:db8::1]:80").
    hop = hop.strip()
    if hop.startswith("["):
        hop = hop[1 : hop.find("]")] if "]" in hop else hop
    elif hop.count(":") == 1:
        hop = hop.partition(":")[0]
    try:
        address = ipaddress.ip_address(hop)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, trusted: Iterable[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def client_address(peer: str, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client of a request whose socket peer is ``peer`` and whose ``X-Forwarded-For`` header
    lines are ``forwarded_for`` (in order)."""
    if not trusted or not forwarded_for:
        return peer
    current = _parse_hop(peer)
    if current is None or not _is_trusted(current, trusted):
        return peer
    hops = [hop for line in forwarded_for for hop in line.split(",")]
    for hop in reversed(hops):
        address = _parse_hop(hop)
        if address is None:
            # Not an address: no trusted proxy wrote it. The last hop that was one stands for the client.
            break
        current = address
        if not _is_trusted(address, trusted):
            break
    return str(current)
