"""The client's address, decided in one place: lockout, rate limits, audit entries, logs.

Behind a reverse proxy every connection comes from the proxy, so the client is named by the
`X-Forwarded-For` header the proxy sends. Anybody can send that header, though, so it is read only
when the immediate peer (REMOTE_ADDR) is a proxy we trust, and then walked from the right: each
trusted proxy appends the address it saw, so the right-most address that is *not* a trusted proxy
is the client. Whatever a client put further left is its own claim and is never believed.

Two settings say whom to trust (docs/deploy-behind-a-proxy.md):

- `TRUSTED_PROXIES`: the proxies' addresses or networks ("127.0.0.1", "10.0.0.0/8"). The safe choice:
  a forged header from anybody else, even one who reaches the application server directly,
  changes nothing.
- `TRUSTED_PROXY_COUNT`: how many proxies stand in front. Alone, it trusts that many hops whatever
  their addresses, for platforms whose proxy addresses are unknown; that is only safe when nothing
  but the proxy can reach the application server. With `TRUSTED_PROXIES`, it caps the hops believed.

With neither, REMOTE_ADDR is the client and forwarded headers are ignored.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

access_log = logging.getLogger("config.access")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Headers a proxy sets about the client's connection. From a peer that is not a trusted proxy they
# are somebody's claim, and the middleware removes them before anything (Django's is_secure()) reads them.
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT")

# The address of the request being served on this thread, for code that has no request at hand
# (audit entries written by services, log records). Set and reset by ClientAddressMiddleware.
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_address", default=None)


@dataclass(frozen=True)
class ProxyTrust:
    networks: tuple[IPNetwork, ...]
    count: int

    @property
    def configured(self) -> bool:
        return bool(self.networks or self.count)

    def is_proxy(self, address: IPAddress, hops_believed: int) -> bool:
        """Whether `address`, reached after `hops_believed` trusted proxies, is one more trusted proxy."""
        if not self.configured:
            return False
        if self.count and hops_believed >= self.count:
            return False
        if self.networks:
            return any(address in network for network in self.networks)
        return True  # a count alone: the last `count` hops are proxies, whatever their addresses


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    networks = []
    for value in values:
        value = str(value).strip()
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {value!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8)"
            ) from exc
    return tuple(networks)


@lru_cache(maxsize=8)
def _trust(networks: tuple[str, ...], count: int) -> ProxyTrust:
    if count < 0:
        raise ImproperlyConfigured("TRUSTED_PROXY_COUNT cannot be negative")
    return ProxyTrust(parse_networks(networks), count)


def proxy_trust() -> ProxyTrust:
    """The trust settings, parsed once per distinct value (tests change them with override_settings)."""
    networks = tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ())
    return _trust(networks, int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0))


def parse_address(value: str) -> IPAddress | None:
    """An address as proxies write it ("203.0.113.7", "203.0.113.7:5123", "[2001:db8::1]:443"), or None."""
    value = value.strip().strip('"')
    if value.startswith("["):  # [IPv6] or [IPv6]:port
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # IPv4:port
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value.partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # "::ffff:192.0.2.1" is the IPv4 client 192.0.2.1
    return address


def peer_is_trusted(meta: dict[str, Any]) -> bool:
    """Whether the immediate peer (REMOTE_ADDR) is a proxy whose forwarded headers may be read."""
    peer = parse_address(str(meta.get("REMOTE_ADDR") or ""))
    return peer is not None and proxy_trust().is_proxy(peer, 0)


def address_from_meta(meta: dict[str, Any]) -> str:
    """The client's address from a WSGI environ / request.META (the rule in this module's docstring)."""
    remote = str(meta.get("REMOTE_ADDR") or "")
    peer = parse_address(remote)
    if peer is None:
        return remote  # not an IP (a unix socket, a test stub): nothing better to say
    trust = proxy_trust()
    if not trust.is_proxy(peer, 0):
        return str(peer)
    # Several X-Forwarded-For headers arrive joined by commas (WSGI), in order.
    hops = [part for part in str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if part.strip()]
    client, believed = peer, 1
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            # A trusted proxy passed on something that is not an address: the last proxy we trust
            # is the best we know (never a value the client may have written).
            return str(client)
        client = address
        if not trust.is_proxy(address, believed):
            return str(address)
        believed += 1
    return str(client)  # every hop was a trusted proxy: the left-most is the client (an internal caller)


def client_address(request: Any) -> str:
    """The address of the client that sent `request` (a Django or DRF request); "" when unknown.

    This is `AXES_CLIENT_IP_CALLABLE`, the rate limits' key and the address in audit entries and
    logs. Computed once per request by ClientAddressMiddleware; computed here for requests that did
    not pass through it (tests' request factories, code called outside the middleware stack).
    """
    if request is None:
        return ""
    known = getattr(request, "client_address", None)
    if isinstance(known, str):
        return known
    meta = getattr(request, "META", None)
    if meta is None:
        return ""
    return address_from_meta(meta)


def current_client_address() -> str | None:
    """The client address of the request this thread is serving, or None outside a request."""
    return _current.get()


class ClientAddressMiddleware:
    """First in MIDDLEWARE: sets `request.client_address`, and removes forwarded headers that a peer
    which is not a trusted proxy sent, so that neither the address nor the scheme (SECURE_PROXY_SSL_HEADER)
    can be claimed by a client that reaches the application server directly."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # With a trust setting, only trusted peers speak for the client; without one (no proxy, or an
        # older deployment relying on SECURE_PROXY_SSL_HEADER alone) Django's own behaviour is kept.
        if proxy_trust().configured and not peer_is_trusted(request.META):
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        request.client_address = address_from_meta(request.META)
        token = _current.set(request.client_address)
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            if getattr(settings, "ACCESS_LOG", False):
                access_log.info(
                    "request",
                    extra={
                        "method": request.method,
                        "path": request.path,  # never the query string: it may hold search terms
                        "status_code": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            _current.reset(token)
