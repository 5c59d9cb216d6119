"""
Where a webhook may point. Its URL must be https, and its host must not resolve to a loopback,
private, link-local, shared, multicast, reserved or cloud-metadata address: the CRM must not be
made to call into the network it runs in. Checked when a subscription is saved, and again at
each delivery, which then connects to the address it checked (DNS may change in between).

``WEBHOOK_ALLOW_PRIVATE_URLS=1`` lifts every rule (tests, and receivers on the same network).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

# Addresses ``ipaddress`` does not flag but that reach what a webhook must not: carrier-grade
# NAT space and the NAT64 prefix that maps onto IPv4 private space.
EXTRA_BLOCKED = [ipaddress.ip_network("100.64.0.0/10"), ipaddress.ip_network("64:ff9b::/96")]


class BlockedURL(ValueError):
    """The URL may not be called; the message says why."""


@dataclass(frozen=True)
class Target:
    """A URL checked for delivery: connect to ``address``, present ``host`` (Host header, TLS name)."""

    scheme: str
    host: str
    port: int
    address: str
    path: str


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        not ip.is_global
        or ip.is_multicast
        or ip.is_reserved
        or any(ip in network for network in EXTRA_BLOCKED if network.version == ip.version)
    )


def check(url: str, *, resolve: bool = True) -> Target | None:
    """
    The target of ``url`` if it may be called, else BlockedURL. ``resolve=False`` checks the
    form only (https, a host). With private URLs allowed, any http(s) URL is fine.
    """
    parts = urlsplit(url)
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_URLS
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise BlockedURL("Enter an https URL, such as https://example.com/crm-events.")
    if parts.scheme != "https" and not allow_private:
        raise BlockedURL("Webhook URLs must use https.")
    if parts.username or parts.password:
        raise BlockedURL("Put no user name or password in the URL; the signature authenticates the CRM.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    if not resolve:
        return None
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise BlockedURL(f"The host {parts.hostname} cannot be found.") from None
    addresses = [info[4][0] for info in found]
    if not allow_private and any(_blocked(address) for address in addresses):
        raise BlockedURL(f"{parts.hostname} is an internal address; webhooks go to public hosts only.")
    return Target(scheme=parts.scheme, host=parts.hostname, port=port, address=addresses[0], path=path)
