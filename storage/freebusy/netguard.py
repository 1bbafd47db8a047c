"""Keep calendar fetches on the public internet, checked where each socket is opened.

Calendar URLs are typed by users, so without a guard the bot would fetch its own loopback, the
cloud metadata service or the office LAN on their behalf, and its error texts would tell open
ports from closed ones. Checking the URL when it is linked is not enough: DNS answers change
(rebinding) and redirects point anywhere. So every connection resolves the host, validates
every address and connects only to a validated one, at that moment: on the first request, on
each redirect hop and on every refresh. Installs with an on-premise calendar server allow its
range explicitly (`AddressPolicy.parse`).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, partial
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

from storage.freebusy.base import FreeBusyError, SourceUnavailable

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
AddrInfo = tuple[Any, Any, int, str, tuple[Any, ...]]  # one row of socket.getaddrinfo
Resolver = Callable[[str, int], Sequence[AddrInfo]]
URL_SCHEMES = ("http", "https", "webcal")
FETCH_SCHEMES = ("http", "https")

_NAT64 = ip_network("64:ff9b::/96")  # the gateway connects to the IPv4 in the last 32 bits
_ALSO_BLOCKED = tuple(
    ip_network(n)
    for n in (
        "192.0.0.0/24",  # IETF protocol assignments: older Pythons call most of it global
        "fec0::/10",  # deprecated site-local: `is_global` says True
        "3fff::/20",  # documentation (RFC 9637): newer than Python's tables
    )
)


def system_resolve(host: str, port: int) -> Sequence[AddrInfo]:
    """The default resolver: the operating system's, TCP addresses only."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


class BlockedAddress(FreeBusyError):
    """The address is not allowed; the text is the same whatever the host, port or reason.

    It never says whether anything answered there, so it cannot be used as a port scanner.
    """

    MESSAGE = "this calendar address cannot be used (it points to a private or reserved network)"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


def _routable(ip: IPAddress) -> bool:
    """Globally routable unicast: `is_global` alone lets multicast and reserved ranges pass."""
    return (
        ip.is_global
        and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)
        and not any(ip in net for net in _ALSO_BLOCKED if net.version == ip.version)
    )


def _embedded_v4(ip: IPv6Address) -> tuple[IPv4Address, ...]:
    """IPv4 addresses a 6to4 or Teredo address leads to (the packets end up there)."""
    teredo = ip.teredo or ()
    return tuple(v4 for v4 in (ip.sixtofour, *teredo) if v4 is not None)


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses calendar fetches may connect to: public ones, plus explicit ranges."""

    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> AddressPolicy:
        """A policy from a setting like ``"10.0.0.0/8, 127.0.0.1, ::1/128"``; empty is strict."""
        networks = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ip_network(item))
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP network; write ranges like 10.0.0.0/8 or ::1/128,"
                    " separated by commas (no host bits after the prefix)"
                ) from None
        return cls(tuple(networks))

    def permits(self, ip: IPAddress) -> bool:
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack socket reaches the IPv4 address itself
        if any(ip in net for net in self.allowed_networks if net.version == ip.version):
            return True
        if ip.version == 6 and ip in _NAT64:
            return self.permits(IPv4Address(int(ip) & 0xFFFF_FFFF))
        if not _routable(ip):
            return False
        return ip.version == 4 or all(self.permits(v4) for v4 in _embedded_v4(ip))

    def check_ip(self, ip: str | IPAddress) -> None:
        """Raise `BlockedAddress` unless `ip` is public unicast or in an allowed network."""
        try:
            parsed = ip if isinstance(ip, IPv4Address | IPv6Address) else ip_address(ip)
        except ValueError:
            raise BlockedAddress() from None
        if not self.permits(parsed):
            raise BlockedAddress()


STRICT = AddressPolicy()  # public addresses only: the default everywhere


def _literal(host: str) -> IPAddress | None:
    try:
        return ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


def resolve_checked(
    host: str, port: int, policy: AddressPolicy, resolve: Resolver = system_resolve
) -> list[tuple[socket.AddressFamily, tuple[Any, ...]]]:
    """(family, socket address) of every address of `host`, if the policy permits all of them.

    One refused address refuses the host: a name that mixes public and private answers is
    exactly what a rebinding attack looks like.
    """
    literal = _literal(host)
    if literal is not None:
        policy.check_ip(literal)
        if literal.version == 4:
            return [(socket.AF_INET, (str(literal), port))]
        return [(socket.AF_INET6, (str(literal), port, 0, 0))]
    found: list[tuple[socket.AddressFamily, tuple[Any, ...]]] = []
    for family, _type, _proto, _name, sockaddr in resolve(host, port):
        policy.check_ip(str(sockaddr[0]))
        if (family, sockaddr) not in found:
            found.append((family, sockaddr))
    if not found:
        raise socket.gaierror(socket.EAI_NONAME, "no address found")
    return found


def open_connection(
    host: str,
    port: int,
    timeout: float | None,
    source_address: tuple[str, int] | None = None,
    *,
    policy: AddressPolicy,
    resolve: Resolver = system_resolve,
) -> socket.socket:
    """A TCP socket to `host`, connected only to an address validated just now."""
    *others, last = resolve_checked(host, port, policy, resolve)
    # Each target is an IP literal, so create_connection's own lookup never reaches DNS.
    for _family, sockaddr in others:
        try:
            return socket.create_connection(sockaddr[:2], timeout, source_address)
        except OSError:
            continue  # like create_connection: try the next address, report the last failure
    return socket.create_connection(last[1][:2], timeout, source_address)


def check_url(url: str, policy: AddressPolicy, resolve: Resolver = system_resolve) -> None:
    """Pre-flight for a link being saved: a supported scheme, and a host whose every address
    the policy permits. Fetches check again at connect time; this only fails early."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES:
        raise SourceUnavailable("the address must start with https://, http:// or webcal://")
    try:
        port = parts.port or (80 if scheme == "http" else 443)
    except ValueError:
        raise SourceUnavailable("the address has an invalid port number") from None
    if not parts.hostname:
        raise SourceUnavailable("the address has no server name")
    try:
        resolve_checked(parts.hostname, port, policy, resolve)
    except (socket.gaierror, UnicodeError):
        raise SourceUnavailable("the server name could not be found") from None


def check_scheme(url: str) -> None:
    """Requests and redirects may only use http(s); others reach files, FTP or Unix sockets."""
    if urlsplit(url).scheme.lower() not in FETCH_SCHEMES:
        raise SourceUnavailable("the calendar address, or a redirect from it, is not http(s)")


# --- urllib: connections that open their socket through the guard ----------------------------


class _GuardedHTTPConnection(http.client.HTTPConnection):
    source_address: tuple[str, int] | None  # set by HTTPConnection.__init__; typeshed omits it

    def __init__(self, host: str, *, open_socket: Callable[..., socket.socket], **kwargs: Any):
        super().__init__(host, **kwargs)
        self._open_socket = open_socket

    def connect(self) -> None:
        self.sock = self._open_socket(self.host, self.port, self.timeout, self.source_address)


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    """TLS over a guarded socket; SNI, certificate check and Host header use the hostname."""

    source_address: tuple[str, int] | None  # set by HTTPConnection.__init__; typeshed omits it

    def __init__(
        self,
        host: str,
        *,
        open_socket: Callable[..., socket.socket],
        context: ssl.SSLContext,
        **kwargs: Any,
    ):
        super().__init__(host, context=context, **kwargs)
        self._open_socket = open_socket
        self._tls = context

    def connect(self) -> None:
        sock = self._open_socket(self.host, self.port, self.timeout, self.source_address)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, open_socket: Callable[..., socket.socket]) -> None:
        super().__init__()
        self._open_socket = open_socket

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(partial(_GuardedHTTPConnection, open_socket=self._open_socket), req)


@cache
def _tls_context() -> ssl.SSLContext:
    """Verifying, HTTP/1.1 only; made once, as loading the CA store costs tens of ms."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])
    return context


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, open_socket: Callable[..., socket.socket]) -> None:
        super().__init__()
        self._open_socket = open_socket

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = partial(
            _GuardedHTTPSConnection, open_socket=self._open_socket, context=_tls_context()
        )
        return self.do_open(connection, req)


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) only, refusing the rest with `check_scheme`'s message."""

    def http_error_302(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
        headers: http.client.HTTPMessage,
    ) -> Any:  # whatever the opener answers (typeshed: Any)
        location = headers.get("location") or headers.get("uri")
        if location is not None:
            try:
                check_scheme(urljoin(req.full_url, location))
            except SourceUnavailable:
                fp.close()
                raise
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def guarded_opener(
    policy: AddressPolicy, resolve: Resolver = system_resolve
) -> urllib.request.OpenerDirector:
    """A urllib opener for http(s) only, every connection (redirects too) through the guard.

    Built by hand rather than with `build_opener`, which would add file, FTP, data and
    environment-proxy handlers: each of those reaches somewhere the guard never sees.
    """
    open_socket = partial(open_connection, policy=policy, resolve=resolve)
    opener = urllib.request.OpenerDirector()
    for handler in (
        _HTTPHandler(open_socket),
        _HTTPSHandler(open_socket),
        _RedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),
    ):
        opener.add_handler(handler)
    return opener
