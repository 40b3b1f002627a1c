"""The SSRF guard: which URLs and addresses a webhook may reach.

`url_check` refuses bad URLs when an endpoint is saved and again before each request.
`address_check` runs on every address a host name resolves to, inside the transport's
connect (transport.py), which then connects to that very address: nothing resolves the
name a second time, so a DNS answer cannot change between the check and the connection.
"""

import ipaddress
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class BlockedDestination(Exception):  # noqa: N818 - reads as what happened
    """The URL or one of its addresses may not be reached from here."""


# Everything that is not the public internet. `is_global` covers most; the explicit list
# names what must never pass even if Python's tables change (and IPv6 ranges that embed
# an IPv4 address: mapped, NAT64, 6to4, Teredo).
BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local: cloud metadata (169.254.169.254)
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and broadcast
        "::/128",
        "::1/128",
        "::ffff:0:0/96",  # IPv4-mapped
        "::/96",  # IPv4-compatible (deprecated)
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",  # local NAT64
        "100::/64",  # discard
        "2001::/32",  # Teredo
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4
        "fc00::/7",  # unique local (ULA)
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
LOOPBACK_FOR_TESTS = {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}

# A label made only of digits or 0x-hex: "2130706433", "0x7f.1", "0177.0.0.1" are all
# 127.0.0.1 to some resolvers. Only the canonical dotted quad is accepted as an address.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.?)+$", re.IGNORECASE)


def address_check(address: str) -> None:
    """Raise BlockedDestination unless `address` is a public unicast address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise BlockedDestination(_("Not an IP address: %(a)s") % {"a": address}) from None
    if settings.WEBHOOKS_ALLOW_LOOPBACK and ip in LOOPBACK_FOR_TESTS:
        return
    if (
        not ip.is_global
        or ip.is_multicast
        or any(ip.version == net.version and ip in net for net in BLOCKED_NETWORKS)
    ):
        raise BlockedDestination(
            _("%(a)s is a private, loopback or reserved address.") % {"a": address}
        )


def url_check(url: str) -> str:
    """The URL's host, or BlockedDestination naming what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a bad port
    except ValueError:
        raise BlockedDestination(_("Not a valid URL.")) from None
    allowed = ("https", "http") if settings.WEBHOOKS_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        raise BlockedDestination(_("The URL must start with https://."))
    if parts.username is not None or parts.password is not None:
        raise BlockedDestination(_("The URL must not contain a user name or password."))
    host = (parts.hostname or "").rstrip(".")
    if not host or port == 0:
        raise BlockedDestination(_("The URL has no host."))
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        if ip.version == 4 and str(ip) != host:  # e.g. leading zeros
            raise BlockedDestination(_("Write the address as four decimal numbers."))
        address_check(host)
        return host
    if "%" in host or not _HOST_NAME.match(host):
        raise BlockedDestination(_("The host name is not valid."))
    if all(_NUMERIC_LABEL.match(label) for label in host.split(".")):
        raise BlockedDestination(_("Write the address as four decimal numbers."))
    local = host.lower() == "localhost" or host.lower().endswith(".localhost")
    if local and not settings.WEBHOOKS_ALLOW_LOOPBACK:
        raise BlockedDestination(
            _("%(a)s is a private, loopback or reserved address.") % {"a": host}
        )
    return host
