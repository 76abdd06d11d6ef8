"""Where a request comes from: one answer for the audit trail, the sign-in lockout and the session
list.

Behind the TLS proxy every request arrives from the proxy's address; the proxy appends the address
it saw to X-Forwarded-For. Only the right end of that header was written by someone the portal
trusts, and only when the request came from a proxy it trusts (PORTAL_TRUSTED_PROXIES): anyone who
reaches the portal directly, or any client of the proxy, can write whatever they like to its left.
"""

import functools
import ipaddress

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _is_trusted_proxy(address: Address) -> bool:
    # A dual-stack server reports an IPv4 peer as ::ffff:a.b.c.d; the setting names it as IPv4.
    candidates = {address, getattr(address, "ipv4_mapped", None) or address}
    return any(candidate in network for network in _networks(tuple(settings.PORTAL_TRUSTED_PROXIES))
               for candidate in candidates)


def client_address(request) -> str | None:
    """The client's address: REMOTE_ADDR, or, when that is a trusted proxy, the first address of
    X-Forwarded-For, read from the right, that is not a trusted proxy. A malformed entry ends the
    walk at the last address a trusted proxy vouched for. None when REMOTE_ADDR is no address."""
    address = _address(request.META.get("REMOTE_ADDR") or "")
    if address is None:
        return None
    hops = str(request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")
    while hops and _is_trusted_proxy(address):
        hop = _address(hops.pop())
        if hop is None:
            break
        address = hop
    return str(address)
