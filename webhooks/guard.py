"""The SSRF guard: webhook targets must be public http(s) addresses, checked after DNS.

A URL is checked when an endpoint is saved (scheme, no credentials, every address its host
resolves to) and again at each send, where the request then connects to the very address
that was checked (webhooks.client pins it): a name that resolves to a public address at
creation and to 127.0.0.1 later (DNS rebinding) is still refused. Redirects are never
followed. ``WEBHOOK_ALLOW_PRIVATE_TARGETS`` turns the address check off (tests, labs).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from supportdesk.conf import app_setting

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 (RFC 6052) embeds an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeTarget(ValueError):
    """The URL is not a webhook target we will connect to; the message says why."""


class UnresolvableHost(UnsafeTarget):
    """The host does not resolve (now): refused at creation, retried at send time."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``addresses``) and what to call the host (``host``)."""

    url: SplitResult
    host: str
    port: int
    addresses: tuple[str, ...]  # every address the host resolved to, all checked, in order


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Return what kind of non-public address ``ip`` is ("a loopback address" …), or None."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            problem = address_problem(embedded)
            if problem:
                return f"{problem} ({embedded} embedded in IPv6)"
    for attribute, label in (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(ip, attribute):
            return label
    if not ip.is_global:  # e.g. 100.64.0.0/10 (carrier-grade NAT), documentation ranges
        return "not a public address"
    return None


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _parse(url: str) -> tuple[SplitResult, str, int]:
    if not isinstance(url, str) or len(url) > 2000:
        raise UnsafeTarget("The URL must be a string of at most 2000 characters.")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("Only http and https URLs are allowed.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("The URL must not contain credentials (user:password@).")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeTarget("The URL's port is not a valid port number.") from None
    host = parts.hostname
    if not host:
        raise UnsafeTarget("The URL has no host.")
    return parts, host, port


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnresolvableHost(f"The host {host!r} does not resolve ({error}).") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # Drop an IPv6 scope id ("fe80::1%eth0"): the address itself decides.
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UnresolvableHost(f"The host {host!r} does not resolve.")
    return addresses


def target_check(url: str) -> Target:
    """Validate ``url`` and resolve its host; return the address to connect to.

    Raises UnsafeTarget if the URL is malformed, or if ANY address the host resolves to is
    not public (a name with one public and one private answer is refused: either may be used).
    """
    parts, host, port = _parse(url)
    addresses = _resolve(host, port)
    if not app_setting("WEBHOOK_ALLOW_PRIVATE_TARGETS"):
        for ip in addresses:
            problem = address_problem(ip)
            if problem:
                where = f"{host} is" if _is_literal(host) else f"{host} resolves to {ip},"
                raise UnsafeTarget(f"Refused target: {where} {problem}.")
    return Target(url=parts, host=host, port=port, addresses=tuple(map(str, addresses)))


def url_validate(url: str) -> str:
    """Return ``url`` stripped if it may be saved as a webhook endpoint; else UnsafeTarget."""
    target_check(url)
    return url.strip()
