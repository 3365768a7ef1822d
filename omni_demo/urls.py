"""Which media URLs the server may fetch: http(s) to public internet addresses only.

Used by the URL guard in front of Gradio (`omni_demo.ui.url_guard`), which refuses every URL unless
--allow-url-fetch is on, and then still refuses loopback, private, link-local and other
non-public addresses, whichever name they hide behind.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import urllib.parse


class _BlockedAddressError(OSError):
    """Raised at connect time when a host resolves to an address we must not reach."""


def _is_public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 and 6to4/Teredo wrappers reach the embedded IPv4 address.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not _is_public_ip(embedded):
            return False
        if ip.is_site_local:
            return False
    # is_global alone misses multicast (224/4 counts as global), hence the explicit list.
    return ip.is_global and not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _resolve_public(host: str, port: int) -> list[tuple]:
    """getaddrinfo results for host, or raise if it resolves to nothing or to ANY non-public address."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise _BlockedAddressError(f"cannot resolve {host!r}") from error
    if not infos:
        raise _BlockedAddressError(f"{host!r} has no addresses")
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 scope id ("fe80::1%eth0")
        try:
            ip = ipaddress.ip_address(address)
        except ValueError as error:
            raise _BlockedAddressError(f"odd address {address!r}") from error
        if not _is_public_ip(ip):
            raise _BlockedAddressError(f"{host!r} resolves to non-public {ip}")
    return infos


_BAD_URL_CHARS = re.compile(r"[\s\\\x00-\x1f\x7f]")


def _url_host_port(url: str) -> tuple[str, int] | None:
    """(host, port) of a plain http(s) URL, or None for other schemes, credentials or odd spellings."""
    if not isinstance(url, str) or _BAD_URL_CHARS.search(url):
        return None  # backslashes and whitespace are parsed differently by different libraries
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return None
    if "@" in parts.netloc:
        return None  # "http://good.com@127.0.0.1/" style tricks
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if not host:
        return None
    return host, port or (443 if parts.scheme.lower() == "https" else 80)


def is_public_url(url: str) -> bool:
    """True for http(s) URLs whose host resolves only to public internet addresses."""
    target = _url_host_port(url)
    if target is None:
        return False
    try:
        _resolve_public(*target)
    except _BlockedAddressError:
        return False
    return True
